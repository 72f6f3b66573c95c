// Plain evaluation of one token sequence with optional steering: logits at every position.
// The oracle path for tests (ours vs llama.cpp's control vectors) and a building block for
// callers that need raw logits (perplexity-style analyses).
#pragma once
#include <vector>

#include "context.h"
#include "generate.h"

namespace eia {

// Returns n_tokens x n_vocab logits. Steering (terms as in generation: blocks or block ranges,
// optional norm preservation) applies to every position, or, with steer_at, only where
// steer_at[i] != 0: the hand-run reference for gated generation.
std::vector<float> eval_logits(Context & ctx, const std::vector<llama_token> & tokens, const std::vector<SteerTerm> & steer,
                               const std::vector<uint8_t> * steer_at = nullptr);

// Reads an F32/F16 tensor of a GGUF file by name (for tests and tools: e.g. output_norm.weight).
std::vector<float> read_gguf_tensor(const std::string & path, const std::string & name, std::vector<int64_t> * shape);

}  // namespace eia
