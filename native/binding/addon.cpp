// eia_native.node: registers the JS classes and the free functions (info, synth, control vectors).
#include "cvec.h"
#include "evaluate.h"
#include "js.h"
#include "runtime.h"
#include "synth.h"
#include "wraps.h"

namespace eiajs {

static Napi::Value Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto b = eia::build_info();
    Napi::Object o = Napi::Object::New(env);
    o.Set("llamaCommit", b.llama_commit);
    o.Set("gpu", b.gpu);
    Napi::Array be = Napi::Array::New(env, b.backends.size());
    for (size_t i = 0; i < b.backends.size(); i++) be.Set((uint32_t) i, b.backends[i]);
    o.Set("backends", be);
    Napi::Array dv = Napi::Array::New(env, b.devices.size());
    for (size_t i = 0; i < b.devices.size(); i++) dv.Set((uint32_t) i, b.devices[i]);
    o.Set("devices", dv);
    o.Set("systemInfo", b.system_info);
    return o;
}

static Napi::Value SetLogLevel(const Napi::CallbackInfo & info) {
    if (info.Length() < 1 || !info[0].IsNumber()) type_error(info.Env(), "log level must be a number 0..4");
    eia::set_log_level(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
}

// synth({arch, shape, type, seed, planted, out}) -> Promise<{...}>
static Napi::Value Synth(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = opt_object(info, 0);
    eia::SynthOptions opt;
    opt.arch = get_string(o, "arch", "");
    opt.shape = get_string(o, "shape", "tiny");
    opt.type = get_string(o, "type", "f32");
    const double seed = get_number(o, "seed", 1);
    if (!std::isfinite(seed) || seed < 0 || std::floor(seed) != seed) type_error(env, "'seed' must be a non-negative integer");
    opt.seed = (uint64_t) seed;
    opt.planted = get_bool(o, "planted", false);
    opt.out = get_string(o, "out", "");
    auto res = std::make_shared<eia::SynthResult>();
    auto * w = new PromiseWorker(
        env, [opt, res] { *res = eia::synth_model(opt); },
        [res](Napi::Env env) -> Napi::Value {
            Napi::Object r = Napi::Object::New(env);
            r.Set("path", res->path);
            r.Set("arch", res->arch);
            r.Set("shape", res->shape);
            r.Set("type", res->type);
            r.Set("nLayer", res->n_layer);
            r.Set("nEmbd", res->n_embd);
            r.Set("nVocab", res->n_vocab);
            r.Set("nHead", res->n_head);
            r.Set("nHeadKv", res->n_head_kv);
            r.Set("nFf", res->n_ff);
            r.Set("nCtxTrain", res->n_ctx_train);
            if (!res->planted_npy.empty()) {
                r.Set("plantedNpy", res->planted_npy);
                r.Set("trainJsonl", res->train_jsonl);
                r.Set("testJsonl", res->test_jsonl);
            }
            return r;
        });
    auto promise = w->promise();
    w->Queue();
    return promise;
}

// writeControlVector(path, {modelHint, layers: {L: Float32Array}})
static Napi::Value WriteControlVector(const Napi::CallbackInfo & info) {
    return guarded(info, [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::string path = arg_string(info, 0, "path");
        Napi::Object o = opt_object(info, 1);
        eia::ControlVector cv;
        cv.model_hint = get_string(o, "modelHint", "");
        if (!has(o, "layers") || !o.Get("layers").IsObject()) type_error(env, "'layers' must be an object {layer: Float32Array}");
        Napi::Object layers = o.Get("layers").As<Napi::Object>();
        Napi::Array keys = layers.GetPropertyNames();
        for (uint32_t i = 0; i < keys.Length(); i++) {
            std::string k = keys.Get(i).ToString().Utf8Value();
            char * end = nullptr;
            long L = std::strtol(k.c_str(), &end, 10);
            if (end == k.c_str() || *end) type_error(env, "layer key '" + k + "' is not an integer");
            auto v = to_floats(env, layers.Get(k), "layers[" + k + "]");
            if (cv.n_embd == 0) cv.n_embd = (int) v.size();
            cv.layers[(int) L] = std::move(v);
        }
        eia::write_control_vector(path, cv);
        return env.Undefined();
    });
}

static Napi::Value ReadControlVector(const Napi::CallbackInfo & info) {
    return guarded(info, [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        auto cv = eia::read_control_vector(arg_string(info, 0, "path"));
        Napi::Object o = Napi::Object::New(env);
        o.Set("modelHint", cv.model_hint);
        o.Set("nEmbd", cv.n_embd);
        Napi::Object layers = Napi::Object::New(env);
        for (auto & kv : cv.layers) layers.Set(std::to_string(kv.first), make_f32(env, kv.second.data(), kv.second.size()));
        o.Set("layers", layers);
        return o;
    });
}

// loadControlVectorLlama(path, strength=1) -> {nEmbd, data}: llama.cpp's own loader (common)
static Napi::Value LoadControlVectorLlama(const Napi::CallbackInfo & info) {
    return guarded(info, [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::string path = arg_string(info, 0, "path");
        float strength = 1.0f;
        if (info.Length() > 1 && !info[1].IsUndefined()) {
            if (!info[1].IsNumber()) type_error(env, "strength must be a number");
            strength = info[1].As<Napi::Number>().FloatValue();
            if (!std::isfinite(strength)) type_error(env, "strength must be a finite number");
        }
        int n_embd = 0;
        auto data = eia::load_control_vector_llama(path, strength, &n_embd);
        Napi::Object o = Napi::Object::New(env);
        o.Set("nEmbd", n_embd);
        o.Set("data", make_f32(env, data.data(), data.size()));
        return o;
    });
}

// readGgufTensor(path, name) -> {shape, data}: F32/F16 tensors of a GGUF file
static Napi::Value ReadGgufTensor(const Napi::CallbackInfo & info) {
    return guarded(info, [&]() -> Napi::Value {
        Napi::Env env = info.Env();
        std::vector<int64_t> shape;
        auto data = eia::read_gguf_tensor(arg_string(info, 0, "path"), arg_string(info, 1, "tensor name"), &shape);
        Napi::Object o = Napi::Object::New(env);
        Napi::Array sh = Napi::Array::New(env, shape.size());
        for (size_t i = 0; i < shape.size(); i++) sh.Set((uint32_t) i, (double) shape[i]);
        o.Set("shape", sh);
        o.Set("data", make_f32(env, data.data(), data.size()));
        return o;
    });
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Model", ModelWrap::Init(env));
    exports.Set("Context", ContextWrap::Init(env));
    exports.Set("Generation", GenerationWrap::Init(env));
    exports.Set("info", Napi::Function::New(env, Info));
    exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel));
    exports.Set("synth", Napi::Function::New(env, Synth));
    exports.Set("writeControlVector", Napi::Function::New(env, WriteControlVector));
    exports.Set("readControlVector", Napi::Function::New(env, ReadControlVector));
    exports.Set("readGgufTensor", Napi::Function::New(env, ReadGgufTensor));
    exports.Set("loadControlVectorLlama", Napi::Function::New(env, LoadControlVectorLlama));
    return exports;
}

}  // namespace eiajs

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return eiajs::Init(env, exports); }

NODE_API_MODULE(eia_native, InitAddon)
