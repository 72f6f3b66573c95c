// Random-direction baseline: how well would a direction that knows nothing about empathy
// separate the test texts? The paper scores 100 Gaussian unit directions and compares the probe's
// AUROC to their distribution (mean, std, 95th percentile, z).

import { createRng } from './rng.js';
import { mean, median, percentileSorted, sortedCopy, stdPop, assertFinite, type Numbers } from './descriptive.js';
import { auroc, splitByClass, type Labels } from './auroc.js';
import { checkRows, scoreRows, type Rows } from './rows.js';
import { EiaError } from '../util/errors.js';

/** Summary of a random-direction baseline, with the probe's standing against it. */
export interface BaselineSummary {
  n: number;
  mean: number;
  median: number;
  /** population std (ddof 0) */
  std: number;
  min: number;
  max: number;
  /** 95th percentile, numpy.percentile linear interpolation */
  p95: number;
  probeAuroc: number;
  /** (probeAuroc - mean) / std; null when std is 0 (z undefined) */
  z: number | null;
  /** (1 + #(auroc >= probeAuroc)) / (n + 1) */
  empiricalP: number;
}

/** Summarises given baseline AUROCs (e.g. the paper's 100) against a probe's AUROC. */
export function summariseBaseline(aurocs: Numbers, probeAuroc: number): BaselineSummary {
  assertFinite(aurocs, 'baseline AUROCs');
  if (!Number.isFinite(probeAuroc)) throw new EiaError('E_BAD_ARG', `probe AUROC must be finite, got ${probeAuroc}`);
  const sorted = sortedCopy(aurocs);
  const m = mean(sorted), s = stdPop(sorted);
  let atLeast = 0;
  for (let i = 0; i < sorted.length; i++) if (sorted[i] >= probeAuroc) atLeast++;
  return {
    n: sorted.length,
    mean: m,
    median: median(sorted),
    std: s,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    p95: percentileSorted(sorted, 95),
    probeAuroc,
    z: s > 0 ? (probeAuroc - m) / s : null,
    empiricalP: (1 + atLeast) / (sorted.length + 1),
  };
}

/** Options of {@link randomDirectionBaseline}. */
export interface BaselineOptions {
  /** number of random directions (default 100, as in the paper) */
  n?: number;
  /** seed for createRng (default 0) */
  seed?: number;
}

/** Draws one Gaussian direction of width d, normalised to unit length. */
export function randomUnitDirection(d: number, rng: { normal(): number }): Float64Array {
  const v = new Float64Array(d);
  let s = 0;
  do {
    s = 0;
    for (let i = 0; i < d; i++) { v[i] = rng.normal(); s += v[i] * v[i]; }
  } while (s === 0);
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < d; i++) v[i] *= inv;
  return v;
}

/**
 * Scores the test rows with `n` seeded Gaussian unit directions and returns each one's AUROC
 * plus the summary against `probeAuroc`.
 */
export function randomDirectionBaseline(
  testRows: Rows,
  labels: Labels,
  probeAuroc: number,
  opts: BaselineOptions = {},
): { aurocs: Float64Array; summary: BaselineSummary } {
  const n = opts.n ?? 100;
  if (!Number.isInteger(n) || n < 1) throw new EiaError('E_BAD_ARG', `baseline needs a positive number of directions, got ${n}`);
  const d = checkRows(testRows, 'test activations');
  splitByClass(new Float64Array(testRows.length), labels); // label checks before the work
  const rng = createRng(opts.seed ?? 0);
  const aurocs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    aurocs[k] = auroc(scoreRows(testRows, randomUnitDirection(d, rng)), labels);
  }
  return { aurocs, summary: summariseBaseline(aurocs, probeAuroc) };
}
