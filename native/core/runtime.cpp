#include "runtime.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "error.h"
#include "ggml-backend.h"
#include "llama.h"
#include "vulkan_probe.h"

#if defined(EIA_BACKEND_DL) && !defined(_WIN32)
#include <dlfcn.h>
#endif

#ifndef EIA_LLAMA_COMMIT
#define EIA_LLAMA_COMMIT "unknown"
#endif
#ifndef EIA_LLAMA_MODE
#define EIA_LLAMA_MODE "source"
#endif
#ifndef EIA_GPU_NAME
#define EIA_GPU_NAME "cpu"
#endif

namespace fs = std::filesystem;

namespace eia {

static std::atomic<int> g_log_level{1};
static thread_local std::string t_errors;
static thread_local ThreadLogObserver::Fn * t_observer = nullptr;

ThreadLogObserver::ThreadLogObserver(Fn fn) : fn_(std::move(fn)), prev_(t_observer) { t_observer = &fn_; }
ThreadLogObserver::~ThreadLogObserver() { t_observer = prev_; }

static void log_cb(ggml_log_level level, const char * text, void *) {
    if (!text) return;
    if (t_observer) {
        try { (*t_observer)((int) level, text); } catch (...) { /* an observer never breaks logging */ }
    }
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

static std::string env_or(const char * name, const std::string & def) {
    const char * v = std::getenv(name);
    return v && *v ? std::string(v) : def;
}

// What happened at load time; written once under the once_flag, read-only afterwards.
static RuntimeInfo g_rt;
static std::string g_fatal;  // non-empty: the runtime cannot run (every operation reports this)

#if defined(EIA_BACKEND_DL) && !defined(_WIN32)
static const char * kLibPrefix = "libggml-";
static const char * kLibExt = ".so";  // ggml's backend modules use .so on macOS too

static std::string dir_of_linked_ggml() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&ggml_backend_load), &info) && info.dli_fname) {
        std::error_code ec;
        fs::path p = fs::weakly_canonical(fs::path(info.dli_fname), ec);
        return (ec ? fs::path(info.dli_fname) : p).parent_path().string();
    }
    return "";
}

// libggml-<name>[-<variant>].so in dir, as (name or variant, path) pairs.
static std::vector<std::pair<std::string, fs::path>> backend_files(const fs::path & dir, const std::string & prefix) {
    std::vector<std::pair<std::string, fs::path>> out;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) return out;
    for (const auto & e : it) {
        const std::string f = e.path().filename().string();
        if (f.rfind(prefix, 0) != 0 || e.path().extension() != kLibExt) continue;
        out.emplace_back(f.substr(prefix.size(), f.size() - prefix.size() - std::strlen(kLibExt)), e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Loads one backend library through ggml, keeping dlopen's own reason when it fails.
static BackendLoad load_one(const std::string & name, const fs::path & path) {
    BackendLoad b;
    b.name = name;
    b.path = path.string();
    void * probe = dlopen(b.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!probe) {
        const char * why = dlerror();
        b.status = "failed";
        b.error = why ? why : "dlopen failed";
        return b;
    }
    take_thread_log_errors();
    ggml_backend_reg_t reg = ggml_backend_load(b.path.c_str());
    dlclose(probe);  // ggml holds its own handle
    if (!reg) {
        b.status = "failed";
        b.error = take_thread_log_errors();
        if (b.error.empty()) b.error = "ggml_backend_load returned no backend";
        return b;
    }
    b.n_devices = (int) ggml_backend_reg_dev_count(reg);
    if (b.n_devices == 0) {
        ggml_backend_unload(reg);
        b.status = "no-device";
        b.error = "loaded, but found no device";
        return b;
    }
    b.status = "loaded";
    return b;
}

// The CPU variant this processor runs best (the one with the highest ggml_backend_score).
static BackendLoad load_cpu(const fs::path & dir) {
    typedef int (*score_fn)();
    int best = 0;
    fs::path best_path;
    std::string best_variant, errors;
    for (auto & [variant, path] : backend_files(dir, std::string(kLibPrefix) + "cpu-")) {
        void * h = dlopen(path.string().c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char * why = dlerror();
            errors += (errors.empty() ? "" : "; ") + std::string(why ? why : path.string());
            continue;
        }
        auto fn = reinterpret_cast<score_fn>(dlsym(h, "ggml_backend_score"));
        const int s = fn ? fn() : 0;
        dlclose(h);
        if (s > best) { best = s; best_path = path; best_variant = variant; }
    }
    if (best_path.empty()) {
        // a single unsuffixed libggml-cpu.so (builds without variants)
        fs::path plain = dir / (std::string(kLibPrefix) + "cpu" + kLibExt);
        std::error_code ec;
        if (fs::exists(plain, ec)) return load_one("cpu", plain);
        BackendLoad b;
        b.name = "cpu";
        b.status = "failed";
        b.error = "no CPU backend (" + std::string(kLibPrefix) + "cpu-*" + kLibExt + ") usable in " + dir.string() +
                  (errors.empty() ? "" : ": " + errors);
        return b;
    }
    BackendLoad b = load_one("cpu", best_path);
    b.variant = best_variant;
    return b;
}

// ggml-vulkan lists no CPU-type device unless GGML_VK_VISIBLE_DEVICES names it: say which index
// enables the one this machine has (Mesa's llvmpipe: the device path on the CPU, for tests).
static std::string vulkan_no_device_hint() {
    const VulkanProbe & p = probe_vulkan();
    if (!p.loader) return "; " + p.error + " (Linux: install the GPU driver, or mesa-vulkan-drivers for a CPU-type device)";
    std::string cpu;
    int first = -1;
    for (const auto & d : p.devices) {
        if (d.type != "cpu") continue;
        if (first < 0) first = d.index;
        cpu += (cpu.empty() ? "" : ", ") + ("'" + d.name + "' (index " + std::to_string(d.index) + ")");
    }
    if (cpu.empty())
        return p.devices.empty() ? "; the Vulkan loader lists no device (install a Vulkan driver, or mesa-vulkan-drivers for a CPU-type device)" : "";
    const char * set = std::getenv("GGML_VK_VISIBLE_DEVICES");
    return "; ggml-vulkan skips CPU-type Vulkan devices, and this machine has " + cpu + ": set GGML_VK_VISIBLE_DEVICES=" +
           std::to_string(first) + " to run the device path on the CPU through Vulkan (slow; for tests)" +
           (set && *set ? std::string(" (GGML_VK_VISIBLE_DEVICES is '") + set + "' now)" : "");
}

static bool is_gpu_name(const std::string & n) {
    return n == "cuda" || n == "vulkan" || n == "metal" || n == "hip" || n == "sycl" || n == "opencl" || n == "musa";
}

static void load_dynamic() {
    const std::string policy = env_or("EIA_GPU", "auto");
    g_rt.gpu_policy = policy;
    if (policy != "auto" && policy != "cpu" && !is_gpu_name(policy)) {
        g_fatal = "EIA_GPU must be auto, cpu, cuda, vulkan or metal (got '" + policy + "')";
        return;
    }
    g_rt.lib_dir = dir_of_linked_ggml();
    const fs::path dir = env_or("EIA_NATIVE_BACKEND_DIR", g_rt.lib_dir);
    g_rt.backend_dir = dir.string();
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) {
        g_fatal = "the llama.cpp backend folder '" + dir.string() + "' does not exist or is not a folder";
        return;
    }
    BackendLoad cpu = load_cpu(dir);
    g_rt.loads.push_back(cpu);
    if (cpu.status != "loaded") {
        g_fatal = "the llama.cpp CPU backend could not be loaded: " + cpu.error;
        return;
    }
    // GPU candidates: the package's own folder (Metal on macOS), then the GPU packages' folders
    std::vector<std::pair<std::string, fs::path>> gpu, other;
    for (auto & nf : backend_files(dir, kLibPrefix)) {
        if (nf.first.rfind("cpu", 0) == 0 || nf.first == "base") continue;
        (is_gpu_name(nf.first) ? gpu : other).push_back(nf);
    }
    const std::string extra = env_or("EIA_NATIVE_GPU_DIRS", "");
    for (size_t a = 0; a < extra.size();) {
        size_t b = extra.find(':', a);
        if (b == std::string::npos) b = extra.size();
        const std::string d = extra.substr(a, b - a);
        if (!d.empty())
            for (auto & nf : backend_files(d, kLibPrefix))
                if (is_gpu_name(nf.first)) gpu.push_back(nf);
        a = b + 1;
    }
    for (auto & [name, path] : other) g_rt.loads.push_back(load_one(name, path));  // e.g. blas on macOS
    // one GPU backend family: two would each claim the same card and split the layers between them
    static const char * order[] = {"cuda", "metal", "vulkan", "hip", "sycl", "musa", "opencl"};
    bool have_gpu = false;
    for (const char * want : order) {
        for (auto & [name, path] : gpu) {
            if (name != want) continue;
            BackendLoad b;
            if (policy == "cpu" || (policy != "auto" && policy != name) || have_gpu) {
                b.name = name;
                b.path = path.string();
                b.status = "skipped";
                b.error = policy == "cpu" ? "EIA_GPU=cpu" : have_gpu ? "another GPU backend is in use" : "EIA_GPU=" + policy;
            } else {
                b = load_one(name, path);
                have_gpu = b.status == "loaded";
                if (name == "vulkan" && b.status == "no-device") b.error += vulkan_no_device_hint();
            }
            g_rt.loads.push_back(b);
        }
    }
    if (policy != "auto" && policy != "cpu" && !have_gpu) {
        std::string why;
        for (auto & b : g_rt.loads)
            if (b.name == policy) why += (why.empty() ? "" : "; ") + b.path + ": " + b.error;
        g_fatal = "EIA_GPU=" + policy + " but the " + policy + " backend did not load" +
                  (why.empty() ? " (no " + std::string(kLibPrefix) + policy + kLibExt + " found: install @node-llama-cpp's " + policy + " package)" : ": " + why) +
                  ". Install the GPU driver and runtime, or run on the CPU with EIA_GPU=cpu";
    }
}
#endif

static void load_backends_once() {
    g_rt.llama_commit = EIA_LLAMA_COMMIT;
    g_rt.mode = EIA_LLAMA_MODE;
    g_rt.gpu_build = EIA_GPU_NAME;
#if defined(EIA_BACKEND_DL) && !defined(_WIN32)
    load_dynamic();
#elif defined(EIA_BACKEND_DL)
    ggml_backend_load_all();
#else
    for (size_t i = 0; i < ggml_backend_reg_count(); i++) {
        auto * reg = ggml_backend_reg_get(i);
        BackendLoad b;
        b.name = ggml_backend_reg_name(reg);
        std::transform(b.name.begin(), b.name.end(), b.name.begin(), [](unsigned char c) { return (char) std::tolower(c); });
        b.status = "builtin";
        b.n_devices = (int) ggml_backend_reg_dev_count(reg);
        g_rt.loads.push_back(b);
    }
#endif
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        auto * d = ggml_backend_dev_get(i);
        DeviceInfo di;
        di.name = ggml_backend_dev_name(d);
        di.description = ggml_backend_dev_description(d);
        switch (ggml_backend_dev_type(d)) {
            case GGML_BACKEND_DEVICE_TYPE_CPU: di.type = "cpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_GPU: di.type = "gpu"; g_rt.has_gpu = true; break;
            case GGML_BACKEND_DEVICE_TYPE_IGPU: di.type = "igpu"; g_rt.has_gpu = true; break;
            default: di.type = "accel";
        }
        ggml_backend_dev_memory(d, &di.memory_free, &di.memory_total);
        ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(d);
        if (reg && std::strcmp(ggml_backend_reg_name(reg), "Vulkan") == 0 && is_cpu_vulkan_device(di.description)) {
            di.cpu_vulkan = true;
            g_rt.has_cpu_vulkan = true;
        }
        g_rt.devices.push_back(di);
    }
}

static std::once_flag g_load_once;

void load_backends() {
    std::call_once(g_load_once, [] {
        llama_log_set(log_cb, nullptr);
        load_backends_once();
    });
}

void ensure_backend() {
    static std::once_flag once;
    load_backends();
    if (!g_fatal.empty()) fail(Code::Runtime, g_fatal);
    std::call_once(once, [] { llama_backend_init(); });
}

void set_log_level(int level) { g_log_level.store(level); }

std::string take_thread_log_errors() {
    std::string s;
    s.swap(t_errors);
    return s;
}

RuntimeInfo runtime_info() {
    load_backends();
    RuntimeInfo r = g_rt;
    r.error = g_fatal;
    r.system_info = llama_print_system_info();
    return r;
}

}  // namespace eia
