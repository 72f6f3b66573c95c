#include "sampler.h"

#include <cfloat>
#include <cmath>

#include "error.h"

namespace eia {

void validate_sampling(const SamplingParams & p) {
    if (!std::isfinite(p.temperature) || p.temperature < 0) fail("temperature must be a finite number >= 0");
    if (p.top_k < 0) fail("topK must be >= 0 (0 = off)");
    if (!std::isfinite(p.top_p) || p.top_p <= 0 || p.top_p > 1) fail("topP must be in (0, 1]");
    if (!std::isfinite(p.min_p) || p.min_p < 0 || p.min_p > 1) fail("minP must be in [0, 1]");
}

// HF order: TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper, then
// multinomial sampling. Off switches add nothing, so the chain only does the work asked for.
static llama_sampler * make_chain(const SamplingParams & p) {
    auto cp = llama_sampler_chain_default_params();
    cp.no_perf = true;
    llama_sampler * c = llama_sampler_chain_init(cp);
    if (p.temperature <= 0.0f) {
        llama_sampler_chain_add(c, llama_sampler_init_greedy());
        return c;
    }
    if (p.temperature != 1.0f) llama_sampler_chain_add(c, llama_sampler_init_temp(p.temperature));
    if (p.top_k > 0) llama_sampler_chain_add(c, llama_sampler_init_top_k(p.top_k));
    if (p.top_p < 1.0f) llama_sampler_chain_add(c, llama_sampler_init_top_p(p.top_p, 1));
    if (p.min_p > 0.0f) llama_sampler_chain_add(c, llama_sampler_init_min_p(p.min_p, 1));
    llama_sampler_chain_add(c, llama_sampler_init_dist(p.seed));
    return c;
}

Sampler::Sampler(const SamplingParams & p, int n_vocab) : p_(p), n_vocab_(n_vocab) {
    validate_sampling(p);
    chain_ = make_chain(p);
}

Sampler::Sampler(const SamplingParams & p, int n_vocab, llama_sampler * chain) : p_(p), n_vocab_(n_vocab), chain_(chain) {}

Sampler::~Sampler() {
    if (chain_) llama_sampler_free(chain_);
}

std::unique_ptr<Sampler> Sampler::clone() const {
    return std::unique_ptr<Sampler>(new Sampler(p_, n_vocab_, llama_sampler_clone(chain_)));
}

llama_token Sampler::sample(const float * logits) {
    // A broken model can emit NaN/inf: NaN never wins, +inf becomes the largest finite value, so
    // the chain's softmax stays finite (its asserts must never be reachable from a model file).
    cur_.resize(n_vocab_);
    bool any = false;
    for (int i = 0; i < n_vocab_; i++) {
        float x = logits[i];
        if (std::isnan(x) || x == -INFINITY) x = -INFINITY;
        else { any = true; if (x == INFINITY) x = FLT_MAX / 4; }
        cur_[i] = llama_token_data{i, x, 0.0f};
    }
    if (!any) return 0;
    llama_token_data_array arr = {cur_.data(), cur_.size(), -1, false};
    llama_sampler_apply(chain_, &arr);
    const llama_token tok = (arr.selected >= 0 && arr.selected < (int64_t) arr.size) ? arr.data[arr.selected].id : 0;
    llama_sampler_accept(chain_, tok);
    return tok;
}

void Sampler::accept(llama_token token) { llama_sampler_accept(chain_, token); }

}  // namespace eia
