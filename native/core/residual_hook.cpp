#include "residual_hook.h"

#include <cstdlib>
#include <cstring>

#include "ggml-backend.h"
#include "ggml.h"

namespace eia {

void ResidualHook::configure(int n_layer, int n_embd) {
    n_layer_ = n_layer;
    n_embd_ = n_embd;
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
    if (!mon_layer_.empty()) mon_out_.assign((size_t) n_outputs * mon_layer_.size(), 0.0f);
}

void ResidualHook::clear_steering() {
    for (auto & s : steer_) std::fill(s.begin(), s.end(), nullptr);
    std::fill(steer_layer_.begin(), steer_layer_.end(), 0);
    n_steer_ = 0;
}

void ResidualHook::set_steer(int phase, int slot, int layer, const float * vec) {
    if (slot >= n_slots_) {
        n_slots_ = slot + 1;
        for (auto & s : steer_) s.resize((size_t) n_slots_ * n_layer_, nullptr);
    }
    auto & p = steer_[phase][(size_t) slot * n_layer_ + layer];
    if (!p && vec) n_steer_++;
    if (p && !vec) n_steer_--;
    p = vec;
    if (vec) steer_layer_[layer] = 1;
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
    return steer_layer_[layer] || cap_layer_[layer] || mon_any_[layer];
}

// "l_out-12" -> 12; -1 for every other tensor. Called for every graph node: keep it cheap.
static int layer_of(const ggml_tensor * t) {
    const char * n = t->name;
    if (n[0] != 'l' || std::strncmp(n, "l_out-", 6) != 0) return -1;
    char * end = nullptr;
    long v = std::strtol(n + 6, &end, 10);
    if (end == n + 6 || *end != '\0') return -1;
    return (int) v;
}

bool ResidualHook::eval_callback(ggml_tensor * t, bool ask, void * user_data) {
    auto * self = static_cast<ResidualHook *>(user_data);
    const int layer = layer_of(t);
    if (layer < 0 || layer >= self->n_layer_ || !self->wants(layer)) return ask ? false : true;
    if (ask) return true;
    self->process(t, layer);
    // capture-only passes stop the graph after the deepest captured block: nothing later is read
    return !(self->stop_layer_ >= 0 && layer == self->stop_layer_);
}

void ResidualHook::process(ggml_tensor * t, int layer) {
    if (t->type != GGML_TYPE_F32 || t->ne[0] != n_embd_ || !ggml_is_contiguous(t)) return;  // not a residual row block
    const int n_rows = (int) t->ne[1];
    const bool last = layer == n_layer_ - 1;  // only output rows survive in the last block
    const int base = cursor_[layer];
    cursor_[layer] += n_rows;

    idx_.resize(n_rows);
    for (int r = 0; r < n_rows; r++) {
        const int k = base + r;
        int b = last ? (k < n_outputs_ ? outputs_[k] : -1) : k;
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
    if (steer_layer_[layer] && n_steer_ > 0) {
        for (int r = 0; r < n_rows; r++) {
            const int b = idx_[r];
            if (b < 0) continue;
            const int slot = slot_of_[b];
            if (slot < 0 || slot >= n_slots_) continue;
            const float * v = steer_[phase_of_[b] ? 1 : 0][(size_t) slot * n_layer_ + layer];
            if (!v) continue;
            float * row = x + (size_t) r * n_embd_;
            for (int j = 0; j < n_embd_; j++) row[j] += v[j];
            modified = true;
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
                const float * d = mon_dir_[k];
                double acc = 0.0;
                for (int j = 0; j < n_embd_; j++) acc += (double) row[j] * d[j];
                mon_out_[(size_t) o * nm + k] = (float) acc;
            }
        }
    }
}

}  // namespace eia
