// Shape table (see shapes.h). 0.5b = Qwen2.5-0.5B, phi-3-mini = Phi-3-mini-4k, qwen2.5-7b and
// llama-3.1-8b = the paper's Qwen and Dolphin models.
#include "shapes.h"

namespace eia::synth {

namespace {
const Shape kShapes[] = {
    {"tiny", "llama", 6, 64, 4, 2, 128, 8192, 2048, 10000.0f, 1e-5f, false},
    {"0.5b", "qwen2", 24, 896, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true},
    {"phi-3-mini", "phi3", 32, 3072, 32, 32, 8192, 32064, 4096, 10000.0f, 1e-5f, false},
    {"qwen2.5-7b", "qwen2", 28, 3584, 28, 4, 18944, 152064, 32768, 1000000.0f, 1e-6f, false},
    {"llama-3.1-8b", "llama", 32, 4096, 32, 8, 14336, 128256, 131072, 500000.0f, 1e-5f, false},
};
}  // namespace

const Shape * find_shape(const std::string & name) {
    for (const auto & s : kShapes) {
        if (name == s.name) return &s;
    }
    return nullptr;
}

std::vector<std::string> shape_names() {
    std::vector<std::string> r;
    for (const auto & s : kShapes) r.push_back(s.name);
    return r;
}

}  // namespace eia::synth
