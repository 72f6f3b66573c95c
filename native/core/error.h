// eia::Error: the one exception type of the core. The N-API binding turns it into a JS Error;
// the C++ tools print what() and exit non-zero. Every check on caller input throws this,
// so nothing from outside ever reaches a GGML_ASSERT.
#pragma once
#include <stdexcept>
#include <string>

namespace eia {

struct Error : std::runtime_error {
    explicit Error(const std::string & msg) : std::runtime_error(msg) {}
};

[[noreturn]] inline void fail(const std::string & msg) { throw Error(msg); }

}  // namespace eia
