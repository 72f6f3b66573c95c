// The drift section of a study, with a known answer: the same planted model twice (a and b) and its
// Q8_0 quantization made by `eia-native quantize` are one family (same architecture and shape,
// identical unquantized tensors, told apart by file type). Against the reference a, the copy b has
// cosine 1 at every block and zero deltas everywhere (own AUROC, transfer AUROC, keyword share,
// probe score, headline), while the Q8_0 model is close but not identical. Model facts: another seed
// is another family even with the same shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { driftGroups, modelFacts } from '../../lib/probes/model-family.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, EIA_NATIVE_QUIET: '1' } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const tmp = tempDir('eia-drift-');
const T = (f: string) => join(tmp.dir, f);
let R: any;

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  await ok(['synth', '--planted', '--seed', '5', '--no-check', '--out', T('p.gguf')]);
  await ok(['synth', '--planted', '--seed', '6', '--no-check', '--out', T('other.gguf')]);
  await ok(['quantize', T('p.gguf'), '--type', 'q8_0', '--out', T('p.q8_0.gguf')]);
  await ok(['study', '--models', `a=${T('p.gguf')},b=${T('p.gguf')},q8=${T('p.q8_0.gguf')}`, '--train', T('p.train.jsonl'), '--test', T('p.test.jsonl'),
    '--layers', '2,3', '--alphas=-4,0,4', '--scenarios', 'food_delivery', '--samples', '2', '--max-tokens', '8', '--random-baseline', '10',
    '--permutations', '20', '--out', T('S')]);
  R = JSON.parse(readFileSync(T('S/results.json'), 'utf8'));
}, 1_200_000);
afterAll(() => tmp.cleanup());

describe('quantization drift', () => {
  it('model families: quantizations of one model group together, the highest precision first; another seed does not', async () => {
    const facts = await Promise.all(['p.gguf', 'p.q8_0.gguf', 'other.gguf'].map((f) => modelFacts(T(f))));
    expect(facts.map((f) => f.fileTypeName)).toEqual(['f32', 'q8_0', 'f32']);
    expect(facts[0].fingerprint).toBe(facts[1].fingerprint);
    expect(facts[2].fingerprint).not.toBe(facts[0].fingerprint);
    expect(driftGroups([facts[1], facts[2], facts[0]])).toEqual([{ reference: 2, members: [2, 0] }]);
    const study = JSON.parse(readFileSync(T('S/study.json'), 'utf8'));
    expect(study.drift_groups).toEqual([{ reference: 'a', members: ['a', 'b', 'q8'] }]);
  });

  it('the same file twice: cosine 1 and zero deltas at every block and alpha (the known answer)', () => {
    expect(R.drift).toHaveLength(1);
    const d = R.drift[0];
    expect(d.reference).toBe('a');
    expect(d.blocks.map((b: any) => b.block)).toEqual([2, 3]);
    for (const b of d.blocks) {
      const a = b.rows.find((x: any) => x.model === 'a'), copy = b.rows.find((x: any) => x.model === 'b');
      expect(a.cosine).toBeCloseTo(1, 6);
      expect(copy.cosine).toBeCloseTo(1, 6);
      expect(copy.auroc).toBe(a.auroc);
      expect(copy.d_auroc).toBe(0);
      expect(copy.transfer_auroc).toBe(a.auroc);  // a's probe on b's activations: b's own
      expect(copy.d_transfer).toBe(0);
      expect(a.transfer_auroc).toBe(a.auroc);
    }
    expect(d.steering.length).toBeGreaterThan(0);
    for (const s of d.steering) {
      expect(s.alphas).toEqual([-4, 0, 4]);
      const copy = s.rows.find((x: any) => x.model === 'b');
      expect(copy.d_keyword_share).toEqual([0, 0, 0]);
      for (const x of copy.d_probe_score) expect(Math.abs(x)).toBeLessThan(1e-6);
    }
    const h = d.headline.find((x: any) => x.model === 'b');
    expect(h.delta).toBe(0);
  });

  it('the Q8_0 quantization: its own numbers, close to the reference, with the same blocks steered', () => {
    const d = R.drift[0];
    const steerA = R.models.find((m: any) => m.name === 'a').steer_layers;
    expect(R.models.find((m: any) => m.name === 'q8').steer_layers).toEqual(steerA);
    for (const b of d.blocks) {
      const q = b.rows.find((x: any) => x.model === 'q8');
      expect(q.file_type).toBe('q8_0');
      expect(q.cosine).toBeGreaterThan(0.95);
      expect(q.cosine).toBeLessThan(1 - 1e-9);
      expect(q.transfer_auroc).toBeGreaterThan(0.5);
      expect(q.d_transfer).toBeCloseTo(q.transfer_auroc - b.rows.find((x: any) => x.model === 'a').auroc, 12);
    }
    const md = readFileSync(T('S/report.md'), 'utf8');
    expect(md).toContain('## Quantization drift: a, b, q8');
    expect(md).toMatch(/q8 \(q8_0\) against a \(f32\): probe directions keep cosine >= /);
  });
});
