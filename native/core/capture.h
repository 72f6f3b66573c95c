// Residual-stream capture: for many texts at once, the output of decoder blocks (l_out-L),
// pooled per text. All requested layers come from one forward pass; texts are packed into
// multi-sequence batches and a text longer than the batch continues in the next decode call
// on the same sequence (its KV cache carries the earlier part).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "context.h"

namespace eia {

enum class Pool { Mean, Last, Tokens };
Pool parse_pool(const std::string & s);

struct CaptureOptions {
    std::vector<int> layers;
    Pool pool = Pool::Mean;
    int truncate = 0;          // > 0: keep the first `truncate` tokens of each text (paper: 512); 0: no truncation
    bool add_special = true;   // BOS as the tokenizer does by default
    bool parse_special = false;
    bool prefill_only = false;  // decode the same batches without reading any layer (the baseline for capture cost)
};

struct CaptureResult {
    std::vector<int> layers;
    int n_embd = 0;
    int n_texts = 0;
    Pool pool = Pool::Mean;
    std::vector<int> n_tokens;                // per text, after truncation
    std::vector<std::vector<float>> data;     // per layer: [n_texts x n_embd] or, for Tokens, [sum(n_tokens) x n_embd]
    std::vector<int64_t> offsets;             // Tokens: first row of each text (n_texts + 1 entries)
    int decode_calls = 0;
    int64_t tokens_total = 0;
    double ms = 0;
    bool aborted = false;
};

using ProgressFn = std::function<void(int64_t done, int64_t total)>;

CaptureResult capture_texts(Context & ctx, const std::vector<std::string> & texts, const CaptureOptions & opt,
                            const ProgressFn & progress = nullptr);
CaptureResult capture_tokens(Context & ctx, std::vector<std::vector<llama_token>> tokens, const CaptureOptions & opt,
                             const ProgressFn & progress = nullptr);

// llama.cpp's own per-token embeddings (final norm applied, pooling none) for one text: needs a
// context created with embeddings = true. The oracle for capture tests.
std::vector<float> embeddings_per_token(Context & ctx, const std::string & text, bool add_special, int * n_tokens_out);

}  // namespace eia
