#include "sampler.h"

#include <algorithm>
#include <cmath>

#include "error.h"

namespace eia {

void validate_sampling(const SamplingParams & p) {
    if (!std::isfinite(p.temperature) || p.temperature < 0) fail("temperature must be a finite number >= 0");
    if (p.top_k < 0) fail("topK must be >= 0 (0 = off)");
    if (!std::isfinite(p.top_p) || p.top_p <= 0 || p.top_p > 1) fail("topP must be in (0, 1]");
    if (!std::isfinite(p.min_p) || p.min_p < 0 || p.min_p > 1) fail("minP must be in [0, 1]");
}

Sampler::Sampler(const SamplingParams & p, int n_vocab) : p_(p), n_vocab_(n_vocab), rng_(p.seed) {
    validate_sampling(p);
}

llama_token Sampler::sample(const float * logits) {
    if (p_.temperature <= 0.0f) {
        int best = 0;
        for (int i = 1; i < n_vocab_; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
    cand_.clear();
    const int k = (p_.top_k > 0 && p_.top_k < n_vocab_) ? p_.top_k : n_vocab_;
    if (k < n_vocab_) {
        // one pass: keep the k largest; most logits fail the first comparison
        cand_.reserve(k);
        for (int i = 0; i < k; i++) cand_.push_back({i, logits[i]});
        auto min_it = std::min_element(cand_.begin(), cand_.end(), [](const Cand & a, const Cand & b) { return a.logit < b.logit; });
        float thr = min_it->logit;
        for (int i = k; i < n_vocab_; i++) {
            if (logits[i] <= thr) continue;
            *min_it = {i, logits[i]};
            min_it = std::min_element(cand_.begin(), cand_.end(), [](const Cand & a, const Cand & b) { return a.logit < b.logit; });
            thr = min_it->logit;
        }
    } else {
        cand_.resize(n_vocab_);
        for (int i = 0; i < n_vocab_; i++) cand_[i] = {i, logits[i]};
    }
    std::sort(cand_.begin(), cand_.end(), [](const Cand & a, const Cand & b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); });
    size_t n = cand_.size();
    const double mx = cand_[0].logit;
    prob_.resize(n);
    if (p_.top_p < 1.0f || p_.min_p > 0.0f) {
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += (prob_[i] = std::exp((double) cand_[i].logit - mx));
        if (p_.top_p < 1.0f) {
            double cum = 0;
            size_t keep = n;
            for (size_t i = 0; i < n; i++) {
                cum += prob_[i] / sum;
                if (cum >= p_.top_p) { keep = i + 1; break; }
            }
            n = keep;
        }
        if (p_.min_p > 0.0f) {
            const double floor_p = p_.min_p * prob_[0];
            size_t keep = 1;
            while (keep < n && prob_[keep] >= floor_p) keep++;
            n = keep;
        }
    }
    const double inv_t = 1.0 / p_.temperature;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (prob_[i] = std::exp(((double) cand_[i].logit - mx) * inv_t));
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) * sum;
    double cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += prob_[i];
        if (u < cum) return cand_[i].id;
    }
    return cand_[n - 1].id;
}

}  // namespace eia
