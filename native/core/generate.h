// Batched generation with per-sequence steering, gates and live probe readout. All sequences
// share one context with a KV cache; each carries its own SteerPlan (applied to block outputs by
// the ResidualHook) and its own llama.cpp sampler chain, so a sequence produces the same tokens
// alone or in any batch (given per-sequence KV streams, or a unified cache that fits).
//
// A generation is fixed (the sequences are given up front) or open: sequences join with add() at
// the next step boundary and leave when they finish or are cancelled, up to the context's slots
// (continuous batching). Sequences whose prompt and prompt-time steering are the same decode that
// prompt once and copy the KV cells (also when one joins while another that holds the prompt is
// still running). Every end of a sequence is reported as it happens (StepOutput::finished).
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "context.h"
#include "sampler.h"
#include "steer_plan.h"

namespace eia {

enum class Finish : uint8_t { None, Eog, Length, Stop, Abort, Cancel };
const char * finish_name(Finish f);

struct SequenceSpec {
    std::vector<llama_token> prompt;
    std::vector<SteerTerm> steer;   // always-on terms
    GateSpec gate;                  // probe-gated terms (gate.layer < 0: none)
    std::vector<SeqMonitor> monitors;  // this sequence's own probes (after the generation's monitors)
    SamplingParams sampling;
    int max_tokens = 0;
    std::vector<std::string> stop;
    bool ignore_eog = false;
    bool keep_logits = false;       // keep the logits of every generated token (oracles)
};

struct MonitorSpec {
    int layer = 0;
    std::vector<float> direction;  // n_embd; score = dot(residual row, direction)
};

struct TokenEvent {
    int seq = 0;
    llama_token token = 0;
    std::string piece;
    std::vector<float> scores;  // one per monitor: the generation's, then the sequence's own
    bool gate = false;          // the gate steered the pass that produced this token
};

struct SequenceResult {
    int seq = -1;
    std::vector<llama_token> tokens;
    std::string text;
    Finish finish = Finish::None;
    int n_prompt = 0;
    double prompt_ms = 0, gen_ms = 0;
    int n_monitors = 0;           // the generation's monitors + the sequence's own
    std::vector<float> scores;    // n_generated x n_monitors, row per generated token
    std::vector<uint8_t> gate;    // per generated token (empty without a gate)
    int gate_steered = 0;         // positions the gate steered, prompt included
    std::vector<float> logits;    // keep_logits: n_generated x n_vocab
};

struct StepOutput {
    std::vector<TokenEvent> tokens;
    std::vector<SequenceResult> finished;  // in the order the sequences finished
    bool done = false;  // closed and every sequence finished: nothing more will come
    bool idle = false;  // open, nothing running or waiting: the next step waits for add()/close()
};

struct GenerationStats {
    double prompt_ms = 0, decode_ms = 0;
    double sample_ms = 0;  // part of decode_ms spent sampling (host side)
    int64_t prompt_tokens = 0, decode_tokens = 0;
    int decode_calls = 0, unique_prompts = 0, shared_prompts = 0, joined = 0;
};

class Generation {
public:
    // An open generation: sequences come with add(); close() ends it once they have finished.
    Generation(Context & ctx, std::vector<MonitorSpec> monitors);
    // A fixed generation: these sequences (ids 0..n-1), closed at once.
    Generation(Context & ctx, std::vector<SequenceSpec> seqs, std::vector<MonitorSpec> monitors);
    ~Generation();
    Generation(const Generation &) = delete;
    Generation & operator=(const Generation &) = delete;

    // ---- any thread (the JS thread, also while a step runs on a worker) -------------------------
    // Validates now; the sequence joins at the next step boundary. Throws Full when every slot is
    // taken, State once closed. Returns the sequence id.
    int add(SequenceSpec spec);
    // Ends a sequence with Finish::Cancel and frees its slot and KV cells: at once when no step is
    // running, else at the running step's next boundary. False if it had already finished.
    bool cancel(int seq);
    void close();
    int slots_free() const;
    int n_slots() const { return n_slots_; }

    // ---- the stepping thread ----------------------------------------------------------------------
    // Admits waiting sequences and runs up to max_steps decode steps (a step boundary admits and
    // cancels again). Returns early when nothing is left to decode, and after a prompt phase (the
    // joined sequences' first tokens go out at once).
    void step(int max_steps, StepOutput & out);
    bool done() const;
    int n_monitors() const { return (int) monitors_.size(); }
    const GenerationStats & stats() const { return stats_; }
    // Fixed generations: every result by sequence id (kept after its finish event).
    const std::vector<SequenceResult> & results() const { return kept_; }

private:
    struct Seq;
    struct PromptEntry;
    void validate(const SequenceSpec & s, const std::string & who) const;
    void admit(std::vector<std::unique_ptr<Seq>> & fresh, StepOutput & out);
    void decode_prompts(std::vector<Seq *> & leaders);
    void forget_unheld_prompts();
    void start(Seq & s, const PromptEntry & e, const float * logits, StepOutput & out);
    void decode_step(StepOutput & out);
    void accept(Seq & s, llama_token tok, const float * logits, const float * scores, const float * seq_scores, bool gate, StepOutput & out);
    void finish(Seq & s, Finish why, StepOutput & out);
    void apply_cancels(StepOutput & out);
    void abort_all(StepOutput & out);
    int take_phys();
    void bind(Seq & s, int phys);
    void install();

    Context & ctx_;
    std::vector<MonitorSpec> monitors_;
    const bool fixed_;
    const int n_slots_;
    const bool backend_sampling_;

    // shared with add()/cancel()/close(), under mu_
    mutable std::mutex mu_;
    std::vector<std::unique_ptr<Seq>> pending_;
    std::set<int> cancel_;
    std::vector<SequenceResult> early_;   // finished outside a step (cancelled while idle or waiting)
    std::atomic<int> reserved_{0};        // active + pending
    int next_id_ = 0;
    bool closed_ = false;
    bool stepping_ = false;

    // the stepping thread's (or the caller's, when no step runs and mu_ is held)
    std::map<int, std::unique_ptr<Seq>> active_;
    std::vector<Seq *> by_phys_;
    int n_active_ = 0;
    std::map<std::string, std::unique_ptr<PromptEntry>> prompts_;  // prompt-end state of held prompts
    bool installed_ = false;
    bool admitting_ = false;
    std::vector<SequenceResult> kept_;
    GenerationStats stats_;
};

}  // namespace eia
