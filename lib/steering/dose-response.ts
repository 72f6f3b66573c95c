// A probe-based behaviour measure to complement the paper's keyword rule: how fast the probe score
// of the generated text rises with alpha (least-squares slope), with a seeded bootstrap CI so a
// flat or noisy response is told apart from a real one.

import { createRng, type Rng } from '../stats/rng.js';
import { assertAlpha } from './scoring.js';
import type { SampleRecord } from './samples.js';
import { EiaError } from '../util/errors.js';

/** Default number of bootstrap resamples. */
export const DEFAULT_BOOTSTRAP = 2000;
/** Default bootstrap seed. */
export const DEFAULT_SEED = 0;
/** Default confidence level of the percentile intervals. */
export const DEFAULT_LEVEL = 0.95;

/** Options for the bootstrap. */
export interface DoseResponseOptions {
  /** Resamples (default 2000). */
  bootstrap?: number;
  /** Seed for createRng (default 0). */
  seed?: number;
  /** Confidence level of the percentile intervals (default 0.95). */
  level?: number;
}

/** Mean probe score at one alpha, ready for plotting. */
export interface DoseResponsePoint {
  alpha: number;
  n: number;
  mean: number;
  /** Sample standard deviation (ddof 1; 0 when n = 1). */
  sd: number;
  /** Bootstrap percentile interval of the mean. */
  ci: [number, number];
}

/** Slope of probe score on alpha with its bootstrap interval and per-alpha series. */
export interface DoseResponse {
  slope: number;
  intercept: number;
  /** Bootstrap percentile interval of the slope. */
  ci: [number, number];
  level: number;
  /** The interval lies entirely above or below zero. */
  ci_excludes_zero: boolean;
  n: number;
  num_alphas: number;
  bootstrap: number;
  seed: number;
  series: DoseResponsePoint[];
}

/** Least-squares fit y = intercept + slope * x. Throws when x has no spread. */
export function leastSquares(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const n = xs.length;
  if (n !== ys.length) throw new EiaError('E_BAD_ARG', `leastSquares: ${n} x values but ${ys.length} y values`);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (!(sxx > 0)) throw new EiaError('E_BAD_ARG', 'leastSquares: all x values are equal, slope undefined');
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Quantile with linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new EiaError('E_BAD_ARG', 'quantile of an empty list');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Dose-response of probe score on alpha. The bootstrap resamples samples with replacement within
 * each alpha (so every replicate keeps the design's alphas and group sizes) and refits the slope.
 * Throws on non-numeric alphas or scores, or fewer than two distinct alphas.
 */
export function doseResponse(
  points: ReadonlyArray<{ alpha: number; probe_score: number }>,
  options: DoseResponseOptions = {},
): DoseResponse {
  const B = options.bootstrap ?? DEFAULT_BOOTSTRAP;
  const seed = options.seed ?? DEFAULT_SEED;
  const level = options.level ?? DEFAULT_LEVEL;
  if (!Number.isInteger(B) || B < 1) throw new EiaError('E_BAD_ARG', `bootstrap must be a positive integer, got ${B}`);
  if (!(level > 0 && level < 1)) throw new EiaError('E_BAD_ARG', `level must be in (0, 1), got ${level}`);

  const groups = new Map<number, number[]>();
  points.forEach((p, i) => {
    assertAlpha(p.alpha, `point ${i}: alpha`);
    if (typeof p.probe_score !== 'number' || !Number.isFinite(p.probe_score)) {
      throw new EiaError('E_BAD_ARG', `point ${i}: probe_score must be a finite number, got ${JSON.stringify(p.probe_score)}`);
    }
    const g = groups.get(p.alpha) ?? [];
    g.push(p.probe_score);
    groups.set(p.alpha, g);
  });
  if (groups.size < 2) throw new EiaError('E_BAD_ARG', `dose-response needs at least two distinct alphas, got ${groups.size}`);
  const alphas = [...groups.keys()].sort((a, b) => a - b);
  const ys = alphas.map((a) => groups.get(a)!);
  const xsFlat = alphas.flatMap((a, i) => ys[i].map(() => a));
  const fit = leastSquares(xsFlat, ys.flat());

  const rng: Rng = createRng(seed);
  const slopes = new Array<number>(B);
  const means = alphas.map(() => new Array<number>(B));
  const yBoot = new Array<number>(xsFlat.length);
  for (let b = 0; b < B; b++) {
    let k = 0;
    ys.forEach((g, gi) => {
      let sum = 0;
      for (let j = 0; j < g.length; j++) {
        const v = g[rng.int(g.length)];
        yBoot[k++] = v;
        sum += v;
      }
      means[gi][b] = sum / g.length;
    });
    slopes[b] = leastSquares(xsFlat, yBoot).slope;
  }
  const tail = (1 - level) / 2;
  const interval = (vals: number[]): [number, number] => {
    const s = [...vals].sort((a, b) => a - b);
    return [quantile(s, tail), quantile(s, 1 - tail)];
  };
  const ci = interval(slopes);
  const series = alphas.map((alpha, gi) => {
    const g = ys[gi];
    const mean = g.reduce((s, v) => s + v, 0) / g.length;
    const sd = g.length > 1 ? Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / (g.length - 1)) : 0;
    return { alpha, n: g.length, mean, sd, ci: interval(means[gi]) };
  });
  return {
    slope: fit.slope,
    intercept: fit.intercept,
    ci,
    level,
    ci_excludes_zero: ci[0] > 0 || ci[1] < 0,
    n: xsFlat.length,
    num_alphas: alphas.length,
    bootstrap: B,
    seed,
    series,
  };
}

/** A dose-response for one (model, layer, scenario). */
export interface DoseResponseRow extends DoseResponse {
  model: string;
  layer: number;
  scenario: string;
}

/**
 * Dose-response per (model, layer, scenario) over the samples that carry a probe_score, in
 * first-seen order. Groups with fewer than two distinct alphas are skipped. Every group uses the
 * same seed, so a group's result does not depend on which other groups are present.
 */
export function doseResponseBySamples(samples: readonly SampleRecord[], options: DoseResponseOptions = {}): DoseResponseRow[] {
  const groups = new Map<string, { model: string; layer: number; scenario: string; points: { alpha: number; probe_score: number }[] }>();
  for (const s of samples) {
    if (s.probe_score === undefined) continue;
    const key = JSON.stringify([s.model, s.layer, s.scenario]);
    let g = groups.get(key);
    if (!g) {
      g = { model: s.model, layer: s.layer, scenario: s.scenario, points: [] };
      groups.set(key, g);
    }
    g.points.push({ alpha: s.alpha, probe_score: s.probe_score });
  }
  const out: DoseResponseRow[] = [];
  for (const g of groups.values()) {
    if (new Set(g.points.map((p) => p.alpha)).size < 2) continue;
    out.push({ model: g.model, layer: g.layer, scenario: g.scenario, ...doseResponse(g.points, options) });
  }
  return out;
}
