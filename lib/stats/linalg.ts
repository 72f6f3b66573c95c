import { EiaError } from '../util/errors.js';
// Small dense linear algebra (row-major Float64Array), enough for probes and Procrustes:
// symmetric Jacobi eigendecomposition, one-sided Jacobi SVD of small square matrices and a
// Cholesky solve. Matrices here are at most a few hundred wide, so clarity beats blocking.

/** Row-major dense matrix. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Zero matrix. */
export function zeros(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** The n x n identity matrix. */
export function identity(n: number): Mat {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** C = A * B. */
export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new EiaError('E_BAD_ARG', `matmul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const c = zeros(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bo = k * b.cols, co = i * b.cols;
      for (let j = 0; j < b.cols; j++) c.data[co + j] += aik * b.data[bo + j];
    }
  }
  return c;
}

/** Transpose. */
export function transpose(a: Mat): Mat {
  const t = zeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

/**
 * Eigendecomposition of a symmetric n x n matrix by cyclic Jacobi rotations.
 * Returns eigenvalues descending and eigenvectors as the COLUMNS of `vectors`.
 */
export function symmetricEigen(m: Mat): { values: Float64Array; vectors: Mat } {
  const n = m.rows;
  if (m.cols !== n) throw new EiaError('E_BAD_ARG', 'symmetricEigen needs a square matrix');
  const a = Float64Array.from(m.data);
  const v = identity(n);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, total = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const x = a[i * n + j] ** 2;
      total += x;
      if (i !== j) off += x;
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p], aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // A <- A J (columns p, q)
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // A <- J^T A (rows p, q)
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) { // V <- V J
          const vkp = v.data[k * n + p], vkq = v.data[k * n + q];
          v.data[k * n + p] = c * vkp - s * vkq;
          v.data[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = new Float64Array(n);
  const vectors = zeros(n, n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src];
    for (let k = 0; k < n; k++) vectors.data[k * n + dst] = v.data[k * n + src];
  });
  return { values, vectors };
}

/**
 * SVD of a small square matrix M = U diag(s) V^T by one-sided Jacobi (Hestenes): rotate
 * column pairs of a working copy until all are orthogonal; V accumulates the rotations,
 * s are the column norms and U the normalised columns. Singular values descending.
 */
export function jacobiSvd(m: Mat): { u: Mat; s: Float64Array; v: Mat } {
  const n = m.rows;
  if (m.cols !== n) throw new EiaError('E_BAD_ARG', 'jacobiSvd handles square matrices only');
  const w = Float64Array.from(m.data);
  const v = identity(n);
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        for (let k = 0; k < n; k++) {
          const x = w[k * n + p], y = w[k * n + q];
          alpha += x * x; beta += y * y; gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let k = 0; k < n; k++) {
          const x = w[k * n + p], y = w[k * n + q];
          w[k * n + p] = c * x - s * y; w[k * n + q] = s * x + c * y;
          const vx = v.data[k * n + p], vy = v.data[k * n + q];
          v.data[k * n + p] = c * vx - s * vy; v.data[k * n + q] = s * vx + c * vy;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s2 = 0;
    for (let k = 0; k < n; k++) s2 += w[k * n + j] ** 2;
    norms[j] = Math.sqrt(s2);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[j] - norms[i]);
  const u = zeros(n, n), vs = zeros(n, n), s = new Float64Array(n);
  order.forEach((src, dst) => {
    s[dst] = norms[src];
    for (let k = 0; k < n; k++) {
      u.data[k * n + dst] = norms[src] > 0 ? w[k * n + src] / norms[src] : 0;
      vs.data[k * n + dst] = v.data[k * n + src];
    }
  });
  completeOrthonormal(u, s);
  return { u, s, v: vs };
}

/** Replaces U's columns for zero singular values with unit vectors orthogonal to the others (Gram-Schmidt). */
function completeOrthonormal(u: Mat, s: Float64Array): void {
  const n = u.rows;
  const tol = 1e-13 * (s[0] || 1);
  for (let j = 0; j < n; j++) {
    if (s[j] > tol) continue;
    for (let e = 0; e < n; e++) {
      const col = new Float64Array(n);
      col[e] = 1;
      for (let i = 0; i < n; i++) {
        if (i === j || (s[i] <= tol && i > j)) continue;
        let d = 0;
        for (let k = 0; k < n; k++) d += col[k] * u.data[k * n + i];
        for (let k = 0; k < n; k++) col[k] -= d * u.data[k * n + i];
      }
      let nn = 0;
      for (let k = 0; k < n; k++) nn += col[k] ** 2;
      if (nn > 1e-6) {
        nn = Math.sqrt(nn);
        for (let k = 0; k < n; k++) u.data[k * n + j] = col[k] / nn;
        break;
      }
    }
  }
}

/**
 * Solves H x = g for symmetric positive-definite H (n x n) by Cholesky; adds a growing
 * diagonal jitter if H is numerically singular.
 */
export function choleskySolve(h: Mat, g: Float64Array): Float64Array {
  const n = h.rows;
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(h.data[i * n + i]));
  for (let jitter = 0; ; jitter = jitter === 0 ? 1e-12 * (scale || 1) : jitter * 100) {
    const l = new Float64Array(n * n);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = h.data[i * n + j] + (i === j ? jitter : 0);
        for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
        if (i === j) {
          if (!(s > 0)) { ok = false; break; }
          l[i * n + i] = Math.sqrt(s);
        } else l[i * n + j] = s / l[j * n + j];
      }
    }
    if (!ok) {
      if (jitter > 1e6 * (scale || 1)) throw new EiaError('E_BAD_ARG', 'choleskySolve: matrix is not positive definite');
      continue;
    }
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = g[i];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
    const x = new Float64Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
      x[i] = s / l[i * n + i];
    }
    return x;
  }
}
