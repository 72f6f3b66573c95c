// eia_native.node: registers the JS classes and the free functions (info, synth, control vectors).
#include "context.h"
#include "cvec.h"
#include "evaluate.h"
#include "js.h"
#include "quantize.h"
#include "runtime.h"
#include "synth.h"
#include "vulkan_probe.h"
#include "wraps.h"

namespace eiajs {

// info() -> what runs: llama.cpp commit, prebuilt or source runtime, the backends loaded (or why
// not) and the devices found. Never throws: a runtime that cannot run says so in `error`.
static Napi::Value Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto r = eia::runtime_info();
    Napi::Object o = Napi::Object::New(env);
    o.Set("llamaCommit", r.llama_commit);
    o.Set("runtime", r.mode);
    o.Set("gpuBuild", r.gpu_build);
    o.Set("gpuPolicy", r.gpu_policy);
    o.Set("libDir", r.lib_dir);
    o.Set("backendDir", r.backend_dir);
    Napi::Array be = Napi::Array::New(env, r.loads.size());
    for (size_t i = 0; i < r.loads.size(); i++) {
        const auto & b = r.loads[i];
        Napi::Object x = Napi::Object::New(env);
        x.Set("name", b.name);
        x.Set("path", b.path);
        x.Set("variant", b.variant);
        x.Set("status", b.status);
        x.Set("error", b.error);
        x.Set("devices", b.n_devices);
        be.Set((uint32_t) i, x);
    }
    o.Set("backends", be);
    Napi::Array dv = Napi::Array::New(env, r.devices.size());
    for (size_t i = 0; i < r.devices.size(); i++) {
        const auto & d = r.devices[i];
        Napi::Object x = Napi::Object::New(env);
        x.Set("name", d.name);
        x.Set("description", d.description);
        x.Set("type", d.type);
        x.Set("memoryTotal", (double) d.memory_total);
        x.Set("memoryFree", (double) d.memory_free);
        x.Set("cpuVulkan", d.cpu_vulkan);
        dv.Set((uint32_t) i, x);
    }
    o.Set("devices", dv);
    o.Set("hasGpu", r.has_gpu);
    o.Set("systemInfo", r.system_info);
    o.Set("error", r.error);
    return o;
}

// vulkanDevices() -> the Vulkan loader's devices ({loader, error, devices: [{index, name, type}]}),
// seen without loading ggml's backends (so a caller can pick GGML_VK_VISIBLE_DEVICES first).
static Napi::Value VulkanDevices(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const auto & p = eia::probe_vulkan();
    Napi::Object o = Napi::Object::New(env);
    o.Set("loader", p.loader);
    o.Set("error", p.error);
    Napi::Array dv = Napi::Array::New(env, p.devices.size());
    for (size_t i = 0; i < p.devices.size(); i++) {
        Napi::Object x = Napi::Object::New(env);
        x.Set("index", p.devices[i].index);
        x.Set("name", p.devices[i].name);
        x.Set("type", p.devices[i].type);
        dv.Set((uint32_t) i, x);
    }
    o.Set("devices", dv);
    return o;
}

// setErrorClass(EiaError): the class every native error is created as (see js.h make_error).
static Napi::Value SetErrorClass(const Napi::CallbackInfo & info) {
    if (info.Length() < 1 || !info[0].IsFunction()) type_error(info.Env(), "setErrorClass needs a constructor");
    auto * ref = new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>()));
    info.Env().SetInstanceData<Napi::FunctionReference>(ref);  // freed by Node with the environment
    return info.Env().Undefined();
}

// limits() -> the engine's fixed limits, so callers size work without copying constants.
static Napi::Value Limits(const Napi::CallbackInfo & info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("maxSequences", eia::kMaxSeq);
    o.Set("kvPadding", 256);  // llama.cpp pads each sequence's KV room to a multiple of 256 cells
    return o;
}

static Napi::Value SetLogLevel(const Napi::CallbackInfo & info) {
    if (info.Length() < 1 || !info[0].IsNumber()) type_error(info.Env(), "log level must be a number 0..4");
    eia::set_log_level(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
}

// synth({arch, shape, type, seed, planted, plantedProfile, out}) -> Promise<{...}>
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
    opt.planted_profile = get_string(o, "plantedProfile", "realistic");
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
                r.Set("plantedProfile", res->planted_profile);
                if (!res->ablated_jsonl.empty()) {
                    r.Set("ablatedJsonl", res->ablated_jsonl);
                    r.Set("ablationReplacements", res->ablation_replacements);
                }
            }
            return r;
        });
    auto promise = w->promise();
    w->Queue();
    return promise;
}

// A JS metadata value -> MetaValue: a string, a boolean, a number (an integer is stored as int64,
// any other as float64), or a non-empty array of strings or of numbers.
static eia::MetaValue to_meta(Napi::Env env, const std::string & key, const Napi::Value & v) {
    using K = eia::MetaValue::Kind;
    eia::MetaValue m;
    auto is_int = [](double d) { return std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740991.0; };
    if (v.IsString()) { m.kind = K::Str; m.s = v.As<Napi::String>().Utf8Value(); }
    else if (v.IsBoolean()) { m.kind = K::Bool; m.b = v.As<Napi::Boolean>().Value(); }
    else if (v.IsNumber()) {
        const double d = v.As<Napi::Number>().DoubleValue();
        if (is_int(d)) { m.kind = K::Int; m.i = (int64_t) d; } else { m.kind = K::Float; m.f = d; }
    } else if (v.IsArray()) {
        Napi::Array a = v.As<Napi::Array>();
        const uint32_t n = a.Length();
        if (n == 0) type_error(env, "meta['" + key + "'] is an empty array (leave the key out instead)");
        if (a.Get(0u).IsString()) {
            m.kind = K::StrArray;
            for (uint32_t i = 0; i < n; i++) {
                Napi::Value x = a.Get(i);
                if (!x.IsString()) type_error(env, "meta['" + key + "'] mixes strings with other values");
                m.strs.push_back(x.As<Napi::String>().Utf8Value());
            }
        } else {
            bool all_int = true;
            for (uint32_t i = 0; i < n; i++) {
                Napi::Value x = a.Get(i);
                if (!x.IsNumber()) type_error(env, "meta['" + key + "'] must hold only numbers or only strings");
                const double d = x.As<Napi::Number>().DoubleValue();
                m.floats.push_back(d);
                if (!is_int(d)) all_int = false;
            }
            if (all_int) {
                m.kind = K::IntArray;
                for (double d : m.floats) m.ints.push_back((int64_t) d);
                m.floats.clear();
            } else {
                m.kind = K::FloatArray;
            }
        }
    } else {
        type_error(env, "meta['" + key + "'] must be a string, a boolean, a number or an array of them");
    }
    return m;
}

static Napi::Value from_meta(Napi::Env env, const eia::MetaValue & m) {
    using K = eia::MetaValue::Kind;
    switch (m.kind) {
        case K::Str: return Napi::String::New(env, m.s);
        case K::Int: return Napi::Number::New(env, (double) m.i);
        case K::Float: return Napi::Number::New(env, m.f);
        case K::Bool: return Napi::Boolean::New(env, m.b);
        case K::IntArray: {
            Napi::Array a = Napi::Array::New(env, m.ints.size());
            for (size_t i = 0; i < m.ints.size(); i++) a.Set((uint32_t) i, Napi::Number::New(env, (double) m.ints[i]));
            return a;
        }
        case K::FloatArray: {
            Napi::Array a = Napi::Array::New(env, m.floats.size());
            for (size_t i = 0; i < m.floats.size(); i++) a.Set((uint32_t) i, Napi::Number::New(env, m.floats[i]));
            return a;
        }
        case K::StrArray: {
            Napi::Array a = Napi::Array::New(env, m.strs.size());
            for (size_t i = 0; i < m.strs.size(); i++) a.Set((uint32_t) i, Napi::String::New(env, m.strs[i]));
            return a;
        }
    }
    return env.Undefined();
}

// encodeControlVector({modelHint, layers: {L: Float32Array}, meta?: {"eia.key": value}}) -> Buffer (the GGUF bytes; JS writes them atomically)
static Napi::Value EncodeControlVector(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = opt_object(info, 0);
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
    if (has(o, "meta")) {
        if (!o.Get("meta").IsObject() || o.Get("meta").IsArray()) type_error(env, "'meta' must be an object {key: value}");
        Napi::Object meta = o.Get("meta").As<Napi::Object>();
        Napi::Array mk = meta.GetPropertyNames();
        for (uint32_t i = 0; i < mk.Length(); i++) {
            std::string k = mk.Get(i).ToString().Utf8Value();
            cv.meta[k] = to_meta(env, k, meta.Get(k));
        }
    }
    const std::vector<uint8_t> bytes = eia::encode_control_vector(cv);
    return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

static Napi::Value ReadControlVector(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto cv = eia::read_control_vector(arg_string(info, 0, "path"));
    Napi::Object o = Napi::Object::New(env);
    o.Set("modelHint", cv.model_hint);
    o.Set("nEmbd", cv.n_embd);
    Napi::Object layers = Napi::Object::New(env);
    for (auto & kv : cv.layers) layers.Set(std::to_string(kv.first), make_f32(env, kv.second.data(), kv.second.size()));
    o.Set("layers", layers);
    Napi::Object meta = Napi::Object::New(env);
    for (auto & kv : cv.meta) meta.Set(kv.first, from_meta(env, kv.second));
    o.Set("meta", meta);
    return o;
}

// loadControlVectorLlama(path, strength=1) -> {nEmbd, data}: llama.cpp's own loader (common)
static Napi::Value LoadControlVectorLlama(const Napi::CallbackInfo & info) {
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
}

// readGgufTensor(path, name) -> {shape, data}: F32/F16 tensors of a GGUF file
static Napi::Value ReadGgufTensor(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::vector<int64_t> shape;
    auto data = eia::read_gguf_tensor(arg_string(info, 0, "path"), arg_string(info, 1, "tensor name"), &shape);
    Napi::Object o = Napi::Object::New(env);
    Napi::Array sh = Napi::Array::New(env, shape.size());
    for (size_t i = 0; i < shape.size(); i++) sh.Set((uint32_t) i, (double) shape[i]);
    o.Set("shape", sh);
    o.Set("data", make_f32(env, data.data(), data.size()));
    return o;
}

// quantizeTypes() -> [{name, ftype, bitsPerWeight}]: the file types quantize writes.
static Napi::Value QuantizeTypes(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const auto & types = eia::quant_types();
    Napi::Array a = Napi::Array::New(env, types.size());
    for (size_t i = 0; i < types.size(); i++) {
        Napi::Object t = Napi::Object::New(env);
        t.Set("name", types[i].name);
        t.Set("ftype", types[i].ftype);
        t.Set("bitsPerWeight", types[i].bits_per_weight);
        a.Set((uint32_t) i, t);
    }
    return a;
}

// quantize({in, out, type, threads, allowRequantize}) -> {promise, progress() -> {done, total}}:
// the work runs on the libuv pool; progress() reads its tensor counter (poll it from JS).
static Napi::Value Quantize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = opt_object(info, 0);
    eia::QuantizeOptions opt;
    opt.in = get_string(o, "in", "");
    opt.out = get_string(o, "out", "");
    opt.type = get_string(o, "type", "");
    const double threads = get_number(o, "threads", 0);
    if (!std::isfinite(threads) || std::floor(threads) != threads) type_error(env, "'threads' must be an integer");
    opt.threads = (int) std::max(-1.0, std::min(threads, 1e6));
    opt.allow_requantize = get_bool(o, "allowRequantize", false);
    auto progress = std::make_shared<eia::QuantizeProgress>();
    auto res = std::make_shared<eia::QuantizeResult>();
    auto * w = new PromiseWorker(
        env, [opt, progress, res] { *res = eia::quantize_model(opt, progress.get()); },
        [res](Napi::Env env) -> Napi::Value {
            Napi::Object r = Napi::Object::New(env);
            r.Set("type", res->type);
            r.Set("ftype", res->ftype);
            r.Set("nTensors", (double) res->n_tensors);
            r.Set("inBytes", (double) res->in_bytes);
            r.Set("outBytes", (double) res->out_bytes);
            r.Set("arch", res->arch);
            return r;
        });
    Napi::Object handle = Napi::Object::New(env);
    handle.Set("promise", w->promise());
    handle.Set("progress", Napi::Function::New(env, [progress](const Napi::CallbackInfo & ci) -> Napi::Value {
        Napi::Object p = Napi::Object::New(ci.Env());
        p.Set("done", (double) progress->done.load());
        p.Set("total", (double) progress->total.load());
        return p;
    }));
    w->Queue();
    return handle;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Model", ModelWrap::Init(env));
    exports.Set("Context", ContextWrap::Init(env));
    exports.Set("Generation", GenerationWrap::Init(env));
    exports.Set("info", Napi::Function::New(env, fn<&Info>));
    exports.Set("vulkanDevices", Napi::Function::New(env, fn<&VulkanDevices>));
    exports.Set("setErrorClass", Napi::Function::New(env, fn<&SetErrorClass>));
    exports.Set("limits", Napi::Function::New(env, fn<&Limits>));
    exports.Set("setLogLevel", Napi::Function::New(env, fn<&SetLogLevel>));
    exports.Set("synth", Napi::Function::New(env, fn<&Synth>));
    exports.Set("encodeControlVector", Napi::Function::New(env, fn<&EncodeControlVector>));
    exports.Set("readControlVector", Napi::Function::New(env, fn<&ReadControlVector>));
    exports.Set("readGgufTensor", Napi::Function::New(env, fn<&ReadGgufTensor>));
    exports.Set("loadControlVectorLlama", Napi::Function::New(env, fn<&LoadControlVectorLlama>));
    exports.Set("quantizeTypes", Napi::Function::New(env, fn<&QuantizeTypes>));
    exports.Set("quantize", Napi::Function::New(env, fn<&Quantize>));
    return exports;
}

}  // namespace eiajs

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return eiajs::Init(env, exports); }

NODE_API_MODULE(eia_native, InitAddon)
