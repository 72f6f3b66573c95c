// The Vulkan devices of this machine as the Vulkan loader lists them, seen without ggml: ggml-vulkan
// skips CPU-type devices (Mesa's llvmpipe/lavapipe, SwiftShader) unless GGML_VK_VISIBLE_DEVICES
// names them, so only the loader can say that such a device exists and which index enables it.
// The probe dlopens the Vulkan loader at run time (no build dependency on Vulkan headers or
// libraries); where there is no loader it finds nothing.
#pragma once
#include <string>
#include <vector>

namespace eia {

struct VulkanDevice {
    int index = 0;           // the loader's order: what GGML_VK_VISIBLE_DEVICES counts
    std::string name;        // VkPhysicalDeviceProperties::deviceName (ggml-vulkan's device description)
    std::string type;        // cpu | discrete | integrated | virtual | other
    unsigned api_version = 0;
};

struct VulkanProbe {
    bool loader = false;            // a Vulkan loader was found
    std::vector<VulkanDevice> devices;
    std::string error;              // why the probe found nothing ("" when it ran)
};

// Runs once per process (creates and destroys one Vulkan instance); later calls return the result.
const VulkanProbe & probe_vulkan();

// llama.cpp re-reserves a context's scheduler (and frees its old compute buffers) when a sampler
// is attached or detached, or a control vector set, after a decode. On Mesa's lavapipe (a CPU-type
// Vulkan device) that frees the same driver object twice in the driver's queue thread and corrupts
// the heap (docs/device-path.md). True when ggml device `description` is such a device.
bool is_cpu_vulkan_device(const std::string & description);

}  // namespace eia
