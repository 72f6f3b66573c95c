// ResidualHook: the one ggml eval callback of a context. It watches the output of every decoder
// block L (0-based; "l_out-L" in most architectures, see block_output.h) and, per row (= token of
// the current ubatch):
//   - runs the gate of the row's sequence at its gate block (projection before any steering),
//   - applies the sequence's steering plan in place (adds, optional norm-preserving rescale),
//   - hands rows to a capture sink (pooling happens there),
//   - projects output rows onto monitor probes (after that block's steering).
// Rows map to batch tokens because batches are filled so that llama.cpp keeps their order (a
// unified KV cache splits batches in order; with one KV stream per sequence, or the recurrent state
// of recurrent and hybrid models, a batch holds one prompt, or one token per sequence in consecutive
// sequence ids: Context::one_sequence_per_batch). A block whose graph keeps only
// the output rows (llama.cpp prunes the others in the last block of most architectures, after it in
// some) maps its rows through the list of output tokens; which blocks do is measured per context by
// the support check (residual_support.h), which runs the hook in survey mode.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "block_output.h"
#include "steer_plan.h"

struct ggml_tensor;

namespace eia {

struct CaptureSink {
    virtual ~CaptureSink() = default;
    // rows[i] (n_embd floats each, contiguous) belongs to batch token batch_index[i]
    virtual void on_rows(int layer, const int32_t * batch_index, int n_rows, const float * rows, int n_embd) = 0;
};

class ResidualHook {
public:
    void configure(int n_layer, int n_embd, BlockOutputMap map);
    int n_layer() const { return n_layer_; }
    int n_embd() const { return n_embd_; }
    const BlockOutputMap & block_map() const { return map_; }
    // Blocks whose output keeps only the rows of output tokens (set from the support check).
    void set_pruned(const std::vector<char> & pruned) { pruned_ = pruned; }

    // ---- survey: every block output is counted, nothing is read or changed ------------------------
    struct Survey {
        std::vector<int> hits;          // callbacks per block
        std::vector<int64_t> rows;      // rows seen per block (over all ubatches)
        std::vector<std::string> odd;   // per block: "" or the shape it had when it was not [n_embd x rows] f32
    };
    void begin_survey();
    Survey end_survey();

    // ---- per decode call -------------------------------------------------------------------
    // slot_of[b]: slot (sequence table index) of batch token b; phase_of[b]: 0 prompt, 1 generated;
    // outputs: batch indices with output (logits) in batch order.
    void begin_batch(const int32_t * slot_of, const uint8_t * phase_of, int n_tokens, const int32_t * outputs, int n_outputs);

    // ---- steering: one plan (and gate state) per slot; both stay owned by the caller ---------
    void set_plan(int slot, const SteerPlan * plan, GateState * gate);
    void clear_plans();
    bool has_plans() const { return n_plans_ > 0; }
    // After a pass: did the gate steer batch token b (0 when its sequence has no gate)?
    uint8_t gate_on(int b) const { return b < (int) gate_row_.size() ? gate_row_[b] : 0; }
    // After a pass: the sequence's own monitors (its plan's, in order) at output `o`.
    const float * seq_monitor_values(int o) const { return seq_mon_out_.data() + (size_t) o * seq_mon_stride_; }

    // ---- capture ------------------------------------------------------------------------------
    void set_capture(const std::vector<int> & layers, CaptureSink * sink, bool stop_after_last);
    void clear_capture();

    // ---- monitors: dirs (n_embd each) per layer; results out[output_index * n_monitors + k] -----
    void set_monitors(const std::vector<int> & layers, const std::vector<const float *> & dirs);
    void clear_monitors();
    int n_monitors() const { return (int) mon_layer_.size(); }
    const std::vector<float> & monitor_values() const { return mon_out_; }

    // Does anything need the callback at all (a context on a GPU drops it otherwise)?
    bool active() const { return n_plans_ > 0 || sink_ != nullptr || !mon_layer_.empty() || surveying_; }

    static bool eval_callback(ggml_tensor * t, bool ask, void * user_data);

private:
    bool wants(int layer) const;
    void process(ggml_tensor * t, int layer);
    void refresh_layers();

    void survey(const ggml_tensor * t, int layer);

    int n_layer_ = 0, n_embd_ = 0;
    BlockOutputMap map_;
    std::vector<char> pruned_;       // per block: only output rows survive there
    bool surveying_ = false;
    Survey survey_;
    // batch description
    const int32_t * slot_of_ = nullptr;
    const uint8_t * phase_of_ = nullptr;
    const int32_t * outputs_ = nullptr;
    int n_tokens_ = 0, n_outputs_ = 0;
    std::vector<int32_t> out_pos_;   // batch token -> output index or -1
    std::vector<int> cursor_;        // rows of layer L consumed in this batch
    // steering
    std::vector<const SteerPlan *> plan_;
    std::vector<GateState *> gate_state_;
    int n_plans_ = 0;
    std::vector<char> steer_layer_;   // some plan acts on (or gates at) block L
    std::vector<uint8_t> gate_row_;   // per batch token, set at the gate's block
    std::vector<float> seq_mon_out_;  // per output: the plan's monitors
    int seq_mon_stride_ = 0;
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
