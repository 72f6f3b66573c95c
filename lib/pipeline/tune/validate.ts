// The held-out check of tune's choice: the chosen (block, alpha) and its unsteered partners on
// prompts the search never saw, each figure with a percentile-bootstrap CI over the samples: the
// keyword share steered and unsteered, their paired difference (the effect), the perplexity ratio
// (resampled on the log scale), the probe projection, the judge's harmonic mean, and steerability.
import { bootstrapMean, type BootstrapResult } from '../../stats/bootstrap.js';
import type { SampleRow } from '../../steering/metrics/summary.js';
import { steerability, type PromptSteerability } from '../../steering/metrics/steerability.js';

export interface Interval { estimate: number; lower: number; upper: number }

export interface Validation {
  layer: number;
  alpha: number;
  prompts: string[];
  /** Steered samples (and as many unsteered partners). */
  n: number;
  keyword_share: Interval;
  baseline_keyword_share: Interval;
  /** Mean paired difference (steered - partner) of the keyword share. */
  effect: Interval;
  keyword_rate: number;
  baseline_keyword_rate: number;
  /** Geometric mean perplexity ratio to the partners; null when no sample has one. */
  ppl_ratio: Interval | null;
  probe_mean: Interval | null;
  judge_harmonic: Interval | null;
  /** The ratio's estimate is within the limit (always true without a limit). */
  fluent: boolean;
  /** The effect's CI lies above 0. */
  effect_above_zero: boolean;
  steerability: PromptSteerability[];
  confidence: number;
  resamples: number;
}

const iv = (b: BootstrapResult): Interval => ({ estimate: b.estimate, lower: b.lower, upper: b.upper });

export function validateChoice(rows: readonly SampleRow[], layer: number, alpha: number, prompts: string[], maxPplRatio: number | null,
  opts: { resamples: number; seed: number; confidence?: number }): Validation {
  const bo = { resamples: opts.resamples, seed: opts.seed, confidence: opts.confidence ?? 0.95 };
  const steered = rows.filter((r) => r.layer === layer && r.alpha === alpha && prompts.includes(r.scenario));
  const base = rows.filter((r) => r.layer === layer && r.alpha === 0 && prompts.includes(r.scenario));
  const partner = new Map(base.map((r) => [JSON.stringify([r.scenario, r.sample]), r]));
  const diffs = steered.map((r) => partner.get(JSON.stringify([r.scenario, r.sample]))).map((b, i) => (b ? steered[i].keyword_share - b.keyword_share : null))
    .filter((x): x is number => x !== null);
  const ratios = steered.map((r) => r.ppl_ratio).filter((x): x is number => x !== null && x > 0);
  const probes = steered.map((r) => r.probe_score).filter((x): x is number => x !== null);
  const hms = steered.map((r) => r.judge?.harmonic ?? null).filter((x): x is number => x !== null);
  const logRatio = ratios.length ? bootstrapMean(ratios.map(Math.log), bo) : null;
  const ppl = logRatio ? { estimate: Math.exp(logRatio.estimate), lower: Math.exp(logRatio.lower), upper: Math.exp(logRatio.upper) } : null;
  const effect = diffs.length ? iv(bootstrapMean(diffs, bo)) : { estimate: 0, lower: 0, upper: 0 };
  return {
    layer, alpha, prompts, n: steered.length,
    keyword_share: iv(bootstrapMean(steered.map((r) => r.keyword_share), bo)),
    baseline_keyword_share: iv(bootstrapMean(base.map((r) => r.keyword_share), bo)),
    effect,
    keyword_rate: steered.filter((r) => r.empathetic).length / Math.max(1, steered.length),
    baseline_keyword_rate: base.filter((r) => r.empathetic).length / Math.max(1, base.length),
    ppl_ratio: ppl,
    probe_mean: probes.length ? iv(bootstrapMean(probes, bo)) : null,
    judge_harmonic: hms.length ? iv(bootstrapMean(hms, bo)) : null,
    fluent: maxPplRatio === null || (ppl !== null && ppl.estimate <= maxPplRatio),
    effect_above_zero: diffs.length > 0 && effect.lower > 0,
    steerability: steerability([...steered, ...base]).per_prompt,
    confidence: bo.confidence, resamples: bo.resamples,
  };
}
