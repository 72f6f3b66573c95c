// eia_native.node: registers the JS classes and the free functions (info, synth, control vectors).
#include "context.h"
#include "cvec.h"
#include "evaluate.h"
#include "js.h"
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

// writeControlVector(path, {modelHint, layers: {L: Float32Array}})
static Napi::Value WriteControlVector(const Napi::CallbackInfo & info) {
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
    exports.Set("writeControlVector", Napi::Function::New(env, fn<&WriteControlVector>));
    exports.Set("readControlVector", Napi::Function::New(env, fn<&ReadControlVector>));
    exports.Set("readGgufTensor", Napi::Function::New(env, fn<&ReadGgufTensor>));
    exports.Set("loadControlVectorLlama", Napi::Function::New(env, fn<&LoadControlVectorLlama>));
    return exports;
}

}  // namespace eiajs

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return eiajs::Init(env, exports); }

NODE_API_MODULE(eia_native, InitAddon)
