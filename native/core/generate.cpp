#include "generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "batch.h"
#include "error.h"

namespace eia {

SteerPositions parse_positions(const std::string & s) {
    if (s == "all") return SteerPositions::All;
    if (s == "prompt") return SteerPositions::Prompt;
    if (s == "generated") return SteerPositions::Generated;
    fail("unknown steering positions '" + s + "' (expected all, prompt or generated)");
}

static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static void check_vector(const std::vector<float> & v, int n_embd, const std::string & what) {
    if ((int) v.size() != n_embd)
        fail(what + " has length " + std::to_string(v.size()) + ", the model's nEmbd is " + std::to_string(n_embd));
    for (float x : v)
        if (!std::isfinite(x)) fail(what + " contains NaN or infinity");
}

Generation::Generation(Context & ctx, std::vector<SequenceSpec> seqs, std::vector<MonitorSpec> monitors)
    : ctx_(ctx), specs_(std::move(seqs)), monitors_(std::move(monitors)) {
    Model & model = ctx_.model();
    const int n_layer = model.n_layer(), n_embd = model.n_embd();
    const int n = (int) specs_.size();
    if (n == 0) fail("generation needs at least one sequence");
    if (n > ctx_.n_seq_max())
        fail(std::to_string(n) + " sequences requested but the context holds at most " + std::to_string(ctx_.n_seq_max()) +
             " (create it with a larger nSeqMax)");
    for (size_t m = 0; m < monitors_.size(); m++) {
        auto & mo = monitors_[m];
        if (mo.layer < 0 || mo.layer >= n_layer)
            fail("monitor layer " + std::to_string(mo.layer) + " out of range [0, " + std::to_string(n_layer - 1) + "]");
        check_vector(mo.direction, n_embd, "monitor direction " + std::to_string(m));
    }
    // group identical prompts with identical prompt-time steering
    std::map<std::string, int> groups;
    int64_t cells = 0;
    leader_.resize(n);
    steer_vec_.resize(n);
    steer_layers_.resize(n);
    for (int i = 0; i < n; i++) {
        auto & s = specs_[i];
        const std::string who = "sequence " + std::to_string(i);
        if (s.prompt.empty()) fail(who + ": empty prompt");
        for (auto t : s.prompt) model.check_token(t);
        if (s.max_tokens < 1) fail(who + ": maxTokens must be >= 1");
        validate_sampling(s.sampling);
        if ((int64_t) s.prompt.size() + s.max_tokens > ctx_.n_ctx_seq())
            fail(who + ": prompt (" + std::to_string(s.prompt.size()) + " tokens) + maxTokens (" + std::to_string(s.max_tokens) +
                 ") exceeds the room of one sequence in this context (" + std::to_string(ctx_.n_ctx_seq()) + " tokens)");
        for (auto & st : s.stop)
            if (st.empty()) fail(who + ": empty stop string");
        std::vector<float> sum;  // per layer, summed
        for (size_t k = 0; k < s.steer.size(); k++) {
            auto & t = s.steer[k];
            if (t.layer < 0 || t.layer >= n_layer)
                fail(who + ": steering layer " + std::to_string(t.layer) + " out of range [0, " + std::to_string(n_layer - 1) + "]");
            if (!std::isfinite(t.alpha)) fail(who + ": steering alpha must be a finite number");
            check_vector(t.direction, n_embd, who + ": steering direction");
        }
        // summed alpha*dir per layer (alpha = 0 terms add nothing: bit-identical to no steering)
        std::vector<float> flat;
        for (auto & t : s.steer) {
            if (t.alpha == 0.0f) continue;
            if (flat.empty()) flat.assign((size_t) n_layer * n_embd, 0.0f);
            float * dst = flat.data() + (size_t) t.layer * n_embd;
            for (int j = 0; j < n_embd; j++) dst[j] += t.alpha * t.direction[j];
            if (std::find(steer_layers_[i].begin(), steer_layers_[i].end(), t.layer) == steer_layers_[i].end())
                steer_layers_[i].push_back(t.layer);
        }
        steer_vec_[i].resize(2);
        if (!flat.empty()) {
            if (s.positions != SteerPositions::Generated) steer_vec_[i][0] = flat;
            if (s.positions != SteerPositions::Prompt) steer_vec_[i][1] = flat;
        }
        std::string key(reinterpret_cast<const char *>(s.prompt.data()), s.prompt.size() * sizeof(llama_token));
        key += '|';
        if (!steer_vec_[i][0].empty())
            key.append(reinterpret_cast<const char *>(steer_vec_[i][0].data()), steer_vec_[i][0].size() * sizeof(float));
        auto it = groups.find(key);
        if (it == groups.end()) {
            groups.emplace(std::move(key), i);
            leader_[i] = i;
            cells += (int64_t) s.prompt.size();
        } else {
            leader_[i] = it->second;
        }
        cells += s.max_tokens;
    }
    if (ctx_.kv_unified() && cells > ctx_.n_ctx())
        fail("this generation needs " + std::to_string(cells) + " KV cells (unique prompts + maxTokens of every sequence) but the context has " +
             std::to_string(ctx_.n_ctx()) + "; use a larger nCtx, fewer sequences or fewer tokens");
    stats_.unique_prompts = (int) groups.size();
    res_.resize(n);
    samplers_.reserve(n);
    for (int i = 0; i < n; i++) {
        samplers_.emplace_back(specs_[i].sampling, model.info().n_vocab);
        res_[i].n_prompt = (int) specs_[i].prompt.size();
    }
    active_.assign(n, 0);
    phys_.resize(n);
    for (int i = 0; i < n; i++) phys_[i] = i;
    last_tok_.assign(n, 0);
    t_start_.assign(n, 0);
}

Generation::~Generation() {
    ResidualHook & h = ctx_.hook();
    h.clear_steering();
    h.clear_monitors();
}

void Generation::install_hook() {
    ResidualHook & h = ctx_.hook();
    h.clear_capture();
    h.clear_steering();
    const int n_embd = ctx_.model().n_embd();
    for (int i = 0; i < (int) specs_.size(); i++)
        for (int phase = 0; phase < 2; phase++) {
            if (steer_vec_[i][phase].empty()) continue;
            for (int l : steer_layers_[i]) h.set_steer(phase, i, l, steer_vec_[i][phase].data() + (size_t) l * n_embd);
        }
    std::vector<int> ml;
    std::vector<const float *> md;
    for (auto & m : monitors_) {
        ml.push_back(m.layer);
        md.push_back(m.direction.data());
    }
    if (ml.empty()) h.clear_monitors(); else h.set_monitors(ml, md);
}

void Generation::step(int max_steps, std::vector<TokenEvent> & events) {
    for (int s = 0; s < max_steps; s++) {
        if (!started_) {
            prompt_phase(events);
            continue;
        }
        if (n_active_ == 0) return;
        if (ctx_.abort_requested()) { abort_all(); return; }
        decode_step(events);
    }
}

void Generation::prompt_phase(std::vector<TokenEvent> & events) {
    started_ = true;
    const double t0 = now_ms();
    ctx_.clear_memory();
    install_hook();
    const int n = (int) specs_.size();
    const int n_batch = ctx_.n_batch();
    const int nm = (int) monitors_.size();
    std::vector<int> leaders;
    for (int i = 0; i < n; i++)
        if (leader_[i] == i) leaders.push_back(i);
    std::vector<int> off(n, 0);
    TokenBatch batch(n_batch);
    size_t li = 0;
    std::vector<int> in_batch;  // leaders whose last prompt token is in this batch: (leader, batch index)
    std::vector<int> at_index;
    int64_t n_vocab = ctx_.model().info().n_vocab;
    (void) n_vocab;
    while (li < leaders.size()) {
        if (ctx_.abort_requested()) { abort_all(); return; }
        batch.clear();
        in_batch.clear();
        at_index.clear();
        const bool one_seq = !ctx_.kv_unified();  // per-sequence streams: one prompt per call keeps row order
        while (li < leaders.size() && batch.size() < n_batch && !(one_seq && batch.size() > 0)) {
            const int L = leaders[li];
            const auto & p = specs_[L].prompt;
            const int take = std::min((int) p.size() - off[L], n_batch - batch.size());
            for (int k = 0; k < take; k++) {
                const int pos = off[L] + k;
                const bool last = pos == (int) p.size() - 1;
                if (last) { in_batch.push_back(L); at_index.push_back(batch.size()); }
                batch.add(p[pos], pos, phys_[L], L, false, last);
            }
            off[L] += take;
            if (off[L] >= (int) p.size()) li++;
        }
        ctx_.hook().begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
        if (!ctx_.decode(batch.raw())) { abort_all(); return; }
        stats_.prompt_tokens += batch.size();
        // fork each finished prompt to its group and draw every member's first token
        const auto & mv = ctx_.hook().monitor_values();
        for (size_t q = 0; q < in_batch.size(); q++) {
            const int L = in_batch[q];
            const float * logits = llama_get_logits_ith(ctx_.raw(), at_index[q]);
            if (!logits) fail(Code::Internal, "internal: no logits for prompt end");
            const float * sc = nm ? mv.data() + q * nm : nullptr;  // outputs are exactly the prompt ends, in order
            for (int i = 0; i < n; i++) {
                if (leader_[i] != L) continue;
                if (i != L) ctx_.seq_cp(phys_[L], phys_[i]);
                active_[i] = 1;
                n_active_++;
                t_start_[i] = now_ms();
                accept(i, samplers_[i].sample(logits), sc, events);
            }
        }
    }
    stats_.prompt_ms += now_ms() - t0;
    for (int i = 0; i < n; i++) res_[i].prompt_ms = stats_.prompt_ms;
}

void Generation::decode_step(std::vector<TokenEvent> & events) {
    const double t0 = now_ms();
    const int n = (int) specs_.size();
    const int nm = (int) monitors_.size();
    TokenBatch batch(std::max(1, n_active_));
    // tokens in increasing physical sequence id: with per-sequence streams llama.cpp keeps a
    // ubatch in batch order only for consecutive ids (finish() keeps the ids compact)
    std::vector<int> seq_at;
    for (int i = 0; i < n; i++)
        if (active_[i]) seq_at.push_back(i);
    std::sort(seq_at.begin(), seq_at.end(), [&](int a, int b) { return phys_[a] < phys_[b]; });
    for (int i : seq_at) {
        const int pos = res_[i].n_prompt + (int) res_[i].tokens.size() - 1;
        batch.add(last_tok_[i], pos, phys_[i], i, true, true);
    }
    ctx_.hook().begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
    if (!ctx_.decode(batch.raw())) { abort_all(); return; }
    stats_.decode_calls++;
    stats_.decode_tokens += batch.size();
    const auto & mv = ctx_.hook().monitor_values();
    const double ts = now_ms();
    const size_t n_out = seq_at.size();
    std::vector<const float *> logits(n_out);
    for (size_t q = 0; q < n_out; q++) {
        logits[q] = llama_get_logits_ith(ctx_.raw(), (int32_t) q);
        if (!logits[q]) fail(Code::Internal, "internal: no logits for sequence");
    }
    // Sampling is independent per sequence: spread it over the context's threads when the work is
    // large (many sequences x a big vocabulary), e.g. while a GPU waits for the next step.
    std::vector<llama_token> picked(n_out);
    const int64_t work = (int64_t) n_out * ctx_.model().info().n_vocab;
    const int n_thr = std::min<int>(ctx_.n_threads(), (int) n_out);
    if (n_thr > 1 && work >= (int64_t) 4 << 20) {
        std::vector<std::thread> pool;
        for (int t = 0; t < n_thr; t++)
            pool.emplace_back([&, t] {
                for (size_t q = t; q < n_out; q += n_thr) picked[q] = samplers_[seq_at[q]].sample(logits[q]);
            });
        for (auto & th : pool) th.join();
    } else {
        for (size_t q = 0; q < n_out; q++) picked[q] = samplers_[seq_at[q]].sample(logits[q]);
    }
    for (size_t q = 0; q < n_out; q++) accept(seq_at[q], picked[q], nm ? mv.data() + q * nm : nullptr, events);
    const double te = now_ms();
    stats_.sample_ms += te - ts;
    stats_.decode_ms += te - t0;
}

void Generation::accept(int i, llama_token tok, const float * scores, std::vector<TokenEvent> & events) {
    auto & r = res_[i];
    const auto & s = specs_[i];
    Model & model = ctx_.model();
    if (!s.ignore_eog && model.is_eog(tok)) {
        finish(i, "eog");
        return;
    }
    r.tokens.push_back(tok);
    last_tok_[i] = tok;
    TokenEvent ev;
    ev.seq = i;
    ev.token = tok;
    ev.piece = model.token_piece(tok);
    const size_t prev_len = r.text.size();
    r.text += ev.piece;
    const int nm = (int) monitors_.size();
    if (nm) {
        ev.scores.assign(scores, scores + nm);
        r.scores.insert(r.scores.end(), scores, scores + nm);
    }
    events.push_back(std::move(ev));
    for (auto & st : s.stop) {
        // only the new tail can complete a stop string
        const size_t from = prev_len >= st.size() ? prev_len - st.size() + 1 : 0;
        const size_t at = r.text.find(st, from);
        if (at != std::string::npos) {
            r.text.resize(at);
            finish(i, "stop");
            return;
        }
    }
    if ((int) r.tokens.size() >= s.max_tokens) finish(i, "length");
}

void Generation::finish(int i, const char * why) {
    if (!active_[i]) {
        if (res_[i].finish.empty()) res_[i].finish = why;
        return;
    }
    active_[i] = 0;
    n_active_--;
    res_[i].finish = why;
    res_[i].gen_ms = now_ms() - t_start_[i];
    ctx_.seq_rm(phys_[i]);
    if (!ctx_.kv_unified()) {
        // keep active physical ids compact: move the highest active sequence into the freed stream
        int j = -1;
        for (int k = 0; k < (int) specs_.size(); k++)
            if (active_[k] && phys_[k] > phys_[i] && (j < 0 || phys_[k] > phys_[j])) j = k;
        if (j >= 0) {
            ctx_.seq_cp(phys_[j], phys_[i]);
            ctx_.seq_rm(phys_[j]);
            std::swap(phys_[i], phys_[j]);
        }
    }
}

void Generation::abort_all() {
    started_ = true;
    for (int i = 0; i < (int) specs_.size(); i++)
        if (res_[i].finish.empty()) finish(i, "abort");
    n_active_ = 0;
}

}  // namespace eia
