#include "capture.h"
#include "cvec.h"
#include "evaluate.h"
#include "js.h"
#include "wraps.h"

namespace eiajs {

Napi::FunctionReference ContextWrap::ctor;

Napi::Function ContextWrap::Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Context",
                                   {
                                       InstanceMethod("capture", &ContextWrap::template guarded<&ContextWrap::Capture>),
                                       InstanceMethod("embeddingsPerToken", &ContextWrap::template guarded<&ContextWrap::EmbeddingsPerToken>),
                                       InstanceMethod("generate", &ContextWrap::template guarded<&ContextWrap::Generate>),
                                       InstanceMethod("evalLogits", &ContextWrap::template guarded<&ContextWrap::EvalLogits>),
                                       InstanceMethod("tokenLogprobs", &ContextWrap::template guarded<&ContextWrap::TokenLogprobs>),
                                       InstanceMethod("setControlVector", &ContextWrap::template guarded<&ContextWrap::SetControlVector>),
                                       InstanceMethod("loadControlVectorFile", &ContextWrap::template guarded<&ContextWrap::LoadControlVectorFile>),
                                       InstanceMethod("clearControlVector", &ContextWrap::template guarded<&ContextWrap::ClearControlVector>),
                                       InstanceMethod("abort", &ContextWrap::template guarded<&ContextWrap::Abort>),
                                       InstanceMethod("busy", &ContextWrap::template guarded<&ContextWrap::Busy>),
                                       InstanceMethod("props", &ContextWrap::template guarded<&ContextWrap::Props>),
                                       InstanceMethod("residualSupport", &ContextWrap::template guarded<&ContextWrap::ResidualSupport>),
                                       InstanceMethod("requireResidual", &ContextWrap::template guarded<&ContextWrap::RequireResidual>),
                                       InstanceMethod("free", &ContextWrap::template guarded<&ContextWrap::Free>),
                                   });
    ctor = Napi::Persistent(f);
    ctor.SuppressDestruct();
    return f;
}

ContextWrap::ContextWrap(const Napi::CallbackInfo & info) : Wrap<ContextWrap>(info) {}

eia::Context & ContextWrap::ctx(Napi::Env env) {
    if (!ctx_) throw_error(env, eia::Code::State, "context has been freed");
    return *ctx_;
}

void ContextWrap::acquire(Napi::Env env) {
    auto & c = ctx(env);
    if (!c.try_acquire())
        throw_error(env, eia::Code::Busy, "context is busy: one operation at a time per context (await the previous call, or use another context)");
    c.reset_abort();
}

// capture(texts: string[] | Int32Array[], {layers, pool, truncate, addSpecial}) -> Promise<{...}>
Napi::Value ContextWrap::Capture(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    if (info.Length() < 1 || !info[0].IsArray()) type_error(env, "texts must be an array of strings (or of token arrays)");
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::string> texts;
    std::vector<std::vector<int32_t>> toks;
    for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value v = arr.Get(i);
        if (v.IsString()) texts.push_back(v.As<Napi::String>().Utf8Value());
        else toks.push_back(to_tokens(env, v, "texts[" + std::to_string(i) + "]"));
    }
    if (!texts.empty() && !toks.empty()) type_error(env, "texts must be all strings or all token arrays");
    Napi::Object o = opt_object(info, 1);
    eia::CaptureOptions opt;
    if (!has(o, "layers") || !o.Get("layers").IsArray()) type_error(env, "'layers' must be an array of block indices");
    auto la = o.Get("layers").As<Napi::Array>();
    for (uint32_t i = 0; i < la.Length(); i++) {
        Napi::Value v = la.Get(i);
        if (!v.IsNumber()) type_error(env, "layers[" + std::to_string(i) + "] must be a number");
        double d = v.As<Napi::Number>().DoubleValue();
        if (std::floor(d) != d || !std::isfinite(d)) type_error(env, "layers[" + std::to_string(i) + "] must be an integer");
        if (d < -1e9 || d > 1e9) type_error(env, "layers[" + std::to_string(i) + "] out of range");
        opt.layers.push_back((int) d);
    }
    try {
        opt.pool = eia::parse_pool(req_string(o, "pool", "options"));
    } catch (const std::exception & e) {
        throw_error(env, eia::Code::BadArg, e.what());
    }
    opt.truncate = req_int(o, "truncate", "options");
    opt.add_special = req_bool(o, "addSpecial", "options");
    acquire(env);
    auto res = std::make_shared<eia::CaptureResult>();
    eia::Context * cp = &c;
    const bool from_text = !texts.empty() || toks.empty();
    auto * w = new PromiseWorker(
        env,
        [cp, texts = std::move(texts), toks = std::move(toks), opt, res, from_text]() mutable {
            *res = from_text ? eia::capture_texts(*cp, texts, opt) : eia::capture_tokens(*cp, std::move(toks), opt);
        },
        [res](Napi::Env env) -> Napi::Value {
            Napi::Object out = Napi::Object::New(env);
            Napi::Array layers = Napi::Array::New(env, res->layers.size());
            Napi::Array data = Napi::Array::New(env, res->layers.size());
            for (size_t i = 0; i < res->layers.size(); i++) {
                layers.Set((uint32_t) i, res->layers[i]);
                data.Set((uint32_t) i, make_f32(env, res->data[i].data(), res->data[i].size()));
            }
            out.Set("layers", layers);
            out.Set("data", data);
            out.Set("nEmbd", res->n_embd);
            out.Set("nTexts", res->n_texts);
            out.Set("nTokens", make_i32(env, res->n_tokens.data(), res->n_tokens.size()));
            if (!res->offsets.empty()) {
                auto off = Napi::Float64Array::New(env, res->offsets.size());
                for (size_t i = 0; i < res->offsets.size(); i++) off[i] = (double) res->offsets[i];
                out.Set("offsets", off);
            }
            out.Set("decodeCalls", res->decode_calls);
            out.Set("tokensTotal", (double) res->tokens_total);
            out.Set("ms", res->ms);
            out.Set("aborted", res->aborted);
            return out;
        },
        [cp] { cp->release(); });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

Napi::Value ContextWrap::EmbeddingsPerToken(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    std::string text = arg_string(info, 0, "text");
    Napi::Object o = opt_object(info, 1);
    bool add_special = req_bool(o, "addSpecial", "options");
    acquire(env);
    auto out = std::make_shared<std::vector<float>>();
    auto n = std::make_shared<int>(0);
    eia::Context * cp = &c;
    auto * w = new PromiseWorker(
        env, [cp, text, add_special, out, n] { *out = eia::embeddings_per_token(*cp, text, add_special, n.get()); },
        [out, n](Napi::Env env) -> Napi::Value {
            Napi::Object r = Napi::Object::New(env);
            r.Set("nTokens", *n);
            r.Set("data", make_f32(env, out->data(), out->size()));
            return r;
        },
        [cp] { cp->release(); });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

static std::vector<eia::MonitorSpec> read_monitors(Napi::Env env, const Napi::Value & v) {
    std::vector<eia::MonitorSpec> out;
    if (!v.IsArray()) type_error(env, "monitors must be an array of {layer, direction}");
    auto arr = v.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
        const std::string who = "monitors[" + std::to_string(i) + "]";
        Napi::Value x = arr.Get(i);
        if (!x.IsObject()) type_error(env, who + " must be an object");
        auto m = x.As<Napi::Object>();
        eia::MonitorSpec s;
        s.layer = req_int(m, "layer", who);
        s.direction = to_floats(env, req(m, "direction", who), who + ".direction");
        out.push_back(std::move(s));
    }
    return out;
}

static std::vector<eia::SteerTerm> read_terms(Napi::Env env, const Napi::Value & v, const std::string & who) {
    std::vector<eia::SteerTerm> out;
    if (!v.IsArray()) type_error(env, who + " must be an array of steering terms");
    auto arr = v.As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); k++) {
        const std::string w = who + "[" + std::to_string(k) + "]";
        Napi::Value x = arr.Get(k);
        if (!x.IsObject()) type_error(env, w + " must be an object");
        auto t = x.As<Napi::Object>();
        eia::SteerTerm term;
        term.layer = req_int(t, "layer", w);
        term.layer_end = req_int(t, "layerEnd", w);
        const double alpha = req_number(t, "alpha", w);
        if (!std::isfinite(alpha) || std::fabs(alpha) > 3.4e38) type_error(env, w + ".alpha must be a finite number");
        term.alpha = (float) alpha;
        term.direction = to_floats(env, req(t, "direction", w), w + ".direction");
        term.normalize = req_bool(t, "normalize", w);
        try {
            term.positions = eia::parse_positions(req_string(t, "positions", w));
        } catch (const eia::Error & e) {
            type_error(env, w + ": " + e.what());
        }
        out.push_back(std::move(term));
    }
    return out;
}

static eia::GateSpec read_gate(Napi::Env env, const Napi::Object & g, const std::string & who) {
    eia::GateSpec gate;
    gate.layer = req_int(g, "layer", who);
    gate.direction = to_floats(env, req(g, "direction", who), who + ".direction");
    gate.on = (float) req_number(g, "on", who);
    gate.off = (float) req_number(g, "off", who);
    gate.min_hold = req_int(g, "minHold", who);
    gate.budget = req_int(g, "budget", who);
    gate.generated_only = req_bool(g, "generatedOnly", who);
    gate.steer = read_terms(env, req(g, "steer", who), who + ".steer");
    return gate;
}

// One sequence as lib/engine sends it: every field present (the defaults live there).
static eia::SequenceSpec read_sequence(Napi::Env env, const Napi::Value & v, const std::string & who) {
    if (!v.IsObject()) type_error(env, who + " must be an object");
    auto s = v.As<Napi::Object>();
    eia::SequenceSpec spec;
    spec.prompt = to_tokens(env, req(s, "prompt", who), who + ".prompt");
    spec.steer = read_terms(env, req(s, "steer", who), who + ".steer");
    Napi::Value g = s.Get("gate");
    if (!g.IsUndefined() && !g.IsNull()) {
        if (!g.IsObject()) type_error(env, who + ".gate must be an object");
        spec.gate = read_gate(env, g.As<Napi::Object>(), who + ".gate");
    }
    Napi::Value mv = s.Get("monitors");
    if (!mv.IsUndefined() && !mv.IsNull()) {
        for (auto & m : read_monitors(env, mv)) spec.monitors.push_back(eia::SeqMonitor{m.layer, std::move(m.direction)});
    }
    spec.sampling.temperature = (float) req_number(s, "temperature", who);
    spec.sampling.top_k = req_int(s, "topK", who);
    spec.sampling.top_p = (float) req_number(s, "topP", who);
    spec.sampling.min_p = (float) req_number(s, "minP", who);
    const double seed = req_number(s, "seed", who);
    if (!std::isfinite(seed) || seed < 0 || seed > 4294967295.0 || std::floor(seed) != seed) type_error(env, who + ".seed must be an integer in [0, 2^32)");
    spec.sampling.seed = (uint32_t) seed;
    spec.max_tokens = req_int(s, "maxTokens", who);
    spec.ignore_eog = req_bool(s, "ignoreEog", who);
    spec.keep_logits = req_bool(s, "keepLogits", who);
    Napi::Value st = req(s, "stop", who);
    if (!st.IsArray()) type_error(env, who + ".stop must be an array of strings");
    auto sa = st.As<Napi::Array>();
    for (uint32_t k = 0; k < sa.Length(); k++) {
        if (!sa.Get(k).IsString()) type_error(env, who + ".stop[" + std::to_string(k) + "] must be a string");
        spec.stop.push_back(sa.Get(k).As<Napi::String>().Utf8Value());
    }
    return spec;
}

eia::SequenceSpec read_sequence_spec(Napi::Env env, const Napi::Value & v, const std::string & who) { return read_sequence(env, v, who); }

// generate(sequences, {monitors, open}) -> Generation. A fixed generation validates every sequence
// here; an open one starts empty (sequences may also be given) and takes more with add().
Napi::Value ContextWrap::Generate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject()) type_error(env, "generate(sequences, {monitors, open})");
    auto arr = info[0].As<Napi::Array>();
    std::vector<eia::SequenceSpec> specs;
    for (uint32_t i = 0; i < arr.Length(); i++) specs.push_back(read_sequence(env, arr.Get(i), "sequences[" + std::to_string(i) + "]"));
    Napi::Object o = info[1].As<Napi::Object>();
    auto monitors = read_monitors(env, req(o, "monitors", "options"));
    const bool open = req_bool(o, "open", "options");
    acquire(env);
    std::unique_ptr<eia::Generation> gen;
    try {
        if (open) {
            gen = std::make_unique<eia::Generation>(c, std::move(monitors));
            for (auto & s : specs) gen->add(std::move(s));
        } else {
            gen = std::make_unique<eia::Generation>(c, std::move(specs), std::move(monitors));  // validation only: cheap
        }
    } catch (...) {
        c.release();
        throw;
    }
    Napi::Object obj = GenerationWrap::ctor.New({});
    GenerationWrap::Unwrap(obj)->start(this, Value(), std::move(gen));
    return obj;
}

// evalLogits(tokens, {steer: [terms], steerAt: Uint8Array | null}) -> Promise<Float32Array n_tokens x n_vocab>
Napi::Value ContextWrap::EvalLogits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    if (info.Length() < 2 || !info[1].IsObject()) type_error(env, "evalLogits(tokens, {steer, steerAt})");
    auto toks = to_tokens(env, info[0], "tokens");
    Napi::Object o = info[1].As<Napi::Object>();
    auto steer = read_terms(env, req(o, "steer", "options"), "steer");
    std::shared_ptr<std::vector<uint8_t>> mask;
    Napi::Value m = o.Get("steerAt");
    if (!m.IsUndefined() && !m.IsNull()) {
        if (!m.IsTypedArray() || m.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) type_error(env, "steerAt must be a Uint8Array");
        auto a = m.As<Napi::Uint8Array>();
        mask = std::make_shared<std::vector<uint8_t>>(a.Data(), a.Data() + a.ElementLength());
    }
    acquire(env);
    auto out = std::make_shared<std::vector<float>>();
    eia::Context * cp = &c;
    auto * w = new PromiseWorker(
        env, [cp, toks, steer, mask, out] { *out = eia::eval_logits(*cp, toks, steer, mask.get()); },
        [out](Napi::Env env) -> Napi::Value { return make_f32(env, out->data(), out->size()); },
        [cp] { cp->release(); });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

// tokenLogprobs([{prompt, continuation}]) -> Promise<Float32Array[]>: one array per item, one
// log-probability per continuation token (the core checks the items before the first decode).
Napi::Value ContextWrap::TokenLogprobs(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    if (info.Length() < 1 || !info[0].IsArray()) type_error(env, "tokenLogprobs(items: {prompt, continuation}[])");
    auto arr = info[0].As<Napi::Array>();
    auto items = std::make_shared<std::vector<eia::ScoreItem>>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
        const std::string who = "items[" + std::to_string(i) + "]";
        Napi::Value v = arr.Get(i);
        if (!v.IsObject()) type_error(env, who + " must be an object {prompt, continuation}");
        auto o = v.As<Napi::Object>();
        eia::ScoreItem it;
        it.prompt = to_tokens(env, req(o, "prompt", who), who + ".prompt");
        it.continuation = to_tokens(env, req(o, "continuation", who), who + ".continuation");
        items->push_back(std::move(it));
    }
    acquire(env);
    auto out = std::make_shared<std::vector<std::vector<float>>>();
    eia::Context * cp = &c;
    auto * w = new PromiseWorker(
        env, [cp, items, out] { *out = eia::token_logprobs(*cp, *items); },
        [out](Napi::Env env) -> Napi::Value {
            Napi::Array r = Napi::Array::New(env, out->size());
            for (size_t i = 0; i < out->size(); i++) r.Set((uint32_t) i, make_f32(env, (*out)[i].data(), (*out)[i].size()));
            return r;
        },
        [cp] { cp->release(); });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

// setControlVector(Float32Array data for layers 1..n, ilStart, ilEnd): llama.cpp's own cvec path
Napi::Value ContextWrap::SetControlVector(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    if (c.busy()) throw_error(env, eia::Code::Busy, "context is busy");
    if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) type_error(env, "setControlVector(data, ilStart, ilEnd)");
    auto data = to_floats(env, info[0], "control vector data");
    if (data.empty()) throw_error(env, eia::Code::BadArg, "control vector data is empty (use clearControlVector() to remove one)");
    for (float x : data)
        if (!std::isfinite(x)) throw_error(env, eia::Code::BadArg, "control vector contains NaN or infinity");
    const int n_layer = c.model().n_layer();
    const int a = info[1].As<Napi::Number>().Int32Value(), b = info[2].As<Napi::Number>().Int32Value();
    if (a < 1 || b >= n_layer || a > b) throw_error(env, eia::Code::BadArg, "control vector layer range must be within [1, nLayer-1]");
    c.set_control_vector(data, a, b);
    return env.Undefined();
}

Napi::Value ContextWrap::LoadControlVectorFile(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    if (c.busy()) throw_error(env, eia::Code::Busy, "context is busy");
    std::string path = arg_string(info, 0, "control vector path");
    Napi::Object o = opt_object(info, 1);
    const double strength = req_number(o, "strength", "options");
    if (!std::isfinite(strength)) type_error(env, "'strength' must be a finite number");
    const int n_layer = c.model().n_layer();
    const int a = req_int(o, "layerStart", "options"), b = req_int(o, "layerEnd", "options");
    if (a < 1 || b >= n_layer || a > b) throw_error(env, eia::Code::BadArg, "control vector layer range must be within [1, nLayer-1]");
    int n_embd = 0;
    auto data = eia::load_control_vector_llama(path, (float) strength, &n_embd);
    if (n_embd != c.model().n_embd())
        throw_error(env, eia::Code::BadArg, "control vector width " + std::to_string(n_embd) + " != model nEmbd " + std::to_string(c.model().n_embd()));
    c.set_control_vector(data, a, b);
    return env.Undefined();
}

Napi::Value ContextWrap::ClearControlVector(const Napi::CallbackInfo & info) {
    ctx(info.Env()).clear_control_vector();
    return info.Env().Undefined();
}

Napi::Value ContextWrap::Abort(const Napi::CallbackInfo & info) {
    if (ctx_) ctx_->request_abort();
    return info.Env().Undefined();
}

Napi::Value ContextWrap::Busy(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), ctx_ && ctx_->busy()); }

Napi::Value ContextWrap::Props(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto & c = ctx(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("nCtx", c.n_ctx());
    o.Set("nBatch", c.n_batch());
    o.Set("nSeqMax", c.n_seq_max());
    o.Set("nThreads", c.n_threads());
    o.Set("kvUnified", c.kv_unified());
    o.Set("nCtxSeq", c.n_ctx_seq());
    o.Set("backendSampling", c.backend_sampling());
    o.Set("samplingNote", c.sampling_note());
    return o;
}

// residualSupport() -> {supported, reason, tensor, hits, found, missing, pruned}: the support check's finding
Napi::Value ContextWrap::ResidualSupport(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const eia::ResidualSupport & s = ctx(env).residual_support();
    std::vector<int32_t> pruned;
    for (size_t l = 0; l < s.pruned.size(); l++)
        if (s.pruned[l]) pruned.push_back((int32_t) l);
    Napi::Object o = Napi::Object::New(env);
    o.Set("supported", s.supported);
    o.Set("reason", s.reason);
    o.Set("tensor", s.tensor);
    o.Set("hits", make_i32(env, s.hits.data(), s.hits.size()));
    o.Set("found", make_i32(env, s.found.data(), s.found.size()));
    o.Set("missing", make_i32(env, s.missing.data(), s.missing.size()));
    o.Set("pruned", make_i32(env, pruned.data(), pruned.size()));
    return o;
}

// requireResidual(what): throws E_UNSUPPORTED_MODEL naming `what` when the support check failed
Napi::Value ContextWrap::RequireResidual(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    eia::require_residual(ctx(env), arg_string(info, 0, "what"));
    return env.Undefined();
}

Napi::Value ContextWrap::Free(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (ctx_ && ctx_->busy()) throw_error(env, eia::Code::Busy, "context is busy: wait for the running operation (or abort it) before free()");
    ctx_.reset();
    return env.Undefined();
}

}  // namespace eiajs
