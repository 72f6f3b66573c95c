// llama.cpp control-vector GGUF files (what `llama-cli --control-vector` loads): one F32 tensor
// "direction.L" per block L >= 1 (llama.cpp cannot steer block 0 this way), plus
// controlvector.model_hint and controlvector.layer_count. Metadata of eia-native's own namespace
// ("eia." keys: the vector cards, lib/probes/vector-card.ts) rides along; llama.cpp's loader reads
// only the tensors, so such a file still loads as a control vector.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace eia {

// One GGUF metadata value of our namespace: a scalar or an array of one scalar kind.
struct MetaValue {
    enum class Kind { Str, Int, Float, Bool, IntArray, FloatArray, StrArray };
    Kind kind = Kind::Str;
    std::string s;
    int64_t i = 0;
    double f = 0;
    bool b = false;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<std::string> strs;
};

// The key prefix of eia-native's own GGUF metadata.
constexpr const char * kMetaPrefix = "eia.";

struct ControlVector {
    std::string model_hint;
    int n_embd = 0;
    std::map<int, std::vector<float>> layers;  // block index -> direction
    std::map<std::string, MetaValue> meta;     // "eia.*" keys only (checked before writing)
};

// The GGUF bytes of a control vector (checked: blocks >= 1, one width, finite values); callers write
// them with their own atomic writer (the JS API: lib/util/atomic-write.ts).
std::vector<uint8_t> encode_control_vector(const ControlVector & cv);
void write_control_vector(const std::string & path, const ControlVector & cv);
ControlVector read_control_vector(const std::string & path);
// llama.cpp's own loader (common_control_vector_load): returns data for layers 1..n as llama_set_adapter_cvec takes it.
std::vector<float> load_control_vector_llama(const std::string & path, float strength, int * n_embd_out);

}  // namespace eia
