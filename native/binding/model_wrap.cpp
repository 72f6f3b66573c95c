#include "js.h"
#include "wraps.h"

namespace eiajs {

Napi::FunctionReference ModelWrap::ctor;

Napi::Function ModelWrap::Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Model",
                                   {
                                       StaticMethod("load", &ModelWrap::template guarded_static<&ModelWrap::Load>),
                                       InstanceMethod("info", &ModelWrap::template guarded<&ModelWrap::Info>),
                                       InstanceMethod("tokenize", &ModelWrap::template guarded<&ModelWrap::Tokenize>),
                                       InstanceMethod("tokenizeAsync", &ModelWrap::template guarded<&ModelWrap::TokenizeAsync>),
                                       InstanceMethod("detokenize", &ModelWrap::template guarded<&ModelWrap::Detokenize>),
                                       InstanceMethod("tokenPiece", &ModelWrap::template guarded<&ModelWrap::TokenPiece>),
                                       InstanceMethod("isEog", &ModelWrap::template guarded<&ModelWrap::IsEog>),
                                       InstanceMethod("applyChatTemplate", &ModelWrap::template guarded<&ModelWrap::ApplyChatTemplate>),
                                       InstanceMethod("meta", &ModelWrap::template guarded<&ModelWrap::Meta>),
                                       InstanceMethod("createContext", &ModelWrap::template guarded<&ModelWrap::CreateContext>),
                                       InstanceMethod("free", &ModelWrap::template guarded<&ModelWrap::Free>),
                                       InstanceMethod("isFreed", &ModelWrap::template guarded<&ModelWrap::IsFreed>),
                                   });
    ctor = Napi::Persistent(f);
    ctor.SuppressDestruct();
    return f;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo & info) : Wrap<ModelWrap>(info) {}

std::shared_ptr<eia::Model> ModelWrap::model(Napi::Env env) const {
    if (!model_) throw_error(env, eia::Code::State, "model has been freed");
    return model_;
}

// Model.load(path, {gpuLayers, mmap, vocabOnly}) -> Promise<Model>
Napi::Value ModelWrap::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    std::string path = arg_string(info, 0, "model path");
    Napi::Object o = opt_object(info, 1);
    eia::ModelParams p;
    p.n_gpu_layers = req_int(o, "gpuLayers", "options");
    p.use_mmap = req_bool(o, "mmap", "options");
    p.vocab_only = req_bool(o, "vocabOnly", "options");
    auto result = std::make_shared<std::shared_ptr<eia::Model>>();
    auto * w = new PromiseWorker(
        env, [path, p, result] { *result = eia::Model::load(path, p); },
        [result](Napi::Env env) {
            Napi::Object obj = ModelWrap::ctor.New({});
            ModelWrap::Unwrap(obj)->model_ = *result;
            return obj;
        });
    auto promise = w->promise();
    w->Queue();
    return promise;
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    const auto & i = m->info();
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", i.path);
    o.Set("arch", i.arch);
    o.Set("name", i.name);
    o.Set("description", i.desc);
    o.Set("nLayer", i.n_layer);
    o.Set("nEmbd", i.n_embd);
    o.Set("nVocab", i.n_vocab);
    o.Set("nCtxTrain", i.n_ctx_train);
    o.Set("nHead", i.n_head);
    o.Set("nHeadKv", i.n_head_kv);
    o.Set("bos", i.bos);
    o.Set("eos", i.eos);
    o.Set("addBos", i.add_bos);
    o.Set("hasVocab", i.has_vocab);
    o.Set("recurrent", i.recurrent);
    o.Set("hybrid", i.hybrid);
    o.Set("diffusion", i.diffusion);
    o.Set("chatTemplate", i.chat_template);
    o.Set("nParams", (double) i.n_params);
    o.Set("sizeBytes", (double) i.size_bytes);
    o.Set("offloaded", i.offloaded);
    o.Set("cpuVulkan", i.cpu_vulkan);
    const auto & pl = i.placement;
    Napi::Object po = Napi::Object::New(env);
    po.Set("probed", pl.probed);
    po.Set("device", pl.device);
    po.Set("deviceDescription", pl.device_description);
    po.Set("deviceLayers", pl.device_layers);
    Napi::Array oh = Napi::Array::New(env, pl.on_host.size());
    for (size_t k = 0; k < pl.on_host.size(); k++) {
        Napi::Object x = Napi::Object::New(env);
        x.Set("layer", pl.on_host[k].layer);
        x.Set("reason", pl.on_host[k].reason);
        oh.Set((uint32_t) k, x);
    }
    po.Set("onHost", oh);
    o.Set("placement", po);
    o.Set("vocabType", i.vocab_type);
    o.Set("maxTokenBytes", i.max_token_bytes);
    o.Set("stripsWhitespace", i.strips_whitespace);
    return o;
}

// tokenize(text, {addSpecial=true, parseSpecial=false}) -> Int32Array
Napi::Value ModelWrap::Tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    std::string text = arg_string(info, 0, "text");
    Napi::Object o = opt_object(info, 1);
    auto t = m->tokenize(text, req_bool(o, "addSpecial", "options"), req_bool(o, "parseSpecial", "options"));
    return make_i32(env, t.data(), t.size());
}

// tokenizeAsync(text, {addSpecial, parseSpecial}) -> Promise<Int32Array>: the same tokens, computed on
// the thread pool (a long text takes the tokenizer seconds; the event loop must not wait for it)
Napi::Value ModelWrap::TokenizeAsync(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    auto text = std::make_shared<std::string>(arg_string(info, 0, "text"));
    Napi::Object o = opt_object(info, 1);
    const bool add_special = req_bool(o, "addSpecial", "options");
    const bool parse_special = req_bool(o, "parseSpecial", "options");
    auto out = std::make_shared<std::vector<llama_token>>();
    auto * w = new PromiseWorker(
        env, [m, text, add_special, parse_special, out] { *out = m->tokenize(*text, add_special, parse_special); },
        [out](Napi::Env env) { return make_i32(env, out->data(), out->size()); });
    auto promise = w->promise();
    w->Queue();
    return promise;
}

Napi::Value ModelWrap::Detokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    if (info.Length() < 1) type_error(env, "tokens are required");
    auto t = to_tokens(env, info[0], "tokens");
    Napi::Object o = opt_object(info, 1);
    return Napi::String::New(env, m->detokenize(t, req_bool(o, "removeSpecial", "options"), req_bool(o, "unparseSpecial", "options")));
}

Napi::Value ModelWrap::TokenPiece(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    if (info.Length() < 1 || !info[0].IsNumber()) type_error(env, "token id must be a number");
    const double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(std::floor(d) == d && d >= -2147483648.0 && d <= 2147483647.0)) type_error(env, "token id must be an integer");
    return Napi::String::New(env, m->token_piece((int) d));
}

Napi::Value ModelWrap::IsEog(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    if (info.Length() < 1 || !info[0].IsNumber()) type_error(env, "token id must be a number");
    const double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(std::floor(d) == d && d >= -2147483648.0 && d <= 2147483647.0)) type_error(env, "token id must be an integer");
    const int t = (int) d;
    m->check_token(t);
    return Napi::Boolean::New(env, m->is_eog(t));
}

// applyChatTemplate([{role, content}], {addAssistant=true, template}) -> string
Napi::Value ModelWrap::ApplyChatTemplate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    if (info.Length() < 1 || !info[0].IsArray()) type_error(env, "messages must be an array of {role, content}");
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::pair<std::string, std::string>> msgs;
    for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value v = arr.Get(i);
        if (!v.IsObject()) type_error(env, "messages[" + std::to_string(i) + "] must be an object");
        auto o = v.As<Napi::Object>();
        const std::string who = "messages[" + std::to_string(i) + "]";
        msgs.emplace_back(req_string(o, "role", who), req_string(o, "content", who));
        if (msgs.back().first.empty()) type_error(env, "messages[" + std::to_string(i) + "].role must be a non-empty string");
    }
    Napi::Object o = opt_object(info, 1);
    return Napi::String::New(env, m->apply_chat_template(msgs, req_bool(o, "addAssistant", "options"), req_string(o, "template", "options")));
}

Napi::Value ModelWrap::Meta(const Napi::CallbackInfo & info) {
    auto m = model(info.Env());
    std::string v = m->meta(arg_string(info, 0, "key"));
    return v.empty() ? info.Env().Null() : Napi::String::New(info.Env(), v);
}

// createContext({nCtx, nBatch, nUbatch, nSeqMax, nThreads, embeddings}) -> Promise<Context>
Napi::Value ModelWrap::CreateContext(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto m = model(env);
    Napi::Object o = opt_object(info, 0);
    eia::ContextParams p;
    const std::string wo = "options";
    p.n_ctx = req_int(o, "nCtx", wo);
    p.n_batch = req_int(o, "nBatch", wo);
    p.n_ubatch = req_int(o, "nUbatch", wo);
    p.n_seq_max = req_int(o, "nSeqMax", wo);
    p.n_threads = req_int(o, "nThreads", wo);
    p.embeddings = req_bool(o, "embeddings", wo);
    p.kv_unified = req_bool(o, "kvUnified", wo);
    const std::string fa = req_string(o, "flashAttn", wo);
    if (fa != "auto" && fa != "on" && fa != "off") type_error(env, "flashAttn must be 'auto', 'on' or 'off'");
    p.flash_attn = fa == "auto" ? -1 : fa == "on" ? 1 : 0;
    const std::string sm = req_string(o, "sampling", wo);
    if (sm != "auto" && sm != "host" && sm != "backend") type_error(env, "sampling must be 'auto', 'host' or 'backend'");
    p.sampling = sm == "auto" ? 0 : sm == "host" ? 1 : 2;
    auto holder = std::make_shared<std::unique_ptr<eia::Context>>();
    auto * w = new PromiseWorker(
        env, [m, p, holder] { *holder = std::make_unique<eia::Context>(m, p); },
        [holder](Napi::Env env) {
            Napi::Object obj = ContextWrap::ctor.New({});
            ContextWrap::Unwrap(obj)->adopt(std::move(*holder));
            return obj;
        });
    w->keep(Value());
    auto promise = w->promise();
    w->Queue();
    return promise;
}

Napi::Value ModelWrap::Free(const Napi::CallbackInfo & info) {
    model_.reset();  // contexts still running keep the weights alive until they are freed
    return info.Env().Undefined();
}

Napi::Value ModelWrap::IsFreed(const Napi::CallbackInfo & info) { return Napi::Boolean::New(info.Env(), !model_); }

}  // namespace eiajs
