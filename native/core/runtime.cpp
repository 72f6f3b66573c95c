#include "runtime.h"

#include <atomic>
#include <mutex>

#include "ggml-backend.h"
#include "llama.h"

#ifndef EIA_LLAMA_COMMIT
#define EIA_LLAMA_COMMIT "unknown"
#endif
#ifndef EIA_GPU_NAME
#define EIA_GPU_NAME "cpu"
#endif

namespace eia {

static std::atomic<int> g_log_level{1};
static thread_local std::string t_errors;

static void log_cb(ggml_log_level level, const char * text, void *) {
    if (!text) return;
    const bool is_err = level == GGML_LOG_LEVEL_ERROR;
    const bool is_warn = level == GGML_LOG_LEVEL_WARN;
    if (is_err || is_warn) {
        std::string line(text);
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) {
            if (t_errors.size() > 4000) t_errors.erase(0, t_errors.size() - 2000);  // keep the tail
            if (!t_errors.empty()) t_errors += "; ";
            t_errors += line;
        }
    }
    const int lvl = g_log_level.load();
    int need = 5;
    switch (level) {
        case GGML_LOG_LEVEL_ERROR: need = 1; break;
        case GGML_LOG_LEVEL_WARN: need = 2; break;
        case GGML_LOG_LEVEL_INFO: need = 3; break;
        case GGML_LOG_LEVEL_DEBUG: need = 4; break;
        case GGML_LOG_LEVEL_CONT: need = 3; break;
        default: need = 3;
    }
    if (lvl >= need) fputs(text, stderr);
}

void ensure_backend() {
    static std::once_flag once;
    std::call_once(once, [] {
        llama_log_set(log_cb, nullptr);
        llama_backend_init();
    });
}

void set_log_level(int level) { g_log_level.store(level); }

std::string take_thread_log_errors() {
    std::string s;
    s.swap(t_errors);
    return s;
}

BuildInfo build_info() {
    ensure_backend();
    BuildInfo b;
    b.llama_commit = EIA_LLAMA_COMMIT;
    b.gpu = EIA_GPU_NAME;
    for (size_t i = 0; i < ggml_backend_reg_count(); i++) b.backends.push_back(ggml_backend_reg_name(ggml_backend_reg_get(i)));
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        auto * d = ggml_backend_dev_get(i);
        b.devices.push_back(std::string(ggml_backend_dev_name(d)) + " (" + ggml_backend_dev_description(d) + ")");
    }
    b.system_info = llama_print_system_info();
    return b;
}

}  // namespace eia
