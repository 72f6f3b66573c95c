// Synthetic GGUF models, written through ggml's own gguf API (no Python, no Node).
//
// * Random-weight models with the real dimensions (vocab sizes included) of the paper's
//   architectures: llama / qwen2 / phi3 at shapes tiny, 0.5b (Qwen2.5-0.5B), phi-3-mini,
//   qwen2.5-7b, llama-3.1-8b; any shape with any arch. Tensor data is streamed: one slab of one
//   tensor in memory at a time, generated multi-threaded (per-chunk seeds, so the bytes do not
//   depend on the thread count), written to out + ".tmp" and renamed when complete.
// * A planted-concept model (planted = true; llama by default, or qwen2 / phi3 in their own tensor
//   layouts): a word-level SentencePiece vocabulary whose
//   tied embeddings carry a known unit direction v (+c*v for empathy words, -c*v for task words),
//   plus v itself (F.planted.npy) and a contrastive dataset in the paper's JSONL pair format
//   (F.train.jsonl: 35 pairs, F.test.jsonl: 15 pairs), F = out without ".gguf". Two profiles
//   (native/synth/planted.cpp): "realistic" (default; activations vary mostly with content, the
//   signal grows over the first blocks; also F.ablated.jsonl, the test pairs after the paper's
//   lexical ablation) and "easy" (the class gap dominates everywhere; for fast tests).
//
// Every bad argument or I/O failure throws eia::Error; nothing aborts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eia {

struct SynthOptions {
    std::string arch = "";      // "llama" | "qwen2" | "phi3"; "" = the shape's own arch
    std::string shape = "tiny"; // "tiny" | "0.5b" | "phi-3-mini" | "qwen2.5-7b" | "llama-3.1-8b"
    std::string type = "f32";   // "f32" | "f16" | "q8_0" (matrix weights; norms stay f32)
    uint64_t seed = 1;
    bool planted = false;       // planted-concept model (arch llama unless given; its own word vocab)
    std::string planted_profile = "realistic";   // "realistic" | "easy" (planted only)
    std::string out;            // output .gguf path
};

struct SynthResult {
    std::string path, arch, shape, type;
    int n_layer, n_embd, n_vocab, n_head, n_head_kv, n_ff, n_ctx_train;
    std::string planted_npy, train_jsonl, test_jsonl;   // set when planted
    std::string planted_profile;                        // set when planted
    std::string ablated_jsonl;                          // set for the realistic profile
    double ablation_replacements = 0;                   // mean words replaced per ablated pair
};

SynthResult synth_model(const SynthOptions & opt);
std::vector<std::string> synth_shapes();   // the names above

}  // namespace eia
