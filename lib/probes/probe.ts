// Probe directions: one unit vector per layer that separates empathic from non-empathic pooled
// activations. 'mean-diff' is the paper's method; 'pca' and 'logistic' are the usual alternatives
// so that the choice of estimator can itself be tested. Files: probe-file.ts.

import { createRng } from '../stats/rng.js';
import { EiaError } from '../util/errors.js';
import { choleskySolve, zeros } from '../stats/linalg.js';
import { checkRows, dot, scoreRows, type Rows } from '../stats/rows.js';
import type { TunedAlpha, VectorCard } from './vector-card.js';

/** How a direction is estimated from the two classes. */
/** 'imported': read from elsewhere (e.g. a llama.cpp control vector), estimator unknown. */
export type ProbeMethod = 'mean-diff' | 'pca' | 'logistic' | 'imported';

/** A trained probe for one layer. */
export interface Probe {
  /** unit-norm direction, width = the model's d_model */
  direction: Float32Array;
  /** 0-based decoder block whose output was probed */
  layer: number;
  /** how token activations were pooled into one row per text (the paper: 'mean') */
  pooling: string;
  method: ProbeMethod;
  /** the model the activations came from */
  model: { path?: string; sha256?: string };
  /** datasetHash of the training pairs ('' when unknown, e.g. the paper's probes) */
  trainHash: string;
  /** number of training texts, both classes together (0 when unknown) */
  nTrain: number;
  /** ISO timestamp */
  createdAt?: string;
  /**
   * The magnitude the direction came with (direction.ts): the stored vector's norm times the
   * sidecar's `scale`; 1 for a probe trained here. Used only where a vector is written out with its
   * magnitude (`cvec export`); steering and scoring always use the unit `direction`.
   */
  scale?: number;
  /** The L2 norm of the vector as stored in its file (loadProbe; 1 for a unit file): what normNote reports. */
  fileNorm?: number;
  /** The steering strength `tune` chose for this probe, when it ran: its card's `tuned` (or the top-level `tuned` of a sidecar written before cards; vector-card.ts sidecarCard). */
  tuned?: TunedAlpha;
  /** the evidence the direction carries (vector-card.ts); absent for the paper's probes and older files */
  card?: VectorCard;
}

/** Options of {@link probeDirection}. */
export interface DirectionOptions {
  /** L2 penalty lambda of the logistic objective (default 1, i.e. sklearn's C = 1) */
  l2?: number;
}

function unit(v: Float64Array, what: string): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (!(s > 0) || !Number.isFinite(s)) throw new EiaError('E_BAD_ARG', `${what}: the direction is the zero vector (the classes are not separated)`);
  const inv = 1 / Math.sqrt(s);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

function classMean(rows: Rows, d: number): Float64Array {
  const m = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) m[j] += r[j];
  for (let j = 0; j < d; j++) m[j] /= rows.length;
  return m;
}

/** The paper's probe: normalise(mean(emp) - mean(non)). */
export function meanDiffDirection(emp: Rows, non: Rows): Float32Array {
  const d = checkRows(emp, 'empathic activations');
  checkRows(non, 'non-empathic activations', d);
  const me = classMean(emp, d), mn = classMean(non, d);
  for (let j = 0; j < d; j++) me[j] -= mn[j];
  return unit(me, 'mean-diff');
}

/**
 * First principal component of the paired differences d_i = emp_i - non_i, taken about the
 * origin (uncentred: the top eigenvector of sum_i d_i d_i^T). Centring would subtract the mean
 * difference, which is the very signal; this is what RepE-style PCA achieves by randomly
 * flipping the sign of each pair before a centred PCA. Power iteration from a fixed seeded start;
 * sign chosen so that the mean projection of emp exceeds that of non; unit norm.
 * Rows must be paired (same count, same order).
 */
export function pcaDirection(emp: Rows, non: Rows): Float32Array {
  const d = checkRows(emp, 'empathic activations');
  checkRows(non, 'non-empathic activations', d);
  if (emp.length !== non.length) throw new EiaError('E_BAD_ARG', `pca probe needs paired rows: ${emp.length} empathic vs ${non.length} non-empathic`);
  const n = emp.length;
  const diff = new Float64Array(n * d);
  const md = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) {
    const x = emp[i][j] - non[i][j];
    diff[i * d + j] = x; md[j] += x / n;
  }
  const rng = createRng(0x9ca);
  let v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = rng.normal();
  const proj = new Float64Array(n);
  for (let it = 0; it < 10000; it++) {
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += diff[i * d + j] * v[j]; proj[i] = s; }
    const w = new Float64Array(d);
    for (let i = 0; i < n; i++) { const p = proj[i]; for (let j = 0; j < d; j++) w[j] += diff[i * d + j] * p; }
    let nw = 0;
    for (let j = 0; j < d; j++) nw += w[j] * w[j];
    nw = Math.sqrt(nw);
    if (nw === 0) throw new EiaError('E_BAD_ARG', 'pca probe: every pair has identical empathic and non-empathic activations');
    for (let j = 0; j < d; j++) w[j] /= nw;
    const change = 1 - Math.abs(dot(w, v));
    v = w;
    if (change < 1e-15) break;
  }
  if (dot(v, md) < 0) for (let j = 0; j < d; j++) v[j] = -v[j];
  return unit(v, 'pca');
}

/** A fitted logistic regression. */
export interface LogisticFit {
  weights: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
}

function log1pexp(f: number): number {
  return f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f));
}
function sigmoid(f: number): number {
  return f >= 0 ? 1 / (1 + Math.exp(-f)) : Math.exp(f) / (1 + Math.exp(f));
}

/** An orthonormal basis of the rows' span (modified Gram-Schmidt, two passes; near-dependent rows dropped). */
function rowSpaceBasis(x: Rows, d: number): Float64Array[] {
  const basis: Float64Array[] = [];
  let maxNorm = 0;
  for (const row of x) maxNorm = Math.max(maxNorm, Math.sqrt(dot(row, row)));
  for (const row of x) {
    const q = Float64Array.from(row);
    for (let pass = 0; pass < 2; pass++) for (const b of basis) { const c = dot(q, b); for (let j = 0; j < d; j++) q[j] -= c * b[j]; }
    const nq = Math.sqrt(dot(q, q));
    if (nq > 1e-10 * maxNorm) { for (let j = 0; j < d; j++) q[j] /= nq; basis.push(q); }
  }
  return basis;
}

/**
 * L2-regularised logistic regression on raw activations with an unpenalised intercept:
 * minimises sum_i [log(1 + e^{f_i}) - y_i f_i] + (l2 / 2) ||w||^2, f = X w + b (sklearn's
 * LogisticRegression objective with C = 1 / l2). The optimum w lies in the row space of X, so
 * when n < d it is solved exactly in an orthonormal basis of that space (modified Gram-Schmidt),
 * by Newton's method with backtracking line search. Deterministic. Cost per Newton step is
 * O(n r^2 + r^3) with r = min(n, d): meant for up to a few hundred texts (or narrow rows).
 */
export function fitLogistic(x: Rows, y: ArrayLike<number>, l2 = 1): LogisticFit {
  const d = checkRows(x, 'logistic activations');
  const n = x.length;
  if (y.length !== n) throw new EiaError('E_BAD_ARG', `logistic: ${n} rows but ${y.length} labels`);
  if (!(l2 > 0)) throw new EiaError('E_BAD_ARG', `logistic: l2 must be > 0, got ${l2}`);
  // Basis Q (r x d, orthonormal rows) of the row space, coordinates Z (n x r).
  const basis = n < d ? rowSpaceBasis(x, d) : Array.from({ length: d }, (_, j) => { const e = new Float64Array(d); e[j] = 1; return e; });
  const r = basis.length;
  const z = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) z[i * r + k] = n < d ? dot(x[i], basis[k]) : x[i][k];
  const theta = new Float64Array(r + 1); // coords then intercept
  const f = new Float64Array(n);
  const margins = (t: Float64Array) => {
    for (let i = 0; i < n; i++) { let s = t[r]; for (let k = 0; k < r; k++) s += z[i * r + k] * t[k]; f[i] = s; }
  };
  const objective = (t: Float64Array) => {
    margins(t);
    let s = 0;
    for (let i = 0; i < n; i++) s += log1pexp(f[i]) - y[i] * f[i];
    for (let k = 0; k < r; k++) s += (l2 / 2) * t[k] * t[k];
    return s;
  };
  let obj = objective(theta);
  let maxAbs = 0;
  for (let i = 0; i < z.length; i++) maxAbs = Math.max(maxAbs, Math.abs(z[i]));
  const gtol = 1e-11 * Math.max(1, n * maxAbs);
  let iterations = 0, converged = false;
  for (; iterations < 200; iterations++) {
    margins(theta);
    const g = new Float64Array(r + 1);
    const h = zeros(r + 1, r + 1);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(f[i]);
      const res = p - y[i], wgt = p * (1 - p);
      for (let k = 0; k < r; k++) {
        const zk = z[i * r + k];
        g[k] += res * zk;
        for (let l = 0; l <= k; l++) h.data[k * (r + 1) + l] += wgt * zk * z[i * r + l];
        h.data[r * (r + 1) + k] += wgt * zk;
      }
      g[r] += res;
      h.data[r * (r + 1) + r] += wgt;
    }
    let gmax = 0;
    for (let k = 0; k < r; k++) { g[k] += l2 * theta[k]; h.data[k * (r + 1) + k] += l2; }
    for (let k = 0; k <= r; k++) gmax = Math.max(gmax, Math.abs(g[k]));
    for (let k = 0; k <= r; k++) for (let l = k + 1; l <= r; l++) h.data[k * (r + 1) + l] = h.data[l * (r + 1) + k];
    if (gmax < gtol) { converged = true; break; }
    const step = choleskySolve(h, g);
    const next = new Float64Array(r + 1);
    let slope = 0;
    for (let k = 0; k <= r; k++) slope += g[k] * step[k];
    // Near the optimum the predicted decrease is below float resolution of the objective:
    // take the full Newton step (quadratic convergence) instead of a meaningless line search.
    if (slope < 1e-12 * Math.max(1, Math.abs(obj))) {
      for (let k = 0; k <= r; k++) theta[k] -= step[k];
      obj = objective(theta);
      continue;
    }
    let t = 1, nextObj = obj;
    for (; t > 1e-12; t /= 2) {
      for (let k = 0; k <= r; k++) next[k] = theta[k] - t * step[k];
      nextObj = objective(next);
      if (nextObj <= obj - 1e-4 * t * slope) break;
    }
    if (t <= 1e-12) break; // no descent possible: report converged = false
    theta.set(next); obj = nextObj;
  }
  const weights = new Float64Array(d);
  for (let k = 0; k < r; k++) {
    if (n < d) { const b = basis[k]; for (let j = 0; j < d; j++) weights[j] += theta[k] * b[j]; }
    else weights[k] = theta[k];
  }
  return { weights, intercept: theta[r], iterations, converged };
}

/** Unit-norm weight vector of {@link fitLogistic} on emp (label 1) and non (label 0) rows. */
export function logisticDirection(emp: Rows, non: Rows, l2 = 1): Float32Array {
  const d = checkRows(emp, 'empathic activations');
  checkRows(non, 'non-empathic activations', d);
  const y = new Float64Array(emp.length + non.length);
  y.fill(1, 0, emp.length);
  return unit(fitLogistic([...emp, ...non], y, l2).weights, 'logistic');
}

/** Direction of one method (see meanDiffDirection, pcaDirection, logisticDirection). */
export function probeDirection(emp: Rows, non: Rows, method: ProbeMethod = 'mean-diff', opts: DirectionOptions = {}): Float32Array {
  switch (method) {
    case 'mean-diff': return meanDiffDirection(emp, non);
    case 'pca': return pcaDirection(emp, non);
    case 'logistic': return logisticDirection(emp, non, opts.l2);
    default: throw new EiaError('E_BAD_ARG', `unknown probe method '${String(method)}' (expected mean-diff, pca or logistic)`);
  }
}

/** Options of {@link trainProbe}. */
export interface TrainOptions extends DirectionOptions {
  layer: number;
  method?: ProbeMethod;
  pooling?: string;
  model?: { path?: string; sha256?: string };
  trainHash?: string;
  createdAt?: string;
}

/** Trains a probe record for one layer from the training split's pooled activations. */
export function trainProbe(emp: Rows, non: Rows, opts: TrainOptions): Probe {
  const method = opts.method ?? 'mean-diff';
  return {
    direction: probeDirection(emp, non, method, opts),
    layer: opts.layer,
    pooling: opts.pooling ?? 'mean',
    method,
    model: { ...(opts.model ?? {}) },
    trainHash: opts.trainHash ?? '',
    nTrain: emp.length + non.length,
    createdAt: opts.createdAt ?? new Date().toISOString(),
  };
}

/**
 * Scores rows with a probe: dot(row, direction). Throws a clear error when the activations'
 * width differs from the probe's (e.g. a Phi-3 probe on Qwen activations) or hold NaN.
 */
export function scoreWithProbe(probe: Pick<Probe, 'direction' | 'layer'>, rows: Rows): Float64Array {
  const w = probe.direction.length;
  for (let r = 0; r < rows.length; r++) {
    if (rows[r].length !== w) {
      throw new EiaError('E_BAD_ARG', `probe (layer ${probe.layer}) has width ${w} but activation row ${r} has width ${rows[r].length}: wrong model or layer?`);
    }
  }
  return scoreRows(rows, probe.direction, `activations for the layer-${probe.layer} probe`);
}
