// The engine's oracles on the device (issue 22): build/bin/eia-device-check runs each on the device
// against the same model on the CPU in one process (the same program bench/gpu/run.sh runs on CUDA,
// where there is no Node). Here: once, then one test per check, so every check reports on its own;
// a check the program skipped (backend sampling on a CPU-type Vulkan device) is skipped here with
// the program's reason. See native/tools/device_check.cpp for what each check compares.
import { beforeAll, expect } from 'vitest';
import { device, deviceCheckBinary, itOnDevice, runWith } from '../helpers/device.js';

interface Line { check?: string; status?: 'ok' | 'FAIL' | 'skip'; detail?: string; seconds?: number; device?: string; passed?: number }

/** Every check the program must report, in its order. */
const CHECKS = [
  'placement: every block runs on the device',
  'capture: device = CPU (rel < 1e-4)',
  'capture: a text in a mixed batch = alone, on the device (rel < 1e-4)',
  'steering = llama.cpp control vector on the device (logits < 1e-4, greedy tokens)',
  'alpha 0 = no steering, bit for bit, on the device (logits, seeded tokens)',
  'sampling: seeded tokens alone = in a batch, host sampling on the device',
  'sampling: seeded tokens alone = in a batch, backend (in-graph) sampling on the device',
  'greedy: device tokens = CPU tokens; monitors = CPU (rel < 1e-4)',
  'gates: device decisions, tokens and scores = CPU (rel < 1e-4)',
  'open generation: joins and cancels on the device give each sequence\'s tokens alone',
];

let lines: Line[] = [];
let status: number | null = null;
let stderr = '';

beforeAll(async () => {
  const d = device();
  const bin = deviceCheckBinary();
  if (!d.env || !bin) return;  // each test below skips (or fails) with the reason
  const r = await runWith(bin, ['--json'], d.env);
  status = r.status;
  stderr = r.stderr;
  lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const figures = lines.filter((l) => l.check).map((l) => `${l.status} ${l.check}: ${l.detail} (${l.seconds} s)`);
  process.stderr.write(`[device] ${d.what}\n${figures.map((f) => `  ${f}`).join('\n')}\n`);
}, 900_000);

for (const name of CHECKS) {
  itOnDevice(name, (ctx) => {
    if (!deviceCheckBinary()) throw new Error('build/bin/eia-device-check is missing: npm test\'s pre-step builds it (node scripts/build.mjs --for-tests)');
    expect(lines.length, `eia-device-check printed nothing (exit ${status}): ${stderr}`).toBeGreaterThan(0);
    const line = lines.find((l) => l.check === name);
    expect(line, `eia-device-check did not report '${name}' (exit ${status}): ${stderr}`).toBeDefined();
    if (line!.status === 'skip') {
      // the only check allowed to skip: backend sampling where the device refuses it, with the note
      expect(name).toMatch(/backend \(in-graph\) sampling/);
      expect(device().cpuVulkan, 'backend sampling may only be off on a CPU-type Vulkan device').toBe(true);
      expect(line!.detail).toMatch(/CPU-type Vulkan device/);
      ctx.skip(line!.detail!);
    }
    expect(line!.status, line!.detail).toBe('ok');
  }, 900_000);
}

itOnDevice('eia-device-check reports nothing but these checks and exits 0', () => {
  expect(lines.filter((l) => l.check).map((l) => l.check)).toEqual(CHECKS);
  const total = lines.find((l) => l.passed !== undefined);
  expect(total, stderr).toBeDefined();
  expect(status, stderr).toBe(0);
});
