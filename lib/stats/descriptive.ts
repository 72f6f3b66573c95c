import { EiaError } from '../util/errors.js';
// Small descriptive statistics shared by the AUROC, baseline and bootstrap code. Each follows
// NumPy's default definition so that figures match the paper's Python scripts exactly.

/** Numbers accepted by the statistics: plain arrays or any typed array. */
export type Numbers = ArrayLike<number>;

/** Throws if `values` is empty or holds a non-finite number; `what` names the input in the message. */
export function assertFinite(values: Numbers, what: string): void {
  if (values.length === 0) throw new EiaError('E_BAD_ARG', `${what} is empty`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new EiaError('E_BAD_ARG', `${what} holds a non-finite value (${String(v)}) at index ${i}`);
    }
  }
}

/** Arithmetic mean (accumulated in float64). */
export function mean(values: Numbers): number {
  if (values.length === 0) throw new EiaError('E_BAD_ARG', 'mean of an empty array is undefined');
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** Population standard deviation (ddof 0, like numpy.std's default); two-pass for accuracy. */
export function stdPop(values: Numbers): number {
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - m;
    s += d * d;
  }
  return Math.sqrt(s / values.length);
}

/** Ascending float64 copy. */
export function sortedCopy(values: Numbers): Float64Array {
  return Float64Array.from(values).sort();
}

/** numpy.median: middle value, or the mean of the two middle values for even n. */
export function median(values: Numbers): number {
  return percentile(values, 50);
}

/**
 * numpy.percentile with its default 'linear' method: position q/100 * (n-1) in the sorted
 * values, interpolated linearly between its two neighbours.
 */
export function percentile(values: Numbers, q: number): number {
  if (values.length === 0) throw new EiaError('E_BAD_ARG', 'percentile of an empty array is undefined');
  return percentileSorted(sortedCopy(values), q);
}

/** Like {@link percentile} on values already sorted ascending (no copy). */
export function percentileSorted(sorted: Numbers, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new EiaError('E_BAD_ARG', `percentile q must lie in [0, 100], got ${q}`);
  const n = sorted.length;
  if (n === 0) throw new EiaError('E_BAD_ARG', 'percentile of an empty array is undefined');
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  // numpy's _lerp form: exact at frac 0 and 1.
  const a = sorted[lo], b = sorted[hi];
  return frac === 0 ? a : a + (b - a) * frac;
}
