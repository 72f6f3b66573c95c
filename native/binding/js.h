// The binding's plumbing: errors (every failure becomes a JS EiaError with a code: one exception
// guard for every method, see Wrap<T> and fn<>), readers of JS arguments, and a promise-returning
// AsyncWorker that runs a lambda off the JS thread. The binding converts types; defaults live in
// lib/engine (a missing field is an internal error, not a silent default).
#pragma once
#include <napi.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "error.h"

namespace eiajs {

// ---- errors ---------------------------------------------------------------------------------
// lib/engine hands the addon its EiaError class once (setErrorClass); errors are then instances of
// it: new EiaError(code, message). Before that (or if it throws), a plain Error with .code.
inline Napi::Error make_error(Napi::Env env, const char * code, const std::string & msg) {
    auto * cls = env.GetInstanceData<Napi::FunctionReference>();
    if (cls && !cls->IsEmpty()) {
        Napi::Value v = cls->New({Napi::String::New(env, code), Napi::String::New(env, msg)});
        if (v.IsObject()) return Napi::Error(env, v);
    }
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", Napi::String::New(env, code));
    return e;
}

[[noreturn]] inline void throw_error(Napi::Env env, eia::Code code, const std::string & msg) {
    throw make_error(env, eia::code_name(code), msg);
}

[[noreturn]] inline void type_error(Napi::Env env, const std::string & msg) { throw_error(env, eia::Code::BadArg, msg); }

// Inside a catch block: the exception in flight, as a JS error.
inline Napi::Error current_error(Napi::Env env) {
    try {
        throw;
    } catch (const Napi::Error & e) {
        return e;
    } catch (const eia::Error & e) {
        return make_error(env, eia::code_name(e.code), e.what());
    } catch (const std::bad_alloc &) {
        return make_error(env, "E_INTERNAL", "out of memory");
    } catch (const std::exception & e) {
        return make_error(env, "E_INTERNAL", e.what());
    } catch (...) {
        return make_error(env, "E_INTERNAL", "unknown native error");
    }
}

// The one exception guard. Methods of the wrapped classes are registered as
// InstanceMethod("x", &T::template guarded<&T::X>), free functions as fn<&X>.
template <typename T>
class Wrap : public Napi::ObjectWrap<T> {
public:
    using Napi::ObjectWrap<T>::ObjectWrap;
    template <Napi::Value (T::*M)(const Napi::CallbackInfo &)>
    Napi::Value guarded(const Napi::CallbackInfo & info) {
        try {
            return (static_cast<T *>(this)->*M)(info);
        } catch (...) {
            throw current_error(info.Env());
        }
    }
    template <Napi::Value (*F)(const Napi::CallbackInfo &)>
    static Napi::Value guarded_static(const Napi::CallbackInfo & info) {
        try {
            return F(info);
        } catch (...) {
            throw current_error(info.Env());
        }
    }
};

template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value fn(const Napi::CallbackInfo & info) {
    try {
        return F(info);
    } catch (...) {
        throw current_error(info.Env());
    }
}

// ---- arguments ------------------------------------------------------------------------------

inline Napi::Object opt_object(const Napi::CallbackInfo & info, size_t i) {
    if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return Napi::Object::New(info.Env());
    if (!info[i].IsObject()) type_error(info.Env(), "argument " + std::to_string(i + 1) + " must be an options object");
    return info[i].As<Napi::Object>();
}

inline bool has(const Napi::Object & o, const char * k) {
    return o.Has(k) && !o.Get(k).IsUndefined() && !o.Get(k).IsNull();
}

inline double get_number(const Napi::Object & o, const char * k, double def) {
    if (!has(o, k)) return def;
    Napi::Value v = o.Get(k);
    if (!v.IsNumber()) type_error(o.Env(), std::string("'") + k + "' must be a number");
    return v.As<Napi::Number>().DoubleValue();
}

inline int get_int(const Napi::Object & o, const char * k, int def) {
    if (!has(o, k)) return def;
    double d = get_number(o, k, def);
    if (!std::isfinite(d) || std::floor(d) != d || d < -2147483648.0 || d > 2147483647.0)
        type_error(o.Env(), std::string("'") + k + "' must be an integer");
    return (int) d;
}

inline bool get_bool(const Napi::Object & o, const char * k, bool def) {
    if (!has(o, k)) return def;
    Napi::Value v = o.Get(k);
    if (!v.IsBoolean()) type_error(o.Env(), std::string("'") + k + "' must be a boolean");
    return v.As<Napi::Boolean>().Value();
}

inline std::string get_string(const Napi::Object & o, const char * k, const std::string & def) {
    if (!has(o, k)) return def;
    Napi::Value v = o.Get(k);
    if (!v.IsString()) type_error(o.Env(), std::string("'") + k + "' must be a string");
    return v.As<Napi::String>().Utf8Value();
}

// Required fields: lib/engine fills every default, so a missing one is a caller bug.
inline Napi::Value req(const Napi::Object & o, const char * k, const std::string & who) {
    if (!has(o, k)) type_error(o.Env(), who + "." + k + " is required");
    return o.Get(k);
}
inline double req_number(const Napi::Object & o, const char * k, const std::string & who) {
    Napi::Value v = req(o, k, who);
    if (!v.IsNumber()) type_error(o.Env(), who + "." + k + " must be a number");
    return v.As<Napi::Number>().DoubleValue();
}
inline int req_int(const Napi::Object & o, const char * k, const std::string & who) {
    const double d = req_number(o, k, who);
    if (!std::isfinite(d) || std::floor(d) != d || d < -2147483648.0 || d > 2147483647.0) type_error(o.Env(), who + "." + k + " must be an integer");
    return (int) d;
}
inline bool req_bool(const Napi::Object & o, const char * k, const std::string & who) {
    Napi::Value v = req(o, k, who);
    if (!v.IsBoolean()) type_error(o.Env(), who + "." + k + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
}
inline std::string req_string(const Napi::Object & o, const char * k, const std::string & who) {
    Napi::Value v = req(o, k, who);
    if (!v.IsString()) type_error(o.Env(), who + "." + k + " must be a string");
    return v.As<Napi::String>().Utf8Value();
}

inline std::string arg_string(const Napi::CallbackInfo & info, size_t i, const char * what) {
    if (info.Length() <= i || !info[i].IsString()) type_error(info.Env(), std::string(what) + " must be a string");
    return info[i].As<Napi::String>().Utf8Value();
}

inline std::vector<float> to_floats(Napi::Env env, const Napi::Value & v, const std::string & what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        type_error(env, what + " must be a Float32Array");
    auto a = v.As<Napi::Float32Array>();
    return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

inline std::vector<int32_t> to_tokens(Napi::Env env, const Napi::Value & v, const std::string & what) {
    std::vector<int32_t> out;
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
        auto a = v.As<Napi::Int32Array>();
        out.assign(a.Data(), a.Data() + a.ElementLength());
        return out;
    }
    if (!v.IsArray()) type_error(env, what + " must be an Int32Array or an array of token ids");
    auto arr = v.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
        Napi::Value x = arr.Get(i);
        if (!x.IsNumber()) type_error(env, what + "[" + std::to_string(i) + "] is not a number");
        double d = x.As<Napi::Number>().DoubleValue();
        if (std::floor(d) != d || d < -2147483648.0 || d > 2147483647.0) type_error(env, what + "[" + std::to_string(i) + "] is not an integer");
        out.push_back((int32_t) d);
    }
    return out;
}

inline Napi::Float32Array make_f32(Napi::Env env, const float * data, size_t n) {
    auto a = Napi::Float32Array::New(env, n);
    if (n) std::memcpy(a.Data(), data, n * sizeof(float));
    return a;
}

inline Napi::Int32Array make_i32(Napi::Env env, const int32_t * data, size_t n) {
    auto a = Napi::Int32Array::New(env, n);
    if (n) std::memcpy(a.Data(), data, n * sizeof(int32_t));
    return a;
}

// Runs `exec` on the libuv pool; resolves with `done(env)`; an exception rejects with an EiaError
// of the same code (eia::Error) or E_INTERNAL.
class PromiseWorker : public Napi::AsyncWorker {
public:
    using Exec = std::function<void()>;
    using Done = std::function<Napi::Value(Napi::Env)>;
    using Finally = std::function<void()>;
    PromiseWorker(Napi::Env env, Exec exec, Done done, Finally fin = nullptr)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), exec_(std::move(exec)), done_(std::move(done)), fin_(std::move(fin)) {}
    Napi::Promise promise() { return deferred_.Promise(); }
    void Execute() override {
        try {
            exec_();
        } catch (const eia::Error & e) {
            code_ = eia::code_name(e.code);
            SetError(e.what());
        } catch (const std::bad_alloc &) {
            SetError("out of memory");
        } catch (const std::exception & e) {
            SetError(e.what());
        } catch (...) {
            SetError("unknown native error");
        }
    }
    void OnOK() override {
        if (fin_) fin_();
        Napi::HandleScope scope(Env());
        try {
            deferred_.Resolve(done_(Env()));
        } catch (...) {
            deferred_.Reject(current_error(Env()).Value());
        }
    }
    void OnError(const Napi::Error & e) override {
        if (fin_) fin_();
        Napi::HandleScope scope(Env());
        deferred_.Reject(make_error(Env(), code_, e.Message()).Value());
    }
    // keep JS objects alive while the work runs
    void keep(const Napi::Object & o) { refs_.push_back(Napi::Persistent(o)); }

private:
    Napi::Promise::Deferred deferred_;
    Exec exec_;
    Done done_;
    Finally fin_;
    const char * code_ = "E_INTERNAL";
    std::vector<Napi::ObjectReference> refs_;
};

}  // namespace eiajs
