// Process-wide llama.cpp runtime: one backend init, logging routed to a level filter, and the
// last error lines of the current thread kept so that failures can say *why* (llama.cpp returns
// nullptr/-1 and logs the reason).
#pragma once
#include <string>
#include <vector>

namespace eia {

void ensure_backend();
void set_log_level(int level);  // 0 silent, 1 errors (default), 2 warnings, 3 info, 4 debug
// Error/warning lines logged by llama.cpp on this thread since the last take (joined by "; ").
std::string take_thread_log_errors();

struct BuildInfo {
    std::string llama_commit;
    std::string gpu;                    // cpu | cuda | metal (build switch)
    std::vector<std::string> backends;  // registered ggml backends
    std::vector<std::string> devices;   // "name (description)"
    std::string system_info;
};
BuildInfo build_info();

}  // namespace eia
