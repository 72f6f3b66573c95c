// Batched generation with per-sequence steering and live probe readout. All sequences share one
// multi-sequence context with a KV cache; each carries its own steering plan (added to block
// outputs by the ResidualHook). Sequences with the same prompt and the same prompt-time steering
// decode that prompt once and fork the KV cache (llama_memory_seq_cp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "context.h"
#include "sampler.h"

namespace eia {

enum class SteerPositions { All, Prompt, Generated };
SteerPositions parse_positions(const std::string & s);

struct SteerTerm {
    int layer = 0;
    std::vector<float> direction;  // n_embd
    float alpha = 0.0f;            // added: alpha * direction
};

struct SequenceSpec {
    std::vector<llama_token> prompt;
    std::vector<SteerTerm> steer;
    SteerPositions positions = SteerPositions::All;
    SamplingParams sampling;
    int max_tokens = 128;
    std::vector<std::string> stop;
    bool ignore_eog = false;
};

struct MonitorSpec {
    int layer = 0;
    std::vector<float> direction;  // n_embd; score = dot(residual row, direction)
};

struct TokenEvent {
    int seq = 0;
    llama_token token = 0;
    std::string piece;
    std::vector<float> scores;  // one per monitor
};

struct SequenceResult {
    std::vector<llama_token> tokens;
    std::string text;
    std::string finish = "";    // eog | length | stop | abort
    int n_prompt = 0;
    double prompt_ms = 0, gen_ms = 0;
    std::vector<float> scores;  // n_generated x n_monitors, row per generated token
};

struct GenerationStats {
    double prompt_ms = 0, decode_ms = 0;
    double sample_ms = 0;  // part of decode_ms spent sampling (host side)
    int64_t prompt_tokens = 0, decode_tokens = 0;
    int decode_calls = 0, unique_prompts = 0;
};

class Generation {
public:
    Generation(Context & ctx, std::vector<SequenceSpec> seqs, std::vector<MonitorSpec> monitors);
    ~Generation();
    Generation(const Generation &) = delete;
    Generation & operator=(const Generation &) = delete;

    // Runs up to max_steps steps (the whole prompt phase is the first step); appends token events.
    void step(int max_steps, std::vector<TokenEvent> & events);
    // Stops every unfinished sequence with finish "abort" (what was produced is kept).
    void abort_all();
    bool done() const { return n_active_ == 0 && started_; }
    const std::vector<SequenceResult> & results() const { return res_; }
    const GenerationStats & stats() const { return stats_; }
    int n_monitors() const { return (int) monitors_.size(); }

private:
    void prompt_phase(std::vector<TokenEvent> & events);
    void decode_step(std::vector<TokenEvent> & events);
    void accept(int seq, llama_token tok, const float * scores, std::vector<TokenEvent> & events);
    void finish(int seq, const char * why);
    void install_hook();

    Context & ctx_;
    std::vector<SequenceSpec> specs_;
    std::vector<MonitorSpec> monitors_;
    std::vector<SequenceResult> res_;
    std::vector<Sampler> samplers_;
    std::vector<std::vector<std::vector<float>>> steer_vec_;  // [seq][phase] summed alpha*dir per layer, flattened n_layer*n_embd or empty
    std::vector<std::vector<int>> steer_layers_;               // [seq] layers with a term
    std::vector<int> leader_;                                   // seq -> group leader
    std::vector<char> active_;
    std::vector<int> phys_;  // sequence -> llama seq id (they differ after compaction)
    std::vector<llama_token> last_tok_;
    std::vector<double> t_start_;
    int n_active_ = 0;
    bool started_ = false;
    GenerationStats stats_;
};

}  // namespace eia
