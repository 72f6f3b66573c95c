// Cross-model comparison. The paper only correlated two models' probe scores on the same texts
// (and found little agreement); it named Procrustes alignment as future work. This module does
// both: score agreement, and carrying one model's probe into another model's activation space
// through an orthogonal map fitted on shared training texts.

import { auroc, type Labels } from '../stats/auroc.js';
import { pearson, spearman, type CorrelationResult } from '../stats/correlation.js';
import { jacobiSvd, matmul, symmetricEigen, transpose, zeros, type Mat } from '../stats/linalg.js';
import type { Numbers } from '../stats/descriptive.js';
import { checkRows, dot, type Rows } from '../stats/rows.js';
import { meanDiffDirection } from './probe.js';
import { EiaError } from '../util/errors.js';

/** Pearson and Spearman agreement of two models' scores on the same texts. */
export interface ScoreAgreement {
  n: number;
  pearson: CorrelationResult;
  spearman: CorrelationResult;
}

/** Agreement of two score vectors over the same texts (same order). */
export function scoreAgreement(scoresA: Numbers, scoresB: Numbers): ScoreAgreement {
  return { n: scoresA.length, pearson: pearson(scoresA, scoresB), spearman: spearman(scoresA, scoresB) };
}

/** A fitted orthogonal Procrustes alignment between two models' PCA spaces (see {@link fitProcrustes}). */
export interface ProcrustesAlignment {
  k: number;
  dA: number;
  dB: number;
  /** train-row means used for centring */
  meanA: Float64Array;
  meanB: Float64Array;
  /** dA x k and dB x k, orthonormal columns: the top-k principal axes of each model's train rows */
  basisA: Mat;
  basisB: Mat;
  /** k x k orthogonal R minimising ||A_k R - B_k||_F */
  rotation: Mat;
  /** singular values of A_k^T B_k, descending */
  singularValues: Float64Array;
  /** ||A_k R - B_k||_F / ||B_k||_F on the train rows (0 = perfect fit) */
  residual: number;
}

function pick(rows: Rows, idx: ArrayLike<number>, what: string): ArrayLike<number>[] {
  const out: ArrayLike<number>[] = [];
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i];
    if (!Number.isInteger(j) || j < 0 || j >= rows.length) throw new EiaError('E_BAD_ARG', `${what}: index ${j} is out of range 0..${rows.length - 1}`);
    out.push(rows[j]);
  }
  return out;
}

/** Centres rows on their mean; returns the n x d centred matrix and the mean. */
function centre(rows: ArrayLike<number>[], d: number): { x: Mat; mu: Float64Array } {
  const n = rows.length;
  const mu = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mu[j] += r[j] / n;
  const x = zeros(n, d);
  rows.forEach((r, i) => { for (let j = 0; j < d; j++) x.data[i * d + j] = r[j] - mu[j]; });
  return { x, mu };
}

/**
 * Top-k principal axes (d x k, orthonormal columns) of centred rows X (n x d): eigenvectors of
 * the smaller of X X^T (then axis = X^T u / sqrt(lambda)) and X^T X. Fails if rank < k.
 */
function principalAxes(x: Mat, k: number, what: string): Mat {
  const n = x.rows, d = x.cols;
  const axes = zeros(d, k);
  const xt = transpose(x);
  const gram = n <= d ? matmul(x, xt) : matmul(xt, x);
  const { values, vectors } = symmetricEigen(gram);
  const tol = 1e-10 * Math.max(values[0], 0);
  for (let c = 0; c < k; c++) {
    if (!(values[c] > tol)) throw new EiaError('E_BAD_ARG', `${what}: the centred train rows have rank ${c} < k = ${k}; lower k`);
    const m = vectors.rows;
    if (n <= d) {
      const s = 1 / Math.sqrt(values[c]);
      for (let j = 0; j < d; j++) {
        let v = 0;
        for (let i = 0; i < n; i++) v += xt.data[j * n + i] * vectors.data[i * m + c];
        axes.data[j * k + c] = v * s;
      }
    } else for (let j = 0; j < d; j++) axes.data[j * k + c] = vectors.data[j * m + c];
  }
  return axes;
}

/**
 * Orthogonal Procrustes alignment of model A's pooled activations to model B's, fitted on the
 * train rows only. Recipe:
 *  1. centre A and B on their train-row means muA, muB;
 *  2. project each onto its own top-k principal axes PA (dA x k), PB (dB x k):
 *     A_k = (A - muA) PA, B_k = (B - muB) PB, with k <= min(nTrain - 1, dA, dB)
 *     (default min(16, nTrain - 1, dA, dB));
 *  3. SVD  A_k^T B_k = U S V^T  (one-sided Jacobi, k x k);  R = U V^T, the orthogonal k x k
 *     matrix minimising ||A_k R - B_k||_F.
 * A row x of model A maps to B's PCA coordinates as ((x - muA) PA) R.
 */
export function fitProcrustes(a: Rows, b: Rows, trainIdx: ArrayLike<number>, opts: { k?: number } = {}): ProcrustesAlignment {
  if (a.length !== b.length) throw new EiaError('E_BAD_ARG', `cross-model alignment needs the same texts: A has ${a.length} rows, B has ${b.length}`);
  const dA = checkRows(a, 'model A activations');
  const dB = checkRows(b, 'model B activations');
  const ta = pick(a, trainIdx, 'train index'), tb = pick(b, trainIdx, 'train index');
  const nTrain = ta.length;
  if (nTrain < 2) throw new EiaError('E_BAD_ARG', `cross-model alignment needs at least 2 train rows, got ${nTrain}`);
  const kMax = Math.min(nTrain - 1, dA, dB);
  const k = opts.k ?? Math.min(16, kMax);
  if (!Number.isInteger(k) || k < 1 || k > kMax) throw new EiaError('E_BAD_ARG', `k must be an integer in [1, ${kMax}] (min(nTrain - 1, dA, dB)), got ${k}`);
  const { x: xa, mu: meanA } = centre(ta, dA);
  const { x: xb, mu: meanB } = centre(tb, dB);
  const basisA = principalAxes(xa, k, 'model A');
  const basisB = principalAxes(xb, k, 'model B');
  const ak = matmul(xa, basisA), bk = matmul(xb, basisB);
  const { u, s, v } = jacobiSvd(matmul(transpose(ak), bk));
  const rotation = matmul(u, transpose(v));
  const fit = matmul(ak, rotation);
  let num = 0, den = 0;
  for (let i = 0; i < fit.data.length; i++) { num += (fit.data[i] - bk.data[i]) ** 2; den += bk.data[i] ** 2; }
  return { k, dA, dB, meanA, meanB, basisA, basisB, rotation, singularValues: s, residual: Math.sqrt(num / den) };
}

function project(rows: Rows, mu: Float64Array, basis: Mat, what: string): Mat {
  const d = checkRows(rows, what, mu.length);
  const k = basis.cols;
  const out = zeros(rows.length, k);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) {
      const x = r[j] - mu[j];
      if (x === 0) continue;
      for (let c = 0; c < k; c++) out.data[i * k + c] += x * basis.data[j * k + c];
    }
  });
  return out;
}

/** Model A rows -> B's k-dim PCA coordinates: ((x - muA) PA) R. */
export function mapAToB(al: ProcrustesAlignment, rowsA: Rows): Mat {
  return matmul(project(rowsA, al.meanA, al.basisA, 'model A activations'), al.rotation);
}

/** Model B rows -> A's k-dim PCA coordinates: ((x - muB) PB) R^T. */
export function mapBToA(al: ProcrustesAlignment, rowsB: Rows): Mat {
  return matmul(project(rowsB, al.meanB, al.basisB, 'model B activations'), transpose(al.rotation));
}

/**
 * Carries a direction of model A (width dA) into model B's activation space: its component in
 * A's PCA space c = PA^T d, rotated into B's coordinates R^T c, then PB R^T c (width dB),
 * normalised. dot(x_B, result) then equals, up to a constant and a positive factor, A's score of
 * the B row mapped into A's PCA space.
 */
export function carryDirection(al: ProcrustesAlignment, directionA: ArrayLike<number>): Float32Array {
  if (directionA.length !== al.dA) throw new EiaError('E_BAD_ARG', `probe width ${directionA.length} does not match model A's width ${al.dA}`);
  const k = al.k;
  const c = new Float64Array(k);
  for (let j = 0; j < al.dA; j++) for (let i = 0; i < k; i++) c[i] += al.basisA.data[j * k + i] * directionA[j];
  const cb = new Float64Array(k); // R^T c
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) cb[i] += al.rotation.data[j * k + i] * c[j];
  const out = new Float64Array(al.dB);
  for (let j = 0; j < al.dB; j++) for (let i = 0; i < k; i++) out[j] += al.basisB.data[j * k + i] * cb[i];
  const nrm = Math.sqrt(dot(out, out));
  if (nrm === 0) throw new EiaError('E_BAD_ARG', 'the probe direction has no component in model A\'s PCA subspace: nothing to carry');
  const f = new Float32Array(al.dB);
  for (let j = 0; j < al.dB; j++) f[j] = out[j] / nrm;
  return f;
}

/** Result of {@link crossModelTransfer}. */
export interface CrossModelTransfer {
  alignment: ProcrustesAlignment;
  /** A's probe carried into B, scored on B's test rows */
  aurocCarried: number;
  /** mean-diff probe trained on B's own train rows, scored on B's test rows */
  aurocNative: number;
  /** A's probe on A's own test rows */
  aurocSource: number;
  carriedDirection: Float32Array;
  nativeDirection: Float32Array;
  /** agreement of carried and native scores on B's test rows (null if either is constant or nTest < 3) */
  agreement: ScoreAgreement | null;
}

/**
 * Fits the Procrustes alignment on the train rows, carries model A's probe (given, or mean-diff
 * on A's train rows) into B, and compares its test AUROC with B's native mean-diff probe.
 * Rows of `a` and `b` are the same texts in the same order; labels 1 = empathic.
 */
export function crossModelTransfer(args: {
  a: Rows; b: Rows; labels: Labels; trainIdx: ArrayLike<number>; testIdx: ArrayLike<number>;
  probeA?: ArrayLike<number>; k?: number;
}): CrossModelTransfer {
  const { a, b, labels, trainIdx, testIdx } = args;
  if (labels.length !== a.length) throw new EiaError('E_BAD_ARG', `labels (${labels.length}) and rows (${a.length}) differ in length`);
  const alignment = fitProcrustes(a, b, trainIdx, { k: args.k });
  const lab = (i: number) => labels[i] === 1 || labels[i] === true;
  const split = (rows: Rows, idx: ArrayLike<number>) => {
    const emp: ArrayLike<number>[] = [], non: ArrayLike<number>[] = [];
    for (let i = 0; i < idx.length; i++) (lab(idx[i]) ? emp : non).push(rows[idx[i]]);
    return { emp, non };
  };
  const trA = split(a, trainIdx), trB = split(b, trainIdx);
  const probeA = args.probeA ?? meanDiffDirection(trA.emp, trA.non);
  const nativeDirection = meanDiffDirection(trB.emp, trB.non);
  const carriedDirection = carryDirection(alignment, probeA);
  const testA = pick(a, testIdx, 'test index'), testB = pick(b, testIdx, 'test index');
  const testLabels = Array.from({ length: testIdx.length }, (_, i) => (lab(testIdx[i]) ? 1 : 0));
  const sCarried = testB.map((r) => dot(r, carriedDirection));
  const sNative = testB.map((r) => dot(r, nativeDirection));
  const sSource = testA.map((r) => dot(r, probeA));
  let agreement: ScoreAgreement | null = null;
  try { agreement = scoreAgreement(sCarried, sNative); } catch { agreement = null; }
  return {
    alignment,
    aurocCarried: auroc(sCarried, testLabels),
    aurocNative: auroc(sNative, testLabels),
    aurocSource: auroc(sSource, testLabels),
    carriedDirection,
    nativeDirection,
    agreement,
  };
}
