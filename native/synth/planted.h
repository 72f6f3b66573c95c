// The planted-concept model: a llama model over the word vocabulary whose residual stream carries a
// known unit direction v (the answer a probe must find and a steering vector must use). planted.cpp
// documents the geometry.
#pragma once
#include <cstdint>
#include <vector>

#include "gguf_writer.h"
#include "vocab.h"

namespace eia::synth {

struct PlantedTensors {
    std::vector<TensorPlan> plans;   // every tensor of the model, in file order
    std::vector<float> v;            // the planted unit direction (n_embd)
};

PlantedTensors planted_tensors(const Vocab & V, int n_embd, int n_layer, int64_t n_q, int64_t n_kv, int n_ff,
                               ggml_type wtype, uint64_t seed);

}  // namespace eia::synth
