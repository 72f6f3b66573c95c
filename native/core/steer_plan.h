// SteerPlan: one sequence's steering, validated and compiled into per-block row operations for
// the ResidualHook. A term adds alpha*direction to the output of one block or of a block range
// (llama.cpp's --control-vector-layer-range), on prompt and/or generated positions, optionally
// rescaling the row to its norm before the add (norm-preserving steering). Terms apply in the
// order given; the gate's terms after the sequence's own.
//
// A gate (probe-gated steering) reads a probe at block Lm before any steering there and switches
// its terms (at blocks >= Lm) on when the projection falls below `on`, off when it rises above
// `off` (hysteresis, on < off), holding at least `min_hold` positions once on and steering at most
// `budget` positions in all. It runs over the positions in order. When every gated term sits above
// Lm the decision at a position applies to that same forward pass (the hook reads Lm before the
// higher blocks are computed); when a gated term sits at Lm itself, the projection at Lm is read
// before that term is added, so the decision applies from the next position on ("lagged").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eia {

enum class SteerPositions { All, Prompt, Generated };
SteerPositions parse_positions(const std::string & s);

struct SteerTerm {
    int layer = 0;                  // first block
    std::vector<float> direction;   // n_embd; added as alpha * direction
    float alpha = 0.0f;
    int layer_end = -1;             // last block of a range (inclusive); -1: just `layer`
    bool normalize = false;         // rescale each steered row to its norm before the add
    SteerPositions positions = SteerPositions::All;
};

struct GateSpec {
    int layer = -1;                 // Lm; -1 = no gate
    std::vector<float> direction;   // the probe read at Lm
    float on = 0.0f, off = 0.0f;    // switch on below `on`, off above `off`
    int min_hold = 1;               // positions
    int budget = -1;                // steered positions at most; -1 = unlimited
    bool generated_only = false;    // true: the prompt neither moves nor uses the gate
    std::vector<SteerTerm> steer;   // switched by the gate; blocks >= layer
};

struct GateState {
    bool on = false;
    bool exhausted = false;
    int held = 0;   // positions steered since it last switched on
    int used = 0;   // positions steered in all
};

struct RowOp {
    const float * vec;  // alpha * direction
    uint8_t phases;     // bit 0: prompt rows, bit 1: generated rows
    bool normalize;
    bool gated;
};

// A probe read for one sequence only: dot(output row of `layer` after that block's steering, direction).
struct SeqMonitor {
    int layer = 0;
    std::vector<float> direction;
};

class SteerPlan {
public:
    // Validates everything against the model (throws eia::Error naming `who`).
    SteerPlan(const std::vector<SteerTerm> & terms, const GateSpec & gate, int n_layer, int n_embd, const std::string & who,
              const std::vector<SeqMonitor> & monitors = {});

    bool empty() const { return n_ops_ == 0 && gate_layer_ < 0 && monitors_.empty(); }
    const std::vector<RowOp> & ops(int layer) const { return by_layer_[layer]; }
    bool touches(int layer) const { return !by_layer_[layer].empty() || layer == gate_layer_ || monitor_layer_[layer]; }
    const std::vector<SeqMonitor> & monitors() const { return monitors_; }
    int gate_layer() const { return gate_layer_; }
    const float * gate_direction() const { return gate_dir_.data(); }
    bool gate_generated_only() const { return gate_generated_only_; }
    // One position of the gate: p = the projection at Lm before steering; returns whether this
    // position is steered by the gate's terms, and moves the state on.
    bool gate_position(GateState & st, float p) const;
    // Equal keys <=> identical computation over a prompt (prompt-time ops and the gate).
    const std::string & prompt_key() const { return prompt_key_; }

private:
    std::vector<std::vector<float>> vecs_;     // storage behind RowOp::vec
    std::vector<std::vector<RowOp>> by_layer_;
    int n_ops_ = 0;
    int gate_layer_ = -1;
    std::vector<float> gate_dir_;
    float on_ = 0, off_ = 0;
    int min_hold_ = 1, budget_ = -1;
    bool lagged_ = false, gate_generated_only_ = false;
    std::string prompt_key_;
    std::vector<SeqMonitor> monitors_;
    std::vector<char> monitor_layer_;
};

}  // namespace eia
