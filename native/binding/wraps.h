// The JS classes: Model, Context, Generation. Thin: argument checks, then the core.
#pragma once
#include <napi.h>

#include <memory>

#include "context.h"
#include "generate.h"
#include "js.h"
#include "model.h"

namespace eiajs {

// Reads one sequence spec as lib/engine sends it (context_wrap.cpp).
eia::SequenceSpec read_sequence_spec(Napi::Env env, const Napi::Value & v, const std::string & who);

class ModelWrap : public Wrap<ModelWrap> {
public:
    static Napi::Function Init(Napi::Env env);
    static Napi::FunctionReference ctor;
    explicit ModelWrap(const Napi::CallbackInfo & info);
    static Napi::Value Load(const Napi::CallbackInfo & info);
    std::shared_ptr<eia::Model> model(Napi::Env env) const;

private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value TokenizeAsync(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value TokenPiece(const Napi::CallbackInfo & info);
    Napi::Value IsEog(const Napi::CallbackInfo & info);
    Napi::Value ApplyChatTemplate(const Napi::CallbackInfo & info);
    Napi::Value Meta(const Napi::CallbackInfo & info);
    Napi::Value CreateContext(const Napi::CallbackInfo & info);
    Napi::Value Free(const Napi::CallbackInfo & info);
    Napi::Value IsFreed(const Napi::CallbackInfo & info);
    std::shared_ptr<eia::Model> model_;
};

class ContextWrap : public Wrap<ContextWrap> {
public:
    static Napi::Function Init(Napi::Env env);
    static Napi::FunctionReference ctor;
    explicit ContextWrap(const Napi::CallbackInfo & info);
    void adopt(std::unique_ptr<eia::Context> c) { ctx_ = std::move(c); }
    eia::Context & ctx(Napi::Env env);
    eia::Context * raw_ctx() { return ctx_.get(); }
    // take the busy flag on the JS thread: a second call is rejected at once
    void acquire(Napi::Env env);

private:
    Napi::Value Capture(const Napi::CallbackInfo & info);
    Napi::Value EmbeddingsPerToken(const Napi::CallbackInfo & info);
    Napi::Value Generate(const Napi::CallbackInfo & info);
    Napi::Value EvalLogits(const Napi::CallbackInfo & info);
    Napi::Value TokenLogprobs(const Napi::CallbackInfo & info);
    Napi::Value SetControlVector(const Napi::CallbackInfo & info);
    Napi::Value LoadControlVectorFile(const Napi::CallbackInfo & info);
    Napi::Value ClearControlVector(const Napi::CallbackInfo & info);
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value Busy(const Napi::CallbackInfo & info);
    Napi::Value Props(const Napi::CallbackInfo & info);
    Napi::Value ResidualSupport(const Napi::CallbackInfo & info);
    Napi::Value RequireResidual(const Napi::CallbackInfo & info);
    Napi::Value Free(const Napi::CallbackInfo & info);
    std::unique_ptr<eia::Context> ctx_;
};

class GenerationWrap : public Wrap<GenerationWrap> {
public:
    static Napi::Function Init(Napi::Env env);
    static Napi::FunctionReference ctor;
    explicit GenerationWrap(const Napi::CallbackInfo & info);
    ~GenerationWrap();
    void start(ContextWrap * cw, Napi::Object ctx_obj, std::unique_ptr<eia::Generation> g);

private:
    Napi::Value Step(const Napi::CallbackInfo & info);
    Napi::Value Add(const Napi::CallbackInfo & info);
    Napi::Value Cancel(const Napi::CallbackInfo & info);
    Napi::Value Close(const Napi::CallbackInfo & info);
    Napi::Value SlotsFree(const Napi::CallbackInfo & info);
    Napi::Value Results(const Napi::CallbackInfo & info);
    Napi::Value Stats(const Napi::CallbackInfo & info);
    Napi::Value Done(const Napi::CallbackInfo & info);
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    void release();
    eia::Generation & gen(Napi::Env env);
    ContextWrap * cw_ = nullptr;
    Napi::ObjectReference ctx_ref_;
    std::unique_ptr<eia::Generation> gen_;
    bool stepping_ = false;
};

}  // namespace eiajs
