// ResidualHook: the one ggml eval callback of a context. It watches the tensors named
// "l_out-L" (output of decoder block L, 0-based) and, per row (= token of the current ubatch):
//   - adds the row's sequence steering vector (alpha * direction, pre-scaled) in place,
//   - hands rows to a capture sink (pooling happens there),
//   - projects output rows onto monitor probes.
// Rows map to batch tokens because contexts run with a unified KV cache, whose batch splitting
// keeps batch order (split_simple); the last block only keeps output rows (llama.cpp prunes the
// others there), so its rows map through the list of output tokens.
#pragma once
#include <cstdint>
#include <vector>

struct ggml_tensor;

namespace eia {

struct CaptureSink {
    virtual ~CaptureSink() = default;
    // rows[i] (n_embd floats each, contiguous) belongs to batch token batch_index[i]
    virtual void on_rows(int layer, const int32_t * batch_index, int n_rows, const float * rows, int n_embd) = 0;
};

class ResidualHook {
public:
    void configure(int n_layer, int n_embd);
    int n_layer() const { return n_layer_; }
    int n_embd() const { return n_embd_; }

    // ---- per decode call -------------------------------------------------------------------
    // slot_of[b]: slot (sequence table index) of batch token b; phase_of[b]: 0 prompt, 1 generated;
    // outputs: batch indices with output (logits) in batch order.
    void begin_batch(const int32_t * slot_of, const uint8_t * phase_of, int n_tokens, const int32_t * outputs, int n_outputs);

    // ---- steering: vectors live in the caller's storage, pointers stay valid during decode ----
    void clear_steering();
    void set_steer(int phase, int slot, int layer, const float * vec);  // vec = alpha*dir (n_embd) or null
    bool has_steering() const { return n_steer_ > 0; }

    // ---- capture ------------------------------------------------------------------------------
    void set_capture(const std::vector<int> & layers, CaptureSink * sink, bool stop_after_last);
    void clear_capture();

    // ---- monitors: dirs (n_embd each) per layer; results out[output_index * n_monitors + k] -----
    void set_monitors(const std::vector<int> & layers, const std::vector<const float *> & dirs);
    void clear_monitors();
    int n_monitors() const { return (int) mon_layer_.size(); }
    const std::vector<float> & monitor_values() const { return mon_out_; }

    static bool eval_callback(ggml_tensor * t, bool ask, void * user_data);

private:
    bool wants(int layer) const;
    void process(ggml_tensor * t, int layer);

    int n_layer_ = 0, n_embd_ = 0;
    // batch description
    const int32_t * slot_of_ = nullptr;
    const uint8_t * phase_of_ = nullptr;
    const int32_t * outputs_ = nullptr;
    int n_tokens_ = 0, n_outputs_ = 0;
    std::vector<int32_t> out_pos_;   // batch token -> output index or -1
    std::vector<int> cursor_;        // rows of layer L consumed in this batch
    // steering: [phase][slot * n_layer + layer]
    std::vector<const float *> steer_[2];
    int n_slots_ = 0, n_steer_ = 0;
    std::vector<char> steer_layer_;
    // capture
    std::vector<char> cap_layer_;
    CaptureSink * sink_ = nullptr;
    int stop_layer_ = -1;
    // monitors
    std::vector<int> mon_layer_;
    std::vector<const float *> mon_dir_;
    std::vector<char> mon_any_;
    std::vector<float> mon_out_;
    // scratch
    std::vector<int32_t> idx_;
    std::vector<float> host_;
};

}  // namespace eia
