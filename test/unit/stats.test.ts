import { describe, expect, it } from 'vitest';
import { accuracyAtMedian, accuracyAtMidpoint, auroc, aurocFromClasses, classStats } from '../../lib/stats/auroc.js';
import { randomDirectionBaseline, summariseBaseline } from '../../lib/stats/baseline.js';
import { bootstrapAuroc, bootstrapMean } from '../../lib/stats/bootstrap.js';
import { pearson, spearman } from '../../lib/stats/correlation.js';
import { median, percentile } from '../../lib/stats/descriptive.js';
import { permutationTestAuroc } from '../../lib/stats/permutation.js';
import { createRng } from '../../lib/stats/rng.js';


/** O(n^2) pair counting: the textbook definition of AUROC, independent of the rank code. */
function bruteAuroc(scores: number[], labels: number[]): number {
  let u = 0, n = 0;
  for (let i = 0; i < scores.length; i++) if (labels[i] === 1) for (let j = 0; j < scores.length; j++) if (labels[j] === 0) {
    u += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    n++;
  }
  return u / n;
}

describe('AUROC (sklearn roc_auc_score)', () => {
  it('matches hand-counted pairs without ties', () => {
    // sklearn's documentation example: pairs (0.35>0.1) (0.35<0.4) (0.8>0.1) (0.8>0.4) -> 3/4
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 15);
    expect(auroc([1, 2, 3, 4], [1, 1, 0, 0])).toBe(0);
    expect(auroc([1, 2, 3, 4], [false, false, true, true])).toBe(1);
  });

  it('counts tied positive/negative pairs as 1/2', () => {
    // pos {1,2,3}, neg {1,2}: 1v1 .5, 1v2 0, 2v1 1, 2v2 .5, 3v1 1, 3v2 1 -> 4/6
    expect(auroc([1, 1, 2, 2, 3], [0, 1, 0, 1, 1])).toBeCloseTo(4 / 6, 15);
    expect(auroc([5, 5, 5, 5], [1, 0, 1, 0])).toBe(0.5);
    expect(aurocFromClasses([2, 2], [2, 1, 0])).toBeCloseTo((0.5 + 1 + 1) * 2 / 6, 15);
  });

  it('equals pair counting on random inputs with many ties', () => {
    const rng = createRng(7);
    for (let t = 0; t < 20; t++) {
      const n = 5 + rng.int(60);
      const scores = Array.from({ length: n }, () => rng.int(6));
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rng.int(2)));
      expect(auroc(scores, labels)).toBeCloseTo(bruteAuroc(scores, labels), 12);
    }
  });

  it('rejects an empty class, NaN and malformed labels', () => {
    expect(() => auroc([1, 2, 3], [1, 1, 1])).toThrow(/negative class is empty/);
    expect(() => auroc([1, 2, 3], [0, 0, 0])).toThrow(/positive class is empty/);
    expect(() => auroc([1, NaN, 3], [0, 1, 1])).toThrow(/NaN at index 1/);
    expect(() => auroc([1, 2], [0, 1, 1])).toThrow(/differ in length/);
    expect(() => auroc([1, 2], [0, 2])).toThrow(/label at index 1 is 2/);
    expect(() => classStats([1, 2], [1, 1])).toThrow(/empty/);
  });
});

describe('accuracies and class statistics', () => {
  it('median threshold: numpy median of all scores, score >= threshold predicts positive', () => {
    // even n: median (3 + 4) / 2 = 3.5 -> predictions 0 0 0 1 1 1 vs labels 0 0 1 0 1 1
    expect(accuracyAtMedian([1, 2, 3, 4, 5, 6], [0, 0, 1, 0, 1, 1])).toEqual({ threshold: 3.5, accuracy: 4 / 6 });
    // the negative sitting on the median counts as positive (>=): 2 of 3, not 3 of 3
    expect(accuracyAtMedian([1, 2, 3], [0, 0, 1])).toEqual({ threshold: 2, accuracy: 2 / 3 });
    expect(accuracyAtMedian([1, 2, 2, 3], [0, 1, 0, 1])).toEqual({ threshold: 2, accuracy: 0.75 });
  });

  it('midpoint threshold: (mean pos + mean neg) / 2, strictly greater predicts positive', () => {
    // pos {3, 1} mean 2, neg {0, 0} mean 0 -> t = 1; the positive at 1 is NOT above it
    expect(accuracyAtMidpoint([3, 1, 0, 0], [1, 1, 0, 0])).toEqual({ threshold: 1, accuracy: 0.75 });
    expect(accuracyAtMidpoint([1, 2, 3, 4, 5, 6], [0, 0, 1, 0, 1, 1])).toEqual({ threshold: 3.5, accuracy: 4 / 6 });
  });

  it('class means, population stds (ddof 0) and separation', () => {
    const s = classStats([1, 0, 3, 0, 6], [1, 0, 1, 0, 0]);
    expect(s.meanPos).toBe(2);
    expect(s.meanNeg).toBe(2);
    expect(s.stdPos).toBe(1); // sqrt(((1-2)^2 + (3-2)^2) / 2)
    expect(s.stdNeg).toBeCloseTo(Math.sqrt(8), 14); // sqrt((4 + 4 + 16) / 3)
    expect(s.separation).toBe(0);
    expect([s.nPos, s.nNeg]).toEqual([2, 3]);
  });

  it('median and percentile follow numpy (linear interpolation)', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 14); // pos .95*3 = 2.85
    expect(percentile([10], 95)).toBe(10);
  });
});

describe('correlation', () => {
  it('Pearson r and its t-test p on a hand example (df = 2: p = 1 - |r| in closed form)', () => {
    // dx = dy up to a swap: sxy = 4, sxx = syy = 5 -> r = 0.8
    const c = pearson([1, 2, 3, 4], [1, 3, 2, 4]);
    expect(c.r).toBeCloseTo(0.8, 14);
    expect(c.df).toBe(2);
    expect(c.p).toBeCloseTo(0.2, 12);
  });

  it('Spearman uses average ranks for ties (df = 1: p = 1 - 2 asin|r| / pi)', () => {
    // ranks x [1, 2.5, 2.5, 4] vs [1, 2, 3, 4]: r = 4.5 / sqrt(4.5 * 5)
    const s = spearman([1, 2, 2, 3], [10, 20, 30, 40]);
    expect(s.r).toBeCloseTo(4.5 / Math.sqrt(22.5), 14);
    expect(s.p).toBeCloseTo(1 - 4.5 / Math.sqrt(22.5), 12);
    const t = pearson([1, 2, 3], [1, 3, 2]); // r = 0.5
    expect(t.r).toBeCloseTo(0.5, 14);
    expect(t.p).toBeCloseTo(1 - (2 * Math.asin(0.5)) / Math.PI, 12);
    expect(pearson([1, 2, 3], [2, 4, 6]).p).toBe(0);
  });

  it('throws, never NaN, when the correlation is undefined', () => {
    expect(() => pearson([1, 1, 1, 1], [1, 2, 3, 4])).toThrow(/undefined: x is constant/);
    expect(() => spearman([1, 2, 3, 4], [5, 5, 5, 5])).toThrow(/undefined: y is constant/);
    expect(() => pearson([1, 2], [2, 1])).toThrow(/undefined for n < 3/);
    expect(() => pearson([1, 2, NaN], [2, 1, 0])).toThrow(/non-finite/);
  });
});

describe('bootstrap', () => {
  it('is seeded and covers the estimate', () => {
    const rng = createRng(1);
    const scores = Array.from({ length: 200 }, (_, i) => rng.normal() + (i % 2));
    const labels = scores.map((_, i) => i % 2);
    const a = bootstrapAuroc(scores, labels, { seed: 3 });
    expect(bootstrapAuroc(scores, labels, { seed: 3 })).toEqual(a);
    expect(bootstrapAuroc(scores, labels, { seed: 4 }).lower).not.toBe(a.lower);
    expect(a.resamples).toBe(1000);
    expect(a.confidence).toBe(0.95);
    expect(a.estimate).toBe(auroc(scores, labels));
    expect(a.lower).toBeLessThan(a.estimate);
    expect(a.upper).toBeGreaterThan(a.estimate);
  });

  it('resamples each class separately and scores ties as 1/2 (exact resampling distribution)', () => {
    // pos {1}, neg {1, 0}: two negative draws -> AUROC 0.5 (both 1), 0.75, 1 with prob 1/4, 1/2, 1/4
    const b = bootstrapAuroc([1, 1, 0], [1, 0, 0], { resamples: 20000, seed: 9 });
    expect(b.lower).toBe(0.5);
    expect(b.upper).toBe(1);
    expect(b.se).toBeCloseTo(Math.sqrt(0.03125), 2);
    expect(bootstrapAuroc([3, 4, 1, 2], [1, 1, 0, 0], { seed: 1 })).toMatchObject({ estimate: 1, lower: 1, upper: 1, se: 0 });
  });

  it('standard error agrees with Hanley-McNeil for AUROC and sigma/sqrt(n) for a mean', () => {
    const rng = createRng(11);
    const n = 300;
    const scores = [...Array.from({ length: n }, () => rng.normal() + 1), ...Array.from({ length: n }, () => rng.normal())];
    const labels = scores.map((_, i) => (i < n ? 1 : 0));
    const A = auroc(scores, labels);
    const q1 = A / (2 - A), q2 = (2 * A * A) / (1 + A);
    const hm = Math.sqrt((A * (1 - A) + (n - 1) * (q1 - A * A) + (n - 1) * (q2 - A * A)) / (n * n));
    const b = bootstrapAuroc(scores, labels, { resamples: 2000, seed: 5 });
    expect(b.se / hm).toBeGreaterThan(0.85);
    expect(b.se / hm).toBeLessThan(1.15);
    const m = bootstrapMean(scores.slice(n), { resamples: 2000, seed: 6 });
    expect(m.se / (1 / Math.sqrt(n))).toBeGreaterThan(0.85);
    expect(m.se / (1 / Math.sqrt(n))).toBeLessThan(1.15);
  });

  it('rejects bad options', () => {
    expect(() => bootstrapAuroc([1, 2], [0, 1], { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapAuroc([1, 2], [0, 1], { confidence: 1 })).toThrow(/confidence/);
    expect(() => bootstrapAuroc([1, 2], [1, 1])).toThrow(/empty/);
  });
});

describe('permutation test', () => {
  it('p for perfect separation of 5 vs 5 is near the exact 1/252', () => {
    const r = permutationTestAuroc([6, 7, 8, 9, 10, 1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], { permutations: 5000, seed: 2 });
    expect(r.observed).toBe(1);
    expect(r.p).toBeGreaterThan(0.002);
    expect(r.p).toBeLessThan(0.007);
    expect(Math.abs(r.nullMean - 0.5)).toBeLessThan(0.02);
  });

  it('p = 1 when the observed AUROC is the worst possible', () => {
    expect(permutationTestAuroc([1, 2, 3, 4], [1, 1, 0, 0], { permutations: 200, seed: 1 }).p).toBe(1);
  });
});

describe('random-direction baseline', () => {
  it('summarises hand-checkable AUROCs like numpy', () => {
    const s = summariseBaseline([0.8, 0.2, 0.6, 0.4], 0.7);
    expect(s.mean).toBeCloseTo(0.5, 15);
    expect(s.median).toBeCloseTo(0.5, 15);
    expect(s.std).toBeCloseTo(Math.sqrt(0.05), 15);
    expect(s.p95).toBeCloseTo(0.77, 15); // 0.6 + 0.85 * 0.2
    expect(s.z).toBeCloseTo(0.2 / Math.sqrt(0.05), 12);
    expect(s.empiricalP).toBe(2 / 5);
    expect([s.min, s.max]).toEqual([0.2, 0.8]);
    expect(summariseBaseline([0.5, 0.5], 1).z).toBeNull();
  });

  it('in one dimension every random direction is +1 or -1, so each AUROC is a or 1 - a', () => {
    const rows = [[0.3], [1.2], [-0.5], [2.0], [0.1], [0.9]];
    const labels = [1, 1, 0, 1, 0, 0];
    const a = auroc(rows.map((r) => r[0]), labels);
    const { aurocs, summary } = randomDirectionBaseline(rows, labels, a, { n: 200, seed: 4 });
    let plus = 0;
    for (const v of aurocs) {
      const isPlus = Math.abs(v - a) < 1e-12;
      expect(isPlus || Math.abs(v - (1 - a)) < 1e-12).toBe(true);
      if (isPlus) plus++;
    }
    expect(plus).toBeGreaterThan(70);
    expect(plus).toBeLessThan(130);
    expect(summary.n).toBe(200);
    expect(randomDirectionBaseline(rows, labels, a, { n: 200, seed: 4 }).aurocs).toEqual(aurocs);
  });

  it('random directions on label-free data centre on 0.5', () => {
    const rng = createRng(8);
    const rows = Array.from({ length: 40 }, () => Float32Array.from({ length: 32 }, () => rng.normal()));
    const labels = rows.map((_, i) => i % 2);
    const { summary } = randomDirectionBaseline(rows, labels, 1, { n: 300, seed: 1 });
    expect(Math.abs(summary.mean - 0.5)).toBeLessThan(0.03);
    expect(() => randomDirectionBaseline([[1, 2], [1, NaN]], [0, 1], 1)).toThrow(/row 1, column 1 is NaN/);
    expect(() => randomDirectionBaseline([[1, 2], [1, 3]], [1, 1], 1)).toThrow(/negative class is empty/);
  });
});
