#include "sampler.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

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

// A broken model can emit NaN/inf: NaN never wins, +inf becomes the largest finite value, so the
// chain's softmax stays finite (its asserts must never be reachable from a model file).
static inline float sanitize(float x) {
    if (std::isnan(x) || x == -INFINITY) return -INFINITY;
    return x == INFINITY ? FLT_MAX / 4 : x;
}

// The k largest logits of a row in one pass, sorted by logit (descending; the lower id first among
// equal logits), into `out`. Returns false when every logit is NaN or -inf.
static bool top_k_candidates(const float * logits, int n_vocab, int k, std::vector<llama_token_data> & out) {
    out.clear();
    // a min-heap of the best k so far: its front is the weakest (lowest logit, then highest id)
    const auto weaker = [](const llama_token_data & a, const llama_token_data & b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
    const auto offer = [&](int i) {
        const float x = sanitize(logits[i]);
        if ((int) out.size() < k) {
            out.push_back(llama_token_data{i, x, 0.0f});
            std::push_heap(out.begin(), out.end(), weaker);
        } else if (x > out.front().logit) {  // an equal logit at a higher id never beats the weakest
            std::pop_heap(out.begin(), out.end(), weaker);
            out.back() = llama_token_data{i, x, 0.0f};
            std::push_heap(out.begin(), out.end(), weaker);
        }
    };
    int i = 0;
    for (; i < n_vocab && (int) out.size() < k; i++) offer(i);
    // blocks of 16: most hold nothing above the weakest kept logit, which one SIMD compare shows. (A
    // dependent chain of 16 scalar maxes per block made this scan most of a 55-sequence step's
    // sampling time on a 152k vocabulary: perf put 42% of Sampler::sample on one maxss.) A block with
    // a NaN is offered whole: offer() drops the NaN, so offering more never changes the result.
    constexpr int B = 16;
    for (; i + B <= n_vocab; i += B) {
        const float * x = logits + i;
#if defined(__SSE2__)
        const __m128 a = _mm_loadu_ps(x), b = _mm_loadu_ps(x + 4), c = _mm_loadu_ps(x + 8), d = _mm_loadu_ps(x + 12);
        const __m128 nan = _mm_or_ps(_mm_or_ps(_mm_cmpunord_ps(a, a), _mm_cmpunord_ps(b, b)), _mm_or_ps(_mm_cmpunord_ps(c, c), _mm_cmpunord_ps(d, d)));
        const __m128 above = _mm_cmpgt_ps(_mm_max_ps(_mm_max_ps(a, b), _mm_max_ps(c, d)), _mm_set1_ps(out.front().logit));
        if (_mm_movemask_ps(_mm_or_ps(above, nan)) == 0) continue;
#else
        bool any = false;
        for (int j = 0; j < B && !any; j++) any = std::isnan(x[j]) || x[j] > out.front().logit;
        if (!any) continue;
#endif
        for (int j = 0; j < B; j++) offer(i + j);
    }
    for (; i < n_vocab; i++) offer(i);
    std::sort_heap(out.begin(), out.end(), weaker);  // ascending by `weaker`: strongest first
    return !out.empty() && out.front().logit != -INFINITY;
}

llama_token Sampler::sample(const float * logits) {
    // Top-k (and greedy, the top 1) keep the same tokens whether the logits are scaled by the
    // temperature first (HF's order) or not, so with top-k on the chain runs on the k candidates of
    // one pass over the row instead of on the whole vocabulary (a copy, the temperature and a partial
    // sort of 150k entries per token on a Qwen-sized vocabulary). The candidates come sorted, as
    // the chain's top-k leaves them; a tie that only the temperature's rounding would create is
    // ordered by id here (two candidates of equal probability).
    const int k = p_.temperature <= 0.0f ? 1 : p_.top_k;
    if (k > 0 && k < n_vocab_) {
        if (!top_k_candidates(logits, n_vocab_, k, cur_)) return 0;
    } else {
        cur_.resize(n_vocab_);
        bool any = false;
        for (int i = 0; i < n_vocab_; i++) {
            const float x = sanitize(logits[i]);
            any = any || x != -INFINITY;
            cur_[i] = llama_token_data{i, x, 0.0f};
        }
        if (!any) return 0;
    }
    llama_token_data_array arr = {cur_.data(), cur_.size(), -1, k > 0 && k < n_vocab_};
    llama_sampler_apply(chain_, &arr);
    const llama_token tok = (arr.selected >= 0 && arr.selected < (int64_t) arr.size) ? arr.data[arr.selected].id : 0;
    llama_sampler_accept(chain_, tok);
    return tok;
}

void Sampler::accept(llama_token token) { llama_sampler_accept(chain_, token); }

}  // namespace eia
