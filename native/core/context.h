// Context: one llama_context over a Model, with the ResidualHook installed as its eval
// callback, a unified KV cache (so batch rows keep batch order, see residual_hook.h), an abort
// flag and a busy flag. One operation at a time: a second caller gets a clear error, not a race.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "llama.h"
#include "model.h"
#include "residual_hook.h"
#include "residual_support.h"

namespace eia {

constexpr int kMaxSeq = 256;  // llama.cpp's LLAMA_MAX_SEQ (not in its public header)

struct ContextParams {
    int n_ctx = 4096;
    int n_batch = 512;
    int n_ubatch = 512;
    int n_seq_max = 64;
    int n_threads = 0;  // 0 = all hardware threads
    bool embeddings = false;  // llama.cpp's own per-token embeddings output (oracle tests)
    // true: one KV cache shared by all sequences (any mix of lengths, several texts per batch;
    //       attention spans every cached token). false: one stream per sequence, nCtx split evenly
    //       (llama.cpp's fast layout for many parallel sequences; one prompt per decode call).
    bool kv_unified = true;
    int flash_attn = 0;  // -1 auto, 0 off (f32 attention: exact capture), 1 on
    // Where sequences are sampled: 0 auto (in the graph when the model runs on a GPU), 1 host,
    // 2 backend (llama.cpp's in-graph sampling; only the drawn tokens come back).
    int sampling = 0;
    // llama.cpp's op offload: with a GPU present, an op over >= 32 tokens whose weights stay in
    // host memory runs on the GPU anyway. false keeps a CPU model on the CPU (the device oracles'
    // reference run; not exposed to JS).
    bool op_offload = true;
    // f32 KV cache instead of llama.cpp's f16: attention in f32 on every backend, so that two
    // backends' results differ by arithmetic order only (the device oracles; not exposed to JS)
    bool kv_f32 = false;
};

class Context {
public:
    Context(std::shared_ptr<Model> model, const ContextParams & params);
    ~Context();
    Context(const Context &) = delete;
    Context & operator=(const Context &) = delete;

    llama_context * raw() const { return ctx_; }
    Model & model() const { return *model_; }
    const std::shared_ptr<Model> & model_ptr() const { return model_; }
    ResidualHook & hook() { return hook_; }
    int n_ctx() const { return n_ctx_; }
    int n_batch() const { return n_batch_; }
    int n_ubatch() const { return n_ubatch_; }
    // Does the graph expose the residual stream at every block (checked once, when created)?
    const ResidualSupport & residual_support() const { return support_; }
    int n_seq_max() const { return n_seq_max_; }
    int n_threads() const { return n_threads_; }
    bool kv_unified() const { return kv_unified_; }
    // Must a decode call hold one sequence's tokens only (beyond one token per sequence) for the
    // hook's rows to come in batch order? llama.cpp splits a batch in order only for one unified KV
    // cache; per-sequence streams, and the recurrent state of recurrent and hybrid models, split it
    // by sequence (split_equal / split_seq), which reorders several sequences' tokens.
    bool one_sequence_per_batch() const { return one_seq_; }
    int n_ctx_seq() const { return kv_unified_ ? n_ctx_ : n_ctx_ / n_seq_max_; }

    void clear_memory();
    void seq_rm(int seq);
    void seq_rm_from(int seq, int pos);  // drop positions >= pos
    void seq_cp(int src, int dst);       // every cell of src (a full stream copy across streams)
    bool backend_sampling() const { return backend_sampling_; }
    // Why backend sampling was asked for (or chosen by auto) and is off: one line for people, "" if not.
    const std::string & sampling_note() const { return sampling_note_; }
    // On a GPU the eval callback costs a synchronisation per graph split even when it reads
    // nothing: an operation that needs no hook runs on a llama_context created without it. The
    // switch recreates the llama_context (the KV cache is lost: callers start from empty memory).
    // A CPU context keeps its callback (there it costs nothing).
    void use_hook(bool needed);
    // llama_decode with every failure turned into eia::Error; returns false when aborted.
    bool decode(llama_batch & batch);

    // llama.cpp's own control-vector path (the oracle for steering): data for layers 1..n_layer-1.
    void set_control_vector(const std::vector<float> & data, int il_start, int il_end);
    void clear_control_vector();

    void request_abort() { abort_.store(true); }
    void reset_abort() { abort_.store(false); }
    bool abort_requested() const { return abort_.load(); }

    // Marks the context busy for the lifetime of the guard; throws if it already is.
    class Busy {
    public:
        explicit Busy(Context & c);
        ~Busy();
        Busy(const Busy &) = delete;
        Busy & operator=(const Busy &) = delete;
    private:
        Context & c_;
    };
    bool busy() const { return busy_.load(); }
    bool try_acquire() { bool f = false; return busy_.compare_exchange_strong(f, true); }
    void release() { busy_.store(false); }

private:
    static bool abort_cb(void * data);
    void create(bool hooked);
    // A llama_context whose scheduler must not be re-reserved after a decode (a CPU-type Vulkan
    // device, see vulkan_probe.h) gets a control-vector change on a fresh llama_context instead: every
    // operation starts from empty memory, so nothing is lost.
    void recreate_if_reserve_unsafe();
    llama_context * live() const;
    std::shared_ptr<Model> model_;
    llama_context * ctx_ = nullptr;
    ResidualHook hook_;
    int n_ctx_ = 0, n_batch_ = 0, n_ubatch_ = 0, n_seq_max_ = 0, n_threads_ = 0;
    ResidualSupport support_;
    bool kv_unified_ = true;
    bool one_seq_ = false;
    bool backend_sampling_ = false;
    std::string sampling_note_;
    bool reserve_unsafe_ = false;  // re-reserving the scheduler after a decode corrupts memory here
    bool computed_ = false;        // a decode ran on the current llama_context
    bool hooked_ = true;
    llama_context_params cp_{};
    std::vector<float> cvec_;  // llama.cpp control vector in use (re-applied when the context is recreated)
    int cvec_start_ = -1, cvec_end_ = -1;
    std::atomic<bool> abort_{false};
    std::atomic<bool> busy_{false};
};

}  // namespace eia
