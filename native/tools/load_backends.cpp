// Linked into llama.cpp's own tools (llama-bench, llama-batched-bench) when they are built against
// the prebuilt runtime: their main() looks for backends only next to the executable, so load them
// from the runtime's folder first, exactly as the engine does (same CPU variant, same GPU backend).
#include <cstdio>

#include "error.h"
#include "runtime.h"

namespace {
struct LoadBackendsFirst {
    LoadBackendsFirst() {
        try {
            eia::ensure_backend();
        } catch (const eia::Error & e) {
            std::fprintf(stderr, "error: %s\n", e.what());
        }
    }
} load_backends_first;
}  // namespace
