// What runs: the llama.cpp release, whether it is node-llama-cpp's prebuilt runtime or a source
// build, which backends loaded (the CPU variant this processor runs, a GPU backend or why not) and
// the devices found. `info` prints it; sweeps and benches record it.
import { addon, runtimeManifest, type RawVulkanProbe, type RuntimeManifest } from './native.js';

export { runtimeManifest, type RuntimeManifest };
export type VulkanProbe = RawVulkanProbe;

export interface BackendLoad {
  /** cpu, cuda, vulkan, metal, blas, ... */
  name: string;
  /** The library file ('' for backends compiled into a source build). */
  path: string;
  /** CPU only: the instruction-set variant chosen for this processor (haswell, zen4, ...). */
  variant: string;
  status: 'loaded' | 'failed' | 'no-device' | 'skipped' | 'builtin';
  /** Why it failed or was skipped. */
  error: string;
  devices: number;
}

export interface DeviceInfo {
  name: string; description: string; type: string; memoryTotal: number; memoryFree: number;
  /** A CPU-type Vulkan device (Mesa's llvmpipe): the device path, run on the CPU (docs/device-path.md). */
  cpuVulkan: boolean;
}

export interface RuntimeInfo {
  llamaCommit: string;
  /** node-llama-cpp's npm package whose git bundle the headers (and a source build) come from. */
  llamaSource: string;
  runtime: 'prebuilt' | 'source';
  /** prebuilt: the package and version whose libraries are linked, e.g. @node-llama-cpp/linux-x64@3.21.1. */
  runtimePackage: string | null;
  /** prebuilt: the folder of the linked libraries. */
  libDir: string | null;
  backends: BackendLoad[];
  devices: DeviceInfo[];
  /** The GPU backend in use (cuda, vulkan, metal), or null: everything runs on the CPU. */
  gpu: string | null;
  /** The CPU backend variant in use (prebuilt), or null. */
  cpuVariant: string | null;
  /** EIA_GPU as the loader read it (auto, cpu, cuda, vulkan, metal). */
  gpuPolicy: string;
  systemInfo: string;
  /** Non-empty when the runtime cannot run (what every operation then reports). */
  error: string;
}

let cached: RuntimeInfo | null = null;

export function runtimeInfo(): RuntimeInfo {
  if (cached) return cached;
  const r = addon().info();
  const m = runtimeManifest();
  const gpu = r.backends.find((b) => b.status === 'loaded' && b.name !== 'cpu' && b.name !== 'blas');
  const cpu = r.backends.find((b) => b.name === 'cpu' && b.status === 'loaded');
  cached = {
    llamaCommit: r.llamaCommit,
    llamaSource: `${m.llama.npmPackage}@${m.llama.version} llama/gitRelease.bundle`,
    runtime: r.runtime,
    runtimePackage: m.mode === 'prebuilt' ? `${m.runtimePackage}@${m.runtimeVersion}` : null,
    libDir: m.mode === 'prebuilt' ? r.libDir : null,
    backends: r.backends,
    devices: r.devices,
    gpu: gpu ? gpu.name : r.runtime === 'source' && r.gpuBuild !== 'cpu' && r.hasGpu ? r.gpuBuild : null,
    cpuVariant: cpu?.variant || null,
    gpuPolicy: r.gpuPolicy || 'auto',
    systemInfo: r.systemInfo,
    error: r.error,
  };
  return cached;
}

/**
 * The Vulkan devices the system's Vulkan loader lists, without loading ggml's backends (so a caller
 * can still choose GGML_VK_VISIBLE_DEVICES): ggml-vulkan skips the CPU-type ones unless named there.
 */
export function vulkanDevices(): VulkanProbe {
  return addon().vulkanDevices();
}

/** The pinned llama.cpp release (from the build's manifest). */
export function llamaPin(): { npmPackage: string; version: string; commit: string } {
  return runtimeManifest().llama;
}
