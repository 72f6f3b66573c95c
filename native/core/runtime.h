// Process-wide llama.cpp runtime: backends loaded once, logging routed to a level filter, and the
// last error lines of the current thread kept so that failures can say *why* (llama.cpp returns
// nullptr/-1 and logs the reason).
//
// Backends. A prebuilt runtime (EIA_BACKEND_DL) ships ggml's backends as loadable libraries: the CPU
// in several variants (one per instruction-set level; the best one this processor runs is chosen),
// GPU backends in separate packages. They are loaded from:
//   - the folder of the linked libggml (the prebuilt package), or EIA_NATIVE_BACKEND_DIR;
//   - the folders in EIA_NATIVE_GPU_DIRS (':'-separated; lib/engine sets it to the installed
//     @node-llama-cpp GPU packages), GPU backends only.
// EIA_GPU picks the GPU backend: auto (default: the first of cuda, vulkan, metal that loads and finds
// a device; none is fine), cpu (no GPU backend), or cuda | vulkan | metal (that one, or an error).
// A source build has its backends compiled in and ignores all of this.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace eia {

// Loads the backends (once; later calls rethrow the first failure) and initialises llama.cpp.
void ensure_backend();
// Only the backend loading part: used by llama.cpp's own tools built against the prebuilt runtime.
void load_backends();
void set_log_level(int level);  // 0 silent, 1 errors (default), 2 warnings, 3 info, 4 debug
// Error/warning lines logged by llama.cpp on this thread since the last take (joined by "; ").
std::string take_thread_log_errors();

// While one lives, every text llama.cpp logs on this thread (any level, before the level filter)
// also goes to `fn`: how a long llama.cpp call that only logs its progress (llama_model_quantize)
// reports it. One per thread at a time.
class ThreadLogObserver {
public:
    using Fn = std::function<void(int level, const char * text)>;
    explicit ThreadLogObserver(Fn fn);
    ~ThreadLogObserver();
    ThreadLogObserver(const ThreadLogObserver &) = delete;
    ThreadLogObserver & operator=(const ThreadLogObserver &) = delete;
private:
    Fn fn_;
    Fn * prev_;
};

struct BackendLoad {
    std::string name;     // cpu, cuda, vulkan, metal, blas, ...
    std::string path;     // the library file ("" for compiled-in backends)
    std::string variant;  // CPU: the instruction-set variant (haswell, zen4, ...)
    std::string status;   // loaded | failed | no-device | skipped | builtin
    std::string error;    // why it failed or was skipped
    int n_devices = 0;
};

struct DeviceInfo {
    std::string name, description, type;  // type: cpu | gpu | igpu | accel
    size_t memory_total = 0, memory_free = 0;
    // a Vulkan device that the Vulkan loader lists as CPU-type (Mesa's llvmpipe/lavapipe): it runs
    // the device code path on the CPU (correct, slow) and needs the workarounds in vulkan_probe.h
    bool cpu_vulkan = false;
};

struct RuntimeInfo {
    std::string llama_commit;
    std::string mode;         // prebuilt | source
    std::string gpu_build;    // source builds: the backend compiled in (cpu | cuda | metal)
    std::string gpu_policy;   // EIA_GPU at load time
    std::string lib_dir;      // prebuilt: the folder of the linked libggml
    std::string backend_dir;  // prebuilt: where the CPU backends were loaded from
    std::vector<BackendLoad> loads;
    std::vector<DeviceInfo> devices;
    std::string system_info;
    bool has_gpu = false;
    bool has_cpu_vulkan = false;  // some device is a CPU-type Vulkan device (DeviceInfo::cpu_vulkan)
    std::string error;        // non-empty: the runtime cannot run (what every operation then reports)
};
RuntimeInfo runtime_info();

}  // namespace eia
