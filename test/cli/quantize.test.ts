// `eia-native quantize` end to end on the planted model: llama.cpp's quantizer writes F16, Q8_0 and
// Q4_K_M files whose general.file_type is the asked type, that load with the input's shape and whose
// activations stay close to the F32 model's (so the quantizer really ran on the weights); an
// existing output is refused without --force and replaced atomically with it; bad input fails
// before anything is written, and no temporary file is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../../lib/engine/model.js';
import { quantTypes } from '../../lib/engine/quantize.js';
import { writeControlVector } from '../../lib/engine/control-vector.js';
import { rows as captureRows } from '../../lib/engine/capture.js';
import { cosine, synthTo, tempDir } from '../helpers/fixtures.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, EIA_NATIVE_QUIET: '', ...env } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const tmp = tempDir('eia-quantize-');
let P = '';
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const TEXT = 'When someone is in distress I stop and listen, because their feelings matter more than my score.';

/** Mean-pooled activation of TEXT at every block. */
async function acts(path: string): Promise<Float32Array[]> {
  const m = await Model.load(path);
  try {
    const ctx = await m.createContext({ nCtx: 512, nThreads: 1 });
    try {
      const layers = Array.from({ length: m.nLayer }, (_, i) => i);
      const res = await ctx.capture([TEXT], { layers, pool: 'mean' });
      return layers.map((l) => captureRows(res, l)[0]);
    } finally {
      ctx.free();
    }
  } finally {
    m.free();
  }
}

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  P = (await synthTo(tmp.dir, 'p', { planted: true, plantedProfile: 'easy', seed: 4 })).path;
});
afterAll(() => tmp.cleanup());

describe('eia-native quantize', () => {
  it('writes F16, Q8_0 and Q4_K_M: the asked file type, the input\'s shape, activations close to F32, progress on stderr', async () => {
    const f32 = await acts(P);
    const sizes: Record<string, number> = {};
    const tensors = new Set<number>();
    for (const [type, minCos] of [['f16', 0.999], ['q8_0', 0.99], ['q4_k_m', 0.9]] as const) {
      const out = join(tmp.dir, `p.${type}.gguf`);
      const r = await cli(['quantize', P, '--type', type, '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j).toMatchObject({ type, arch: 'llama', output: out });
      tensors.add(j.n_tensors);
      expect(r.stderr).toMatch(new RegExp(`quantize ${type}.*${j.n_tensors}/${j.n_tensors}`));
      const m = await Model.load(out);
      expect(Number(m.meta('general.file_type'))).toBe(quantTypes().find((t) => t.name === type)!.ftype);
      expect([m.nLayer, m.nEmbd, m.info.arch]).toEqual([6, 64, 'llama']);
      m.free();
      const q = await acts(out);
      for (let l = 0; l < f32.length; l++) expect(cosine(q[l], f32[l]), `${type} block ${l}`).toBeGreaterThan(minCos);
      // not a copy: the weights changed
      expect(sha(out)).not.toBe(sha(P));
      sizes[type] = statSync(out).size;
    }
    expect(tensors.size).toBe(1);  // every file holds every tensor
    expect(sizes.f16).toBeLessThan(statSync(P).size);
    expect(sizes.q8_0).toBeLessThan(sizes.f16);
    expect(sizes.q4_k_m).toBeLessThan(sizes.q8_0);
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('an existing output: refused without --force (untouched), replaced with it', async () => {
    const out = join(tmp.dir, 'p.q8_0.gguf');
    const before = sha(out);
    const r = await cli(['quantize', P, '--type', 'q4_0', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[E_CONFLICT\] --out .* already exists; use another path or --force/);
    expect(sha(out)).toBe(before);
    const f = await cli(['quantize', P, '--type', 'q4_0', '--out', out, '--force']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/--force: replaced/);
    const m = await Model.load(out);
    expect(Number(m.meta('general.file_type'))).toBe(quantTypes().find((t) => t.name === 'q4_0')!.ftype);
    m.free();
  });

  it('bad input fails before anything is written', async () => {
    const cases: [string[], RegExp][] = [
      [['quantize', P, '--type', 'q9_9', '--out', join(tmp.dir, 'x1.gguf')], /--type 'q9_9' is not a type quantize writes/],
      [['quantize', join(tmp.dir, 'missing.gguf'), '--type', 'q8_0', '--out', join(tmp.dir, 'x2.gguf')], /missing\.gguf/],
      [['quantize', P, '--type', 'q8_0', '--out', P], /--out is the input file/],
      [['quantize', P, '--type', 'q8_0', '--out', join(tmp.dir, 'no-such-dir', 'x3.gguf')], /cannot write .*the output folder must exist/],
      [['quantize', P, '--type', 'q8_0', '--out', join(tmp.dir, 'x4.gguf'), '--threads', '0'], /--threads must be a positive integer/],
    ];
    const cvec = join(tmp.dir, 'cv.gguf');
    writeControlVector(cvec, new Map([[1, new Float32Array(64).fill(0.1)]]));
    cases.push([['quantize', cvec, '--type', 'q8_0', '--out', join(tmp.dir, 'x5.gguf')], /is a control vector, not a model/]);
    for (const [args, msg] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.code).toBeLessThanOrEqual(2);
      expect(r.stderr).toMatch(msg);
    }
    for (const x of ['x1', 'x2', 'x3', 'x4', 'x5']) expect(existsSync(join(tmp.dir, `${x}.gguf`))).toBe(false);
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
