// End to end through the CLI (spawned): the planted-concept model's probes must recover the
// planted direction at every layer, with one capture pass; bad input must fail clearly.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../../lib/io/npy.js';
import { datasetHash, readPairs } from '../../lib/probes/dataset.js';
import { ablateText } from '../../lib/probes/ablation.js';
import { runCli } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';

/** The CLI as a child process, asynchronously (a long spawnSync would stall the vitest worker's RPC). */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(args, { env: { ...process.env, EIA_NATIVE_QUIET: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function fails(args: string[], message: string | RegExp): Promise<void> {
  const r = await cli(args);
  expect([1, 2]).toContain(r.code);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(r.stdout).not.toMatch(/NaN/);
}

let T = '';
let nLayer = 0;
let nEmbd = 0;
let probeJson: any;
let probeSeconds = 0;

beforeAll(async () => {
  requireFreshDist();
  T = mkdtempSync(join(tmpdir(), 'probe-cli-'));
  await ok(['synth', '--planted', '--planted-profile', 'easy', '--no-check', '--out', join(T, 'p.gguf')]);
  const info = JSON.parse((await ok(['info', '--model', join(T, 'p.gguf'), '--json'])).stdout);
  nLayer = info.model.n_layer;
  nEmbd = info.model.n_embd;
  const layers = Array.from({ length: nLayer }, (_, i) => i).join(',');
  const t0 = Date.now();
  const r = await ok(['probe', '--model', join(T, 'p.gguf'), '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'),
    '--layers', layers, '--random-baseline', '100', '--permutations', '1000', '--seed', '1', '--out', join(T, 'probes'), '--json']);
  probeSeconds = (Date.now() - t0) / 1000;
  probeJson = JSON.parse(r.stdout);
  process.stderr.write(`[probe-cli] probe over ${nLayer} layers took ${probeSeconds.toFixed(1)} s\n`);
});

afterAll(() => {
  if (T) rmSync(T, { recursive: true, force: true });
});

describe('probe on the planted-concept model', () => {
  it('recovers the planted direction at every layer', async () => {
    const planted = readNpy(join(T, 'p.planted.npy')).data;
    expect(planted.length).toBe(nEmbd);
    expect(probeJson.layers.map((l: any) => l.layer)).toEqual(Array.from({ length: nLayer }, (_, i) => i));
    const lines: string[] = [];
    for (const l of probeJson.layers) {
      expect(l.auroc).toBe(1);
      expect(l.accuracy_median).toBe(1);
      expect(l.accuracy_midpoint).toBe(1);
      expect(l.separation).toBeGreaterThan(0);
      expect(l.auroc_ci.lower).toBeLessThanOrEqual(l.auroc);
      const d = readNpy(join(T, 'probes', `layer${l.layer}.npy`));
      expect(d.shape).toEqual([nEmbd]);
      let cos = 0, n2 = 0;
      for (let j = 0; j < nEmbd; j++) { cos += d.data[j] * planted[j]; n2 += d.data[j] ** 2; }
      expect(Math.abs(Math.sqrt(n2) - 1)).toBeLessThan(1e-5);
      expect(cos).toBeGreaterThanOrEqual(0.95);
      expect(l.random_baseline.n).toBe(100);
      expect(Math.abs(l.random_baseline.mean - 0.5)).toBeLessThanOrEqual(0.1);
      expect(l.permutation.permutations).toBe(1000);
      expect(l.permutation.p).toBeLessThan(0.01);
      lines.push(`L${l.layer} auroc ${l.auroc} cos ${cos.toFixed(4)} baseline ${l.random_baseline.mean.toFixed(4)} p ${l.permutation.p.toPrecision(3)}`);
    }
    expect(probeJson.best_auroc).toBe(1);
    process.stderr.write(`[probe-cli] ${lines.join('; ')}\n`);
  });

  it('captures every text exactly once, all layers in one pass', async () => {
    const train = readPairs(join(T, 'p.train.jsonl')), test = readPairs(join(T, 'p.test.jsonl'));
    const texts = [...train, ...test].flatMap((p) => [p.empathicText, p.nonEmpathicText]);
    expect(probeJson.capture_passes).toBe(1);
    expect(probeJson.texts_total).toBe(texts.length);
    // identical texts (the planted pair files hold a few) are captured once and shared
    expect(probeJson.texts_captured).toBe(new Set(texts).size);
    expect(probeJson.tokens).toBeGreaterThan(0);
  });

  it('writes probes with sidecars, validation.json and validation.md (Table 1 layout)', async () => {
    const dir = join(T, 'probes');
    const sha = createHash('sha256').update(readFileSync(join(T, 'p.gguf'))).digest('hex');
    const trainHash = datasetHash(readPairs(join(T, 'p.train.jsonl')));
    for (let l = 0; l < nLayer; l++) {
      const side = JSON.parse(readFileSync(join(dir, `layer${l}.json`), 'utf8'));
      expect(side).toMatchObject({ layer: l, pooling: 'mean', method: 'mean-diff', train_hash: trainHash, n_train: 70, width: nEmbd });
      expect(side.model.sha256).toBe(sha);
      expect(side.model.path).toContain('p.gguf');
    }
    const v = JSON.parse(readFileSync(join(dir, 'validation.json'), 'utf8'));
    expect(v.layers).toHaveLength(nLayer);
    expect(v.capture_passes).toBe(1);
    const md = readFileSync(join(dir, 'validation.md'), 'utf8');
    expect(md).toContain('| Layer | AUROC [95% CI] | Accuracy (median thr) | Accuracy (midpoint thr) | Mean emp | Mean non | Std emp | Std non | Separation |');
    for (let l = 0; l < nLayer; l++) expect(md).toMatch(new RegExp(`^\\| (\\*\\*)?${l}(\\*\\*)? \\| 1\\.000 \\[`, 'm'));
    expect(md).toContain('Random baseline');
    expect(md).toContain('Permutation test');
  });

  it('scores lexically ablated test texts with the same probes', async () => {
    const r = await ok(['probe', '--model', join(T, 'p.gguf'), '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'),
      '--layers', '1', '--random-baseline', '0', '--permutations', '0', '--ablate-words', 'sorry,help=aid', '--out', join(T, 'abl'), '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.capture_passes).toBe(1);
    expect(j.ablation.source).toMatch(/2 words/);
    expect(j.layers[0].ablation.auroc).toBeGreaterThan(0.5);
    expect(j.layers[0].random_baseline).toBeUndefined();
    expect(ablateText('Help! I help, helpful.', ['help=aid'])).toEqual({ text: 'Aid! I aid, helpful.', replacements: 2 });
  });

  it('correlates probe scores with rubric scores', async () => {
    const test = readPairs(join(T, 'p.test.jsonl'));
    // the paper's layout: five 2s, five 0s, two 1s
    const lines = test.slice(0, 6).flatMap((p, i) => [
      { text: p.empathicText, score: i < 5 ? 2 : 1 }, { text: p.nonEmpathicText, score: i < 5 ? 0 : 1 },
    ]);
    writeFileSync(join(T, 'scored.jsonl'), lines.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const j = JSON.parse((await ok(['correlate', '--model', join(T, 'p.gguf'), '--probe', join(T, 'probes', 'layer2.npy'), '--layer', '2',
      '--texts', join(T, 'scored.jsonl'), '--json'])).stdout);
    expect(j.n).toBe(12);
    expect(j.pearson.r).toBeGreaterThan(0.7);
    expect(j.pearson.p).toBeLessThan(0.05);
    expect(j.spearman.rho).toBeGreaterThan(0.7);
    expect(j.binary_accuracy.accuracy).toBe(1);
    expect(j.binary_accuracy.n).toBe(10);
  });

  it('aligns two planted models with different planted directions (Procrustes)', async () => {
    await ok(['synth', '--planted', '--planted-profile', 'easy', '--no-check', '--seed', '2', '--out', join(T, 'q.gguf')]);
    const j = JSON.parse((await ok(['align', '--model-a', join(T, 'p.gguf'), '--model-b', join(T, 'q.gguf'), '--train', join(T, 'p.train.jsonl'),
      '--test', join(T, 'p.test.jsonl'), '--layer-a', '3', '--layer-b', '2', '--k', '8', '--json'])).stdout);
    expect(j.procrustes.k).toBe(8);
    expect(j.auroc.source_a).toBe(1);
    expect(j.auroc.native_b).toBe(1);
    expect(j.auroc.carried_a_to_b).toBeGreaterThanOrEqual(0.95);
    expect(j.cosine_carried_native).toBeGreaterThan(0.9);
    expect(j.agreement.pearson.r).toBeGreaterThan(0.9);
  });
});

describe('stats on scores computed elsewhere', () => {
  it('auroc and both accuracies follow scikit-learn\'s definitions (with ties)', async () => {
    // pos {2, 3}, neg {1, 2}: AUROC = (1.5 + 2) / 4; median 2 (>=): 3/4; midpoint 2 (>): 3/4
    writeFileSync(join(T, 'ties.jsonl'), [[1, 0], [2, 1], [2, 0], [3, 1]].map(([s, l]) => JSON.stringify({ score: s, label: l })).join('\n'));
    const j = JSON.parse((await ok(['stats', 'auroc', '--input', join(T, 'ties.jsonl'), '--json'])).stdout);
    expect(j.auroc).toBeCloseTo(0.875, 12);
    expect(j.accuracy_median).toEqual({ threshold: 2, accuracy: 0.75 });
    expect(j.accuracy_midpoint).toEqual({ threshold: 2, accuracy: 0.75 });
    // no ties: scores 0.1 0.4 0.35 0.8, labels 0 0 1 1 (sklearn's doc example): AUROC 0.75
    writeFileSync(join(T, 'sk.json'), JSON.stringify({ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] }));
    const k = JSON.parse((await ok(['stats', 'auroc', '--input', join(T, 'sk.json'), '--json'])).stdout);
    expect(k.auroc).toBeCloseTo(0.75, 12);
    expect(k.accuracy_median.accuracy).toBe(0.5); // median 0.375: 0.4 (neg) and 0.35 (pos) on the wrong side
  });

  it('documents its input formats in --help', async () => {
    const h = (await ok(['stats', 'auroc', '--help'])).stdout;
    expect(h).toContain('"score"');
    expect(h).toContain('random_baseline_proper.json');
    expect(h).toContain('eia_correlation.json');
  });
});

describe('bad input gives clear errors', () => {
  it('pairs with a missing field name the line and field', async () => {
    const good = readFileSync(join(T, 'p.train.jsonl'), 'utf8').split('\n').filter(Boolean);
    const bad = JSON.parse(good[1]);
    delete bad.empathic_text;
    writeFileSync(join(T, 'bad.jsonl'), [good[0], JSON.stringify(bad), good[2]].join('\n') + '\n');
    await fails(['probe', '--model', join(T, 'p.gguf'), '--train', join(T, 'bad.jsonl'), '--test', join(T, 'p.test.jsonl'),
      '--layers', '1', '--out', join(T, 'x')], `bad.jsonl:2: missing field "empathic_text"`);
  });

  it('a probe of another width is refused', async () => {
    writeNpy(join(T, 'narrow.npy'), new Float32Array(nEmbd / 2).fill(1 / Math.sqrt(nEmbd / 2)));
    writeFileSync(join(T, 'three.jsonl'), ['a b c', 'help me', 'win the game'].map((t, i) => JSON.stringify({ text: t, score: i })).join('\n'));
    await fails(['correlate', '--model', join(T, 'p.gguf'), '--probe', join(T, 'narrow.npy'), '--layer', '1', '--texts', join(T, 'three.jsonl')],
      `probe/model width mismatch: ${join(T, 'narrow.npy')} has width ${nEmbd / 2} but the model's d_model is ${nEmbd}`);
  });

  it('an empty class is refused', async () => {
    writeFileSync(join(T, 'onecls.jsonl'), [1, 2, 3].map((s) => JSON.stringify({ score: s, label: 1 })).join('\n'));
    await fails(['stats', 'auroc', '--input', join(T, 'onecls.jsonl')], 'the negative class is empty');
    writeFileSync(join(T, 'empty.jsonl'), '\n');
    await fails(['probe', '--model', join(T, 'p.gguf'), '--train', join(T, 'empty.jsonl'), '--test', join(T, 'p.test.jsonl'),
      '--layers', '1', '--out', join(T, 'x')], 'no pairs (the empathic and non-empathic classes are empty)');
  });

  it('constant scores: correlation undefined, never NaN', async () => {
    writeFileSync(join(T, 'const.jsonl'), [1, 2, 3, 4].map((y) => JSON.stringify({ x: 0.5, y })).join('\n'));
    await fails(['stats', 'correlate', '--input', join(T, 'const.jsonl')], 'correlation is undefined: x is constant');
    await fails(['stats', 'correlate', '--input', join(T, 'const.jsonl'), '--json'], 'correlation is undefined: x is constant');
    writeFileSync(join(T, 'allsame.jsonl'), ['a b c', 'help me', 'win the game'].map((t) => JSON.stringify({ text: t, score: 2 })).join('\n'));
    await fails(['correlate', '--model', join(T, 'p.gguf'), '--probe', join(T, 'probes', 'layer1.npy'), '--texts', join(T, 'allsame.jsonl')],
      'correlation is undefined: y is constant');
  });

  it('usage errors exit 2', async () => {
    const r = await cli(['probe', '--model', join(T, 'p.gguf'), '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'),
      '--layers', '1,x', '--out', join(T, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--layers: 'x' is not an integer");
    expect(existsSync(join(T, 'x'))).toBe(false);
  });
});
