// eia::Error: the one exception type of the core, with a stable code. The N-API binding turns it
// into a JS EiaError carrying the same code (E_BAD_ARG, ...); the C++ tools print what() and exit
// non-zero. Every check on caller input throws this, so nothing from outside reaches a GGML_ASSERT.
#pragma once
#include <stdexcept>
#include <string>

namespace eia {

enum class Code {
    BadArg,     // E_BAD_ARG: the caller's input is invalid (the default)
    ModelLoad,  // E_MODEL_LOAD: a model file cannot be loaded
    Busy,       // E_BUSY: the context already runs an operation
    Aborted,    // E_ABORTED: stopped on request
    IO,         // E_IO: a file cannot be read or written
    Runtime,    // E_RUNTIME: the llama.cpp runtime or a backend is missing or failed
    Full,       // E_FULL: no free sequence slot (open generations with reject)
    State,      // E_STATE: the object is closed, freed or finished
    Internal,   // E_INTERNAL: a bug of ours or a llama.cpp failure we did not anticipate
    UnsupportedModel,  // E_UNSUPPORTED_MODEL: the model's graph lacks what the operation reads (e.g. the residual stream)
};

inline const char * code_name(Code c) {
    switch (c) {
        case Code::BadArg: return "E_BAD_ARG";
        case Code::ModelLoad: return "E_MODEL_LOAD";
        case Code::Busy: return "E_BUSY";
        case Code::Aborted: return "E_ABORTED";
        case Code::IO: return "E_IO";
        case Code::Runtime: return "E_RUNTIME";
        case Code::Full: return "E_FULL";
        case Code::State: return "E_STATE";
        case Code::Internal: return "E_INTERNAL";
        case Code::UnsupportedModel: return "E_UNSUPPORTED_MODEL";
    }
    return "E_INTERNAL";
}

struct Error : std::runtime_error {
    Code code;
    explicit Error(const std::string & msg, Code c = Code::BadArg) : std::runtime_error(msg), code(c) {}
};

[[noreturn]] inline void fail(const std::string & msg) { throw Error(msg); }
[[noreturn]] inline void fail(Code c, const std::string & msg) { throw Error(msg, c); }

}  // namespace eia
