// The offline metrics of a set of samples, summarised: every sample with its perplexity ratio,
// per condition (model, block, scenario, alpha) and per point (model, block, alpha; all scenarios),
// the steerability distribution (steerability.ts), and the judge's scores where a judge ran.
//
// Fluency reference: a sample's perplexity ratio is its perplexity over that of its unsteered
// partner, the alpha = 0 sample of the same (model, block, scenario, sample index), which the sweep
// draws with the same seed; without a partner, over the geometric mean perplexity of the row's
// alpha = 0 samples; with neither, null. Ratios and perplexities are averaged geometrically (the
// mean of their logarithms, i.e. of NLL differences).
import { geometricMean } from '../../stats/perplexity.js';
import { sampleKey } from '../samples.js';
import type { JudgeVerdict } from '../judge/verdict.js';
import type { SampleMetrics } from './compute.js';
import { steerability, type Steerability } from './steerability.js';

export const FLUENCY_REFERENCE = 'the unsteered partner (alpha = 0, same block, scenario and sample index: the same seed); ' +
  'else the geometric mean of the row\'s alpha = 0 samples';

export interface SampleRow extends SampleMetrics {
  /** perplexity / the unsteered reference's (see FLUENCY_REFERENCE); null when either is unknown. */
  ppl_ratio: number | null;
  judge?: JudgeVerdict;
}

/** The judge's scores over a set of samples: means over the answers that parsed, and what did not. */
export interface JudgeSummary {
  /** Samples judged (every question answered, parsed or not). */
  n: number;
  concept: number | null;
  instruction: number | null;
  fluency: number | null;
  /** Mean of the per-sample harmonic means, over samples whose three answers all parsed. */
  harmonic: number | null;
  /** Samples with a harmonic mean. */
  scored: number;
  /** Answers that could not be parsed (counted, never guessed), and questions that got no answer (failed requests). */
  unparseable: number;
  failed: number;
}

export interface MetricsGroup {
  n: number;
  /** The paper's keyword rate: share of samples with more empathy than task keywords. */
  keyword_rate: number;
  /** Mean keyword share (concept.ts). */
  keyword_share: number;
  /** Mean probe projection over the samples that have one; null when none has. */
  probe_mean: number | null;
  /** Geometric mean perplexity under the unsteered model; null when no sample has one. */
  perplexity: number | null;
  /** Geometric mean perplexity ratio; null when no sample has one. */
  ppl_ratio: number | null;
  judge?: JudgeSummary;
}

export type ConditionMetrics = { model: string; layer: number; scenario: string; alpha: number } & MetricsGroup;
export type PointMetrics = { model: string; layer: number; alpha: number } & MetricsGroup;

export interface OfflineMetrics {
  fluency_reference: string;
  samples: SampleRow[];
  conditions: ConditionMetrics[];
  points: PointMetrics[];
  steerability: Steerability;
  /** The judge over every sample (absent when no judge ran). */
  judge?: JudgeSummary;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : null);

/** The perplexity ratio of every sample (see the module comment). */
export function pplRatios(metrics: readonly SampleMetrics[]): (number | null)[] {
  const pair = (m: SampleMetrics) => JSON.stringify([m.model, m.layer, m.scenario, m.sample]);
  const row = (m: SampleMetrics) => JSON.stringify([m.model, m.layer, m.scenario]);
  const partner = new Map<string, number>();
  const rowPpl = new Map<string, number[]>();
  for (const m of metrics) {
    if (m.alpha !== 0 || m.perplexity === null) continue;
    partner.set(pair(m), m.perplexity);
    rowPpl.set(row(m), [...(rowPpl.get(row(m)) ?? []), m.perplexity]);
  }
  return metrics.map((m) => {
    if (m.perplexity === null) return null;
    const ref = partner.get(pair(m)) ?? geometricMean(rowPpl.get(row(m)) ?? []);
    return ref === null ? null : m.perplexity / ref;
  });
}

export function summarizeJudge(verdicts: readonly JudgeVerdict[]): JudgeSummary {
  const q = (k: 'concept' | 'instruction' | 'fluency') => mean(verdicts.map((v) => v.scores[k]).filter((x): x is number => x !== null));
  const hm = verdicts.map((v) => v.harmonic).filter((x): x is number => x !== null);
  return {
    n: verdicts.length, concept: q('concept'), instruction: q('instruction'), fluency: q('fluency'), harmonic: mean(hm), scored: hm.length,
    unparseable: verdicts.reduce((s, v) => s + v.unparseable.length, 0), failed: verdicts.reduce((s, v) => s + v.failed.length, 0),
  };
}

export function groupMetrics(rows: readonly SampleRow[], judged: boolean): MetricsGroup {
  const probes = rows.map((r) => r.probe_score).filter((x): x is number => x !== null);
  const ppl = rows.map((r) => r.perplexity).filter((x): x is number => x !== null && x > 0);
  const ratios = rows.map((r) => r.ppl_ratio).filter((x): x is number => x !== null && x > 0);
  const g: MetricsGroup = {
    n: rows.length,
    keyword_rate: rows.filter((r) => r.empathetic).length / Math.max(1, rows.length),
    keyword_share: mean(rows.map((r) => r.keyword_share)) ?? 0,
    probe_mean: mean(probes), perplexity: geometricMean(ppl), ppl_ratio: geometricMean(ratios),
  };
  if (judged) g.judge = summarizeJudge(rows.map((r) => r.judge).filter((v): v is JudgeVerdict => v !== undefined));
  return g;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x); else m.set(k, [x]);
  }
  return [...m.values()];
}

/** The summary of `metrics` (one per sample), with the judge's verdicts by sample key when a judge ran. */
export function summarizeMetrics(metrics: readonly SampleMetrics[], judge?: ReadonlyMap<string, JudgeVerdict>): OfflineMetrics {
  const ratios = pplRatios(metrics);
  const samples: SampleRow[] = metrics.map((m, i) => {
    const v = judge?.get(sampleKey(m));
    return { ...m, ppl_ratio: ratios[i], ...(v ? { judge: v } : {}) };
  });
  const judged = judge !== undefined;
  const byAlpha = (a: SampleRow, b: SampleRow) => a.alpha - b.alpha;
  const conditions = groupBy([...samples].sort(byAlpha), (r) => JSON.stringify([r.model, r.layer, r.scenario, r.alpha]))
    .map((rs) => ({ model: rs[0].model, layer: rs[0].layer, scenario: rs[0].scenario, alpha: rs[0].alpha, ...groupMetrics(rs, judged) }));
  const points = groupBy([...samples].sort((a, b) => a.layer - b.layer || byAlpha(a, b)), (r) => JSON.stringify([r.model, r.layer, r.alpha]))
    .map((rs) => ({ model: rs[0].model, layer: rs[0].layer, alpha: rs[0].alpha, ...groupMetrics(rs, judged) }));
  const out: OfflineMetrics = { fluency_reference: FLUENCY_REFERENCE, samples, conditions, points, steerability: steerability(metrics) };
  if (judged) out.judge = summarizeJudge(samples.map((r) => r.judge).filter((v): v is JudgeVerdict => v !== undefined));
  return out;
}
