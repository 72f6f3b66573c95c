// The planted-concept model: a llama, qwen2 or phi3 model over the word vocabulary whose residual
// stream carries a known unit direction v (the answer a probe must find and a steering vector must use). planted.cpp
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

enum class PlantedProfile {
    Realistic,   // activations vary mostly with content; the signal grows over the first blocks
    Easy,        // the class gap dominates every direction, at every block (fast tests)
};

// Realistic needs n_layer >= 4 and n_embd >= 48 (checked by synth_model). arch: llama, qwen2 or
// phi3 (each in its own tensor layout: planted.cpp's push_block).
PlantedTensors planted_tensors(const Vocab & V, const std::string & arch, int n_embd, int n_layer, int64_t n_q, int64_t n_kv,
                               int head_dim, int n_ff, ggml_type wtype, uint64_t seed, PlantedProfile profile);

// Realistic profile: the blocks whose FFN amplifies the v component (1 .. kAmpBlocks).
constexpr int kAmpBlocks = 2;

}  // namespace eia::synth
