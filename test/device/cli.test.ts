// The device path through Node (issue 22's acceptance): `generate`, a `steer` sweep and a `serve`
// request, each with steering and a monitor, run with every layer on the device (--gpu-layers -1;
// backend sampling is the default there) and on the CPU (EIA_GPU=cpu). Greedy tokens must be equal
// and the monitor values agree to < 1e-3 relative (llama.cpp's default f16 paths on the device
// differ from the CPU by that much at most; the exact-arithmetic oracles are in engine-oracles).
// On a CPU-type Vulkan device (llvmpipe) backend sampling falls back to the host with a note; the
// generation must still run to its end (it aborted the process before the fix).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';
import { CPU_ENV, cliWith, device, itOnDevice, type Run } from '../helpers/device.js';
import { relErr, synthTo, tempDir } from '../helpers/fixtures.js';
import { postJson } from '../server/server-fixtures.js';

const tmp = tempDir('eia-device-cli-');
afterAll(() => tmp.cleanup());
let model = '';
let probe = '';
const PROMPT = 'The user is in distress and I must decide what to do.';
const NOTE = /note: sampling on the host: in-graph \(backend\) sampling is off on a CPU-type Vulkan device/;

beforeAll(async () => {
  const r = await synthTo(tmp.dir, 'p', { planted: true, seed: 3 });
  model = r.path;
  probe = r.plantedNpy!;
});

function ok(r: Run, what: string): Run {
  expect(r.status, `${what}: ${r.stderr}`).toBe(0);
  expect(r.stderr, what).not.toMatch(/warning: .* blocks run on/);  // every block on the device
  return r;
}

/** What a device run prints about sampling: the fallback note on a CPU-type Vulkan device, nothing elsewhere. */
function expectSamplingNote(r: Run): void {
  if (device().cpuVulkan) expect(r.stderr).toMatch(NOTE);
  else expect(r.stderr).not.toMatch(NOTE);
}

itOnDevice('generate --gpu-layers -1 (steering + monitor) = the CPU run: greedy tokens equal, monitor values < 1e-3', async (_ctx, env) => {
  const args = ['generate', '--model', model, '--prompt', PROMPT, '--probe', probe, '--layer', '2', '--alphas=0,6', '--monitor', `2:${probe}`,
    '--temp', '0', '-n', '24', '--json'];
  const [dev, cpu] = [ok(await cliWith([...args, '--gpu-layers', '-1'], env), 'device run'), ok(await cliWith(args, CPU_ENV), 'CPU run')];
  expectSamplingNote(dev);
  const recs = (r: Run) => r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { alpha: number; tokens: number[]; monitor: { scores: number[] }[] });
  const [a, b] = [recs(dev), recs(cpu)];
  expect(a.map((x) => x.alpha)).toEqual([0, 6]);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    expect(a[i].tokens, `alpha ${a[i].alpha}`).toEqual(b[i].tokens);
    expect(a[i].tokens.length).toBe(24);
    worst = Math.max(worst, relErr(a[i].monitor[0].scores, b[i].monitor[0].scores));
  }
  expect(a[0].tokens, 'steering changes the tokens (else the comparison proves little)').not.toEqual(a[1].tokens);
  process.stderr.write(`[device] generate: greedy tokens equal, monitor max rel err ${worst.toExponential(1)} (${device().what})\n`);
  expect(worst).toBeLessThan(1e-3);
}, 600_000);

itOnDevice('steer (a small sweep; backend sampling where the device allows it) = the CPU sweep: tokens, token scores, probe scores', async (_ctx, env) => {
  const probes = join(tmp.dir, 'probes');
  mkdirSync(probes, { recursive: true });
  copyFileSync(probe, join(probes, 'layer2.npy'));
  const args = (out: string) => ['steer', '--model', model, '--probes', probes, '--layers', '2', '--alphas=0,6', '--scenarios', 'the_listener',
    '--samples', '1', '-n', '12', '--temp', '0', '--token-ids', '--token-scores', '--out', join(tmp.dir, out)];
  const dev = ok(await cliWith([...args('run-dev'), '--gpu-layers', '-1'], env), 'device sweep');
  ok(await cliWith(args('run-cpu'), CPU_ENV), 'CPU sweep');
  expectSamplingNote(dev);
  type Rec = { scenario: string; alpha: number; token_ids: number[]; monitor: { scores: number[] }; probe_score: number };
  const read = (d: string) => readFileSync(join(tmp.dir, d, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec)
    .sort((x, y) => `${x.scenario}/${x.alpha}`.localeCompare(`${y.scenario}/${y.alpha}`));
  const [a, b] = [read('run-dev'), read('run-cpu')];
  expect(a.length).toBe(2);
  expect(a.map((r) => `${r.scenario}/${r.alpha}`)).toEqual(b.map((r) => `${r.scenario}/${r.alpha}`));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    expect(a[i].token_ids, `${a[i].scenario} alpha ${a[i].alpha}`).toEqual(b[i].token_ids);
    worst = Math.max(worst, relErr(a[i].monitor.scores, b[i].monitor.scores), Math.abs(a[i].probe_score - b[i].probe_score) / Math.abs(b[i].probe_score));
  }
  process.stderr.write(`[device] steer: tokens equal, token and probe scores max rel err ${worst.toExponential(1)}\n`);
  expect(worst).toBeLessThan(1e-3);
}, 600_000);

/** `eia-native serve` on a loopback port with `env`; resolves its URL. */
async function serve(env: NodeJS.ProcessEnv, extra: string[], vectors: string): Promise<{ url: string; stop: () => Promise<void>; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '-m', model, '--vectors', vectors, '--port', '0', '--slots', '2', '--ctx', '256', '-t', '1', ...extra],
    { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
  });
  return {
    url,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
    },
  };
}

itOnDevice('serve --gpu-layers -1: a steered request with probe_scores = the CPU server\'s', async (_ctx, env) => {
  const vectors = join(tmp.dir, 'vectors');
  mkdirSync(vectors, { recursive: true });
  copyFileSync(probe, join(vectors, 'layer2.npy'));
  const body = {
    prompt: PROMPT, max_tokens: 20, temperature: 0, ignore_eos: true, return_tokens: true,
    steering: { vectors: [{ name: 'layer2', scale: 5 }] }, monitor: [{ name: 'layer2' }, { name: 'layer2', layer: 4 }],
  };
  type Reply = { choices: { tokens: number[]; text: string }[]; probe_scores: number[][] };
  const ask = async (env_: NodeJS.ProcessEnv, extra: string[]) => {
    const s = await serve(env_, extra, vectors);
    try {
      const res = await postJson(`${s.url}/v1/completions`, body);
      expect(res.status, await res.clone().text()).toBe(200);
      return { reply: await res.json() as Reply, stderr: s.stderr() };
    } finally {
      await s.stop();
    }
  };
  const dev = await ask(env, ['--gpu-layers', '-1']);
  const cpu = await ask(CPU_ENV, []);
  if (device().cpuVulkan) expect(dev.stderr).toMatch(NOTE);
  expect(dev.reply.choices[0].tokens).toHaveLength(20);
  expect(dev.reply.choices[0].tokens).toEqual(cpu.reply.choices[0].tokens);
  expect(dev.reply.probe_scores).toHaveLength(20);
  const err = relErr(dev.reply.probe_scores.flat(), cpu.reply.probe_scores.flat());
  process.stderr.write(`[device] serve: tokens equal, probe_scores max rel err ${err.toExponential(1)}\n`);
  expect(err).toBeLessThan(1e-3);
}, 600_000);
