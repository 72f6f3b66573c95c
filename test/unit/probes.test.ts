import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetHash, parsePairs, parseScoredTexts, readPairs, readScoredTexts, splitPairs, type ContrastivePair } from '../../lib/probes/dataset.js';
import { loadProbe, loadProbes, saveProbe } from '../../lib/probes/probe-file.js';
import { fitLogistic, meanDiffDirection, pcaDirection, probeDirection, scoreWithProbe, trainProbe } from '../../lib/probes/probe.js';
import { auroc } from '../../lib/stats/auroc.js';
import { createRng } from '../../lib/stats/rng.js';
import { readNpy } from '../../lib/io/npy.js';


const pairLine = (o: Record<string, unknown>) => JSON.stringify(o);
const goodPair = { scenario_id: 'the_maze', empathic_text: 'I help.', non_empathic_text: 'I win.' };

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'probes-'));
  try { return fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

describe('datasets', () => {
  it('parses pairs and names file, line and field on malformed lines', () => {
    const ok = parsePairs([pairLine(goodPair), '', pairLine({ ...goodPair, source_model: 'x', run_id: 'r1' })].join('\n'), 'p.jsonl');
    expect(ok).toHaveLength(2);
    expect(ok[0]).toEqual({ scenarioId: 'the_maze', empathicText: 'I help.', nonEmpathicText: 'I win.' });
    expect(ok[1].sourceModel).toBe('x');
    const missing = [pairLine(goodPair), pairLine({ scenario_id: 'a', non_empathic_text: 'b' })].join('\n');
    expect(() => parsePairs(missing, 'pairs.jsonl')).toThrow('pairs.jsonl:2: missing field "empathic_text"');
    expect(() => parsePairs(`\n\n{bad json`, 'f.jsonl')).toThrow(/^f\.jsonl:3: invalid JSON/);
    expect(() => parsePairs(pairLine({ ...goodPair, scenario_id: 7 }), 'f.jsonl')).toThrow('f.jsonl:1: field "scenario_id" must be a string');
    expect(() => parsePairs(pairLine({ ...goodPair, non_empathic_text: '  ' }), 'f.jsonl')).toThrow('f.jsonl:1: field "non_empathic_text" is empty');
    expect(() => parsePairs('[1,2]', 'f.jsonl')).toThrow('f.jsonl:1: expected a JSON object');
  });

  it('reads files and reports the path', () => {
    withTmp((dir) => {
      const p = join(dir, 'bad.jsonl');
      writeFileSync(p, pairLine(goodPair) + '\n' + pairLine({ ...goodPair, empathic_text: undefined }) + '\n');
      expect(() => readPairs(p)).toThrow(`${p}:2: missing field "empathic_text"`);
      const s = join(dir, 'scored.jsonl');
      writeFileSync(s, '{"text": "I stop to help.", "score": 2, "scenario": "the_maze"}\n{"text": "Win.", "score": 0}\n');
      expect(readScoredTexts(s)).toEqual([{ text: 'I stop to help.', score: 2, scenario: 'the_maze' }, { text: 'Win.', score: 0 }]);
    });
  });

  it('parses scored texts strictly', () => {
    expect(() => parseScoredTexts('{"text": "a", "score": 3}', 's.jsonl')).toThrow('s.jsonl:1: field "score" must be 0, 1 or 2, got 3');
    expect(() => parseScoredTexts('{"text": "a", "score": 1}\n{"score": 1}', 's.jsonl')).toThrow('s.jsonl:2: missing field "text"');
    expect(() => parseScoredTexts('{"text": "a"}', 's.jsonl')).toThrow('s.jsonl:1: missing field "score"');
  });

  it('splits pairs reproducibly, disjointly and in input order', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = splitPairs(items, 0.3, 42);
    expect(a.test).toHaveLength(15);
    expect(a.train).toHaveLength(35);
    expect([...a.train, ...a.test].sort((x, y) => x - y)).toEqual(items);
    expect(a.train).toEqual([...a.train].sort((x, y) => x - y));
    expect(splitPairs(items, 0.3, 42)).toEqual(a);
    expect(splitPairs(items, 0.3, 43).test).not.toEqual(a.test);
    expect(splitPairs(items, 0, 1).test).toEqual([]);
    expect(() => splitPairs(items, 1.5, 1)).toThrow(/testFraction/);
  });

  it('hashes a pair set stably: content only, order-independent', () => {
    const p1: ContrastivePair = { scenarioId: 'a', empathicText: 'e1', nonEmpathicText: 'n1' };
    const p2: ContrastivePair = { scenarioId: 'b', empathicText: 'e2', nonEmpathicText: 'n2', runId: 'r' };
    const h = datasetHash([p1, p2]);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(datasetHash([p2, p1])).toBe(h);
    expect(datasetHash([p1, { ...p2, runId: 'other' }])).toBe(h);
    expect(datasetHash([p1, { ...p2, empathicText: 'e2!' }])).not.toBe(h);
    // the documented recipe, computed by hand
    const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
    expect(datasetHash([p1])).toBe(sha(`eia-pairs/1\n${sha(JSON.stringify(['a', 'e1', 'n1']))}`));
  });
});

describe('probe directions', () => {
  it('mean-diff = normalise(mean(emp) - mean(non))', () => {
    const d = meanDiffDirection([[1, 0, 0], [3, 2, 0]], [[0, 0, 0], [0, 0, 2]]);
    const s = Math.sqrt(6); // mean diff (2, 1, -1)
    expect(Array.from(d)).toEqual([2 / s, 1 / s, -1 / s].map(Math.fround));
    expect(probeDirection([[1, 0]], [[0, 0]])).toEqual(new Float32Array([1, 0]));
  });

  it('pca = top eigenvector of the (uncentred) second moment of paired differences, oriented emp > non', () => {
    const u = [1, 2, 0, -2, 0].map((v) => v / 3); // unit
    const w = [0, 0, 1, 0, 0]; // unit, orthogonal to u
    const rng = createRng(3);
    const c = [2, 3, 1, 5, 4, 3], e = [1, -2, 0.5, 1, -1, 2];
    const non = c.map(() => Array.from({ length: 5 }, () => rng.normal()));
    // differences exactly along u: the component is u itself
    const emp = non.map((row, i) => row.map((v, j) => v + c[i] * u[j]));
    const d = pcaDirection(emp, non);
    for (let j = 0; j < 5; j++) expect(d[j]).toBeCloseTo(u[j], 6);
    const flipped = pcaDirection(non.map((row, i) => row.map((v, j) => v - c[i] * u[j])), non);
    for (let j = 0; j < 5; j++) expect(flipped[j]).toBeCloseTo(-u[j], 6);
    // differences c_i u + e_i w: in the (u, w) plane the second moment is [[Scc, Sce], [Sce, See]];
    // its top eigenvector, in closed form, is (Sce, lambda - Scc) with lambda the larger eigenvalue
    const emp2 = non.map((row, i) => row.map((v, j) => v + c[i] * u[j] + e[i] * w[j]));
    let scc = 0, sce = 0, see = 0;
    c.forEach((ci, i) => { scc += ci * ci; sce += ci * e[i]; see += e[i] * e[i]; });
    const lambda = (scc + see) / 2 + Math.sqrt(((scc - see) / 2) ** 2 + sce * sce);
    let a = sce, b = lambda - scc;
    const nn = Math.hypot(a, b);
    a /= nn; b /= nn;
    if (a < 0) { a = -a; b = -b; } // mean difference is mostly +u
    const d2 = pcaDirection(emp2, non);
    for (let j = 0; j < 5; j++) expect(d2[j]).toBeCloseTo(a * u[j] + b * w[j], 6);
    expect(() => pcaDirection([[1, 2], [1, 3]], [[0, 0]])).toThrow(/paired rows/);
    expect(() => pcaDirection([[1, 2]], [[1, 2]])).toThrow(/identical/);
  });

  it('logistic satisfies the optimality conditions of the L2 objective (n < d and n >= d)', () => {
    const rng = createRng(5);
    for (const [n, d, l2] of [[20, 50, 1], [60, 3, 0.5]] as const) {
      const x = Array.from({ length: n }, (_, i) => Float32Array.from({ length: d }, () => rng.normal() * 3 + (i % 2) * 0.5));
      const y = x.map((_, i) => i % 2);
      const fit = fitLogistic(x, y, l2);
      expect(fit.converged).toBe(true);
      // gradient: sum_i (sigmoid(f_i) - y_i) x_i + l2 w = 0, and sum_i (sigmoid(f_i) - y_i) = 0
      const g = new Float64Array(d);
      let gb = 0;
      x.forEach((row, i) => {
        let f = fit.intercept;
        for (let j = 0; j < d; j++) f += row[j] * fit.weights[j];
        const r = 1 / (1 + Math.exp(-f)) - y[i];
        gb += r;
        for (let j = 0; j < d; j++) g[j] += r * row[j];
      });
      for (let j = 0; j < d; j++) expect(Math.abs(g[j] + l2 * fit.weights[j])).toBeLessThan(1e-8);
      expect(Math.abs(gb)).toBeLessThan(1e-8);
    }
  });

  it('logistic on a symmetric 1-D problem solves w = 2 (1 - sigmoid(w)), b = 0', () => {
    const fit = fitLogistic([[1], [-1]], [1, 0], 1);
    let lo = 0, hi = 5; // bisection, independent of Newton
    for (let i = 0; i < 200; i++) { const mid = (lo + hi) / 2; if (2 * (1 / (1 + Math.exp(-mid)) - 1) + mid > 0) hi = mid; else lo = mid; }
    expect(fit.weights[0]).toBeCloseTo(lo, 9);
    expect(Math.abs(fit.intercept)).toBeLessThan(1e-9);
    expect(probeDirection([[2, 1], [3, 1]], [[-2, 1], [-3, 1]], 'logistic')[0]).toBeCloseTo(1, 6);
  });

  it('all three methods separate a planted direction', () => {
    const rng = createRng(12);
    const d = 40, u = Float32Array.from({ length: d }, (_, j) => (j === 3 ? 1 : 0));
    const non = Array.from({ length: 30 }, () => Float32Array.from({ length: d }, () => rng.normal()));
    const emp = non.map((r) => r.map((v, j) => v + 3 * u[j] + 0.3 * rng.normal()));
    for (const method of ['mean-diff', 'pca', 'logistic'] as const) {
      const p = trainProbe(emp, non, { layer: 12, method, trainHash: 'abc', createdAt: 't' });
      expect(p).toMatchObject({ layer: 12, method, pooling: 'mean', nTrain: 60, trainHash: 'abc', createdAt: 't' });
      let nrm = 0;
      for (const v of p.direction) nrm += v * v;
      expect(Math.sqrt(nrm)).toBeCloseTo(1, 6);
      expect(p.direction[3]).toBeGreaterThan(0.5);
      const scores = scoreWithProbe(p, [...emp, ...non]);
      expect(auroc(scores, [...emp.map(() => 1), ...non.map(() => 0)])).toBeGreaterThan(0.9);
    }
  });

  it('rejects width mismatches, NaN activations and empty classes', () => {
    expect(() => meanDiffDirection([[1, 2]], [[1, 2, 3]])).toThrow(/width mismatch/);
    expect(() => meanDiffDirection([[1, 2], [3, 4]], [[1, NaN]])).toThrow(/non-empathic activations: row 0, column 1 is NaN/);
    expect(() => meanDiffDirection([], [[1, 2]])).toThrow(/empathic activations: no rows/);
    expect(() => meanDiffDirection([[1, 2]], [[1, 2]])).toThrow(/zero vector/);
    const p = trainProbe([[1, 0, 0]], [[0, 0, 0]], { layer: 3 });
    expect(() => scoreWithProbe(p, [[1, 2, 3, 4]])).toThrow('probe (layer 3) has width 3 but activation row 0 has width 4');
    expect(() => probeDirection([[1]], [[0]], 'svm' as never)).toThrow(/unknown probe method/);
  });
});

describe('probe files', () => {
  it('save/load round trip: float32 .npy + layer<L>.json sidecar', () => {
    withTmp((dir) => {
      const p = trainProbe([[1, 2, 3], [2, 2, 2]], [[0, 1, 0], [0, 0, 1]], {
        layer: 16, method: 'mean-diff', model: { path: '/m/phi3.gguf', sha256: 'ff' }, trainHash: 'h', createdAt: '2025-01-01T00:00:00Z',
      });
      const { npyPath, jsonPath } = saveProbe(dir, p);
      expect(npyPath).toBe(join(dir, 'layer16.npy'));
      expect(readNpy(npyPath).dtype).toBe('<f4');
      expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toEqual({
        format: 'eia-probe', version: 1, width: 3, layer: 16, pooling: 'mean', method: 'mean-diff',
        model: { path: '/m/phi3.gguf', sha256: 'ff' }, train_hash: 'h', n_train: 4, created_at: '2025-01-01T00:00:00Z', scale: 1,
      });
      // a trained probe is a unit direction: its magnitude (scale) is 1
      expect(loadProbe(npyPath)).toEqual({ ...p, scale: 1, fileNorm: expect.closeTo(1, 6) });  // the file's norm: what a note would report
      expect([...loadProbes(dir).keys()]).toEqual([16]);
      // a sidecar written before the snake_case rule (camelCase keys) loads the same
      const side = JSON.parse(readFileSync(jsonPath, 'utf8'));
      writeFileSync(jsonPath, JSON.stringify({ ...side, train_hash: undefined, n_train: undefined, created_at: undefined, scale: undefined, trainHash: 'h', nTrain: 4, createdAt: '2025-01-01T00:00:00Z' }));
      expect(loadProbe(npyPath)).toEqual({ ...p, scale: 1, fileNorm: expect.closeTo(1, 6) });  // the file's norm: what a note would report
      writeFileSync(jsonPath, JSON.stringify({ ...JSON.parse(readFileSync(jsonPath, 'utf8')), width: 5 }));
      expect(() => loadProbe(npyPath)).toThrow(/sidecar says width 5/);
      writeFileSync(jsonPath, JSON.stringify({ layer: 16, method: 'magic', pooling: 'mean', trainHash: '', nTrain: 0 }));
      expect(() => loadProbe(npyPath)).toThrow(/field "method" must be/);
    });
  });
});
