// The planted-concept model: its embedding, block and head tensors (see planted.h). Two profiles:
// "easy" (this comment) and "realistic" (the comment of its section below, which builds on this one).
//
// Easy geometry (all tokens, tied input/output embedding E):
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
#include <functional>
#include <memory>

#include <map>
#include <set>
#include <string>

#include "pair_texts.h"
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

// A seeded Fisher-Yates permutation of 0..d-1 (both profiles draw their axis roles from it).
std::vector<int> seeded_permutation(Rng & rng, int d) {
    std::vector<int> perm(d);
    for (int i = 0; i < d; ++i) perm[i] = i;
    for (int i = d - 1; i > 0; --i) std::swap(perm[i], perm[rng.below((uint64_t) i + 1)]);
    return perm;
}

Axes make_axes(Rng & rng, int d) {
    const std::vector<int> perm = seeded_permutation(rng, d);
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
        if (ax.role[i] != 2 && ax.role[i] != 3) out[i] = 0.0f;
        n += (double) out[i] * out[i];
    }
    const float s = n > 0 ? (float) (norm / std::sqrt(n)) : 0.0f;
    for (int i = 0; i < d; ++i) out[i] *= s;
}

// Extra wordness of a class word (either class alike), more when it holds a keyword the scorer
// counts; the same rule in both profiles. Two separate adds, as the models were tuned with.
void add_class_word_wordness(const Vocab & V, int t, float & wordness) {
    if (!((V.kind[t] == K_WORD || V.kind[t] == K_CAP) && V.cls[t] != 0)) return;
    wordness += kWCls;
    const std::string lw = lower(V.text[t]);
    if (contains_any(lw, kEmpathyKeywords, kNEmpathyKeywords) || contains_any(lw, kTaskKeywords, kNTaskKeywords)) wordness += kWKw;
}

using RowsPost = std::function<void(int64_t, int64_t, float *)>;

// What a planted block adds to the random weights: a constant added to the attention output at
// every position (may be null), and the planted FFN units (posts of the gate, up and down weights;
// gate and up rows are given as in llama's separate matrices).
struct BlockPlant {
    std::shared_ptr<std::vector<float>> constant;
    RowsPost gate, up, down;
};

// Row `row` of a weight shifted by `by` rows (a fused matrix holds one part after another).
RowsPost shifted(RowsPost f, int64_t by) {
    if (!f) return nullptr;
    return [f, by](int64_t r0, int64_t r1, float * dst) {
        // the post sees rows [r0, r1) of the fused matrix; hand it the part's own row numbers
        f(r0 - by, r1 - by, dst);
    };
}

RowsPost both_posts(RowsPost f1, RowsPost f2) {
    if (!f1) return f2;
    if (!f2) return f1;
    return [f1, f2](int64_t r0, int64_t r1, float * dst) { f1(r0, r1, dst); f2(r0, r1, dst); };
}

// The tensors of block i in the architecture's own layout, each holding the same function:
//  * llama: attn_q/k/v, attn_output (+ attn_output.bias carrying the constant), ffn_gate/up/down;
//  * qwen2: the same matrices, but llama.cpp loads no attention-output bias for qwen2. The constant
//    rides on the value path instead: value row j of kv head 0 is zeroed and attn_v.bias sets it to
//    1, so every query head of that kv head's group reads exactly 1 there (softmax weights sum to
//    1), and attn_output's columns of those heads at dim j write constant / group;
//  * phi3: fused attn_qkv (q, k, v rows one after another, with attn_qkv.bias for the constant as
//    in qwen2) and fused ffn_up (gate rows, then up rows: llama.cpp's swiglu takes silu of the first
//    half times the second).
void push_block(std::vector<TensorPlan> & plans, const std::string & arch, int i, int n_embd, int64_t n_q, int64_t n_kv,
                int head_dim, int n_ff, float sw, ggml_type wtype, const BlockPlant & bp) {
    plans.push_back(vector_plan(block_tensor(i, "attn_norm.weight"), n_embd, I_CONST, 1.0f));
    const auto & c = bp.constant;
    const int64_t j = 0;                 // the value dim that carries the constant (kv head 0)
    const int64_t group = n_q / n_kv;    // query heads per kv head
    // value path: zero value row `row` of a weight whose rows are the projections
    auto zero_row = [n_embd](int64_t row) -> RowsPost {
        return [row, n_embd](int64_t r0, int64_t r1, float * dst) {
            if (row >= r0 && row < r1) std::fill(dst + (row - r0) * n_embd, dst + (row - r0 + 1) * n_embd, 0.0f);
        };
    };
    auto one_at = [](int64_t n, int64_t at) {
        auto b = std::make_shared<std::vector<float>>((size_t) n, 0.0f);
        (*b)[(size_t) at] = 1.0f;
        return b;
    };
    if (arch == "phi3") {
        TensorPlan qkv = matrix_plan(block_tensor(i, "attn_qkv.weight"), n_embd, n_q + 2 * n_kv, sw, wtype);
        if (c) qkv.post = zero_row(n_q + n_kv + j);
        plans.push_back(qkv);
        if (c) {
            TensorPlan b = vector_plan(block_tensor(i, "attn_qkv.bias"), n_q + 2 * n_kv, I_ROWS, 0.0f);
            b.rows = one_at(n_q + 2 * n_kv, n_q + n_kv + j);
            plans.push_back(b);
        }
    } else {
        plans.push_back(matrix_plan(block_tensor(i, "attn_q.weight"), n_embd, n_q, sw, wtype));
        plans.push_back(matrix_plan(block_tensor(i, "attn_k.weight"), n_embd, n_kv, sw, wtype));
        TensorPlan wv = matrix_plan(block_tensor(i, "attn_v.weight"), n_embd, n_kv, sw, wtype);
        if (c && arch == "qwen2") wv.post = zero_row(j);
        plans.push_back(wv);
        if (c && arch == "qwen2") {
            TensorPlan b = vector_plan(block_tensor(i, "attn_v.bias"), n_kv, I_ROWS, 0.0f);
            b.rows = one_at(n_kv, j);
            plans.push_back(b);
        }
    }
    TensorPlan wo = matrix_plan(block_tensor(i, "attn_output.weight"), n_q, n_embd, sw, wtype);
    if (c && arch != "llama") {
        // output row r, input column h * head_dim + j (h < group): constant[r] / group
        wo.post = [c, group, head_dim, j, n_q](int64_t r0, int64_t r1, float * dst) {
            for (int64_t r = r0; r < r1; ++r)
                for (int64_t h = 0; h < group; ++h) dst[(r - r0) * n_q + h * head_dim + j] = (*c)[(size_t) r] / (float) group;
        };
    }
    plans.push_back(wo);
    if (c && arch == "llama") {
        TensorPlan b = vector_plan(block_tensor(i, "attn_output.bias"), n_embd, I_ROWS, 0.0f);
        b.rows = c;
        plans.push_back(b);
    }
    plans.push_back(vector_plan(block_tensor(i, "ffn_norm.weight"), n_embd, I_CONST, 1.0f));
    if (arch == "phi3") {
        TensorPlan up = matrix_plan(block_tensor(i, "ffn_up.weight"), n_embd, 2 * (int64_t) n_ff, sw, wtype);
        up.post = both_posts(bp.gate, shifted(bp.up, n_ff));
        plans.push_back(up);
    } else {
        TensorPlan gate = matrix_plan(block_tensor(i, "ffn_gate.weight"), n_embd, n_ff, sw, wtype);
        TensorPlan up = matrix_plan(block_tensor(i, "ffn_up.weight"), n_embd, n_ff, sw, wtype);
        gate.post = bp.gate;
        up.post = bp.up;
        plans.push_back(gate);
        plans.push_back(up);
    }
    TensorPlan down = matrix_plan(block_tensor(i, "ffn_down.weight"), n_ff, n_embd, sw, wtype);
    down.post = bp.down;
    plans.push_back(down);
}

PlantedTensors easy_tensors(const Vocab & V, const std::string & arch, int n_embd, int n_layer, int64_t n_q, int64_t n_kv,
                            int head_dim, int n_ff, ggml_type wtype, uint64_t seed) {
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
        add_class_word_wordness(V, t, wordness);
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
        BlockPlant bp;
        if (i == 0) bp.constant = bias;
        push_block(out.plans, arch, i, n_embd, n_q, n_kv, head_dim, n_ff, sw, wtype, bp);
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

// ------------------------------------------------------------------------------------------
// Realistic profile. The easy geometry gives perfect probes at every block but meaningless
// controls: its pooled activations vary almost only with the class, so random directions separate
// the classes as well as the probe (the paper's baseline cannot be beaten). Real activations vary
// mostly with content. Here, on top of the easy geometry:
//  * content axes with no head gain carry what texts are about: a topic vector per scenario on the
//    words used by that scenario only (kRCT), a style vector per writer on its connectives (kRCS), a
//    small lexical vector per word (kRCL), and a large BOS vector (kRCB, an "attention sink" whose
//    1/n share of a mean-pooled text tracks its length). The class difference is ~10% of the pooled
//    variance, so random directions centre on 0.5 with a spread like the paper's (~0.2);
//  * the signal grows over the first blocks. At the embedding a word's v component is its class
//    (kRCV0 = 0.8 of the easy one) plus a leak of its content, kRLeak (r.c_w) for a fixed content
//    readout r: at block 0 the v axis is entangled with topic and the probe is weaker. Blocks 1 and
//    2 each hold two planted FFN units (see below): one multiplies the v component by sqrt(kRAmp),
//    the other subtracts half of the leak. From block 2 on, v carries the class alone, at the easy
//    strength (kRCV0 * kRAmp = 1), and a steering vector added at any block >= 2 is not amplified;
//  * class words are graded: empathy words +1, task words -kRTask, the ablation synonyms kRWeak, so
//    the paper's lexical ablation (F.ablated.jsonl) lowers detection without erasing it (task texts
//    keep their task words, and either class may weigh the other side: pair_texts_realistic.cpp);
//  * the output embedding is untied (E without the leak, so class values kRCV0 * class): the head
//    reads a word's class, not its content; BOS has full wordness (its length effect stays off u); the word noise is scaled by
//    kRNS in the residual and by 1 / kRNS^2 in the head (same logits, less class-correlated noise
//    in the pooled activations).
// Measured over model seeds 1..12 (`eia-native synth --planted --seed N`, tiny; the analysis seeded
// with N): best-block AUROC 0.969..1.0, cosine with v 0.931..0.978, block 0 lower by 0.169..0.311,
// random-direction mean 0.473..0.536 and std 0.118..0.227 at every block, empirical p <= 0.0198,
// permutation p 0.001, ablated AUROC 0.773..0.991 and lower by 0.009..0.196; the class difference
// 7..14% of the test texts' variance. The dose-response of test/generate.test.ts holds for seeds 1..10.

constexpr float kRCV0 = 0.8f;          // |v-component| of empathy words in the embedding
constexpr float kRAmp = 1.25f;         // v gain of blocks 1..kAmpBlocks together (class at the head: kRCV0 * kRAmp = 1)
constexpr float kRWeak = 0.05f;        // class value of the ablation synonyms (weak empathy words)
constexpr float kRTask = 0.7f;         // |class value| of task words (empathy words: 1)
constexpr int kRNT = 6;                // content axes of topic, writer style and BOS (balanced across classes)
constexpr int kRNL = 6;                // content axes of the words' own (lexical) content
constexpr float kRCL = 0.35f;          // lexical content of every word (a random unit vector per word)
constexpr float kRCT = 1.4f;           // topic content of words of one scenario only
constexpr float kRCS = 1.0f;           // style content of words of one writer only
constexpr float kRCB = 8.0f;           // content of the BOS token: pooled, it tracks the text's length
constexpr float kRNS = 0.6f;           // word noise in the residual (its head gain is divided by kRNS^2)
constexpr float kRLeak = 1.5f;         // at the embedding, a word's v component also carries kRLeak * (r.c_w)

// role 4 = topic / style / BOS content, 5 = lexical content (no head gain on either)
Axes make_axes_realistic(Rng & rng, int d) {
    const std::vector<int> perm = seeded_permutation(rng, d);
    Axes a;
    a.role.assign(d, 2);
    for (int k = 0; k < d; ++k) {
        const int i = perm[k];
        if (k < kNV) a.role[i] = 0;
        else if (k < kNV + kNU) a.role[i] = 1;
        else if (k < kNV + kNU + kRNT) a.role[i] = 4;
        else if (k < kNV + kNU + kRNT + kRNL) a.role[i] = 5;
        else a.role[i] = (k - kNV - kNU - kRNT - kRNL) % 2 == 0 ? 2 : 3;
    }
    return a;
}

// Topic and writer of the words of the realistic templates: a word used by one scenario only
// carries that scenario's topic; a connective used by one writer only carries that writer's style.
struct WordContent {
    std::map<std::string, int> topic;   // lower-case word -> scenario index
    std::map<std::string, int> style;   // lower-case word -> writer (0 = A, 1 = B)
};

WordContent word_content() {
    const RealisticTexts & T = realistic_texts();
    std::map<std::string, std::set<int>> where;   // -1 = general, 0..4 scenarios
    std::map<std::string, std::set<int>> writer;  // 0 = A, 1 = B, 2 = elsewhere
    auto add = [&](const char * s, int sc, int wr) {
        for (auto & w : sentence_words(s)) { where[lower(w)].insert(sc); writer[lower(w)].insert(wr); }
    };
    for (size_t i = 0; i < T.scenarios.size(); ++i) {
        const auto & sc = T.scenarios[i];
        for (auto * lists : {&sc.settings, &sc.empathic, &sc.task, &sc.emp_ack, &sc.task_ack}) {
            for (const char * s : *lists) add(s, (int) i, 2);
        }
    }
    for (auto * lists : {&T.general_empathic, &T.general_task}) for (const char * s : *lists) add(s, -1, 2);
    for (const char * s : T.openers_a) add(s, -1, 0);
    for (const char * s : T.closings_a) add(s, -1, 0);
    for (const char * s : T.openers_b) add(s, -1, 1);
    WordContent c;
    for (auto & [w, set] : where) if (set.size() == 1 && *set.begin() >= 0) c.topic[w] = *set.begin();
    for (auto & [w, set] : writer) if (set.size() == 1 && *set.begin() < 2) c.style[w] = *set.begin();
    return c;
}

PlantedTensors realistic_tensors(const Vocab & V, const std::string & arch, int n_embd, int n_layer, int64_t n_q, int64_t n_kv,
                                 int head_dim, int n_ff, ggml_type wtype, uint64_t seed) {
    PlantedTensors out;
    const int64_t n_vocab = (int64_t) V.size();
    const float sw = kSBlock / std::sqrt((float) n_embd) * std::min(1.0f, std::sqrt(6.0f / (float) n_layer));
    Rng rng(mix3(seed, fnv1a("planted-geometry-realistic"), 0));
    const Axes ax = make_axes_realistic(rng, n_embd);
    std::vector<float> v, u;
    unit_on(rng, ax, 0, v);
    unit_on(rng, ax, 1, u);
    out.v = v;
    // content directions: 5 topics, 2 writer styles, BOS, and one lexical direction per word
    const int n_topic = (int) realistic_texts().scenarios.size();
    std::vector<std::vector<float>> topic(n_topic), style(2);
    for (auto & t : topic) unit_on(rng, ax, 4, t);
    for (auto & t : style) unit_on(rng, ax, 4, t);
    std::vector<float> bos, r;
    unit_on(rng, ax, 4, bos);
    unit_on(rng, ax, 4, r);
    {   // the readout of the leak is orthogonal to the BOS content, which does not leak
        double rb = 0, n = 0;
        for (int i = 0; i < n_embd; ++i) rb += (double) r[i] * bos[i];
        for (int i = 0; i < n_embd; ++i) { r[i] -= (float) (rb * bos[i]); n += (double) r[i] * r[i]; }
        for (auto & x : r) x = (float) (x / std::sqrt(n));
    }
    const WordContent wc = word_content();
    std::set<std::string> weak;
    for (const auto & [w, alts] : ablation_synonyms()) {
        std::string a = alts;
        for (auto & c : a) if (c == '|') c = ' ';
        for (auto & x : split_ws(a)) weak.insert(x);
    }

    const size_t nb = V.base_words.size();
    std::vector<float> base_noise(nb * n_embd), base_content(nb * n_embd, 0.0f);
    for (size_t b = 0; b < nb; ++b) noise_vec(rng, ax, kRNS * kSN, &base_noise[b * n_embd]);
    std::vector<float> lex;
    for (size_t b = 0; b < nb; ++b) {
        float * c = &base_content[b * n_embd];
        unit_on(rng, ax, 5, lex);
        const std::string w = lower(V.base_words[b]);
        const auto t = wc.topic.find(w);
        const auto s = wc.style.find(w);
        for (int i = 0; i < n_embd; ++i) {
            c[i] = kRCL * lex[i];
            if (t != wc.topic.end()) c[i] += kRCT * topic[(size_t) t->second][i];
            if (s != wc.style.end()) c[i] += kRCS * style[(size_t) s->second][i];
        }
    }
    std::vector<float> base_eps(nb);
    {
        Rng erng(mix3(seed, fnv1a("planted-unigram"), 0));
        erng.normals(base_eps.data(), (int64_t) base_eps.size(), kWEps);
    }
    // E: the input embedding; O: the output embedding (untied), E without the leak, so that the
    // head reads a word's class and not its content
    auto E = std::make_shared<std::vector<float>>((size_t) (n_vocab * n_embd), 0.0f);
    auto O = std::make_shared<std::vector<float>>((size_t) (n_vocab * n_embd), 0.0f);
    for (int64_t t = 0; t < n_vocab; ++t) {
        float * e = &(*E)[(size_t) (t * n_embd)];
        float leak = 0.0f;
        float wordness;
        switch (V.kind[t]) {
            case K_WORD: wordness = kW; break;
            case K_PUNCT: wordness = kW; break;
            case K_CAP: wordness = kWCap; break;
            default: wordness = -kW; break;
        }
        // BOS at full wordness: otherwise its 1/n share of every pooled text puts the text's length
        // onto u (its length effect lives on the content axes instead)
        if (V.text[t] == "<s>") wordness = kW;
        float cval = V.cls[t] > 0 ? 1.0f : V.cls[t] < 0 ? -kRTask : 0.0f;
        if (V.base[t] >= 0 && V.cls[t] == 0 && weak.count(lower(V.base_words[(size_t) V.base[t]]))) cval = kRWeak;
        if (V.base[t] >= 0 && V.cls[t] == 0 && cval == 0.0f) wordness += base_eps[(size_t) V.base[t]];
        add_class_word_wordness(V, t, wordness);
        if (V.base[t] >= 0) {
            std::memcpy(e, &base_noise[(size_t) V.base[t] * n_embd], n_embd * sizeof(float));
            const float * c = &base_content[(size_t) V.base[t] * n_embd];
            double rc = 0;
            for (int i = 0; i < n_embd; ++i) { e[i] += c[i]; rc += (double) r[i] * c[i]; }
            // entanglement at the embedding: content leaks into v (undone by blocks 1..kAmpBlocks)
            leak = kRLeak * (float) rc;
        } else {
            noise_vec(rng, ax, kRNS * (V.kind[t] == K_PUNCT ? kSN : kSNX), e);
        }
        if (V.text[t] == "<s>") for (int i = 0; i < n_embd; ++i) e[i] += kRCB * bos[i];
        for (int i = 0; i < n_embd; ++i) e[i] += cval * kRCV0 * v[i] + wordness * u[i];
        float * o = &(*O)[(size_t) (t * n_embd)];
        std::memcpy(o, e, n_embd * sizeof(float));
        for (int i = 0; i < n_embd; ++i) e[i] += leak * v[i];
    }
    TensorPlan te = matrix_plan("token_embd.weight", n_embd, n_vocab, 0.02f, wtype);
    te.init = I_ROWS;
    te.rows = E;
    out.plans.push_back(te);

    // Blocks 1..kAmpBlocks, FFN units 0 and 1 (u.h ~ kB + kW is large, so silu is linear there):
    //   unit 0, the amplifier:  silu(a u.n) * (b v.n) -> c0 v   adds  g (v.h) v,
    //   unit 1, the disentangler: silu(a u.n) * (b r.n) -> -c1 v  adds -f (r.h) v,
    // with n = ffn_norm(h) = h sqrt(d) / |h| and gain(c) = a b c d (u.h) / |h|^2. Block k thus maps
    // the v component x = C cls + L (r.c) to (1 + g) x - f_k (r.c): the class part (and any
    // steering added below it) grows by (1 + g) per block, and f_1, f_2 remove the leak in two halves.
    const float uh = kB + kW;
    const float h2 = uh * uh + kSN * kSN + kRCL * kRCL + kRCT * kRCT * 0.3f;
    const float g = std::pow(kRAmp, 1.0f / (float) kAmpBlocks) - 1.0f;
    const float amp_a = 1.0f, amp_b = 1.0f;
    auto coef = [&](float gain) { return gain * h2 / ((float) n_embd * uh * amp_a * amp_b); };
    std::vector<float> cancel(kAmpBlocks + 1, 0.0f);   // f_k, in units of the leak kRLeak (r.c)
    {
        float left = 1.0f;   // leak coefficient of the v component so far
        for (int k = 1; k <= kAmpBlocks; ++k) {
            left *= 1.0f + g;
            const float keep = (float) (kAmpBlocks - k) / (float) kAmpBlocks;   // share of the leak left after block k
            cancel[k] = left - keep * std::pow(1.0f + g, (float) k);
            left -= cancel[k];
        }
    }
    auto vs = std::make_shared<std::vector<float>>(v), us = std::make_shared<std::vector<float>>(u);
    auto rs = std::make_shared<std::vector<float>>(r);
    // The planted units' weights replace the random ones: a unit's hidden value is large (silu of
    // u.n ~ sqrt(d)), so random entries in its down column would write it, class by class, into a
    // random direction of norm ~ sigma sqrt(d) * hidden (0.7 at the 0.5b shape, enough to tilt the probe).
    auto set_row = [](std::shared_ptr<std::vector<float>> dir, float k, int64_t row) {
        // row `row` of a (ne1 x ne0) weight := k * dir
        return [dir, k, row](int64_t r0, int64_t r1, float * dst) {
            if (row < r0 || row >= r1) return;
            float * p = dst + (row - r0) * (int64_t) dir->size();
            for (size_t i = 0; i < dir->size(); ++i) p[i] = k * (*dir)[i];
        };
    };
    auto set_col = [](std::shared_ptr<std::vector<float>> dir, float k, int64_t col, int64_t ne0) {
        // element `col` of every row i := k * dir[i]
        return [dir, k, col, ne0](int64_t r0, int64_t r1, float * dst) {
            for (int64_t r = r0; r < r1; ++r) dst[(r - r0) * ne0 + col] = k * (*dir)[(size_t) r];
        };
    };
    auto both = [](std::function<void(int64_t, int64_t, float *)> f1, std::function<void(int64_t, int64_t, float *)> f2) {
        return [f1, f2](int64_t r0, int64_t r1, float * dst) { f1(r0, r1, dst); f2(r0, r1, dst); };
    };

    auto bias0 = std::make_shared<std::vector<float>>((size_t) n_embd);
    for (int i = 0; i < n_embd; ++i) (*bias0)[i] = kB * u[i];
    auto lean = std::make_shared<std::vector<float>>((size_t) n_embd);
    for (int i = 0; i < n_embd; ++i) (*lean)[i] = -kVOff * v[i];
    for (int i = 0; i < n_layer; ++i) {
        BlockPlant bp;
        // block 0 adds the wordness offset; the task lean comes after the amplifier, so that it
        // is not amplified
        if (i == 0 || i == kAmpBlocks) bp.constant = i == 0 ? bias0 : lean;
        if (i >= 1 && i <= kAmpBlocks) {
            bp.gate = both(set_row(us, amp_a, 0), set_row(us, amp_a, 1));
            bp.up = both(set_row(vs, amp_b, 0), set_row(rs, amp_b, 1));
            bp.down = both(set_col(vs, coef(g), 0, n_ff), set_col(vs, -coef(kRLeak * cancel[(size_t) i]), 1, n_ff));
        }
        push_block(out.plans, arch, i, n_embd, n_q, n_kv, head_dim, n_ff, sw, wtype, bp);
    }
    auto gout = std::make_shared<std::vector<float>>((size_t) n_embd);
    const int n_noise = n_embd - kNV - kNU - kRNT - kRNL;
    const float gn = kGN * std::sqrt((float) n_noise) / (kRNS * kRNS);
    for (int i = 0; i < n_embd; ++i) {
        const int r = ax.role[i];
        const float gr = r == 0 ? kGV : r == 1 ? kGU : r == 2 ? gn : r == 3 ? -gn : 0.0f;
        (*gout)[i] = gr / std::sqrt((float) n_embd);
    }
    TensorPlan on = vector_plan("output_norm.weight", n_embd, I_ROWS, 0.0f);
    on.rows = gout;
    out.plans.push_back(on);
    TensorPlan ow = matrix_plan("output.weight", n_embd, n_vocab, 0.02f, wtype);
    ow.init = I_ROWS;
    ow.rows = O;
    out.plans.push_back(ow);
    return out;
}

}  // namespace

PlantedTensors planted_tensors(const Vocab & V, const std::string & arch, int n_embd, int n_layer, int64_t n_q, int64_t n_kv,
                               int head_dim, int n_ff, ggml_type wtype, uint64_t seed, PlantedProfile profile) {
    if (profile == PlantedProfile::Easy) return easy_tensors(V, arch, n_embd, n_layer, n_q, n_kv, head_dim, n_ff, wtype, seed);
    return realistic_tensors(V, arch, n_embd, n_layer, n_q, n_kv, head_dim, n_ff, wtype, seed);
}

}  // namespace eia::synth
