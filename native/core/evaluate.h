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

// One sequence to score: the model reads `prompt` and then `continuation`; what is wanted is the
// log-probability of each continuation token given everything before it.
struct ScoreItem {
    std::vector<llama_token> prompt;        // at least one token (the first continuation token needs a context)
    std::vector<llama_token> continuation;  // may be empty (no log-probabilities)
};

// Per item, log p(continuation[i] | prompt, continuation[0..i)) under the unsteered model (no hook,
// no control vector beyond one the caller set on the context), one float per continuation token.
// Several items share each decode call (one KV sequence each, as capture packs texts); only the
// rows that predict a continuation token are computed as outputs, and the log-softmax is taken
// here, so only n_continuation floats per item cross the boundary instead of n_vocab per token.
// Every input is checked before the first decode.
std::vector<std::vector<float>> token_logprobs(Context & ctx, const std::vector<ScoreItem> & items);

// Reads an F32/F16 tensor of a GGUF file by name (for tests and tools: e.g. output_norm.weight).
std::vector<float> read_gguf_tensor(const std::string & path, const std::string & name, std::vector<int64_t> * shape);

}  // namespace eia
