// Model quantization through llama.cpp's own llama_model_quantize (what llama-quantize runs), with
// every check made before llama.cpp sees the input, progress read from its per-tensor log lines,
// the result written to a temporary sibling, checked (file type, tensor count) and only then
// renamed over the output.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace eia {

// A target file type: its name (lower case, llama-quantize's spelling), llama_ftype value, and
// nominal bits per weight (approximate; used to order files by precision).
struct QuantType {
    const char * name;
    int ftype;
    double bits_per_weight;
};

// The types `quantize` writes (those that need no importance matrix).
const std::vector<QuantType> & quant_types();

struct QuantizeOptions {
    std::string in, out;
    std::string type;             // a quant_types() name
    int threads = 0;              // <= 0: all hardware threads
    bool allow_requantize = false;  // input tensors already quantized may be quantized again
};

struct QuantizeProgress {
    std::atomic<int64_t> done{0};   // tensors written
    std::atomic<int64_t> total{0};  // tensors in the model
};

struct QuantizeResult {
    std::string type;
    int ftype = 0;
    int64_t n_tensors = 0;
    uint64_t in_bytes = 0, out_bytes = 0;
    std::string arch;
};

// Quantizes `in` into `out` (replaced when it exists: the caller decides whether it may be).
QuantizeResult quantize_model(const QuantizeOptions & opt, QuantizeProgress * progress);

}  // namespace eia
