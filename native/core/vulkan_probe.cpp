#include "vulkan_probe.h"

#include <cstdint>
#include <cstring>
#include <mutex>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace eia {

#if !defined(_WIN32)
namespace {
// The few Vulkan 1.0 declarations the probe needs (the ABI is frozen), so that building needs no
// Vulkan headers.
typedef struct VkInstance_T * VkInstance;
typedef struct VkPhysicalDevice_T * VkPhysicalDevice;
typedef int32_t VkResult;
typedef void (*PFN_vkVoidFunction)();
struct VkApplicationInfo {
    int32_t sType;  // VK_STRUCTURE_TYPE_APPLICATION_INFO = 0
    const void * pNext;
    const char * pApplicationName;
    uint32_t applicationVersion;
    const char * pEngineName;
    uint32_t engineVersion;
    uint32_t apiVersion;
};
struct VkInstanceCreateInfo {
    int32_t sType;  // VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO = 1
    const void * pNext;
    uint32_t flags;
    const VkApplicationInfo * pApplicationInfo;
    uint32_t enabledLayerCount;
    const char * const * ppEnabledLayerNames;
    uint32_t enabledExtensionCount;
    const char * const * ppEnabledExtensionNames;
};
// VkPhysicalDeviceProperties starts with these fields; the rest (limits, sparse properties) is
// read into the padding, which is larger than the whole structure (824 bytes in Vulkan 1.3).
struct VkPhysicalDevicePropertiesHead {
    uint32_t apiVersion, driverVersion, vendorID, deviceID;
    int32_t deviceType;  // 0 other, 1 integrated, 2 discrete, 3 virtual, 4 cpu
    char deviceName[256];
    unsigned char rest[4096];
};
typedef PFN_vkVoidFunction (*PFN_vkGetInstanceProcAddr)(VkInstance, const char *);
typedef VkResult (*PFN_vkCreateInstance)(const VkInstanceCreateInfo *, const void *, VkInstance *);
typedef void (*PFN_vkDestroyInstance)(VkInstance, const void *);
typedef VkResult (*PFN_vkEnumeratePhysicalDevices)(VkInstance, uint32_t *, VkPhysicalDevice *);
typedef void (*PFN_vkGetPhysicalDeviceProperties)(VkPhysicalDevice, VkPhysicalDevicePropertiesHead *);

const char * type_name(int32_t t) {
    switch (t) {
        case 1: return "integrated";
        case 2: return "discrete";
        case 3: return "virtual";
        case 4: return "cpu";
        default: return "other";
    }
}

VulkanProbe run_probe() {
    VulkanProbe r;
#if defined(__APPLE__)
    const char * names[] = {"libvulkan.1.dylib", "libMoltenVK.dylib"};
#else
    const char * names[] = {"libvulkan.so.1", "libvulkan.so"};
#endif
    void * lib = nullptr;
    for (const char * n : names)
        if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    if (!lib) {
        r.error = "no Vulkan loader (libvulkan) on this system";
        return r;
    }
    r.loader = true;
    auto gipa = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
    auto create = gipa ? reinterpret_cast<PFN_vkCreateInstance>(gipa(nullptr, "vkCreateInstance")) : nullptr;
    if (!create) {
        r.error = "the Vulkan loader has no vkCreateInstance";
        return r;  // the loader stays loaded: ggml-vulkan uses it too
    }
    VkApplicationInfo app{0, nullptr, "eia-native", 1, "eia-native", 1, (1u << 22)};  // Vulkan 1.0
    VkInstanceCreateInfo ci{1, nullptr, 0, &app, 0, nullptr, 0, nullptr};
    VkInstance inst = nullptr;
    if (create(&ci, nullptr, &inst) != 0 || !inst) {
        r.error = "vkCreateInstance failed (no Vulkan driver installed?)";
        return r;
    }
    auto destroy = reinterpret_cast<PFN_vkDestroyInstance>(gipa(inst, "vkDestroyInstance"));
    auto enumerate = reinterpret_cast<PFN_vkEnumeratePhysicalDevices>(gipa(inst, "vkEnumeratePhysicalDevices"));
    auto props = reinterpret_cast<PFN_vkGetPhysicalDeviceProperties>(gipa(inst, "vkGetPhysicalDeviceProperties"));
    uint32_t n = 0;
    if (enumerate && props && enumerate(inst, &n, nullptr) == 0 && n > 0) {
        std::vector<VkPhysicalDevice> pds(n);
        if (enumerate(inst, &n, pds.data()) >= 0) {
            for (uint32_t i = 0; i < n; i++) {
                VkPhysicalDevicePropertiesHead p;
                std::memset(&p, 0, sizeof p);
                props(pds[i], &p);
                p.deviceName[sizeof p.deviceName - 1] = '\0';
                r.devices.push_back({(int) i, p.deviceName, type_name(p.deviceType), p.apiVersion});
            }
        }
    }
    if (destroy) destroy(inst, nullptr);
    return r;
}
}  // namespace
#endif

const VulkanProbe & probe_vulkan() {
    static VulkanProbe result;
    static std::once_flag once;
    std::call_once(once, [] {
#if defined(_WIN32)
        result.error = "the Vulkan probe is not implemented on Windows";
#else
        result = run_probe();
#endif
    });
    return result;
}

bool is_cpu_vulkan_device(const std::string & description) {
    for (const auto & d : probe_vulkan().devices)
        if (d.type == "cpu" && d.name == description) return true;
    return false;
}

}  // namespace eia
