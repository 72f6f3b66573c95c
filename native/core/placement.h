// Where an offloaded model's layers actually run. llama.cpp places a layer's weights on the GPU
// when asked, but keeps a weight in host memory when the device cannot use its type, and the graph
// scheduler runs any op the device does not support on the CPU, both silently (a log line at most).
// The probe decodes one token on a throwaway one-sequence context whose eval callback looks at every
// graph node in its "ask" phase (it requests no data, so nothing is copied or synchronised): a node
// whose output lives in host memory ran on the CPU, and a weight in host memory was not offloaded.
#pragma once
#include <string>
#include <vector>

#include "llama.h"

namespace eia {

struct LayerOnHost {
    int layer = -1;        // block index; n_layer = the output head (final norm, lm_head)
    std::string reason;    // e.g. "op MUL_MAT (ffn_up-3) ran on the CPU; weight blk.3.ffn_up.weight (q4_K) is in host memory"
};

struct Placement {
    bool probed = false;            // false: not measured (no discrete-memory GPU device in use)
    std::string device;             // the device holding the offloaded work (e.g. Vulkan0), "" if none
    std::string device_description; // e.g. "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)"
    int device_layers = 0;          // blocks whose every op ran on the device with device weights
    std::vector<LayerOnHost> on_host;  // blocks (and the output head) with work or weights on the host
};

// Decodes one token of `model` with every layer's placement recorded. Throws eia::Error when the
// throwaway context cannot be created or the decode fails.
Placement probe_placement(llama_model * model, int n_layer);

}  // namespace eia
