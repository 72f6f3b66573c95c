// The planted-concept model: its embedding, block and head tensors (see planted.h).
//
//
// Planted model geometry (all tokens, tied input/output embedding E):
//   e_t = cls_t * C_V * v + wordness_t * u + noise_t,   v, u and noise on disjoint sets of axes,
//   cls = +1 empathy words, -1 task words, 0 else; wordness = W for whole words and sentence
//   punctuation (plus small priors: class words, keyword-bearing class words, a per-word jitter of
//   neutral words), a little less for capitalised variants, -W for everything else (bytes, prefix
//   pieces, single characters, specials). blk.0.attn_output.bias adds B*u - VOff*v at every
//   position and the block weights are small, so l_out-L stays close to e_t + B*u - VOff*v and the
//   mean-pooled empathic-minus-task difference points along v at every layer.
// Output head: tied, read through output_norm.weight set per axis (G_V on v's axes, G_U on u's,
// +/-G_N alternating on the noise axes), so for a state h = e_t + B*u + (alpha - VOff)*v
//   logit_s ~ [G_V C_V cls_s (C_V cls_t + alpha - VOff) + G_U (B + w_t) w_s + G_N <n_t, +/-n_s>] / |h|.
// Adding alpha*v at any block output raises every empathy word's logit and lowers every task
// word's monotonically in alpha. The current token's own class part C_V*cls_t enters exactly like
// a steering of alpha = +/-C_V, so C_V is kept small (an earlier geometry with C_V*scale = 7.5 made
// each sample lock into all-empathy or all-task words within a few tokens); the word-to-word variety
// that top-k sampling needs comes from the noise term, amplified by G_N in the head rather than in
// the residual (whose noise would tilt the probe direction), with alternating signs so that a
// word's own |n_t|^2 does not favour repeating it. VOff makes unsteered text lean slightly to task
// words, so that the paper's keyword-majority rate rises from alpha 0 to 2 (steering sweeps).
#include "planted.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "rng.h"
#include "words.h"

namespace eia::synth {

namespace {

// Geometry constants (see the top of this file). Residual-stream units: a whole word's
// state at any block output is ~ (kB + kW) u = 19 u, so steering alphas 2..10 move it by 10..50%.
// Tuned over model seeds 1..5 (tiny) with eia-synth-check (native/tools/synth_check.cpp) and the engine's sampler
// (temperature 0.7, top-k 50): min cos(d_L, v) 0.984; the empathy-keyword token share rises
// monotonically over alpha -10..10 with no per-sample lock-in (see the comment at the top).
constexpr float kCV = 1.0f;        // |v-component| of empathy / task words
constexpr float kSN = 0.5f;        // noise norm of words and . , ? !
constexpr float kSNX = 1.0f;       // noise norm of non-word tokens
constexpr float kW = 3.0f;         // wordness of whole words and . , ? !
constexpr float kWCap = 2.5f;      // wordness of capitalised variants (sampled less often)
constexpr float kWCls = 0.05f;     // extra wordness of empathy / task words (both classes alike)
constexpr float kWKw = 0.35f;      // extra wordness of class words that contain a paper keyword
constexpr float kWEps = 0.2f;      // sigma of a per-word wordness jitter of neutral words (unigram prior)
constexpr float kB = 16.0f;        // constant wordness offset (blk.0.attn_output.bias)
constexpr float kVOff = 1.0f;      // constant -kVOff * v in the same bias: unsteered text leans to task words
constexpr float kSBlock = 0.05f;   // block weight sigma * sqrt(n_embd)
// output_norm.weight * sqrt(n_embd), per axis role: logit_s = sum_i G_i h_i e_s,i / |h|
constexpr float kGV = 3.0f;        // on the v axes: class logit gap kGV * kCV * (alpha - kVOff) / |h|
constexpr float kGU = 5.0f;        // on the u axes: wordness, class and keyword priors
constexpr float kGN = 26.7f;       // on the noise axes, times sqrt(#noise axes), sign alternating
constexpr int kNV = 4;             // axes spanned by v
constexpr int kNU = 4;             // axes spanned by u

// Coordinate roles: a seeded permutation of the n_embd axes; the first kNV carry v, the next kNU
// carry u, the rest carry the word noise. role: 0 = v, 1 = u, 2 / 3 = noise with head gain +/-.
struct Axes {
    std::vector<int> role;
};

Axes make_axes(Rng & rng, int d) {
    std::vector<int> perm(d);
    for (int i = 0; i < d; ++i) perm[i] = i;
    for (int i = d - 1; i > 0; --i) std::swap(perm[i], perm[rng.below((uint64_t) i + 1)]);
    Axes a;
    a.role.assign(d, 2);
    for (int k = 0; k < d; ++k) {
        const int i = perm[k];
        a.role[i] = k < kNV ? 0 : k < kNV + kNU ? 1 : ((k - kNV - kNU) % 2 == 0 ? 2 : 3);
    }
    return a;
}

void unit_on(Rng & rng, const Axes & ax, int role, std::vector<float> & out) {
    const int d = (int) ax.role.size();
    out.assign(d, 0.0f);
    std::vector<float> g(d);
    rng.normals(g.data(), d, 1.0f);
    double n = 0;
    for (int i = 0; i < d; ++i) if (ax.role[i] == role) { out[i] = g[i]; n += (double) g[i] * g[i]; }
    for (auto & x : out) x = (float) (x / std::sqrt(n));
}

void noise_vec(Rng & rng, const Axes & ax, float norm, float * out) {
    const int d = (int) ax.role.size();
    rng.normals(out, d, 1.0f);
    double n = 0;
    for (int i = 0; i < d; ++i) {
        if (ax.role[i] < 2) out[i] = 0.0f;
        n += (double) out[i] * out[i];
    }
    const float s = n > 0 ? (float) (norm / std::sqrt(n)) : 0.0f;
    for (int i = 0; i < d; ++i) out[i] *= s;
}

}  // namespace

PlantedTensors planted_tensors(const Vocab & V, int n_embd, int n_layer, int64_t n_q, int64_t n_kv, int n_ff,
                               ggml_type wtype, uint64_t seed) {
    PlantedTensors out;
    const int64_t n_vocab = (int64_t) V.size();
    // block weights shrink with depth too, so the sum of the blocks' writes stays small
    const float sw = kSBlock / std::sqrt((float) n_embd) * std::min(1.0f, std::sqrt(6.0f / (float) n_layer));
    TensorPlan te = matrix_plan("token_embd.weight", n_embd, n_vocab, 0.02f, wtype);
    Rng rng(mix3(seed, fnv1a("planted-geometry"), 0));
    const Axes ax = make_axes(rng, n_embd);
    std::vector<float> v, u;
    unit_on(rng, ax, 0, v);
    unit_on(rng, ax, 1, u);
    out.v = v;
    auto E = std::make_shared<std::vector<float>>((size_t) (n_vocab * n_embd), 0.0f);
    std::vector<float> base_noise((size_t) V.base_words.size() * n_embd);
    for (size_t b = 0; b < V.base_words.size(); ++b) noise_vec(rng, ax, kSN, &base_noise[b * n_embd]);
    // unigram prior of neutral words (class words get none: the empathy / task balance of
    // sampled text must not depend on the seed)
    std::vector<float> base_eps(V.base_words.size());
    {
        Rng erng(mix3(seed, fnv1a("planted-unigram"), 0));
        erng.normals(base_eps.data(), (int64_t) base_eps.size(), kWEps);
    }
    for (int64_t t = 0; t < n_vocab; ++t) {
        float * e = &(*E)[(size_t) (t * n_embd)];
        float wordness;
        switch (V.kind[t]) {
            case K_WORD: wordness = kW; break;
            case K_PUNCT: wordness = kW; break;
            case K_CAP: wordness = kWCap; break;
            default: wordness = -kW; break;
        }
        if (V.base[t] >= 0 && V.cls[t] == 0) wordness += base_eps[(size_t) V.base[t]];
        if ((V.kind[t] == K_WORD || V.kind[t] == K_CAP) && V.cls[t] != 0) {
            wordness += kWCls;
            const std::string lw = lower(V.text[t]);
            if (contains_any(lw, kEmpathyKeywords, kNEmpathyKeywords) ||
                contains_any(lw, kTaskKeywords, kNTaskKeywords)) wordness += kWKw;
        }
        if (V.base[t] >= 0) {
            std::memcpy(e, &base_noise[(size_t) V.base[t] * n_embd], n_embd * sizeof(float));
        } else {
            noise_vec(rng, ax, V.kind[t] == K_PUNCT ? kSN : kSNX, e);
        }
        for (int i = 0; i < n_embd; ++i) e[i] += V.cls[t] * kCV * v[i] + wordness * u[i];
    }
    te.init = I_ROWS;
    te.rows = E;
    // wordness offset and task lean for every position, added by block 0's attention output bias
    auto bias = std::make_shared<std::vector<float>>((size_t) n_embd);
    for (int i = 0; i < n_embd; ++i) (*bias)[i] = kB * u[i] - kVOff * v[i];
    out.plans.push_back(te);
    for (int i = 0; i < n_layer; ++i) {
        out.plans.push_back(vector_plan(block_tensor(i, "attn_norm.weight"), n_embd, I_CONST, 1.0f));
        out.plans.push_back(matrix_plan(block_tensor(i, "attn_q.weight"), n_embd, n_q, sw, wtype));
        out.plans.push_back(matrix_plan(block_tensor(i, "attn_k.weight"), n_embd, n_kv, sw, wtype));
        out.plans.push_back(matrix_plan(block_tensor(i, "attn_v.weight"), n_embd, n_kv, sw, wtype));
        out.plans.push_back(matrix_plan(block_tensor(i, "attn_output.weight"), n_q, n_embd, sw, wtype));
        if (i == 0) {
            TensorPlan b = vector_plan(block_tensor(i, "attn_output.bias"), n_embd, I_ROWS, 0.0f);
            b.rows = bias;
            out.plans.push_back(b);
        }
        out.plans.push_back(vector_plan(block_tensor(i, "ffn_norm.weight"), n_embd, I_CONST, 1.0f));
        out.plans.push_back(matrix_plan(block_tensor(i, "ffn_gate.weight"), n_embd, n_ff, sw, wtype));
        out.plans.push_back(matrix_plan(block_tensor(i, "ffn_up.weight"), n_embd, n_ff, sw, wtype));
        out.plans.push_back(matrix_plan(block_tensor(i, "ffn_down.weight"), n_ff, n_embd, sw, wtype));
    }
    // output head: per-axis gains (see kGV, kGU, kGN); the noise axes alternate in sign so
    // that a word's own noise (|n_t|^2) does not favour repeating it
    auto gout = std::make_shared<std::vector<float>>((size_t) n_embd);
    const float gn = kGN * std::sqrt((float) (n_embd - kNV - kNU));
    for (int i = 0; i < n_embd; ++i) {
        const float g = ax.role[i] == 0 ? kGV : ax.role[i] == 1 ? kGU : ax.role[i] == 2 ? gn : -gn;
        (*gout)[i] = g / std::sqrt((float) n_embd);
    }
    TensorPlan on = vector_plan("output_norm.weight", n_embd, I_ROWS, 0.0f);
    on.rows = gout;
    out.plans.push_back(on);
    return out;
}

}  // namespace eia::synth
