#include "context.h"

#include <thread>

#include "error.h"
#include "runtime.h"

namespace eia {

Context::Context(std::shared_ptr<Model> model, const ContextParams & p) : model_(std::move(model)) {
    if (!model_) fail("context needs a model");
    const auto & mi = model_->info();
    if (mi.n_layer <= 0) fail(Code::State, "the model was loaded with vocabOnly: it has no weights to run (load it without vocabOnly)");
    // llama_decode of an encoder-decoder model needs llama_encode first (and an encoder-only model
    // has no decoder): eia-native runs decoder-only models
    if (llama_model_has_encoder(model_->raw()) || !llama_model_has_decoder(model_->raw()))
        fail(Code::UnsupportedModel, "architecture " + mi.arch + " is an encoder" + (llama_model_has_decoder(model_->raw()) ? "-decoder" : "-only") +
                                         " model; eia-native runs decoder-only models");
    if (p.n_ctx < 16) fail("nCtx must be at least 16 (got " + std::to_string(p.n_ctx) + ")");
    if (p.n_ctx > (1 << 20)) fail("nCtx too large (" + std::to_string(p.n_ctx) + ")");
    if (p.n_batch < 1 || p.n_ubatch < 1) fail("nBatch and nUbatch must be >= 1");
    if (p.n_seq_max < 1 || p.n_seq_max > kMaxSeq)
        fail("nSeqMax must be in [1, " + std::to_string(kMaxSeq) + "] (got " + std::to_string(p.n_seq_max) + ")");
    if (p.n_threads < 0 || p.n_threads > 512) fail("nThreads must be in [0, 512]");
    // llama.cpp reserves one output row per sequence in a batch of min(nBatch, nCtx) tokens and
    // GGML_ASSERTs when the sequences do not fit
    if (std::min(p.n_batch, p.n_ctx) < p.n_seq_max)
        fail("nSeqMax (" + std::to_string(p.n_seq_max) + ") must not exceed nBatch (" + std::to_string(p.n_batch) + ") or nCtx (" +
             std::to_string(p.n_ctx) + ")");
    ensure_backend();
    auto cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) p.n_ctx;
    cp.n_batch = (uint32_t) std::min(p.n_batch, p.n_ctx);
    cp.n_ubatch = (uint32_t) std::min(p.n_ubatch, (int) cp.n_batch);
    cp.n_seq_max = (uint32_t) p.n_seq_max;
    const int hw = (int) std::max(1u, std::thread::hardware_concurrency());
    n_threads_ = p.n_threads > 0 ? p.n_threads : hw;
    cp.n_threads = n_threads_;
    cp.n_threads_batch = n_threads_;
    // Row order in the eval callback == batch order: unified caches split batches in order
    // (split_simple); per-sequence streams and recurrent state keep order for one sequence per call
    // or one token per sequence in consecutive sequence ids, which is how capture and generation
    // fill batches (one_sequence_per_batch()).
    cp.kv_unified = p.kv_unified;
    if (p.flash_attn < -1 || p.flash_attn > 1) fail("flashAttn must be auto, on or off");
    cp.flash_attn_type = p.flash_attn < 0 ? LLAMA_FLASH_ATTN_TYPE_AUTO : p.flash_attn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.embeddings = p.embeddings;
    if (p.embeddings) cp.pooling_type = LLAMA_POOLING_TYPE_NONE;
    cp.no_perf = true;
    cp.op_offload = p.op_offload;
    if (p.kv_f32) cp.type_k = cp.type_v = GGML_TYPE_F32;
    hook_.configure(mi.n_layer, mi.n_embd, block_output_map(mi.arch));
    cp.abort_callback = &Context::abort_cb;
    cp.abort_callback_data = this;
    if (p.sampling < 0 || p.sampling > 2) fail("sampling must be auto, host or backend");
    backend_sampling_ = p.sampling == 2 || (p.sampling == 0 && mi.offloaded);
    reserve_unsafe_ = mi.cpu_vulkan;
    if (backend_sampling_ && reserve_unsafe_) {
        // llama_set_sampler after a decode re-reserves the scheduler: on lavapipe that double-frees
        // a driver object and corrupts the heap (docs/device-path.md). Host sampling never attaches.
        backend_sampling_ = false;
        std::string dev = "lavapipe";
        for (const auto & d : runtime_info().devices)
            if (d.cpu_vulkan) { dev = d.description; break; }
        sampling_note_ = "sampling on the host: in-graph (backend) sampling is off on a CPU-type Vulkan device ('" + dev +
                         "'), where attaching a sampler after a decode corrupts memory in Mesa's lavapipe driver (docs/device-path.md)";
    }
    cp_ = cp;
    create(true);
    n_ctx_ = (int) llama_n_ctx(ctx_);
    n_batch_ = (int) llama_n_batch(ctx_);
    n_ubatch_ = (int) llama_n_ubatch(ctx_);
    n_seq_max_ = (int) llama_n_seq_max(ctx_);
    kv_unified_ = p.kv_unified;
    one_seq_ = !p.kv_unified || llama_model_is_recurrent(model_->raw()) || llama_model_is_hybrid(model_->raw());
    support_ = check_residual_support(*this);
    hook_.set_pruned(support_.pruned);
}

void Context::create(bool hooked) {
    llama_context_params cp = cp_;
    cp.cb_eval = hooked ? &ResidualHook::eval_callback : nullptr;
    cp.cb_eval_user_data = hooked ? &hook_ : nullptr;
    take_thread_log_errors();
    llama_context * c = llama_init_from_model(model_->raw(), cp);
    if (!c) {
        std::string why = take_thread_log_errors();
        fail(Code::Runtime, "failed to create context (nCtx " + std::to_string(cp.n_ctx) + ")" + (why.empty() ? "" : ": " + why));
    }
    if (ctx_) llama_free(ctx_);
    ctx_ = c;
    hooked_ = hooked;
    computed_ = false;
    if (!cvec_.empty()) llama_set_adapter_cvec(ctx_, cvec_.data(), cvec_.size(), model_->n_embd(), cvec_start_, cvec_end_);
}

void Context::use_hook(bool needed) {
    if (!model_->info().offloaded || needed == hooked_) return;
    llama_free(ctx_);  // free first: two KV caches of a large model may not fit on the device
    ctx_ = nullptr;
    create(needed);
}

Context::~Context() {
    if (ctx_) llama_free(ctx_);
}

bool Context::abort_cb(void * data) { return static_cast<Context *>(data)->abort_.load(); }

// A recreation that failed (out of device memory) leaves no llama_context: say so instead of crashing.
llama_context * Context::live() const {
    if (!ctx_) fail(Code::State, "the context lost its llama.cpp context when recreating it failed (free it and create a new one)");
    return ctx_;
}

void Context::clear_memory() { llama_memory_clear(llama_get_memory(live()), true); }
void Context::seq_rm(int seq) { llama_memory_seq_rm(llama_get_memory(live()), seq, -1, -1); }
void Context::seq_rm_from(int seq, int pos) { llama_memory_seq_rm(llama_get_memory(live()), seq, pos, -1); }
void Context::seq_cp(int src, int dst) { llama_memory_seq_cp(llama_get_memory(live()), src, dst, -1, -1); }

bool Context::decode(llama_batch & batch) {
    take_thread_log_errors();
    computed_ = true;
    const int rc = llama_decode(live(), batch);
    if (rc == 0) return true;
    if (rc == 2) return false;  // aborted through abort_cb
    std::string why = take_thread_log_errors();
    if (rc == 1) fail("no room in the KV cache for this batch (nCtx " + std::to_string(n_ctx_) + "); use a larger context or fewer sequences");
    fail(Code::Internal, "llama_decode failed (code " + std::to_string(rc) + ")" + (why.empty() ? "" : ": " + why));
}

void Context::set_control_vector(const std::vector<float> & data, int il_start, int il_end) {
    const int n_embd = model_->n_embd();
    if (data.size() % (size_t) n_embd != 0) fail("control vector size is not a multiple of nEmbd");
    take_thread_log_errors();
    if (llama_set_adapter_cvec(live(), data.data(), data.size(), n_embd, il_start, il_end) != 0) {
        fail("llama_set_adapter_cvec failed: " + take_thread_log_errors());
    }
    cvec_ = data;
    cvec_start_ = il_start;
    cvec_end_ = il_end;
    recreate_if_reserve_unsafe();
}

void Context::clear_control_vector() {
    const bool had = !cvec_.empty();
    llama_set_adapter_cvec(live(), nullptr, 0, model_->n_embd(), -1, -1);
    cvec_.clear();
    if (had) recreate_if_reserve_unsafe();
}

void Context::recreate_if_reserve_unsafe() {
    // llama_set_adapter_cvec has validated the vector and marked the scheduler for a re-reserve:
    // with a decode behind it, do that reserve on a new llama_context (create() applies cvec_)
    if (!reserve_unsafe_ || !computed_) return;
    llama_free(ctx_);  // first: two KV caches of a large model may not fit on the device
    ctx_ = nullptr;
    create(hooked_);
}

Context::Busy::Busy(Context & c) : c_(c) {
    if (!c_.try_acquire()) fail(Code::Busy, "context is busy: one operation at a time per context (await the previous call, or use another context)");
}
Context::Busy::~Busy() { c_.release(); }

}  // namespace eia
