// A confidence interval for Table 2's headline (the mean steering success over a model's
// (layer, scenario) rows), which the paper reports as a bare percentage. Seeded percentile
// bootstrap: each resample redraws, with replacement, the samples of every (layer, scenario,
// alpha) condition (stratified, so every condition keeps its size and the alpha = 0 baseline
// stays), recomputes each condition's empathetic-language rate, each row's success rate by the
// paper's rule (scoring.ts steeringSuccess) and their mean.
import { percentileInterval } from '../stats/bootstrap.js';
import { createRng } from '../stats/rng.js';
import { EiaError } from '../util/errors.js';
import type { SampleRecord } from './samples.js';
import { scoreSample, steeringSuccess } from './scoring.js';
import { getScenario } from './scenarios.js';

export interface HeadlineCi {
  model: string;
  headline: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
  /** (layer, scenario) rows averaged */
  rows: number;
}

/** The headline of each model in `samples` with its stratified bootstrap interval. */
export function headlineCi(samples: readonly SampleRecord[], opts: { resamples?: number; confidence?: number; seed?: number } = {}): HeadlineCi[] {
  const resamples = opts.resamples ?? 1000, confidence = opts.confidence ?? 0.95, seed = opts.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) throw new EiaError('E_BAD_ARG', `resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new EiaError('E_BAD_ARG', `confidence must lie in (0, 1), got ${confidence}`);
  // model -> row (layer, scenario) -> alpha -> empathetic flags
  const models = new Map<string, Map<string, Map<number, boolean[]>>>();
  for (const s of samples) {
    const rows = models.get(s.model) ?? new Map<string, Map<number, boolean[]>>();
    models.set(s.model, rows);
    const key = JSON.stringify([s.layer, s.scenario]);
    const alphas = rows.get(key) ?? new Map<number, boolean[]>();
    rows.set(key, alphas);
    const flags = alphas.get(s.alpha) ?? [];
    flags.push(scoreSample(s.text, getScenario(s.scenario)).empathetic);
    alphas.set(s.alpha, flags);
  }
  const out: HeadlineCi[] = [];
  for (const [model, rows] of models) {
    const table = [...rows.values()].map((alphas) => [...alphas].sort((a, b) => a[0] - b[0]).map(([alpha, flags]) => ({ alpha, flags })));
    const headline = (rate: (flags: boolean[]) => number) => {
      let sum = 0;
      for (const conds of table) sum += steeringSuccess(conds.map((c) => ({ alpha: c.alpha, rate: rate(c.flags) }))).success_rate;
      return sum / table.length;
    };
    const share = (flags: boolean[]) => flags.filter(Boolean).length / flags.length;
    const estimate = headline(share);
    const rng = createRng(seed);
    const stats = new Float64Array(resamples);
    for (let b = 0; b < resamples; b++) {
      stats[b] = headline((flags) => {
        let k = 0;
        for (let i = 0; i < flags.length; i++) if (flags[rng.int(flags.length)]) k++;
        return k / flags.length;
      });
    }
    const ci = percentileInterval(stats, confidence);
    out.push({ model, headline: estimate, lower: ci.lower, upper: ci.upper, confidence, resamples, seed, rows: table.length });
  }
  return out;
}
