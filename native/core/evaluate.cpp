#include "evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "batch.h"
#include "error.h"
#include "ggml.h"
#include "gguf.h"
#include "runtime.h"

namespace eia {

std::vector<float> eval_logits(Context & ctx, const std::vector<llama_token> & tokens, const std::vector<SteerTerm> & steer,
                               const std::vector<uint8_t> * steer_at) {
    Model & model = ctx.model();
    const int n_layer = model.n_layer(), n_embd = model.n_embd(), n_vocab = model.info().n_vocab;
    if (tokens.empty()) fail("evalLogits needs at least one token");
    for (auto t : tokens) model.check_token(t);
    if ((int) tokens.size() > ctx.n_ctx_seq()) fail("token sequence longer than the context");
    if (!steer.empty()) require_residual(ctx, "steering");
    if (steer_at && steer_at->size() != tokens.size())
        fail("steerAt has " + std::to_string(steer_at->size()) + " entries for " + std::to_string(tokens.size()) + " tokens");
    // with a mask, marked positions are the plan's "generated" rows and the terms steer only those
    std::vector<SteerTerm> terms = steer;
    if (steer_at)
        for (auto & t : terms) t.positions = SteerPositions::Generated;
    SteerPlan plan(terms, GateSpec{}, n_layer, n_embd, "evalLogits");
    ResidualHook & hook = ctx.hook();
    hook.clear_capture();
    hook.clear_monitors();
    hook.clear_plans();
    ctx.use_hook(!plan.empty());
    hook.set_plan(0, &plan, nullptr);
    struct Unplan {
        ResidualHook & h;
        ~Unplan() { h.clear_plans(); }
    } unplan{hook};
    ctx.clear_memory();
    std::vector<float> out((size_t) tokens.size() * n_vocab);
    const int n_batch = ctx.n_batch();
    TokenBatch batch(n_batch);
    for (size_t off = 0; off < tokens.size(); off += n_batch) {
        batch.clear();
        const size_t end = std::min(tokens.size(), off + (size_t) n_batch);
        for (size_t i = off; i < end; i++) batch.add(tokens[i], (llama_pos) i, 0, 0, steer_at && (*steer_at)[i], true);
        hook.begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
        if (!ctx.decode(batch.raw())) fail(Code::Aborted, "aborted");
        for (size_t i = off; i < end; i++) {
            const float * lg = llama_get_logits_ith(ctx.raw(), (int32_t) (i - off));
            if (!lg) fail(Code::Internal, "internal: no logits");
            std::memcpy(out.data() + i * n_vocab, lg, n_vocab * sizeof(float));
        }
    }
    ctx.clear_memory();
    return out;
}

namespace {

// log softmax(row)[target], in double (a sum over n_vocab floats)
double log_softmax_at(const float * row, int n_vocab, llama_token target) {
    float mx = row[0];
    for (int v = 1; v < n_vocab; v++) mx = std::max(mx, row[v]);
    double sum = 0.0;
    for (int v = 0; v < n_vocab; v++) sum += std::exp((double) row[v] - (double) mx);
    return (double) row[target] - (double) mx - std::log(sum);
}

}  // namespace

std::vector<std::vector<float>> token_logprobs(Context & ctx, const std::vector<ScoreItem> & items) {
    Model & model = ctx.model();
    const int n_vocab = model.info().n_vocab;
    const int n_ctx = ctx.n_ctx_seq();
    if (items.empty()) fail("tokenLogprobs needs at least one item");
    // every check before the first decode
    std::vector<std::vector<llama_token>> toks(items.size());
    for (size_t i = 0; i < items.size(); i++) {
        const auto & it = items[i];
        const std::string who = "items[" + std::to_string(i) + "]";
        if (it.prompt.empty()) fail(who + ".prompt is empty (the first continuation token needs at least one token before it)");
        for (auto t : it.prompt) model.check_token(t);
        for (auto t : it.continuation) model.check_token(t);
        // the last token is never decoded: nothing is predicted after it
        const size_t decoded = it.prompt.size() + it.continuation.size() - 1;
        if ((int64_t) decoded > (int64_t) n_ctx)
            fail(who + " needs " + std::to_string(decoded) + " context tokens (prompt + continuation - 1), more than the context holds (" +
                 std::to_string(n_ctx) + ")");
        if (!it.continuation.empty()) {
            toks[i] = it.prompt;
            toks[i].insert(toks[i].end(), it.continuation.begin(), it.continuation.end() - 1);
        }
    }
    std::vector<std::vector<float>> out(items.size());
    for (size_t i = 0; i < items.size(); i++) out[i].assign(items[i].continuation.size(), 0.0f);

    ResidualHook & hook = ctx.hook();
    hook.clear_capture();
    hook.clear_monitors();
    hook.clear_plans();
    ctx.use_hook(false);
    ctx.clear_memory();

    const int n_batch = ctx.n_batch();
    const int n_slots = ctx.n_seq_max();
    struct Active { int item, slot, off; };
    std::vector<Active> active;
    std::vector<int> free_slots;
    for (int s = n_slots - 1; s >= 0; s--) free_slots.push_back(s);
    std::vector<int32_t> row_item(n_batch), row_pos(n_batch);
    int next = 0;
    int64_t resident = 0;
    const int n_items = (int) items.size();
    TokenBatch batch(n_batch);
    auto skip_empty = [&] {
        while (next < n_items && toks[next].empty()) next++;
    };
    skip_empty();
    while (next < n_items || !active.empty()) {
        if (ctx.abort_requested()) fail(Code::Aborted, "aborted");
        batch.clear();
        auto add_piece = [&](Active & a) {
            const auto & t = toks[a.item];
            const int n_prompt = (int) items[a.item].prompt.size();
            const int take = std::min((int) t.size() - a.off, n_batch - batch.size());
            for (int k = 0; k < take; k++) {
                const int pos = a.off + k;
                row_item[batch.size()] = a.item;
                row_pos[batch.size()] = pos;
                // a row is an output when it predicts a continuation token (position >= n_prompt - 1)
                batch.add(t[pos], pos, a.slot, a.slot, false, pos >= n_prompt - 1);
            }
            a.off += take;
        };
        for (auto & a : active) {
            if (batch.size() >= n_batch) break;
            if (a.off < (int) toks[a.item].size()) add_piece(a);
        }
        // per-sequence KV streams take one new sequence per decode call (as capture does)
        while (next < n_items && !free_slots.empty() && batch.size() < n_batch &&
               resident + (int64_t) toks[next].size() <= n_ctx && (ctx.kv_unified() || active.empty())) {
            Active a{next, free_slots.back(), 0};
            free_slots.pop_back();
            resident += (int64_t) toks[next].size();
            next++;
            skip_empty();
            add_piece(a);
            active.push_back(a);
        }
        if (batch.size() == 0) fail(Code::Internal, "internal: tokenLogprobs made no progress");
        hook.begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
        if (!ctx.decode(batch.raw())) fail(Code::Aborted, "aborted");
        for (int32_t b : batch.outputs()) {
            const int item = row_item[b];
            const int pos = row_pos[b];
            const int n_prompt = (int) items[item].prompt.size();
            const int k = pos - (n_prompt - 1);  // index of the predicted continuation token
            const float * lg = llama_get_logits_ith(ctx.raw(), b);
            if (!lg) fail(Code::Internal, "internal: no logits");
            out[item][k] = (float) log_softmax_at(lg, n_vocab, items[item].continuation[k]);
        }
        for (size_t i = 0; i < active.size();) {
            auto & a = active[i];
            if (a.off >= (int) toks[a.item].size()) {
                ctx.seq_rm(a.slot);
                free_slots.push_back(a.slot);
                resident -= (int64_t) toks[a.item].size();
                active.erase(active.begin() + i);
            } else {
                i++;
            }
        }
    }
    ctx.clear_memory();
    return out;
}

std::vector<float> read_gguf_tensor(const std::string & path, const std::string & name, std::vector<int64_t> * shape) {
    ensure_backend();
    // metadata only: the one tensor's bytes are read from the file below (models are GBs)
    gguf_init_params gp = {true, nullptr};
    take_thread_log_errors();
    gguf_context * g = gguf_init_from_file(path.c_str(), gp);
    if (!g) fail(Code::IO, "cannot read GGUF '" + path + "': " + take_thread_log_errors());
    const int64_t id = gguf_find_tensor(g, name.c_str());
    std::vector<float> out;
    std::string err;
    if (id < 0) {
        err = "no tensor named '" + name + "'";
    } else {
        const ggml_type type = gguf_get_tensor_type(g, id);
        const int64_t * ne = gguf_get_tensor_ne(g, id);
        int64_t n = 1;
        int dims = 0;
        for (int i = 0; i < GGML_MAX_DIMS; i++) {
            n *= ne[i];
            if (ne[i] != 1) dims = i + 1;
        }
        if (shape) {
            shape->clear();
            for (int i = 0; i < std::max(dims, 1); i++) shape->push_back(ne[i]);
        }
        if (type != GGML_TYPE_F32 && type != GGML_TYPE_F16) {
            err = "tensor '" + name + "' is " + ggml_type_name(type) + " (only F32/F16 are read)";
        } else {
            const size_t bytes = gguf_get_tensor_size(g, id);
            const size_t offset = gguf_get_data_offset(g) + gguf_get_tensor_offset(g, id);
            std::vector<uint8_t> buf(bytes);
            FILE * f = std::fopen(path.c_str(), "rb");
            const bool ok = f && fseeko(f, (off_t) offset, SEEK_SET) == 0 && std::fread(buf.data(), 1, bytes, f) == bytes;
            if (f) std::fclose(f);
            if (!ok) {
                err = "cannot read the data of tensor '" + name + "' (a truncated file?)";
            } else {
                out.resize((size_t) n);
                if (type == GGML_TYPE_F32) std::memcpy(out.data(), buf.data(), out.size() * sizeof(float));
                else ggml_fp16_to_fp32_row((const ggml_fp16_t *) buf.data(), out.data(), n);
            }
        }
    }
    gguf_free(g);
    if (!err.empty()) fail(path + ": " + err);
    return out;
}

}  // namespace eia
