#include "js.h"
#include "wraps.h"

namespace eiajs {

Napi::FunctionReference GenerationWrap::ctor;

Napi::Function GenerationWrap::Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Generation",
                                   {
                                       InstanceMethod("step", &GenerationWrap::template guarded<&GenerationWrap::Step>),
                                       InstanceMethod("add", &GenerationWrap::template guarded<&GenerationWrap::Add>),
                                       InstanceMethod("cancel", &GenerationWrap::template guarded<&GenerationWrap::Cancel>),
                                       InstanceMethod("close", &GenerationWrap::template guarded<&GenerationWrap::Close>),
                                       InstanceMethod("slotsFree", &GenerationWrap::template guarded<&GenerationWrap::SlotsFree>),
                                       InstanceMethod("results", &GenerationWrap::template guarded<&GenerationWrap::Results>),
                                       InstanceMethod("stats", &GenerationWrap::template guarded<&GenerationWrap::Stats>),
                                       InstanceMethod("done", &GenerationWrap::template guarded<&GenerationWrap::Done>),
                                       InstanceMethod("abort", &GenerationWrap::template guarded<&GenerationWrap::Abort>),
                                       InstanceMethod("dispose", &GenerationWrap::template guarded<&GenerationWrap::Dispose>),
                                   });
    ctor = Napi::Persistent(f);
    ctor.SuppressDestruct();
    return f;
}

GenerationWrap::GenerationWrap(const Napi::CallbackInfo & info) : Wrap<GenerationWrap>(info) {}

GenerationWrap::~GenerationWrap() {
    // GC'd without dispose(): the context object is kept alive by ctx_ref_ until here
    // (ctx_ref_ kept the context alive until now, so its busy flag can still be released)
    if (gen_) {
        gen_.reset();
        if (cw_ && cw_->raw_ctx()) cw_->raw_ctx()->release();
    }
}

void GenerationWrap::start(ContextWrap * cw, Napi::Object ctx_obj, std::unique_ptr<eia::Generation> g) {
    cw_ = cw;
    ctx_ref_ = Napi::Persistent(ctx_obj);
    gen_ = std::move(g);
}

void GenerationWrap::release() {
    if (!gen_) return;
    gen_.reset();
    if (cw_) cw_->ctx(Env()).release();
    ctx_ref_.Reset();
}

eia::Generation & GenerationWrap::gen(Napi::Env env) {
    if (!gen_) throw_error(env, eia::Code::State, "generation is disposed");
    return *gen_;
}

static Napi::Object result_object(Napi::Env env, const eia::SequenceResult & r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("seq", r.seq);
    o.Set("tokens", make_i32(env, r.tokens.data(), r.tokens.size()));
    o.Set("text", r.text);
    o.Set("finishReason", eia::finish_name(r.finish));
    o.Set("nPrompt", r.n_prompt);
    o.Set("promptMs", r.prompt_ms);
    o.Set("genMs", r.gen_ms);
    o.Set("scores", make_f32(env, r.scores.data(), r.scores.size()));
    o.Set("nMonitors", r.n_monitors);
    auto gate = Napi::Uint8Array::New(env, r.gate.size());
    if (!r.gate.empty()) std::memcpy(gate.Data(), r.gate.data(), r.gate.size());
    o.Set("gate", gate);
    o.Set("gateSteered", r.gate_steered);
    if (!r.logits.empty()) o.Set("logits", make_f32(env, r.logits.data(), r.logits.size()));
    return o;
}

// step(maxSteps) -> Promise<{seq, token, pieces, scores, scoreOffsets, gate, finished: [result], done, idle}>
// Token i's monitor scores are scores[scoreOffsets[i] .. scoreOffsets[i + 1]): the generation's
// monitors, then the sequence's own.
Napi::Value GenerationWrap::Step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    eia::Generation * g = &gen(env);
    if (stepping_) throw_error(env, eia::Code::Busy, "generation step already running: await it first");
    if (info.Length() < 1 || !info[0].IsNumber()) type_error(env, "maxSteps must be a number");
    const int steps = info[0].As<Napi::Number>().Int32Value();
    if (steps < 1) type_error(env, "maxSteps must be >= 1");
    stepping_ = true;
    auto out = std::make_shared<eia::StepOutput>();
    auto * w = new PromiseWorker(
        env, [g, steps, out] { g->step(steps, *out); },
        [out](Napi::Env env) -> Napi::Value {
            const size_t n = out->tokens.size();
            auto seq = Napi::Int32Array::New(env, n);
            auto tok = Napi::Int32Array::New(env, n);
            auto gate = Napi::Uint8Array::New(env, n);
            auto pieces = Napi::Array::New(env, n);
            auto offsets = Napi::Int32Array::New(env, n + 1);
            size_t total = 0;
            for (auto & e : out->tokens) total += e.scores.size();
            auto scores = Napi::Float32Array::New(env, total);
            size_t at = 0;
            for (size_t i = 0; i < n; i++) {
                auto & e = out->tokens[i];
                seq[i] = e.seq;
                tok[i] = e.token;
                gate[i] = e.gate ? 1 : 0;
                pieces.Set((uint32_t) i, Napi::String::New(env, e.piece));
                offsets[i] = (int32_t) at;
                for (float x : e.scores) scores[at++] = x;
            }
            offsets[n] = (int32_t) at;
            Napi::Array fin = Napi::Array::New(env, out->finished.size());
            for (size_t i = 0; i < out->finished.size(); i++) fin.Set((uint32_t) i, result_object(env, out->finished[i]));
            Napi::Object r = Napi::Object::New(env);
            r.Set("seq", seq);
            r.Set("token", tok);
            r.Set("gate", gate);
            r.Set("pieces", pieces);
            r.Set("scores", scores);
            r.Set("scoreOffsets", offsets);
            r.Set("finished", fin);
            r.Set("done", out->done);
            r.Set("idle", out->idle);
            return r;
        },
        [this] { stepping_ = false; });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

// add(sequence) -> id: joins at the next step boundary (E_FULL when every slot is taken)
Napi::Value GenerationWrap::Add(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & g = gen(env);
    if (info.Length() < 1) type_error(env, "add(sequence)");
    return Napi::Number::New(env, g.add(read_sequence_spec(env, info[0], "sequence")));
}

// cancel(seq) -> false if it had already finished
Napi::Value GenerationWrap::Cancel(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & g = gen(env);
    if (info.Length() < 1 || !info[0].IsNumber()) type_error(env, "cancel(seq) needs a sequence id");
    const double d = info[0].As<Napi::Number>().DoubleValue();
    if (std::floor(d) != d || d < 0 || d > 2147483647.0) type_error(env, "unknown sequence " + std::to_string(d));
    return Napi::Boolean::New(env, g.cancel((int) d));
}

Napi::Value GenerationWrap::Close(const Napi::CallbackInfo & info) {
    gen(info.Env()).close();
    return info.Env().Undefined();
}

Napi::Value GenerationWrap::SlotsFree(const Napi::CallbackInfo & info) { return Napi::Number::New(info.Env(), gen(info.Env()).slots_free()); }

// results(): fixed generations only: every sequence's result by id (after it finished)
Napi::Value GenerationWrap::Results(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & g = gen(env);
    if (stepping_) throw_error(env, eia::Code::Busy, "generation step running: await it first");
    const auto & rs = g.results();
    Napi::Array out = Napi::Array::New(env, rs.size());
    for (size_t i = 0; i < rs.size(); i++) out.Set((uint32_t) i, result_object(env, rs[i]));
    return out;
}

Napi::Value GenerationWrap::Stats(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const auto & s = gen(env).stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("promptMs", s.prompt_ms);
    o.Set("decodeMs", s.decode_ms);
    o.Set("sampleMs", s.sample_ms);
    o.Set("promptTokens", (double) s.prompt_tokens);
    o.Set("decodeTokens", (double) s.decode_tokens);
    o.Set("decodeCalls", s.decode_calls);
    o.Set("uniquePrompts", s.unique_prompts);
    o.Set("sharedPrompts", s.shared_prompts);
    o.Set("joined", s.joined);
    return o;
}

Napi::Value GenerationWrap::Done(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), !gen_ || gen_->done());
}

// abort(): the running step stops at its next decode; every sequence finishes as "abort"
Napi::Value GenerationWrap::Abort(const Napi::CallbackInfo & info) {
    if (gen_ && cw_) cw_->ctx(info.Env()).request_abort();
    return info.Env().Undefined();
}

// dispose(): frees the generation and the context's busy flag (results are gone after this)
Napi::Value GenerationWrap::Dispose(const Napi::CallbackInfo & info) {
    if (stepping_) throw_error(info.Env(), eia::Code::Busy, "generation step running: await it before dispose()");
    release();
    return info.Env().Undefined();
}

}  // namespace eiajs
