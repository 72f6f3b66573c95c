// The synth library (native/synth) on its own, through llama.cpp rather than our engine:
//  1. build/bin/eia-synth-check (native/tools/synth_check.cpp, built by `npm test`'s pre-step):
//     every arch at the tiny shape loads in llama.cpp with no warnings, finite logits, its chat
//     template and whole-word tokenisation; the planted model (realistic and easy profile) through
//     llama.cpp's eval callback: direction recovery, block-0 vs best AUROC, keyword probabilities
//     monotone in the steering alpha, varied sampling;
//  2. a Qwen2.5-0.5B-shaped model (q8_0, 151936-token vocabulary) loads with no warnings and runs in
//     llama.cpp's own llama-bench;
//  3. the synth code lives in native/synth only, and eia-synth needs no llama library.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLlamaBenchJson } from '../../lib/bench/parse.js';
import { tempDir } from '../helpers/fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(root, 'build', 'bin');
const tmp = tempDir('eia-synth-check-');
afterAll(() => tmp.cleanup());

/** Async (a long spawnSync would stall the test worker's RPC with vitest). */
function exec(cmd: string, args: string[], timeout = 10 * 60_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

function tool(name: string): string {
  const p = join(BIN, name);
  expect(existsSync(p), `${p} missing: \`npm test\` builds it first (node scripts/build.mjs --for-tests)`).toBe(true);
  return p;
}

describe('eia-synth-check: synthetic models through llama.cpp\'s API', () => {
  for (const profile of ['realistic', 'easy']) {
    it(`tiny llama/qwen2/phi3 and the ${profile} planted model pass every check`, async () => {
      const r = await exec(tool('eia-synth-check'), ['--dir', join(tmp.dir, profile), '--no-0.5b', '--seed', '1', '--planted-profile', profile]);
      const failed = r.out.split('\n').filter((l) => /^(FAIL|ERROR)/.test(l));
      expect(failed, r.out.slice(-3000) + r.err.slice(-2000)).toEqual([]);
      expect(r.code, r.out.slice(-3000)).toBe(0);
      expect(r.out).toMatch(/ALL CHECKS PASSED \(0 failed checks\)/);
      for (const a of ['llama', 'qwen2', 'phi3']) expect(r.out).toMatch(new RegExp(`^${a}\\s+tiny\\s+f32\\s+8192 .* 0 +yes`, 'm'));
      expect(r.out).toContain(`planted model (${profile} profile)`);
      if (profile === 'realistic') expect(r.out).toMatch(/best layer \d+: AUROC [01]\.\d+, cos 0\.9\d+; layer 0: AUROC/);
    }, 10 * 60_000);
  }
});

describe('a 0.5b-shaped model in llama.cpp\'s own tools', () => {
  it('eia-synth writes qwen2 0.5b q8_0; it loads without warnings and llama-bench runs on it', async () => {
    const f = join(tmp.dir, 'q05.gguf');
    const w = await exec(tool('eia-synth'), ['--arch', 'qwen2', '--shape', '0.5b', '--type', 'q8_0', '--seed', '1', '--out', f]);
    expect(w.code, w.err).toBe(0);
    expect(JSON.parse(w.out)).toMatchObject({ arch: 'qwen2', shape: '0.5b', type: 'q8_0', n_layer: 24, n_embd: 896, n_vocab: 151936 });
    const l = await exec(tool('eia-synth-check'), ['--load', f]);
    expect(l.code, l.out + l.err).toBe(0);
    expect(l.out).toMatch(/warnings 0, finite yes/);
    const b = await exec(tool('llama-bench'), ['-m', f, '-p', '8', '-n', '2', '-r', '1', '-t', '2', '-o', 'json']);
    expect(b.code, b.err.slice(-2000)).toBe(0);
    const tests = parseLlamaBenchJson(b.out);
    expect(tests.map((t) => [t.nPrompt, t.nGen])).toEqual([[8, 0], [0, 2]]);
    for (const t of tests) expect(t.avgTs).toBeGreaterThan(0);
    const raw = JSON.parse(b.out.slice(b.out.indexOf('[')));
    expect(raw[0].model_type).toMatch(/^qwen2 /);
    expect(raw[0].model_n_params).toBe(494032768); // Qwen2.5-0.5B's parameter count
  }, 10 * 60_000);
});

describe('the synth library stands alone', () => {
  it('native/core holds no synth code; native/synth is split by concern', () => {
    const core = readdirSync(join(root, 'native', 'core'));
    expect(core.filter((f) => /synth/i.test(f))).toEqual([]);
    for (const f of core) expect(readFileSync(join(root, 'native', 'core', f), 'utf8'), f).not.toMatch(/synth\.h|eia::synth|planted/i);
    const synth = readdirSync(join(root, 'native', 'synth')).sort();
    for (const f of ['rng.h', 'shapes.cpp', 'words.cpp', 'vocab.cpp', 'gguf_writer.cpp', 'pairs.cpp', 'planted.cpp', 'synth.cpp']) expect(synth).toContain(f);
  });

  it('eia-synth links ggml-base but no llama library', (ctx) => {
    const ldd = spawnSync('ldd', [tool('eia-synth')], { encoding: 'utf8' });
    if (ldd.status !== 0) ctx.skip(`ldd cannot list the libraries here: ${(ldd.stderr || ldd.error?.message || '').trim()}`);
    expect(ldd.stdout).toMatch(/libggml-base/);
    expect(ldd.stdout).not.toMatch(/libllama/);
  });
});
