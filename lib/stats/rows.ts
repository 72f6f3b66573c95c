import { EiaError } from '../util/errors.js';
// Rows of numbers (pooled activations: one Float32Array or number[] per text) and the vector
// arithmetic on them. The checks run once (width, finiteness) so that probe and statistics code
// can assume clean input.

/** One pooled activation row per text. */
export type Rows = ReadonlyArray<ArrayLike<number>>;

/**
 * Checks that `rows` is non-empty, that every row has the same width (and `width` when
 * given) and that no value is NaN or infinite. Returns the width. `what` names the input.
 */
export function checkRows(rows: Rows, what: string, width?: number): number {
  if (rows.length === 0) throw new EiaError('E_BAD_ARG', `${what}: no rows (an empty class or set)`);
  const w = width ?? rows[0].length;
  if (w === 0) throw new EiaError('E_BAD_ARG', `${what}: rows have width 0`);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row.length !== w) {
      throw new EiaError('E_BAD_ARG', `${what}: width mismatch: row ${r} has width ${row.length}, expected ${w}` +
        (width !== undefined ? ' (the probe direction\'s width)' : ''));
    }
    for (let c = 0; c < w; c++) {
      const v = row[c];
      if (!Number.isFinite(v)) throw new EiaError('E_BAD_ARG', `${what}: row ${r}, column ${c} is ${String(v)} (activations must be finite)`);
    }
  }
  return w;
}

/** Dot product in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Euclidean norm in float64. */
export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/**
 * Score of each row = dot(row, direction). Throws a clear error when a row's width differs
 * from the direction's or holds a non-finite value.
 */
export function scoreRows(rows: Rows, direction: ArrayLike<number>, what = 'activations'): Float64Array {
  checkRows(rows, what, direction.length);
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) out[r] = dot(rows[r], direction);
  return out;
}
