// Per-sequence token sampling with llama.cpp's own samplers. Each sequence owns a sampler chain
// in the order Hugging Face `generate` applies its warpers (the paper sampled with HF):
// temperature -> top-k -> top-p -> min-p -> seeded draw; greedy (argmax) at temperature 0.
// The chain can run on the host (sample(logits)) or be handed to the context for llama.cpp's
// backend (in-graph) sampling, in which case only the drawn token comes back (accept(token)).
// Backend and host chains draw different tokens for the same seed; each is deterministic.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "llama.h"

namespace eia {

struct SamplingParams {
    float temperature = 0.0f;  // 0 = greedy
    int top_k = 0;             // 0 = off
    float top_p = 1.0f;        // 1 = off
    float min_p = 0.0f;        // 0 = off
    uint32_t seed = 0;
};

void validate_sampling(const SamplingParams & p);

class Sampler {
public:
    Sampler(const SamplingParams & p, int n_vocab);
    ~Sampler();
    Sampler(const Sampler &) = delete;
    Sampler & operator=(const Sampler &) = delete;

    // Host sampling from one row of logits (NaN treated as -inf; never throws, always in range).
    llama_token sample(const float * logits);
    // A token drawn by the backend: advance the chain's state as llama_sampler_sample does.
    void accept(llama_token token);
    // The chain, for llama_set_sampler (ownership stays here; detach it from the context before
    // this Sampler dies). A chain may be attached once: a new slot needs clone_for_backend().
    llama_sampler * chain() const { return chain_; }
    // A fresh, unattached chain with the same parameters and the same RNG state.
    std::unique_ptr<Sampler> clone() const;
    const SamplingParams & params() const { return p_; }

private:
    Sampler(const SamplingParams & p, int n_vocab, llama_sampler * chain);
    SamplingParams p_;
    int n_vocab_;
    llama_sampler * chain_ = nullptr;
    std::vector<llama_token_data> cur_;
};

}  // namespace eia
