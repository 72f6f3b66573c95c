// The support check: does this context's graph expose the residual stream at every decoder block?
// Run once when a context is created: a two-token decode (the second token an output) with the
// ResidualHook in survey mode counts, per block, the callbacks and rows of the block-output node
// that block_output.h names for the architecture. A block is found when its node comes once per
// ubatch as an f32 [n_embd x rows] tensor holding either every token's row or only the output
// rows (the pruned layout: recorded per block, the hook maps rows by it). Capture, probes,
// monitors, gates and steering need every block found; plain generation needs none of it.
#pragma once
#include <string>
#include <vector>

namespace eia {

class Context;

struct ResidualSupport {
    bool supported = false;
    std::string reason;            // why not (names the architecture and what is missing); "" when supported
    std::string tensor;            // the node read as block L's output, e.g. "l_out-{L}"
    std::vector<int> hits;         // callbacks per block in the check's one decode
    std::vector<int> found;        // blocks found
    std::vector<int> missing;      // blocks not found
    std::vector<char> pruned;      // per block: keeps only the output rows
};

// Runs the check on a freshly created context (its memory is cleared afterwards).
ResidualSupport check_residual_support(Context & ctx);

// Throws E_UNSUPPORTED_MODEL for `what` (e.g. "capture") when the context's graph lacks the residual stream.
void require_residual(const Context & ctx, const std::string & what);

}  // namespace eia
