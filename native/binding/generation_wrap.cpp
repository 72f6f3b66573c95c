#include "js.h"
#include "wraps.h"

namespace eiajs {

Napi::FunctionReference GenerationWrap::ctor;

Napi::Function GenerationWrap::Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Generation",
                                   {
                                       InstanceMethod("step", &GenerationWrap::template guarded<&GenerationWrap::Step>),
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

// step(maxSteps) -> Promise<{seq: Int32Array, token: Int32Array, pieces: string[], scores: Float32Array, done: boolean}>
Napi::Value GenerationWrap::Step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!gen_) throw_error(env, eia::Code::State, "generation is finished or disposed");
    if (stepping_) throw_error(env, eia::Code::Busy, "generation step already running: await it first");
    int steps = 1;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
        if (!info[0].IsNumber()) type_error(env, "maxSteps must be a number");
        steps = info[0].As<Napi::Number>().Int32Value();
        if (steps < 1) type_error(env, "maxSteps must be >= 1");
    }
    stepping_ = true;
    auto events = std::make_shared<std::vector<eia::TokenEvent>>();
    eia::Generation * g = gen_.get();
    const int nm = g->n_monitors();
    auto * w = new PromiseWorker(
        env, [g, steps, events] { g->step(steps, *events); },
        [this, events, nm, g](Napi::Env env) -> Napi::Value {
            const size_t n = events->size();
            auto seq = Napi::Int32Array::New(env, n);
            auto tok = Napi::Int32Array::New(env, n);
            auto pieces = Napi::Array::New(env, n);
            auto scores = Napi::Float32Array::New(env, n * nm);
            for (size_t i = 0; i < n; i++) {
                auto & e = (*events)[i];
                seq[i] = e.seq;
                tok[i] = e.token;
                pieces.Set((uint32_t) i, Napi::String::New(env, e.piece));
                for (int k = 0; k < nm; k++) scores[i * nm + k] = e.scores[k];
            }
            Napi::Object r = Napi::Object::New(env);
            r.Set("seq", seq);
            r.Set("token", tok);
            r.Set("pieces", pieces);
            r.Set("scores", scores);
            r.Set("nMonitors", nm);
            r.Set("done", g->done());
            return r;
        },
        [this] { stepping_ = false; });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

Napi::Value GenerationWrap::Results(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!gen_) throw_error(env, eia::Code::State, "generation is disposed");
    if (stepping_) throw_error(env, eia::Code::Busy, "generation step running: await it first");
    const auto & rs = gen_->results();
    const int nm = gen_->n_monitors();
    Napi::Array out = Napi::Array::New(env, rs.size());
    for (size_t i = 0; i < rs.size(); i++) {
        const auto & r = rs[i];
        Napi::Object o = Napi::Object::New(env);
        o.Set("tokens", make_i32(env, r.tokens.data(), r.tokens.size()));
        o.Set("text", r.text);
        o.Set("finishReason", r.finish.empty() ? "running" : r.finish);
        o.Set("nPrompt", r.n_prompt);
        o.Set("promptMs", r.prompt_ms);
        o.Set("genMs", r.gen_ms);
        o.Set("scores", make_f32(env, r.scores.data(), r.scores.size()));
        o.Set("nMonitors", nm);
        out.Set((uint32_t) i, o);
    }
    return out;
}

Napi::Value GenerationWrap::Stats(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!gen_) throw_error(env, eia::Code::State, "generation is disposed");
    const auto & s = gen_->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("promptMs", s.prompt_ms);
    o.Set("decodeMs", s.decode_ms);
    o.Set("sampleMs", s.sample_ms);
    o.Set("promptTokens", (double) s.prompt_tokens);
    o.Set("decodeTokens", (double) s.decode_tokens);
    o.Set("decodeCalls", s.decode_calls);
    o.Set("uniquePrompts", s.unique_prompts);
    return o;
}

Napi::Value GenerationWrap::Done(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), !gen_ || gen_->done());
}

// abort(): the running step stops at its next decode; later steps finish everything as "abort"
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
