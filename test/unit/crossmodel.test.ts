import { describe, expect, it } from 'vitest';
import { carryDirection, crossModelTransfer, fitProcrustes, mapAToB, mapBToA, scoreAgreement } from '../../lib/probes/crossmodel.js';
import { auroc } from '../../lib/stats/auroc.js';
import { pearson } from '../../lib/stats/correlation.js';
import { jacobiSvd, symmetricEigen, type Mat } from '../../lib/stats/linalg.js';
import { createRng } from '../../lib/stats/rng.js';

const mat = (rows: number[][]): Mat => ({ rows: rows.length, cols: rows[0].length, data: Float64Array.from(rows.flat()) });
const at = (m: Mat, i: number, j: number) => m.data[i * m.cols + j];

/** Random orthonormal rows (r x c, r <= c) by Gram-Schmidt on Gaussian vectors. */
function orthonormalRows(r: number, c: number, seed: number): number[][] {
  const rng = createRng(seed);
  const out: number[][] = [];
  while (out.length < r) {
    const v = Array.from({ length: c }, () => rng.normal());
    for (const q of out) { const d = v.reduce((s, x, j) => s + x * q[j], 0); for (let j = 0; j < c; j++) v[j] -= d * q[j]; }
    const n = Math.hypot(...v);
    out.push(v.map((x) => x / n));
  }
  return out;
}

describe('small linear algebra', () => {
  it('Jacobi SVD: known singular values, reconstruction and orthogonality', () => {
    // M^T M = [[25, 20], [20, 25]] -> eigenvalues 45, 5
    const { s } = jacobiSvd(mat([[3, 0], [4, 5]]));
    expect(s[0]).toBeCloseTo(Math.sqrt(45), 12);
    expect(s[1]).toBeCloseTo(Math.sqrt(5), 12);
    const rng = createRng(2);
    const m = mat(Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => rng.normal())));
    const { u, s: sv, v } = jacobiSvd(m);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
      let rec = 0, uu = 0, vv = 0;
      for (let k = 0; k < 6; k++) { rec += at(u, i, k) * sv[k] * at(v, j, k); uu += at(u, k, i) * at(u, k, j); vv += at(v, k, i) * at(v, k, j); }
      expect(rec).toBeCloseTo(at(m, i, j), 10);
      expect(uu).toBeCloseTo(i === j ? 1 : 0, 10);
      expect(vv).toBeCloseTo(i === j ? 1 : 0, 10);
    }
    for (let k = 1; k < 6; k++) expect(sv[k]).toBeLessThanOrEqual(sv[k - 1]);
    // rank 1: [[1, 2], [2, 4]] = 5 * (1,2)/sqrt5 (1,2)/sqrt5 -> s = (5, 0), U still orthogonal
    const r1 = jacobiSvd(mat([[1, 2], [2, 4]]));
    expect(r1.s[0]).toBeCloseTo(5, 12);
    expect(r1.s[1]).toBeCloseTo(0, 12);
    expect(at(r1.u, 0, 0) * at(r1.u, 0, 1) + at(r1.u, 1, 0) * at(r1.u, 1, 1)).toBeCloseTo(0, 12);
  });

  it('symmetric Jacobi eigendecomposition', () => {
    const { values, vectors } = symmetricEigen(mat([[2, 1], [1, 2]]));
    expect(Array.from(values)).toEqual([expect.closeTo(3, 12), expect.closeTo(1, 12)]);
    expect(Math.abs(at(vectors, 0, 0))).toBeCloseTo(Math.SQRT1_2, 12);
    expect(at(vectors, 0, 0) * at(vectors, 1, 0)).toBeGreaterThan(0); // (1, 1) direction for 3
  });
});

describe('cross-model alignment', () => {
  it('score agreement is Pearson and Spearman of the two score vectors', () => {
    const a = scoreAgreement([1, 2, 3, 4], [1, 3, 2, 4]);
    expect(a.pearson.r).toBeCloseTo(0.8, 14);
    expect(a.spearman.r).toBeCloseTo(0.8, 14);
    expect(() => scoreAgreement([1, 1, 1], [1, 2, 3])).toThrow(/undefined/);
  });

  it('recovers an exact rotation of the same space', () => {
    const rng = createRng(4);
    const q = orthonormalRows(5, 5, 9);
    const a = Array.from({ length: 40 }, () => Array.from({ length: 5 }, () => rng.normal() * 2));
    const b = a.map((r) => q[0].map((_, j) => r.reduce((s, x, i) => s + x * q[i][j], 0) + 10)); // a Q + 10
    const train = Array.from({ length: 30 }, (_, i) => i), test = Array.from({ length: 10 }, (_, i) => 30 + i);
    const al = fitProcrustes(a, b, train, { k: 5 });
    expect(al.residual).toBeLessThan(1e-10);
    // held-out rows: A mapped into B's PCA coordinates equals B's own coordinates
    const mapped = mapAToB(al, test.map((i) => a[i]));
    const own = mapBToA(al, test.map((i) => b[i])); // back into A's coordinates
    for (let t = 0; t < test.length; t++) {
      const bRow = b[test[t]];
      for (let c = 0; c < 5; c++) {
        let coord = 0;
        for (let j = 0; j < 5; j++) coord += (bRow[j] - al.meanB[j]) * at(al.basisB, j, c);
        expect(at(mapped, t, c)).toBeCloseTo(coord, 9);
        let coordA = 0;
        for (let j = 0; j < 5; j++) coordA += (a[test[t]][j] - al.meanA[j]) * at(al.basisA, j, c);
        expect(at(own, t, c)).toBeCloseTo(coordA, 9);
      }
    }
  });

  it('carries a probe through an isometric embedding into a wider model without loss', () => {
    const rng = createRng(6);
    const dA = 6, dB = 10, n = 60;
    const m = orthonormalRows(dA, dB, 21); // dA x dB, M M^T = I
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const a = labels.map((y) => Array.from({ length: dA }, (_, j) => rng.normal() + (j === 0 ? 1.2 * y : 0)));
    const b = a.map((r) => m[0].map((_, j) => r.reduce((s, x, i) => s + x * m[i][j], 0) - 3));
    const trainIdx = Array.from({ length: 40 }, (_, i) => i), testIdx = Array.from({ length: 20 }, (_, i) => 40 + i);
    const res = crossModelTransfer({ a, b, labels, trainIdx, testIdx, k: dA });
    expect(res.alignment.residual).toBeLessThan(1e-10);
    expect(res.aurocCarried).toBeCloseTo(res.aurocSource, 12);
    // carried scores on B are an affine image of A's scores on A
    const probeA = carryDirection(res.alignment, new Float32Array([1, 0, 0, 0, 0, 0]));
    const sB = testIdx.map((i) => b[i].reduce((s, x, j) => s + x * probeA[j], 0));
    expect(pearson(sB, testIdx.map((i) => a[i][0])).r).toBeGreaterThan(1 - 1e-6);
    expect(res.carriedDirection.length).toBe(dB);
    expect(res.aurocNative).toBe(auroc(testIdx.map((i) => b[i].reduce((s, x, j) => s + x * res.nativeDirection[j], 0)), testIdx.map((i) => labels[i])));
  });

  it('transfers a planted direction across a noisy non-orthogonal map with the default k', () => {
    const rng = createRng(8);
    const dA = 24, dB = 32, n = 120;
    const w = Array.from({ length: dA }, () => Array.from({ length: dB }, () => rng.normal() / Math.sqrt(dA)));
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    const a = labels.map((y) => Array.from({ length: dA }, (_, j) => rng.normal() * (j === 0 ? 1.5 : j < 5 ? 3 : 1) + (j === 0 ? 3 * y : 0)));
    const b = a.map((r) => w[0].map((_, j) => r.reduce((s, x, i) => s + x * w[i][j], 0) + 0.05 * rng.normal()));
    const trainIdx = Array.from({ length: 80 }, (_, i) => i), testIdx = Array.from({ length: 40 }, (_, i) => 80 + i);
    const res = crossModelTransfer({ a, b, labels, trainIdx, testIdx });
    expect(res.alignment.k).toBe(16);
    expect(res.aurocSource).toBeGreaterThan(0.8);
    expect(res.aurocCarried).toBeGreaterThan(0.8);
    expect(Math.abs(res.aurocCarried - res.aurocNative)).toBeLessThan(0.1);
    expect(res.agreement!.pearson.r).toBeGreaterThan(0.8);
  });

  it('gives clear errors for mismatched inputs', () => {
    const a = [[1, 2], [2, 1], [0, 0], [3, 3]], b = [[1], [2], [3], [4]];
    expect(() => fitProcrustes(a, b.slice(1), [0, 1, 2])).toThrow(/same texts/);
    expect(() => fitProcrustes(a, b, [0, 1, 2], { k: 2 })).toThrow(/k must be an integer in \[1, 1\]/);
    expect(() => fitProcrustes(a, b, [0, 9])).toThrow(/index 9 is out of range/);
    const al = fitProcrustes(a, b, [0, 1, 2, 3], { k: 1 });
    expect(() => carryDirection(al, [1, 2, 3])).toThrow(/probe width 3 does not match model A's width 2/);
    expect(() => mapAToB(al, [[1, 2, 3]])).toThrow(/width mismatch/);
  });
});
