#include "evaluate.h"

#include <cmath>
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

std::vector<float> read_gguf_tensor(const std::string & path, const std::string & name, std::vector<int64_t> * shape) {
    ensure_backend();
    ggml_context * gctx = nullptr;
    gguf_init_params gp = {false, &gctx};
    take_thread_log_errors();
    gguf_context * g = gguf_init_from_file(path.c_str(), gp);
    if (!g) fail(Code::IO, "cannot read GGUF '" + path + "': " + take_thread_log_errors());
    ggml_tensor * t = ggml_get_tensor(gctx, name.c_str());
    std::vector<float> out;
    std::string err;
    if (!t) err = "no tensor named '" + name + "'";
    else if (t->type == GGML_TYPE_F32) {
        out.resize(ggml_nelements(t));
        std::memcpy(out.data(), t->data, out.size() * sizeof(float));
    } else if (t->type == GGML_TYPE_F16) {
        out.resize(ggml_nelements(t));
        ggml_fp16_to_fp32_row((const ggml_fp16_t *) t->data, out.data(), (int64_t) out.size());
    } else {
        err = "tensor '" + name + "' is " + ggml_type_name(t->type) + " (only F32/F16 are read)";
    }
    if (t && shape) {
        shape->clear();
        for (int i = 0; i < ggml_n_dims(t); i++) shape->push_back(t->ne[i]);
    }
    gguf_free(g);
    if (gctx) ggml_free(gctx);
    if (!err.empty()) fail(path + ": " + err);
    return out;
}

}  // namespace eia
