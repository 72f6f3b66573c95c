#include "generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "batch.h"
#include "error.h"

namespace eia {

const char * finish_name(Finish f) {
    switch (f) {
        case Finish::Eog: return "eog";
        case Finish::Length: return "length";
        case Finish::Stop: return "stop";
        case Finish::Abort: return "abort";
        case Finish::Cancel: return "cancel";
        case Finish::None: break;
    }
    return "running";
}

static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Generation::Seq {
    int id = -1;
    SequenceSpec spec;
    std::unique_ptr<SteerPlan> plan;
    GateState gate;
    std::unique_ptr<Sampler> sampler;   // host chain (every sequence's first token, and host sampling)
    std::unique_ptr<Sampler> backend;   // the chain attached to the context for backend sampling
    std::string key;                    // prompt tokens + prompt-time steering
    SequenceResult res;
    int phys = -1;
    llama_token last = 0;
    double t_start = 0;
};

// The state at the end of a decoded prompt, kept while a sequence holding that prompt runs, so a
// sequence joining with the same prompt copies the KV cells instead of decoding it again.
struct Generation::PromptEntry {
    int n_prompt = 0;
    std::vector<float> logits;  // at the last prompt position
    std::vector<float> scores;      // monitors at the last prompt position
    std::vector<float> seq_scores;  // the sequence's own monitors there
    GateState gate;
    uint8_t gate_flag = 0;
    int gate_steered = 0;
    double prompt_ms = 0;
};

static void check_monitors(const std::vector<MonitorSpec> & monitors, int n_layer, int n_embd) {
    for (size_t m = 0; m < monitors.size(); m++) {
        auto & mo = monitors[m];
        if (mo.layer < 0 || mo.layer >= n_layer)
            fail("monitor layer " + std::to_string(mo.layer) + " out of range [0, " + std::to_string(n_layer - 1) + "]");
        if ((int) mo.direction.size() != n_embd)
            fail("monitor direction " + std::to_string(m) + " has length " + std::to_string(mo.direction.size()) + ", the model's nEmbd is " + std::to_string(n_embd));
        for (float x : mo.direction)
            if (!std::isfinite(x)) fail("monitor direction " + std::to_string(m) + " contains NaN or infinity");
    }
}

Generation::Generation(Context & ctx, std::vector<MonitorSpec> monitors)
    : ctx_(ctx), monitors_(std::move(monitors)), fixed_(false), n_slots_(ctx.n_seq_max()), backend_sampling_(ctx.backend_sampling()) {
    if (ctx_.kv_unified() && n_slots_ > 1)
        fail("an open generation needs a context with one KV stream per sequence (create it with kvUnified: false)");
    check_monitors(monitors_, ctx_.model().n_layer(), ctx_.model().n_embd());
    if (!monitors_.empty()) require_residual(ctx_, "probe monitors");
    by_phys_.assign(n_slots_, nullptr);
}

Generation::Generation(Context & ctx, std::vector<SequenceSpec> seqs, std::vector<MonitorSpec> monitors)
    : ctx_(ctx), monitors_(std::move(monitors)), fixed_(true), n_slots_(ctx.n_seq_max()), backend_sampling_(ctx.backend_sampling()) {
    const int n = (int) seqs.size();
    if (n == 0) fail("generation needs at least one sequence");
    if (n > n_slots_)
        fail(std::to_string(n) + " sequences requested but the context holds at most " + std::to_string(n_slots_) + " (create it with a larger nSeqMax)");
    check_monitors(monitors_, ctx_.model().n_layer(), ctx_.model().n_embd());
    if (!monitors_.empty()) require_residual(ctx_, "probe monitors");
    by_phys_.assign(n_slots_, nullptr);
    kept_.resize(n);
    for (auto & s : seqs) add(SequenceSpec(s));  // validates each one
    if (ctx_.kv_unified()) {
        // one shared cache: every distinct prompt and every sequence's new tokens must fit at once
        std::set<std::vector<llama_token>> prompts;
        int64_t cells = 0;
        for (auto & s : seqs) {
            if (prompts.insert(s.prompt).second) cells += (int64_t) s.prompt.size();
            cells += std::max(0, s.max_tokens);
        }
        if (cells > ctx_.n_ctx())
            fail("this generation needs " + std::to_string(cells) + " KV cells (unique prompts + maxTokens of every sequence) but the context has " +
                 std::to_string(ctx_.n_ctx()) + "; use a larger nCtx, fewer sequences or fewer tokens");
    }
    close();
}

Generation::~Generation() {
    ResidualHook & h = ctx_.hook();
    h.clear_plans();
    h.clear_monitors();
    for (auto & [id, s] : active_)
        if (s->backend && ctx_.raw()) llama_set_sampler(ctx_.raw(), s->phys, nullptr);  // raw(): null after a failed recreation
}

void Generation::validate(const SequenceSpec & s, const std::string & who) const {
    Model & model = ctx_.model();
    if (s.prompt.empty()) fail(who + ": empty prompt");
    for (auto t : s.prompt) model.check_token(t);
    validate_sampling(s.sampling);
    if ((int64_t) s.prompt.size() + s.max_tokens > ctx_.n_ctx_seq())
        fail(who + ": prompt (" + std::to_string(s.prompt.size()) + " tokens) + maxTokens (" + std::to_string(s.max_tokens) +
             ") exceeds the room of one sequence in this context (" + std::to_string(ctx_.n_ctx_seq()) + " tokens)");
    for (auto & st : s.stop)
        if (st.empty()) fail(who + ": empty stop string");
}

int Generation::add(SequenceSpec spec) {
    Model & model = ctx_.model();
    auto s = std::make_unique<Seq>();
    int id;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (closed_) fail(Code::State, "the generation is closed: no more sequences can join");
        if (reserved_ >= n_slots_)
            fail(Code::Full, "all " + std::to_string(n_slots_) + " sequence slots are in use (wait for one to finish, or create the context with a larger nSeqMax)");
        id = next_id_;
    }
    const std::string who = "sequence " + std::to_string(id);
    validate(spec, who);
    if (!spec.steer.empty() || spec.gate.layer >= 0 || !spec.monitors.empty())
        require_residual(ctx_, who + "'s " + (!spec.steer.empty() ? "steering" : spec.gate.layer >= 0 ? "probe gate" : "probe monitors"));
    s->plan = std::make_unique<SteerPlan>(spec.steer, spec.gate, model.n_layer(), model.n_embd(), who, spec.monitors);
    s->sampler = std::make_unique<Sampler>(spec.sampling, model.info().n_vocab);
    s->key.assign(reinterpret_cast<const char *>(spec.prompt.data()), spec.prompt.size() * sizeof(llama_token));
    s->key += '|';
    s->key += s->plan->prompt_key();
    s->spec = std::move(spec);
    s->res.n_prompt = (int) s->spec.prompt.size();
    s->res.n_monitors = (int) (monitors_.size() + s->spec.monitors.size());
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) fail(Code::State, "the generation is closed: no more sequences can join");
    if (reserved_ >= n_slots_) fail(Code::Full, "all " + std::to_string(n_slots_) + " sequence slots are in use");
    s->id = s->res.seq = next_id_++;
    reserved_++;
    pending_.push_back(std::move(s));
    return id;
}

bool Generation::cancel(int seq) {
    std::lock_guard<std::mutex> lk(mu_);
    if (seq < 0 || seq >= next_id_) fail("unknown sequence " + std::to_string(seq));
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if ((*it)->id != seq) continue;
        SequenceResult r = std::move((*it)->res);
        r.finish = Finish::Cancel;
        pending_.erase(it);
        reserved_--;
        if (fixed_) kept_[seq] = r;
        early_.push_back(std::move(r));
        return true;
    }
    auto it = active_.find(seq);
    if (it == active_.end()) return false;  // already finished
    if (stepping_) {
        cancel_.insert(seq);
    } else {
        // no step runs and none can start while mu_ is held: free the slot and KV cells now
        StepOutput out;
        finish(*it->second, Finish::Cancel, out);
        for (auto & r : out.finished) early_.push_back(std::move(r));
    }
    return true;
}

void Generation::close() {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
}

int Generation::slots_free() const {
    std::lock_guard<std::mutex> lk(mu_);
    return n_slots_ - reserved_;
}

bool Generation::done() const {
    std::lock_guard<std::mutex> lk(mu_);
    return closed_ && reserved_ == 0 && early_.empty();
}

void Generation::install() {
    ResidualHook & h = ctx_.hook();
    h.clear_capture();
    h.clear_plans();
    std::vector<int> ml;
    std::vector<const float *> md;
    for (auto & m : monitors_) {
        ml.push_back(m.layer);
        md.push_back(m.direction.data());
    }
    if (ml.empty()) h.clear_monitors(); else h.set_monitors(ml, md);
    // a GPU context drops the eval callback when nothing in this generation can need it
    bool needs = !fixed_ || !monitors_.empty();
    for (auto & s : pending_) needs = needs || !s->plan->empty();
    ctx_.clear_memory();
    ctx_.use_hook(needs);
    installed_ = true;
}

int Generation::take_phys() {
    // active sequences keep the lowest ids (see finish()): the next free one is n_active_
    for (int p = 0; p < n_slots_; p++)
        if (!by_phys_[p]) return p;
    fail(Code::Internal, "internal: no free sequence slot");
}

void Generation::bind(Seq & s, int phys) {
    s.phys = phys;
    by_phys_[phys] = &s;
    ctx_.hook().set_plan(phys, s.plan.get(), &s.gate);
}

void Generation::step(int max_steps, StepOutput & out) {
    std::vector<std::unique_ptr<Seq>> fresh;
    {
        std::lock_guard<std::mutex> lk(mu_);
        stepping_ = true;
        for (auto & r : early_) out.finished.push_back(std::move(r));
        early_.clear();
        if (!installed_) install();
    }
    struct Unmark {
        Generation & g;
        ~Unmark() {
            std::lock_guard<std::mutex> lk(g.mu_);
            g.stepping_ = false;
        }
    } unmark{*this};
    for (int k = 0; k < max_steps; k++) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            for (auto & s : pending_) fresh.push_back(std::move(s));
            pending_.clear();
        }
        if (ctx_.abort_requested()) {
            for (auto & s : fresh) {
                std::lock_guard<std::mutex> lk(mu_);
                pending_.push_back(std::move(s));
            }
            fresh.clear();
            abort_all(out);
            break;
        }
        apply_cancels(out);
        if (!fresh.empty()) {
            admit(fresh, out);
            fresh.clear();
            // The prompt phase is a step of its own, and it ends the call: the sequences that joined
            // have their first token now, and a client waits for it (time to first token). Decoding on
            // to max_steps first held it back by the call's remaining steps (~0.44 s at 8 slots on 2
            // cores against llama-server, bench/serve-vs-llama-server.ts).
            break;
        }
        if (n_active_ == 0) break;
        decode_step(out);
    }
    std::lock_guard<std::mutex> lk(mu_);
    for (auto & r : early_) out.finished.push_back(std::move(r));
    early_.clear();
    out.done = closed_ && reserved_ == 0;
    out.idle = !closed_ && reserved_ == 0;
}

void Generation::apply_cancels(StepOutput & out) {
    std::set<int> ids;
    {
        std::lock_guard<std::mutex> lk(mu_);
        ids.swap(cancel_);
    }
    for (int id : ids) {
        auto it = active_.find(id);
        if (it != active_.end()) finish(*it->second, Finish::Cancel, out);
    }
}

void Generation::abort_all(StepOutput & out) {
    std::vector<Seq *> live;
    for (auto & [id, s] : active_) live.push_back(s.get());
    for (Seq * s : live) finish(*s, Finish::Abort, out);
    std::lock_guard<std::mutex> lk(mu_);
    for (auto & s : pending_) {
        s->res.finish = Finish::Abort;
        if (fixed_) kept_[s->id] = s->res;
        out.finished.push_back(std::move(s->res));
        reserved_--;
    }
    pending_.clear();
    closed_ = true;  // an aborted generation takes no more sequences
}

void Generation::forget_unheld_prompts() {
    for (auto it = prompts_.begin(); it != prompts_.end();) {
        bool held = false;
        for (auto & [id, a] : active_)
            if (a->t_start > 0 && a->key == it->first) { held = true; break; }
        it = held ? std::next(it) : prompts_.erase(it);
    }
}

void Generation::admit(std::vector<std::unique_ptr<Seq>> & fresh, StepOutput & out) {
    admitting_ = true;  // prompt entries stay while this admission refers to them
    // group by prompt identity, in arrival order
    std::vector<std::pair<std::string, std::vector<Seq *>>> groups;
    for (auto & up : fresh) {
        Seq * s = up.get();
        const int id = s->id;
        active_.emplace(id, std::move(up));
        bind(*s, take_phys());
        auto g = std::find_if(groups.begin(), groups.end(), [&](auto & x) { return x.first == s->key; });
        if (g == groups.end()) groups.push_back({s->key, {s}});
        else g->second.push_back(s);
    }
    std::vector<std::pair<Seq *, const PromptEntry *>> to_start;
    std::vector<Seq *> leaders;
    std::vector<const std::vector<Seq *> *> decoded;
    for (auto & [key, members] : groups) {
        auto e = prompts_.find(key);
        Seq * holder = nullptr;
        if (e != prompts_.end())
            for (auto & [id, a] : active_)
                if (a->t_start > 0 && a->key == key) { holder = a.get(); break; }
        if (!holder) {
            leaders.push_back(members[0]);
            decoded.push_back(&members);
            continue;
        }
        // a running sequence holds this prompt: copy its cells, drop what it generated since
        for (Seq * m : members) {
            ctx_.seq_cp(holder->phys, m->phys);
            ctx_.seq_rm_from(m->phys, e->second->n_prompt);
            stats_.shared_prompts++;
            to_start.emplace_back(m, e->second.get());
        }
    }
    if (!leaders.empty()) decode_prompts(leaders);
    if (!ctx_.abort_requested()) {
        // the other members of each decoded group fork the leader's cells
        for (auto * members : decoded) {
            const PromptEntry * e = prompts_.at((*members)[0]->key).get();
            for (size_t i = 0; i < members->size(); i++) {
                if (i > 0) {
                    ctx_.seq_cp((*members)[0]->phys, (*members)[i]->phys);
                    stats_.shared_prompts++;
                }
                to_start.emplace_back((*members)[i], e);
            }
        }
        for (auto & [seq, e] : to_start) start(*seq, *e, e->logits.data(), out);
    }
    stats_.joined += (int) fresh.size();
    admitting_ = false;
    forget_unheld_prompts();
}

void Generation::decode_prompts(std::vector<Seq *> & leaders) {
    const double t0 = now_ms();
    const int n_batch = ctx_.n_batch();
    const int nm = (int) monitors_.size();
    const int n_vocab = ctx_.model().info().n_vocab;
    const bool one_prompt = ctx_.one_sequence_per_batch();  // one prompt per call keeps row order there
    TokenBatch batch(n_batch);
    std::vector<int> off(leaders.size(), 0);
    std::vector<std::pair<size_t, int>> ends;  // (leader index, batch index) of prompt ends in this batch
    size_t li = 0;
    while (li < leaders.size()) {
        if (ctx_.abort_requested()) break;  // the step loop aborts everything next
        batch.clear();
        ends.clear();
        while (li < leaders.size() && batch.size() < n_batch && !(one_prompt && batch.size() > 0)) {
            Seq & L = *leaders[li];
            const auto & p = L.spec.prompt;
            const int take = std::min((int) p.size() - off[li], n_batch - batch.size());
            for (int k = 0; k < take; k++) {
                const int pos = off[li] + k;
                const bool last = pos == (int) p.size() - 1;
                if (last) ends.emplace_back(li, batch.size());
                batch.add(p[pos], pos, L.phys, L.phys, false, last);
            }
            off[li] += take;
            if (off[li] >= (int) p.size()) li++;
        }
        ctx_.hook().begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
        if (!ctx_.decode(batch.raw())) break;
        stats_.prompt_tokens += batch.size();
        const auto & mv = ctx_.hook().monitor_values();
        for (size_t q = 0; q < ends.size(); q++) {
            Seq & L = *leaders[ends[q].first];
            const float * logits = llama_get_logits_ith(ctx_.raw(), ends[q].second);
            if (!logits) fail(Code::Internal, "internal: no logits for a prompt end");
            auto e = std::make_unique<PromptEntry>();
            e->n_prompt = (int) L.spec.prompt.size();
            e->logits.assign(logits, logits + n_vocab);
            if (nm) e->scores.assign(mv.begin() + q * nm, mv.begin() + (q + 1) * nm);  // outputs are exactly the prompt ends, in order
            const int ns = (int) L.spec.monitors.size();
            if (ns) {
                const float * sv = ctx_.hook().seq_monitor_values((int) q);
                e->seq_scores.assign(sv, sv + ns);
            }
            e->gate = L.gate;
            e->gate_flag = ctx_.hook().gate_on(ends[q].second);
            e->gate_steered = L.gate.used;
            e->prompt_ms = now_ms() - t0;
            stats_.unique_prompts++;
            prompts_[L.key] = std::move(e);
        }
    }
    stats_.prompt_ms += now_ms() - t0;
}

void Generation::start(Seq & s, const PromptEntry & e, const float * logits, StepOutput & out) {
    n_active_++;
    s.gate = e.gate;
    s.res.gate_steered = e.gate_steered;
    s.res.prompt_ms = e.prompt_ms;
    s.t_start = now_ms();
    const llama_token tok = s.sampler->sample(logits);
    if (backend_sampling_ && !s.spec.keep_logits) {
        // from the second token on, the context samples this sequence in the graph
        s.backend = s.sampler->clone();
        if (!llama_set_sampler(ctx_.raw(), s.phys, s.backend->chain())) s.backend.reset();
    }
    accept(s, tok, logits, e.scores.empty() ? nullptr : e.scores.data(), e.seq_scores.empty() ? nullptr : e.seq_scores.data(), e.gate_flag != 0, out);
}

void Generation::decode_step(StepOutput & out) {
    const double t0 = now_ms();
    const int nm = (int) monitors_.size();
    TokenBatch batch(std::max(1, n_active_));
    // one token per sequence in increasing physical id: with per-sequence streams llama.cpp keeps
    // a ubatch in batch order only for consecutive ids (finish() keeps the ids compact)
    std::vector<Seq *> seqs;
    for (int p = 0; p < n_slots_; p++)
        if (by_phys_[p] && by_phys_[p]->t_start > 0) seqs.push_back(by_phys_[p]);
    // the hook maps rows to sequences by batch order; per-sequence streams keep that order only for
    // consecutive ids (a unified cache keeps it for any ids)
    if (!ctx_.kv_unified() && (seqs.size() != (size_t) n_active_ || (!seqs.empty() && seqs.back()->phys != n_active_ - 1)))
        fail(Code::Internal, "internal: running sequences are not in consecutive slots");
    for (Seq * s : seqs) {
        const int pos = s->res.n_prompt + (int) s->res.tokens.size() - 1;
        batch.add(s->last, pos, s->phys, s->phys, true, true);
    }
    ctx_.hook().begin_batch(batch.slots(), batch.phases(), batch.size(), batch.outputs().data(), (int) batch.outputs().size());
    if (!ctx_.decode(batch.raw())) return;  // aborted: the step loop finishes everything
    stats_.decode_calls++;
    stats_.decode_tokens += batch.size();
    const double ts = now_ms();
    const size_t n_out = seqs.size();
    std::vector<const float *> logits(n_out, nullptr);
    std::vector<llama_token> picked(n_out, LLAMA_TOKEN_NULL);
    std::vector<size_t> host;  // outputs sampled on the host
    for (size_t q = 0; q < n_out; q++) {
        if (seqs[q]->backend) picked[q] = llama_get_sampled_token_ith(ctx_.raw(), (int32_t) q);
        if (picked[q] != LLAMA_TOKEN_NULL) {
            seqs[q]->backend->accept(picked[q]);
            continue;
        }
        logits[q] = llama_get_logits_ith(ctx_.raw(), (int32_t) q);
        if (!logits[q]) fail(Code::Internal, "internal: no logits for a sequence");
        host.push_back(q);
    }
    // Host sampling is independent per sequence: spread it over the context's threads when the work
    // is large (many sequences x a big vocabulary), e.g. while a GPU waits for the next step.
    const int64_t work = (int64_t) host.size() * ctx_.model().info().n_vocab;
    const int n_thr = std::min<int>(ctx_.n_threads(), (int) host.size());
    if (n_thr > 1 && work >= (int64_t) 4 << 20) {
        std::vector<std::thread> pool;
        for (int t = 0; t < n_thr; t++)
            pool.emplace_back([&, t] {
                for (size_t i = t; i < host.size(); i += n_thr) picked[host[i]] = seqs[host[i]]->sampler->sample(logits[host[i]]);
            });
        for (auto & th : pool) th.join();
    } else {
        for (size_t q : host) picked[q] = seqs[q]->sampler->sample(logits[q]);
    }
    const auto & mv = ctx_.hook().monitor_values();
    for (size_t q = 0; q < n_out; q++)
        accept(*seqs[q], picked[q], logits[q], nm ? mv.data() + q * nm : nullptr, ctx_.hook().seq_monitor_values((int) q), ctx_.hook().gate_on((int) q) != 0, out);
    const double te = now_ms();
    stats_.sample_ms += te - ts;
    stats_.decode_ms += te - t0;
}

void Generation::accept(Seq & s, llama_token tok, const float * logits, const float * scores, const float * seq_scores, bool gate, StepOutput & out) {
    auto & r = s.res;
    const auto & sp = s.spec;
    Model & model = ctx_.model();
    if (!sp.ignore_eog && model.is_eog(tok)) {
        finish(s, Finish::Eog, out);
        return;
    }
    r.tokens.push_back(tok);
    s.last = tok;
    TokenEvent ev;
    ev.seq = s.id;
    ev.token = tok;
    ev.piece = model.token_piece(tok);
    ev.gate = gate;
    const size_t prev_len = r.text.size();
    r.text += ev.piece;
    const int nm = (int) monitors_.size(), ns = (int) sp.monitors.size();
    if (nm) ev.scores.assign(scores, scores + nm);
    if (ns) ev.scores.insert(ev.scores.end(), seq_scores, seq_scores + ns);
    r.scores.insert(r.scores.end(), ev.scores.begin(), ev.scores.end());
    if (s.plan->gate_layer() >= 0) r.gate.push_back(gate ? 1 : 0);
    if (sp.keep_logits && logits) r.logits.insert(r.logits.end(), logits, logits + model.info().n_vocab);
    out.tokens.push_back(std::move(ev));
    for (auto & st : sp.stop) {
        // only the new tail can complete a stop string
        const size_t from = prev_len >= st.size() ? prev_len - st.size() + 1 : 0;
        const size_t at = r.text.find(st, from);
        if (at != std::string::npos) {
            r.text.resize(at);
            finish(s, Finish::Stop, out);
            return;
        }
    }
    if ((int) r.tokens.size() >= sp.max_tokens) finish(s, Finish::Length, out);
}

void Generation::finish(Seq & s, Finish why, StepOutput & out) {
    const int id = s.id;
    auto it = active_.find(id);
    if (it == active_.end()) return;
    std::unique_ptr<Seq> owned = std::move(it->second);
    active_.erase(it);
    if (s.t_start > 0) {
        n_active_--;
        s.res.gen_ms = now_ms() - s.t_start;
    }
    s.res.finish = why;
    s.res.gate_steered = std::max(s.res.gate_steered, s.gate.used);
    const int freed = s.phys;
    if (s.backend && ctx_.raw()) llama_set_sampler(ctx_.raw(), freed, nullptr);
    ctx_.hook().set_plan(freed, nullptr, nullptr);
    by_phys_[freed] = nullptr;
    ctx_.seq_rm(freed);
    if (!ctx_.kv_unified()) {
        // keep the running physical ids compact: move the highest one into the freed stream
        int j = -1;
        for (int p = n_slots_ - 1; p > freed; p--)
            if (by_phys_[p]) { j = p; break; }
        if (j >= 0) {
            Seq & m = *by_phys_[j];
            ctx_.seq_cp(j, freed);
            ctx_.seq_rm(j);
            by_phys_[j] = nullptr;
            ctx_.hook().set_plan(j, nullptr, nullptr);
            if (m.backend && ctx_.raw()) {
                // a chain is attached once: hand the slot a copy with the same state
                llama_set_sampler(ctx_.raw(), j, nullptr);
                auto moved = m.backend->clone();
                m.backend.reset();
                if (llama_set_sampler(ctx_.raw(), freed, moved->chain())) m.backend = std::move(moved);
            }
            bind(m, freed);
        }
    }
    if (!admitting_) forget_unheld_prompts();
    if (fixed_) kept_[id] = s.res;
    out.finished.push_back(std::move(s.res));
    reserved_--;
}

}  // namespace eia
