// The device tier (test/device): the engine's oracles on a GPU device, or on Mesa's llvmpipe (a
// CPU-type Vulkan device that runs the device code path on the CPU) where there is no GPU. The
// tier runs everything on the device in child processes (the CLI, the server, eia-device-check)
// with the environment chosen here, so the test worker's own runtime stays as it is.
//
// The device: EIA_GPU=cuda or metal when set (that backend); else Vulkan: a real Vulkan GPU when
// the Vulkan loader lists one, else a CPU-type device, enabled through GGML_VK_VISIBLE_DEVICES
// (ggml-vulkan skips CPU-type devices otherwise). No device: the tests are skipped with the reason,
// or fail with it when EIA_DEVICE_TIER=require (.ci/run sets it: CI installs llvmpipe).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it, type TestContext } from 'vitest';
import { runtimeInfo, runtimeManifest, vulkanDevices } from '../../lib/engine/runtime-info.js';
import { CLI, ROOT } from './cli.js';

export interface Device {
  /** The environment of a child process that runs on the device ('' reason), or null. */
  env: NodeJS.ProcessEnv | null;
  /** What runs, e.g. "vulkan: llvmpipe (LLVM 15.0.6, 256 bits) (CPU-type, GGML_VK_VISIBLE_DEVICES=0)". */
  what: string;
  /** Why there is no device ('' when there is one). */
  reason: string;
  /** The device is a CPU-type Vulkan device (backend sampling falls back to the host there). */
  cpuVulkan: boolean;
}

const INSTALL = 'install a GPU driver, or Mesa\'s llvmpipe (Debian: apt-get install mesa-vulkan-drivers libvulkan1)';

function pick(): Device {
  const none = (reason: string): Device => ({ env: null, what: '', reason, cpuVulkan: false });
  const policy = process.env.EIA_GPU;
  if (policy === 'cuda' || policy === 'metal') {
    const rt = runtimeInfo();  // loads that backend here too, and sets EIA_NATIVE_GPU_DIRS for the children
    if (rt.error) return none(rt.error);
    return { env: { ...process.env }, what: policy, reason: '', cpuVulkan: false };
  }
  if (policy === 'cpu') return none('EIA_GPU=cpu turns the GPU backends off');
  const m = runtimeManifest();
  if (m.mode === 'prebuilt' && !(m.gpuPackages ?? []).some((p) => p.endsWith('-vulkan'))) {
    return none(`no Vulkan backend package for ${process.platform}-${process.arch} (the prebuilt runtime ships none)`);
  }
  if (m.mode === 'source') return none('a source build has no Vulkan backend (EIA_GPU=cuda|metal names the one it has)');
  const probe = vulkanDevices();  // also sets EIA_NATIVE_GPU_DIRS for the children (lib/engine/native.ts)
  if (!probe.loader) return none(`${probe.error}: ${INSTALL}`);
  const gpu = probe.devices.find((d) => d.type !== 'cpu');
  if (gpu) return { env: { ...process.env, EIA_GPU: 'vulkan' }, what: `vulkan: ${gpu.name} (${gpu.type})`, reason: '', cpuVulkan: false };
  const cpu = probe.devices.find((d) => d.type === 'cpu');
  if (!cpu) return none(`the Vulkan loader lists no device: ${INSTALL}`);
  const visible = process.env.GGML_VK_VISIBLE_DEVICES || String(cpu.index);
  return {
    env: { ...process.env, EIA_GPU: 'vulkan', GGML_VK_VISIBLE_DEVICES: visible },
    what: `vulkan: ${cpu.name} (CPU-type, GGML_VK_VISIBLE_DEVICES=${visible})`, reason: '', cpuVulkan: true,
  };
}

let cached: Device | null = null;
export function device(): Device {
  cached ??= pick();
  return cached;
}

/** The environment of the reference run: everything on the CPU. */
export const CPU_ENV: NodeJS.ProcessEnv = { ...process.env, EIA_GPU: 'cpu' };

/** `it` for a test on the device: skipped with the reason where there is none (failed under EIA_DEVICE_TIER=require). */
export function itOnDevice(name: string, fn: (ctx: TestContext, env: NodeJS.ProcessEnv) => unknown, timeout?: number): void {
  it(name, (ctx) => {
    const d = device();
    if (!d.env) {
      if (process.env.EIA_DEVICE_TIER === 'require') throw new Error(`EIA_DEVICE_TIER=require but there is no device: ${d.reason}`);
      ctx.skip(`no GPU or Vulkan device: ${d.reason}`);
    }
    return fn(ctx, d.env!);
  }, timeout);
}

export interface Run { status: number | null; stdout: string; stderr: string }

/** A child process with `env`, collected (asynchronous: a long spawnSync would block the worker's RPC). */
export function runWith(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('error', rej);
    child.on('close', (status) => res({ status, stdout, stderr }));
  });
}

/** The CLI with `env`. */
export function cliWith(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return runWith(process.execPath, [CLI, ...args], env);
}

/** build/bin/eia-device-check (built by npm test's pre-step), or null. */
export function deviceCheckBinary(): string | null {
  const p = join(ROOT, 'build', 'bin', 'eia-device-check');
  return existsSync(p) ? p : null;
}
