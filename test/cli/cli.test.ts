// Every subcommand through the real CLI (spawned `node bin/eia-native.js`), on synthetic models.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../lib/io/npy.js';
import { LLAMA_PIN } from '../../scripts/vendor-llama.mjs';
import { commands } from '../../lib/cli/commands/index.js';
import { ensureChromium, figureStats, launchChromium, openReport } from '../helpers/chromium.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = tempDir('eia-cli-');
afterAll(() => tmp.cleanup());
const T = tmp.dir;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, ['bin/eia-native.js', ...args], { cwd: root, env: { ...process.env, EIA_NATIVE_QUIET: '1', EIA_NATIVE_HOME: join(T, 'home'), ...env } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}
async function ok(args: string[], env: Record<string, string> = {}) {
  const r = await cli(args, env);
  if (r.code !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  requireFreshDist();
  await ok(['synth', '--planted', '--no-check', '--seed', '2', '--out', join(T, 'p.gguf')]);
}, 300_000);

describe('CLI', () => {
  it('--help lists every command; --version prints the package version; unknown commands exit 2', async () => {
    const help = await ok(['--help']);
    for (const c of commands) expect(help).toContain(`eia-native ${String(c.command).split(' ')[0]}`);
    expect((await ok(['--version'])).trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['capture', '--model', 'x'])).code).toBe(2);
  });

  it('info --json reports the pinned llama.cpp commit, the runtime, the CPU backend and the model', async () => {
    const j = JSON.parse(await ok(['info', '--model', join(T, 'p.gguf'), '--json']));
    expect(j.llama_commit).toBe(LLAMA_PIN.commit);
    expect(['prebuilt', 'source']).toContain(j.runtime);
    expect(j.backends.find((b: { name: string; status: string }) => b.name === 'cpu' && ['loaded', 'builtin'].includes(b.status))).toBeTruthy();
    expect(j.model).toMatchObject({ arch: 'llama', n_layer: 6, n_embd: 64 });
  });

  it('synth writes every arch; capture writes layer<L>.npy in input order and tokens.json for tokens pooling', async () => {
    for (const arch of ['llama', 'qwen2', 'phi3']) {
      const j = JSON.parse(await ok(['synth', '--arch', arch, '--shape', 'tiny', '--out', join(T, `${arch}.gguf`), '--json']));
      expect(j.arch).toBe(arch);
    }
    const texts = ['I care about you.', 'Win the game efficiently.', 'Hello there, how are you today?'];
    writeFileSync(join(T, 'texts.jsonl'), texts.map((t) => JSON.stringify({ body: t })).join('\n') + '\n');
    const s = JSON.parse(await ok(['capture', '--model', join(T, 'qwen2.gguf'), '--layers', '1,3', '--input', join(T, 'texts.jsonl'), '--field', 'body', '--out', join(T, 'acts'), '--json']));
    expect(s.n_texts).toBe(3);
    const m = readNpy(join(T, 'acts', 'layer3.npy'));
    expect(m.shape).toEqual([3, 64]);
    const one = JSON.parse(await ok(['capture', '--model', join(T, 'qwen2.gguf'), '--layers', '3', '--input', join(T, 'texts.jsonl'), '--field', 'body', '--out', join(T, 'acts1'), '--json']));
    expect(one.layers).toEqual([3]);
    expect(Array.from(readNpy(join(T, 'acts1', 'layer3.npy')).data)).toEqual(Array.from(m.data));  // same rows, same order
    await ok(['capture', '--model', join(T, 'qwen2.gguf'), '--layers', '1', '--pool', 'tokens', '--input', join(T, 'texts.jsonl'), '--field', 'body', '--out', join(T, 'actsT')]);
    const idx = JSON.parse(readFileSync(join(T, 'actsT', 'tokens.json'), 'utf8'));
    expect(idx.offsets.length).toBe(4);
    expect(readNpy(join(T, 'actsT', 'layer1.npy')).shape).toEqual([idx.offsets[3], 64]);
    const bad = await cli(['capture', '--model', join(T, 'qwen2.gguf'), '--layers', '99', '--input', join(T, 'texts.jsonl'), '--field', 'body', '--out', join(T, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/out of range/);
  });

  it('generate --json prints one object per (alpha, sample) with monitor scores', async () => {
    const out = await ok(['generate', '--model', join(T, 'p.gguf'), '--prompt', 'The user is sad.', '--probe', join(T, 'p.planted.npy'), '--layer', '3',
      '--alphas=-5,0,5', '--samples', '2', '--max-tokens', '12', '--monitor', `3:${join(T, 'p.planted.npy')}`, '--json', '--threads', '1']);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.length).toBe(6);
    expect(rows.map((r) => [r.alpha, r.sample])).toEqual([[-5, 0], [-5, 1], [0, 0], [0, 1], [5, 0], [5, 1]]);
    for (const r of rows) {
      expect(r.tokens.length).toBeGreaterThan(0);
      expect(r.monitor[0].scores.length).toBe(r.tokens.length);
      expect(['eog', 'length', 'stop']).toContain(r.finish_reason);
    }
    const mean = (a: number) => rows.filter((r) => r.alpha === a).flatMap((r) => r.monitor[0].scores).reduce((x: number, y: number, _i: number, arr: number[]) => x + y / arr.length, 0);
    expect(mean(5)).toBeGreaterThan(mean(-5));  // the monitor reads the steering back
    const bad = await cli(['generate', '--model', join(T, 'p.gguf'), '--prompt', 'x', '--alphas=1,abc', '--probe', join(T, 'p.planted.npy'), '--layer', '1']);
    expect(bad.code).toBe(2);
  });

  it('cvec export then import round-trips a probe', async () => {
    await ok(['cvec', 'export', '--probe', join(T, 'p.planted.npy'), '--layers', '3', '--out', join(T, 'cv.gguf')]);
    const j = JSON.parse(await ok(['cvec', 'import', join(T, 'cv.gguf'), '--out', join(T, 'cvp'), '--json']));
    expect(j.layers).toEqual([3]);
    const a = readNpy(join(T, 'p.planted.npy')).data, b = readNpy(join(T, 'cvp', 'layer3.npy')).data;
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 6);
  });

  it('models --json lists the paper\'s three models; pull refuses escapes and bad checksums (local server)', async () => {
    const j = JSON.parse(await ok(['models', '--json']));
    const names = j.models.map((m: { name: string }) => m.name);
    for (const n of ['phi-3-mini', 'qwen2.5-7b', 'dolphin-llama-3.1-8b']) expect(names).toContain(n);
    const esc = await cli(['pull', '../etc/passwd']);
    expect(esc.code).not.toBe(0);
    expect(esc.stderr).toMatch(/\.\.|unknown|not a known|Unknown/i);
    const server = createServer((_req, res) => { res.writeHead(200, { 'content-length': '11' }); res.end('not a model'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await cli(['pull', 'qwen2.5-0.5b', '--base-url', url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/size mismatch|checksum|sha256/i);
      expect(r.stderr).toMatch(/deleted|removed/i);
      const listed = JSON.parse(await ok(['models', '--json'])).models.find((m: { name: string }) => m.name === 'qwen2.5-0.5b');
      expect(listed.cached).toBe(false);
      expect(existsSync(listed.path)).toBe(false);
    } finally {
      server.close();
    }
  });

  it('run: the protocol on own pairs; a second run skips the finished stages', async () => {
    const args = ['run', '--model', join(T, 'p.gguf'), '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'), '--out', join(T, 'run'),
      '--layers', '1,3,5', '--steer-layers', '3', '--alphas=-5,0,5', '--scenarios', 'food_delivery', '--samples', '2', '--max-tokens', '16',
      '--random-baseline', '20', '--permutations', '50', '--threads', '1', '--json'];
    const first = JSON.parse(await ok(args));
    expect(first.steer_layers).toEqual([3]);
    expect(first.samples).toBe(6);
    for (const f of ['run.json', 'probes/validation.json', 'samples.jsonl', 'manifest.json', 'score.json', 'report.html']) expect(existsSync(join(T, 'run', f)), f).toBe(true);
    const again = JSON.parse(await ok(args));
    expect(again.skipped_stages).toContain('probe');
    expect(readFileSync(join(T, 'run', 'samples.jsonl'), 'utf8').trim().split('\n').length).toBe(6);
    const usage = await cli(['run', '--model', join(T, 'p.gguf'), '--train', join(T, 'p.train.jsonl')]);
    expect(usage.code).toBe(2);
  });
});

const chrome = await ensureChromium();

describe('demo (the README\'s main job)', () => {
  it('writes RUN/report.html; in headless Chromium every figure has data marks and there are no console errors', async () => {
    const t0 = Date.now();
    const j = JSON.parse(await ok(['demo', '--out', join(T, 'demo'), '--json']));
    const seconds = (Date.now() - t0) / 1000;
    // the realistic planted profile (issue 17): detection at the best layer >= 0.95, and the report
    // states that the probe beats the random directions
    expect(j.best_auroc).toBeGreaterThanOrEqual(0.95);
    expect(j.headline['planted-synthetic']).toBeGreaterThanOrEqual(0.9);
    expect(existsSync(join(T, 'demo', 'report.html'))).toBe(true);
    expect(readFileSync(join(T, 'demo', 'report.html'), 'utf8')).toMatch(/SYNTHETIC/);
    expect(readFileSync(join(T, 'demo', 'report.html'), 'utf8')).toMatch(/Controls at the best layer \(\d+\):<\/strong> the probe's AUROC [01]\.\d{3} is <strong>above<\/strong> the 95th percentile/);
    console.log(`demo wall time ${seconds.toFixed(0)} s`);
    if ('skip' in chrome) return void console.warn(`chromium unavailable: ${chrome.skip}`);
    const { context, close } = await launchChromium(chrome.path);
    try {
      const { page, errors, external } = await openReport(context, join(T, 'demo', 'report.html'));
      const figs = await figureStats(page);
      expect(figs.length).toBeGreaterThanOrEqual(6);
      for (const f of figs) {
        expect(f.svgs.length, f.id!).toBeGreaterThan(0);
        for (const s of f.svgs) expect(s.marks, f.id!).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await close();
    }
  }, 600_000);

  it('--arch phi3 runs the same protocol on the planted model in phi3\'s layout (fused QKV and gate/up)', async () => {
    const j = JSON.parse(await ok(['demo', '--arch', 'phi3', '--out', join(T, 'demo-phi3'), '--json']));
    // the GGUF's metadata (general.architecture) comes first in the file
    const header = readFileSync(join(T, 'demo-phi3', 'model', 'planted.gguf')).subarray(0, 4096).toString('latin1');
    expect(header).toMatch(/general\.architecture[\s\S]{1,16}phi3/);
    expect(j.best_auroc).toBeGreaterThanOrEqual(0.95);
    expect(j.headline['planted-synthetic']).toBeGreaterThanOrEqual(0.9);
    expect(existsSync(join(T, 'demo-phi3', 'report.html'))).toBe(true);
  }, 600_000);
});
