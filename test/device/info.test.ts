// How a CPU-type Vulkan device is enabled (issue 22): ggml-vulkan skips llvmpipe unless
// GGML_VK_VISIBLE_DEVICES names it, so without it `EIA_GPU=vulkan` fails, and the message (and
// `info`) says which index enables it; with it, `info --json` lists the device as cpu_vulkan.
import { expect } from 'vitest';
import { cliWith, device, itOnDevice } from '../helpers/device.js';
import { vulkanDevices } from '../../lib/engine/runtime-info.js';

itOnDevice('EIA_GPU=vulkan without GGML_VK_VISIBLE_DEVICES names the CPU-type device and the index that enables it', async (ctx, env) => {
  if (!device().cpuVulkan) ctx.skip('the device is not a CPU-type Vulkan device (the hint is about those)');
  const cpu = vulkanDevices().devices.find((d) => d.type === 'cpu')!;
  const { GGML_VK_VISIBLE_DEVICES: _, ...without } = env;
  const r = await cliWith(['info'], without);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toContain(`this machine has '${cpu.name}' (index ${cpu.index}): set GGML_VK_VISIBLE_DEVICES=${cpu.index}`);
  expect(r.stdout).toMatch(/backend {5}vulkan: no-device .*set GGML_VK_VISIBLE_DEVICES=/);
  const j = await cliWith(['info', '--json'], env);
  expect(j.status, j.stderr).toBe(0);
  const info = JSON.parse(j.stdout) as { gpu: string; devices: { description: string; cpu_vulkan: boolean }[] };
  expect(info.gpu).toBe('vulkan');
  expect(info.devices.find((d) => d.description === cpu.name)?.cpu_vulkan).toBe(true);
}, 300_000);
