// The paper's binary accuracy comes in two conventions, one per result file: `stats correlate`
// reports both, labelled, and says which one reproduces a file's own figure. The paper's files are
// read from ../shared/reference/empathy-probes (those tests are skipped, saying why, when absent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binaryAccuracy02, binaryAccuracyAllItems } from '../../lib/stats/correlation.js';
import { correlationReport } from '../../lib/stats/correlation-report.js';
import { runCli } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const refDir = resolve(root, '../shared/reference/empathy-probes');
const crossFile = join(refDir, 'results', 'cross_model_correlation.json');
const phi3File = join(refDir, 'results', 'eia_correlation.json');
const ABSENT = `the paper's result files are not at ${refDir}`;

// child processes run asynchronously: a long spawnSync would stall the vitest worker's RPC
const cli = runCli;
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

let T = '';
beforeAll(async () => {
  requireFreshDist();
  T = mkdtempSync(join(tmpdir(), 'correlate-conv-'));
}, 120_000);
afterAll(() => { if (T) rmSync(T, { recursive: true, force: true }); });

describe('the two binary-accuracy conventions', () => {
  // six texts: rubric 2, 2, 1, 1, 0, 0 with probe scores chosen so that the conventions disagree
  const probe = [5, 1, 4, 0, 3, -1], rubric = [2, 2, 1, 1, 0, 0];

  it('0-vs-2 leaves the score-1 texts out and thresholds at the median of the rest', () => {
    const b = binaryAccuracy02(probe, rubric);
    // scores of the 0/2 texts: 5, 1, 3, -1 -> median 2; predicted high: 5, 3
    expect(b).toMatchObject({ convention: '0-vs-2', n: 4, threshold: 2, confusion: [[1, 1], [1, 1]], accuracy: 0.5 });
  });

  it('all-items counts score 1 as low and thresholds at the median of all texts', () => {
    const b = binaryAccuracyAllItems(probe, rubric);
    // median of all six = (1 + 3) / 2 = 2; predicted high: 5, 4, 3; true high: the two 2s
    expect(b).toMatchObject({ convention: 'all-items', n: 6, threshold: 2, confusion: [[2, 2], [1, 1]] });
    expect(b.accuracy).toBeCloseTo(3 / 6, 15);
  });

  it('rejects rubric scores other than 0/1/2 and classes that are empty', () => {
    expect(() => binaryAccuracyAllItems([1, 2, 3], [0, 3, 2])).toThrow(/rubric score at index 1 is 3/);
    expect(() => binaryAccuracyAllItems([1, 2, 3], [0, 1, 0])).toThrow(/no rubric-2 texts/);
    expect(() => binaryAccuracyAllItems([1, 2, 3], [2, 2, 2])).toThrow(/no rubric-0 or rubric-1 texts/);
    expect(() => binaryAccuracy02([1, 2, 3], [1, 1, 2])).toThrow(/no rubric-0 texts/);
    expect(() => binaryAccuracyAllItems([1, NaN, 3], [0, 1, 2])).toThrow(/non-finite/);
  });

  it('a report names which convention reproduces a stated figure, and how the stated confusion is laid out', () => {
    const r = correlationReport(probe, rubric, { binaryAccuracy: 0.5, confusion: [[2, 1], [2, 1]] });
    expect(r.binaryAccuracy!.label).toMatch(/scored 0 or 2 only/);
    expect(r.binaryAccuracyAllItems!.label).toMatch(/score 2 = high, scores 0 and 1 = low/);
    expect(r.published!.accuracyMatches).toEqual(['0-vs-2', 'all-items']);
    expect(r.published!.confusionLayout).toEqual({ '0-vs-2': 'differs', 'all-items': 'rows = predicted class (ours transposed)' });
    expect(correlationReport(probe, rubric, { binaryAccuracy: 0.9 }).published!.accuracyMatches).toEqual([]);
    // not a rubric: no binary accuracy, said why
    const nr = correlationReport([1, 2, 3, 4], [0.5, 1, 1.5, 3]);
    expect(nr.binaryAccuracy).toBeNull();
    expect(nr.binaryAccuracyNote).toMatch(/rubric scores 0, 1 or 2/);
  });
});

describe('stats correlate on the paper\'s result files', () => {
  it('cross_model_correlation.json: every model, Pearson/Spearman exact, 0.4167 and 0.5833 under all-items', async (ctx) => {
    if (!existsSync(crossFile)) ctx.skip(ABSENT);
    const ref = JSON.parse(readFileSync(crossFile, 'utf8'));
    const j = JSON.parse(await ok(['stats', 'correlate', '--input', crossFile, '--json']));
    expect(j.models.map((m: { model: string }) => m.model)).toEqual(Object.keys(ref));
    const got: Record<string, [number, number]> = {};
    for (const m of j.models) {
      const f = ref[m.model];
      expect(m.n).toBe(12);
      expect(m.pearson.r).toBeCloseTo(f.pearson_correlation, 12);
      expect(m.spearman.rho).toBeCloseTo(f.spearman_correlation, 12);
      // the file's figure is the all-items one; its confusion matrix is ours transposed
      expect(m.binary_accuracy_all_items.accuracy).toBeCloseTo(f.binary_accuracy, 12);
      const c = m.binary_accuracy_all_items.confusion;
      expect([[c[0][0], c[1][0]], [c[0][1], c[1][1]]]).toEqual(f.confusion_matrix);
      expect(m.binary_accuracy_all_items.n).toBe(12);
      expect(m.binary_accuracy.n).toBe(10);
      expect(m.published.accuracy_matches).toEqual(['all-items']);
      expect(m.published.confusion_layout['all-items']).toBe('rows = predicted class (ours transposed)');
      got[m.model] = [m.binary_accuracy.accuracy, m.binary_accuracy_all_items.accuracy];
    }
    expect(got['qwen2.5-7b'][0]).toBeCloseTo(0.4, 12);
    expect(got['qwen2.5-7b'][1].toFixed(4)).toBe('0.4167');
    expect(got['dolphin-llama-3.1-8b'][0]).toBeCloseTo(0.6, 12);
    expect(got['dolphin-llama-3.1-8b'][1].toFixed(4)).toBe('0.5833');
  });

  it('eia_correlation.json (Phi-3): 1.0 with [[5, 0], [0, 5]] under 0-vs-2; one model\'s object alone is accepted too', async (ctx) => {
    if (!existsSync(phi3File) || !existsSync(crossFile)) ctx.skip(ABSENT);
    const ref = JSON.parse(readFileSync(phi3File, 'utf8'));
    const j = JSON.parse(await ok(['stats', 'correlate', '--input', phi3File, '--json']));
    expect(j.binary_accuracy.accuracy).toBe(ref.binary_accuracy);
    expect(j.binary_accuracy.accuracy).toBe(1);
    expect(j.binary_accuracy.confusion).toEqual(ref.confusion_matrix);
    expect(j.binary_accuracy_all_items.accuracy).toBeCloseTo(11 / 12, 12);
    expect(j.published.accuracy_matches).toEqual(['0-vs-2']);
    // a per-model object of cross_model_correlation.json, on its own
    const q = JSON.parse(readFileSync(crossFile, 'utf8'))['qwen2.5-7b'];
    writeFileSync(join(T, 'qwen.json'), JSON.stringify(q));
    const jq = JSON.parse(await ok(['stats', 'correlate', '--input', join(T, 'qwen.json'), '--json']));
    expect(jq.model).toBe('qwen2.5-7b');
    expect(jq.binary_accuracy_all_items.accuracy).toBeCloseTo(q.binary_accuracy, 12);
    // the text output labels both conventions and says which reproduces the file
    const text = await ok(['stats', 'correlate', '--input', crossFile]);
    expect(text).toMatch(/qwen2\.5-7b: n = 12/);
    expect(text).toMatch(/binary accuracy \[0-vs-2\] = 0\.4000/);
    expect(text).toMatch(/binary accuracy \[all-items\] = 0\.4167/);
    expect(text).toMatch(/binary accuracy 0\.5833 \(reproduced by all-items\)/);
  });

  it('an object that is neither a result object nor a map of them is an error that names the accepted shapes', async () => {
    writeFileSync(join(T, 'bad.json'), JSON.stringify({ a: { b: 1 } }));
    const r = await cli(['stats', 'correlate', '--input', join(T, 'bad.json')]);
    expect(r.status).toBe(2);  // bad input (E_BAD_ARG) exits 2
    expect(r.stderr).toMatch(/cross_model_correlation\.json/);
  });
});
