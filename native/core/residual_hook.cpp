#include "residual_hook.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "ggml-backend.h"
#include "ggml.h"

namespace eia {

void ResidualHook::configure(int n_layer, int n_embd, BlockOutputMap map) {
    n_layer_ = n_layer;
    n_embd_ = n_embd;
    map_ = std::move(map);
    pruned_.assign(n_layer, 0);
    if (n_layer > 0) pruned_[n_layer - 1] = 1;  // llama.cpp's usual layout until the support check has measured it
    cursor_.assign(n_layer, 0);
    steer_layer_.assign(n_layer, 0);
    cap_layer_.assign(n_layer, 0);
    mon_any_.assign(n_layer, 0);
}

void ResidualHook::begin_batch(const int32_t * slot_of, const uint8_t * phase_of, int n_tokens, const int32_t * outputs, int n_outputs) {
    slot_of_ = slot_of;
    phase_of_ = phase_of;
    n_tokens_ = n_tokens;
    outputs_ = outputs;
    n_outputs_ = n_outputs;
    std::fill(cursor_.begin(), cursor_.end(), 0);
    out_pos_.assign(n_tokens, -1);
    for (int i = 0; i < n_outputs; i++) out_pos_[outputs[i]] = i;
    gate_row_.assign(n_tokens, 0);
    seq_mon_stride_ = 0;
    for (const SteerPlan * p : plan_)
        if (p) seq_mon_stride_ = std::max(seq_mon_stride_, (int) p->monitors().size());
    if (seq_mon_stride_ > 0) seq_mon_out_.assign((size_t) n_outputs * seq_mon_stride_, 0.0f);
    if (!mon_layer_.empty()) mon_out_.assign((size_t) n_outputs * mon_layer_.size(), 0.0f);
}

void ResidualHook::refresh_layers() {
    std::fill(steer_layer_.begin(), steer_layer_.end(), 0);
    n_plans_ = 0;
    for (const SteerPlan * p : plan_) {
        if (!p) continue;
        n_plans_++;
        for (int l = 0; l < n_layer_; l++)
            if (p->touches(l)) steer_layer_[l] = 1;
    }
}

void ResidualHook::set_plan(int slot, const SteerPlan * plan, GateState * gate) {
    if (slot < 0) return;
    if (slot >= (int) plan_.size()) {
        plan_.resize(slot + 1, nullptr);
        gate_state_.resize(slot + 1, nullptr);
    }
    plan_[slot] = plan && !plan->empty() ? plan : nullptr;
    gate_state_[slot] = plan_[slot] ? gate : nullptr;
    refresh_layers();
}

void ResidualHook::clear_plans() {
    plan_.clear();
    gate_state_.clear();
    refresh_layers();
}

void ResidualHook::set_capture(const std::vector<int> & layers, CaptureSink * sink, bool stop_after_last) {
    std::fill(cap_layer_.begin(), cap_layer_.end(), 0);
    stop_layer_ = -1;
    for (int l : layers) {
        cap_layer_[l] = 1;
        if (stop_after_last && l > stop_layer_) stop_layer_ = l;
    }
    sink_ = sink;
}

void ResidualHook::clear_capture() {
    std::fill(cap_layer_.begin(), cap_layer_.end(), 0);
    sink_ = nullptr;
    stop_layer_ = -1;
}

void ResidualHook::set_monitors(const std::vector<int> & layers, const std::vector<const float *> & dirs) {
    mon_layer_ = layers;
    mon_dir_ = dirs;
    std::fill(mon_any_.begin(), mon_any_.end(), 0);
    for (int l : layers) mon_any_[l] = 1;
}

void ResidualHook::clear_monitors() {
    mon_layer_.clear();
    mon_dir_.clear();
    mon_out_.clear();
    std::fill(mon_any_.begin(), mon_any_.end(), 0);
}

bool ResidualHook::wants(int layer) const {
    return surveying_ || steer_layer_[layer] || cap_layer_[layer] || mon_any_[layer];
}

void ResidualHook::begin_survey() {
    survey_ = Survey{};
    survey_.hits.assign(n_layer_, 0);
    survey_.rows.assign(n_layer_, 0);
    survey_.odd.assign(n_layer_, "");
    surveying_ = true;
}

ResidualHook::Survey ResidualHook::end_survey() {
    surveying_ = false;
    return std::move(survey_);
}

// One f32 row of n_embd per token, contiguous: the only layout the hook reads or changes.
static bool is_row_block(const ggml_tensor * t, int n_embd) {
    return t->type == GGML_TYPE_F32 && t->ne[0] == n_embd && t->ne[2] == 1 && t->ne[3] == 1 && ggml_is_contiguous(t);
}

void ResidualHook::survey(const ggml_tensor * t, int layer) {
    survey_.hits[layer]++;
    if (is_row_block(t, n_embd_)) {
        survey_.rows[layer] += t->ne[1];
    } else if (survey_.odd[layer].empty()) {
        survey_.odd[layer] = std::string(ggml_type_name(t->type)) + " [" + std::to_string(t->ne[0]) + " x " + std::to_string(t->ne[1]) +
                             (t->ne[2] != 1 || t->ne[3] != 1 ? " x " + std::to_string(t->ne[2]) + " x " + std::to_string(t->ne[3]) : "") + "]" +
                             (ggml_is_contiguous(t) ? "" : " (not contiguous)");
    }
}

bool ResidualHook::eval_callback(ggml_tensor * t, bool ask, void * user_data) {
    auto * self = static_cast<ResidualHook *>(user_data);
    const int layer = self->map_.block_of(t->name, self->n_layer_);
    if (layer < 0 || !self->wants(layer)) return ask ? false : true;
    if (ask) return true;
    if (self->surveying_) {
        self->survey(t, layer);
        return true;
    }
    self->process(t, layer);
    // capture-only passes stop the graph after the deepest captured block: nothing later is read
    return !(self->stop_layer_ >= 0 && layer == self->stop_layer_);
}

static double dot(const float * a, const float * b, int n) {
    double acc = 0.0;
    for (int j = 0; j < n; j++) acc += (double) a[j] * b[j];
    return acc;
}

void ResidualHook::process(ggml_tensor * t, int layer) {
    if (!is_row_block(t, n_embd_)) return;  // not a residual row block (the support check refuses such graphs)
    const int n_rows = (int) t->ne[1];
    const bool pruned = pruned_[layer];  // only output rows survive in this block
    const int base = cursor_[layer];
    cursor_[layer] += n_rows;

    idx_.resize(n_rows);
    for (int r = 0; r < n_rows; r++) {
        const int k = base + r;
        int b = pruned ? (k < n_outputs_ ? outputs_[k] : -1) : k;
        idx_[r] = (b >= 0 && b < n_tokens_) ? b : -1;
    }

    const bool host = t->buffer == nullptr || ggml_backend_buffer_is_host(t->buffer);
    float * x = nullptr;
    if (host) {
        x = static_cast<float *>(t->data);
    } else {
        host_.resize((size_t) n_rows * n_embd_);
        ggml_backend_tensor_get(t, host_.data(), 0, host_.size() * sizeof(float));
        x = host_.data();
    }

    bool modified = false;
    if (steer_layer_[layer] && n_plans_ > 0) {
        const int n_slots = (int) plan_.size();
        for (int r = 0; r < n_rows; r++) {
            const int b = idx_[r];
            if (b < 0) continue;
            const int slot = slot_of_[b];
            if (slot < 0 || slot >= n_slots || !plan_[slot]) continue;
            const SteerPlan & plan = *plan_[slot];
            float * row = x + (size_t) r * n_embd_;
            const bool generated = phase_of_[b] != 0;
            // the gate reads its block before anything is added there, in position order
            if (plan.gate_layer() == layer && gate_state_[slot] && (generated || !plan.gate_generated_only())) {
                const float p = (float) dot(row, plan.gate_direction(), n_embd_);
                gate_row_[b] = plan.gate_position(*gate_state_[slot], p) ? 1 : 0;
            }
            const uint8_t bit = generated ? 2 : 1;
            for (const RowOp & op : plan.ops(layer)) {
                if (!(op.phases & bit) || (op.gated && !gate_row_[b])) continue;
                double before = 0.0;
                if (op.normalize) before = std::sqrt(dot(row, row, n_embd_));
                for (int j = 0; j < n_embd_; j++) row[j] += op.vec[j];
                if (op.normalize) {
                    const double after = std::sqrt(dot(row, row, n_embd_));
                    if (after > 0.0) {
                        const float s = (float) (before / after);
                        for (int j = 0; j < n_embd_; j++) row[j] *= s;
                    }
                }
                modified = true;
            }
            // the sequence's own monitors read the row after this block's steering, as global monitors do
            const int o = out_pos_[b];
            if (o >= 0) {
                const auto & mons = plan.monitors();
                for (size_t k = 0; k < mons.size(); k++)
                    if (mons[k].layer == layer) seq_mon_out_[(size_t) o * seq_mon_stride_ + k] = (float) dot(row, mons[k].direction.data(), n_embd_);
            }
        }
    }
    if (modified && !host) ggml_backend_tensor_set(t, host_.data(), 0, host_.size() * sizeof(float));

    if (cap_layer_[layer] && sink_) sink_->on_rows(layer, idx_.data(), n_rows, x, n_embd_);

    if (mon_any_[layer]) {
        const int nm = (int) mon_layer_.size();
        for (int r = 0; r < n_rows; r++) {
            const int b = idx_[r];
            if (b < 0) continue;
            const int o = out_pos_[b];
            if (o < 0) continue;
            const float * row = x + (size_t) r * n_embd_;
            for (int k = 0; k < nm; k++) {
                if (mon_layer_[k] != layer) continue;
                mon_out_[(size_t) o * nm + k] = (float) dot(row, mon_dir_[k], n_embd_);
            }
        }
    }
}

}  // namespace eia
