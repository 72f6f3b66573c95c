#include "steer_plan.h"

#include <cmath>

#include "error.h"

namespace eia {

SteerPositions parse_positions(const std::string & s) {
    if (s == "all") return SteerPositions::All;
    if (s == "prompt") return SteerPositions::Prompt;
    if (s == "generated") return SteerPositions::Generated;
    fail("unknown steering positions '" + s + "' (expected all, prompt or generated)");
}

static void check_vector(const std::vector<float> & v, int n_embd, const std::string & what) {
    if ((int) v.size() != n_embd)
        fail(what + " has length " + std::to_string(v.size()) + ", the model's nEmbd is " + std::to_string(n_embd));
    for (float x : v)
        if (!std::isfinite(x)) fail(what + " contains NaN or infinity");
}

static uint8_t phase_bits(SteerPositions p) {
    return p == SteerPositions::All ? 3 : p == SteerPositions::Prompt ? 1 : 2;
}

template <typename T>
static void key_add(std::string & k, const T & v) {
    k.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

// Only the checks that protect memory and the sampler live here: block indices (they index by_layer_
// and the hook's per-block tables), vector widths (rows are read and written n_embd floats at a
// time), and non-finite values (NaN or infinity in the residual stream reach the sampler's
// distribution). The rules of a request (a gate's thresholds, hold and budget, which blocks a gate
// may switch, positions, strength bounds) are lib/engine/validate.ts's, checked before a call
// reaches the addon.
SteerPlan::SteerPlan(const std::vector<SteerTerm> & terms, const GateSpec & gate, int n_layer, int n_embd, const std::string & who,
                     const std::vector<SeqMonitor> & monitors)
    : by_layer_(n_layer), monitor_layer_(n_layer, 0) {
    for (size_t k = 0; k < monitors.size(); k++) {
        const auto & m = monitors[k];
        if (m.layer < 0 || m.layer >= n_layer)
            fail(who + ": monitor " + std::to_string(k) + " layer " + std::to_string(m.layer) + " out of range [0, " + std::to_string(n_layer - 1) + "]");
        check_vector(m.direction, n_embd, who + ": monitor " + std::to_string(k) + " direction");
        monitor_layer_[m.layer] = 1;
    }
    monitors_ = monitors;
    const auto range = [&](const SteerTerm & t, const std::string & what, int lo) {
        const int a = t.layer, b = t.layer_end < 0 ? t.layer : t.layer_end;
        if (a < lo || a >= n_layer)
            fail(who + ": " + what + " layer " + std::to_string(a) + " out of range [" + std::to_string(lo) + ", " + std::to_string(n_layer - 1) + "]");
        if (b < a || b >= n_layer)
            fail(who + ": " + what + " layer range " + std::to_string(a) + "-" + std::to_string(b) + " is not within [" + std::to_string(a) + ", " +
                 std::to_string(n_layer - 1) + "]");
        if (!std::isfinite(t.alpha)) fail(who + ": " + what + " alpha must be a finite number");
        check_vector(t.direction, n_embd, who + ": " + what + " direction");
        return std::make_pair(a, b);
    };
    // the gate first: its layer bounds its terms
    if (gate.layer >= 0 || !gate.steer.empty()) {
        if (gate.layer < 0 || gate.layer >= n_layer - 1)
            fail(who + ": gate layer " + std::to_string(gate.layer) + " out of range [0, " + std::to_string(n_layer - 2) +
                 "] (the gate reads a block below the last)");
        check_vector(gate.direction, n_embd, who + ": gate direction");
        gate_layer_ = gate.layer;
        gate_dir_ = gate.direction;
        on_ = gate.on;
        off_ = gate.off;
        min_hold_ = gate.min_hold;
        budget_ = gate.budget;
        gate_generated_only_ = gate.generated_only;
    }
    std::vector<std::pair<const SteerTerm *, bool>> all;
    for (auto & t : terms) all.emplace_back(&t, false);
    for (auto & t : gate.steer) all.emplace_back(&t, true);
    for (auto & [tp, gated] : all) {
        const SteerTerm & t = *tp;
        auto [a, b] = range(t, gated ? "gate steering" : "steering", 0);
        if (gated && a <= gate_layer_) lagged_ = true;  // a term at (or, unchecked here, below) the gate's block acts from the next token
        if (t.alpha == 0.0f) continue;  // adds nothing: bit-identical to no term
        std::vector<float> v(n_embd);
        for (int j = 0; j < n_embd; j++) v[j] = t.alpha * t.direction[j];
        vecs_.push_back(std::move(v));
        const uint8_t ph = phase_bits(t.positions);
        for (int l = a; l <= b; l++) {
            by_layer_[l].push_back(RowOp{vecs_.back().data(), ph, t.normalize, gated});
            n_ops_++;
        }
    }
    // (RowOp::vec points into vecs_'s inner buffers, which moving the outer vector keeps in place)
    // prompt key: everything that acts on prompt rows
    for (int l = 0; l < n_layer; l++)
        for (auto & op : by_layer_[l]) {
            const bool on_prompt = (op.phases & 1) && !(op.gated && gate_generated_only_);
            if (!on_prompt) continue;
            key_add(prompt_key_, l);
            key_add(prompt_key_, op.normalize);
            key_add(prompt_key_, op.gated);
            prompt_key_.append(reinterpret_cast<const char *>(op.vec), sizeof(float) * n_embd);
        }
    // a joining sequence reuses a held prompt's end state, monitor values included
    for (auto & m : monitors_) {
        key_add(prompt_key_, m.layer);
        prompt_key_.append(reinterpret_cast<const char *>(m.direction.data()), sizeof(float) * m.direction.size());
    }
    if (gate_layer_ >= 0 && !gate_generated_only_) {
        key_add(prompt_key_, gate_layer_);
        key_add(prompt_key_, on_);
        key_add(prompt_key_, off_);
        key_add(prompt_key_, min_hold_);
        key_add(prompt_key_, budget_);
        prompt_key_.append(reinterpret_cast<const char *>(gate_dir_.data()), sizeof(float) * gate_dir_.size());
    }
}

bool SteerPlan::gate_position(GateState & st, float p) const {
    const auto update = [&] {
        if (st.exhausted) { st.on = false; return; }
        if (!st.on) {
            if (p < on_) { st.on = true; st.held = 0; }
        } else if (st.held >= min_hold_ && p > off_) {
            st.on = false;
        }
    };
    bool steer;
    if (lagged_) {
        steer = st.on && !st.exhausted;
        update();
    } else {
        update();
        steer = st.on;
    }
    if (steer && budget_ >= 0 && st.used >= budget_) {
        st.exhausted = true;
        st.on = false;
        steer = false;
    }
    if (steer) {
        st.held++;
        st.used++;
        if (budget_ >= 0 && st.used >= budget_) { st.exhausted = true; st.on = false; }
    }
    return steer;
}

}  // namespace eia
