#include "capture.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "batch.h"
#include "error.h"

namespace eia {

Pool parse_pool(const std::string & s) {
    if (s == "mean") return Pool::Mean;
    if (s == "last") return Pool::Last;
    if (s == "tokens") return Pool::Tokens;
    fail("unknown pooling '" + s + "' (expected mean, last or tokens)");
}

namespace {

// Receives l_out rows from the hook and pools them per text.
struct Pooler : CaptureSink {
    const std::vector<int> & layers;
    std::vector<int> layer_pos;          // layer -> index in layers, -1 otherwise
    Pool pool;
    int n_embd;
    const std::vector<int32_t> * tok_text = nullptr;  // batch token -> text
    const std::vector<int32_t> * tok_pos = nullptr;   // batch token -> position in its text
    const std::vector<int> & n_tokens;
    const std::vector<int64_t> & offsets;
    std::vector<std::vector<float>> & out;
    std::vector<std::vector<double>> sums;  // Mean: per (layer, slot) running sums
    const std::vector<int32_t> * tok_slot = nullptr;
    int n_slots;

    Pooler(const std::vector<int> & l, int n_layer, Pool p, int ne, const std::vector<int> & nt, const std::vector<int64_t> & off,
           std::vector<std::vector<float>> & o, int slots)
        : layers(l), pool(p), n_embd(ne), n_tokens(nt), offsets(off), out(o), n_slots(slots) {
        layer_pos.assign(n_layer, -1);
        for (size_t i = 0; i < l.size(); i++) layer_pos[l[i]] = (int) i;
        if (pool == Pool::Mean) sums.assign(l.size(), std::vector<double>((size_t) slots * ne, 0.0));
    }

    void on_rows(int layer, const int32_t * bidx, int n_rows, const float * rows, int ne) override {
        const int li = layer_pos[layer];
        if (li < 0) return;
        for (int r = 0; r < n_rows; r++) {
            const int b = bidx[r];
            if (b < 0) continue;
            const int text = (*tok_text)[b];
            const int pos = (*tok_pos)[b];
            const float * row = rows + (size_t) r * ne;
            if (pool == Pool::Mean) {
                double * s = sums[li].data() + (size_t) (*tok_slot)[b] * ne;
                for (int j = 0; j < ne; j++) s[j] += row[j];
            } else if (pool == Pool::Last) {
                if (pos == n_tokens[text] - 1) std::memcpy(out[li].data() + (size_t) text * ne, row, ne * sizeof(float));
            } else {
                std::memcpy(out[li].data() + (size_t) (offsets[text] + pos) * ne, row, ne * sizeof(float));
            }
        }
    }

    void finish_text(int text, int slot) {
        if (pool != Pool::Mean) return;
        const double inv = 1.0 / n_tokens[text];
        for (size_t li = 0; li < layers.size(); li++) {
            double * s = sums[li].data() + (size_t) slot * n_embd;
            float * o = out[li].data() + (size_t) text * n_embd;
            for (int j = 0; j < n_embd; j++) {
                o[j] = (float) (s[j] * inv);
                s[j] = 0.0;
            }
        }
    }
};

struct HookCaptureGuard {
    ResidualHook & h;
    ~HookCaptureGuard() { h.clear_capture(); }
};

}  // namespace

CaptureResult capture_texts(Context & ctx, const std::vector<std::string> & texts, const CaptureOptions & opt, const ProgressFn & progress) {
    std::vector<std::vector<llama_token>> toks;
    toks.reserve(texts.size());
    for (auto & t : texts) toks.push_back(ctx.model().tokenize(t, opt.add_special, opt.parse_special));
    return capture_tokens(ctx, std::move(toks), opt, progress);
}

CaptureResult capture_tokens(Context & ctx, std::vector<std::vector<llama_token>> toks, const CaptureOptions & opt, const ProgressFn & progress) {
    const auto t0 = std::chrono::steady_clock::now();
    Model & model = ctx.model();
    const int n_layer = model.n_layer(), n_embd = model.n_embd();
    if (toks.empty()) fail("capture needs at least one text");
    if (opt.layers.empty() && !opt.prefill_only) fail("capture needs at least one layer");
    std::vector<int> layers = opt.layers;
    for (int l : layers)
        if (l < 0 || l >= n_layer) fail("layer " + std::to_string(l) + " out of range [0, " + std::to_string(n_layer - 1) + "]");
    {
        auto sorted = layers;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) fail("capture layers must be distinct");
    }
    // a negative count would make resize() below allocate without bound
    if (opt.truncate < 0) fail("truncate must be >= 0");
    if (!opt.prefill_only) require_residual(ctx, "capture");

    CaptureResult res;
    res.layers = layers;
    res.n_embd = n_embd;
    res.n_texts = (int) toks.size();
    res.pool = opt.pool;
    res.n_tokens.resize(toks.size());
    const int n_ctx = ctx.n_ctx_seq();  // per-sequence room (all of it for a unified cache)
    for (size_t i = 0; i < toks.size(); i++) {
        auto & t = toks[i];
        for (auto id : t) model.check_token(id);
        if (opt.truncate > 0 && (int) t.size() > opt.truncate) t.resize(opt.truncate);
        if (t.empty()) fail("text " + std::to_string(i) + " has no tokens (empty text)");
        if ((int) t.size() > n_ctx)
            fail("text " + std::to_string(i) + " has " + std::to_string(t.size()) + " tokens, more than the context (" +
                 std::to_string(n_ctx) + "); set truncate to cut the texts or use a larger nCtx");
        res.n_tokens[i] = (int) t.size();
        res.tokens_total += (int64_t) t.size();
    }
    if (opt.pool == Pool::Tokens) {
        res.offsets.resize(toks.size() + 1, 0);
        for (size_t i = 0; i < toks.size(); i++) res.offsets[i + 1] = res.offsets[i] + res.n_tokens[i];
    }
    const size_t rows_per_layer = opt.pool == Pool::Tokens ? (size_t) res.offsets.back() : toks.size();
    res.data.assign(layers.size(), std::vector<float>(rows_per_layer * n_embd, 0.0f));

    const int n_batch = ctx.n_batch();
    const int n_slots = ctx.n_seq_max();
    const bool need_last_layer = std::find(layers.begin(), layers.end(), n_layer - 1) != layers.end();

    Pooler pooler(layers, n_layer, opt.pool, n_embd, res.n_tokens, res.offsets, res.data, n_slots);
    std::vector<int32_t> tok_text(n_batch), tok_pos(n_batch), tok_slot(n_batch);
    pooler.tok_text = &tok_text;
    pooler.tok_pos = &tok_pos;
    pooler.tok_slot = &tok_slot;

    ResidualHook & hook = ctx.hook();
    hook.clear_plans();
    hook.clear_monitors();
    ctx.use_hook(!opt.prefill_only);
    if (!opt.prefill_only) hook.set_capture(layers, &pooler, /*stop_after_last=*/true);
    HookCaptureGuard guard{hook};
    ctx.clear_memory();

    struct Active { int text, slot, off; };
    std::vector<Active> active;
    std::vector<int> free_slots;
    for (int s = n_slots - 1; s >= 0; s--) free_slots.push_back(s);
    int next = 0;
    int64_t resident = 0, done_tokens = 0;
    TokenBatch batch(n_batch);

    while (next < res.n_texts || !active.empty()) {
        if (ctx.abort_requested()) { res.aborted = true; break; }
        batch.clear();
        auto add_piece = [&](Active & a) {
            const auto & t = toks[a.text];
            const int take = std::min((int) t.size() - a.off, n_batch - batch.size());
            for (int k = 0; k < take; k++) {
                const int b = batch.size();
                tok_text[b] = a.text;
                tok_pos[b] = a.off + k;
                tok_slot[b] = a.slot;
                batch.add(t[a.off + k], a.off + k, a.slot, a.slot, false, false);
            }
            a.off += take;
        };
        for (auto & a : active) {
            if (batch.size() >= n_batch) break;
            if (a.off < (int) toks[a.text].size()) add_piece(a);
        }
        // one text per decode call where llama.cpp would reorder several (Context::one_sequence_per_batch)
        while (next < res.n_texts && !free_slots.empty() && batch.size() < n_batch &&
               resident + (int64_t) toks[next].size() <= n_ctx && (!ctx.one_sequence_per_batch() || active.empty())) {
            Active a{next, free_slots.back(), 0};
            free_slots.pop_back();
            resident += (int64_t) toks[next].size();
            next++;
            add_piece(a);
            active.push_back(a);
        }
        if (batch.size() == 0) fail(Code::Internal, "internal: capture made no progress");
        // Outputs: the last block keeps only output rows, so capturing it needs every token as an
        // output; otherwise one output suffices (the graph stops before the head anyway).
        auto & lb = batch.raw();
        if (need_last_layer) {
            for (int i = 0; i < lb.n_tokens; i++) lb.logits[i] = 1;
        } else {
            lb.logits[lb.n_tokens - 1] = 1;
        }
        std::vector<int32_t> outs;
        for (int i = 0; i < lb.n_tokens; i++)
            if (lb.logits[i]) outs.push_back(i);
        hook.begin_batch(batch.slots(), batch.phases(), lb.n_tokens, outs.data(), (int) outs.size());
        if (!ctx.decode(lb)) { res.aborted = true; break; }
        res.decode_calls++;
        done_tokens += lb.n_tokens;
        // retire finished texts
        for (size_t i = 0; i < active.size();) {
            auto & a = active[i];
            if (a.off >= (int) toks[a.text].size()) {
                pooler.finish_text(a.text, a.slot);
                ctx.seq_rm(a.slot);
                free_slots.push_back(a.slot);
                resident -= (int64_t) toks[a.text].size();
                active.erase(active.begin() + i);
            } else {
                i++;
            }
        }
        if (progress) progress(done_tokens, res.tokens_total);
    }
    ctx.clear_memory();
    res.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return res;
}

std::vector<float> embeddings_per_token(Context & ctx, const std::string & text, bool add_special, int * n_tokens_out) {
    auto toks = ctx.model().tokenize(text, add_special, false);
    if (toks.empty()) fail("text has no tokens");
    if ((int) toks.size() > ctx.n_batch()) fail("text longer than the batch for embeddings_per_token");
    const int n_embd = ctx.model().n_embd();
    ResidualHook & hook = ctx.hook();
    hook.clear_capture();
    hook.clear_plans();
    ctx.use_hook(false);
    hook.clear_monitors();
    ctx.clear_memory();
    TokenBatch batch((int) toks.size());
    for (size_t i = 0; i < toks.size(); i++) batch.add(toks[i], (llama_pos) i, 0, 0, false, true);
    hook.begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
    if (!ctx.decode(batch.raw())) fail(Code::Aborted, "aborted");
    std::vector<float> out(toks.size() * n_embd);
    for (size_t i = 0; i < toks.size(); i++) {
        const float * e = llama_get_embeddings_ith(ctx.raw(), (int32_t) i);
        if (!e) fail("llama.cpp returned no embeddings (create the context with embeddings: true)");
        std::memcpy(out.data() + i * n_embd, e, n_embd * sizeof(float));
    }
    ctx.clear_memory();
    if (n_tokens_out) *n_tokens_out = (int) toks.size();
    return out;
}

}  // namespace eia
