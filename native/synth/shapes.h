// The model shapes eia-synth can write: the real dimensions (vocabulary size included) of the
// paper's architectures, plus a tiny one for tests.
#pragma once
#include <string>
#include <vector>

namespace eia::synth {

struct Shape {
    const char * name;
    const char * arch;   // the shape's own architecture (any arch can be written at any shape)
    int n_layer, n_embd, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    float rope_theta, rms_eps;
    bool tied;           // tied input/output embedding
};

const Shape * find_shape(const std::string & name);   // nullptr when unknown
std::vector<std::string> shape_names();

}  // namespace eia::synth
