// The bench's arithmetic: medians, rates and paired ratios. Every figure the bench prints is the
// median of repeated measurements after a warm-up; every ratio is the median of per-round ratios
// where the two sides ran back to back (alternating order), so slow drifts on a shared machine
// cancel instead of landing on one side.

/** Median of finite values (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/** Events per second from a count and milliseconds; NaN when the time is not positive. */
export function rate(count: number, ms: number): number {
  return ms > 0 && Number.isFinite(ms) && Number.isFinite(count) ? count / (ms / 1000) : Number.NaN;
}

/** A paired measurement: one value of side A and one of side B from the same round. */
export interface Pair { a: number; b: number }

/** Median over rounds of a / b (pairs with a non-finite or non-positive side are skipped). */
export function medianRatio(pairs: readonly Pair[]): number {
  return median(pairs.filter((p) => p.b > 0 && p.a >= 0).map((p) => p.a / p.b));
}

/**
 * Overhead of A relative to B as 1 - rate_A / rate_B, the median over rounds (0 = free,
 * 0.05 = 5% slower; negative = A measured faster, i.e. noise).
 */
export function medianOverhead(pairs: readonly Pair[]): number {
  const r = medianRatio(pairs);
  return Number.isFinite(r) ? 1 - r : Number.NaN;
}

/** Rounds a figure for printing/JSON (NaN and infinities become null). */
export function round(x: number, digits = 4): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Significant-figure rounding for rates (e.g. 1234.567 -> 1235, 12.3456 -> 12.35). */
export function roundRate(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  const a = Math.abs(x);
  return round(x, a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 4);
}

/** The order of sides in round r: A first on even rounds, B first on odd ones. */
export function alternate<T>(r: number, a: T, b: T): [T, T] {
  return r % 2 === 0 ? [a, b] : [b, a];
}
