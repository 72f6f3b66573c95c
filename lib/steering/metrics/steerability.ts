// Steerability per prompt (Tan et al., 2024: per-input steerability varies widely, and on some
// data up to half of the inputs move the wrong way). For every steered sample with an unsteered
// partner — the alpha = 0 sample of the same (model, block, scenario, sample index), drawn with the
// same seed, so the pair differs only by the steering — the concept moved "against" alpha when
// sign(alpha) * (concept(steered) - concept(partner)) < 0; a tie is not against. The concept is the
// probe projection when both samples have one, else the keyword share. Per prompt: the share of its
// steered samples that moved against alpha (and per alpha); per (model, block): the distribution of
// those shares over prompts (quantiles and every value), not only their mean.
import { percentile } from '../../stats/descriptive.js';
import type { SampleMetrics } from './compute.js';

export interface PromptSteerability {
  model: string;
  layer: number;
  scenario: string;
  /** Steered samples with an unsteered partner. */
  n: number;
  /** Of those, the ones that moved against alpha. */
  against: number;
  share_against: number | null;
  /** The concept measure used: the probe projection (both samples have one) or the keyword share. */
  measure: 'probe' | 'keywords' | 'mixed';
  by_alpha: { alpha: number; n: number; against: number }[];
}

export interface SteerabilityDistribution {
  model: string;
  layer: number;
  /** Prompts with at least one paired sample. */
  prompts: number;
  mean: number | null;
  min: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
  max: number | null;
  /** Every prompt's share, ascending. */
  values: number[];
}

export interface Steerability {
  per_prompt: PromptSteerability[];
  distribution: SteerabilityDistribution[];
}

const partnerKey = (m: Pick<SampleMetrics, 'model' | 'layer' | 'scenario' | 'sample'>) => JSON.stringify([m.model, m.layer, m.scenario, m.sample]);

export function steerability(metrics: readonly SampleMetrics[]): Steerability {
  const base = new Map<string, SampleMetrics>();
  for (const m of metrics) if (m.alpha === 0) base.set(partnerKey(m), m);
  const rows = new Map<string, PromptSteerability & { measures: Set<string> }>();
  for (const m of metrics) {
    if (m.alpha === 0) continue;
    const b = base.get(partnerKey(m));
    if (!b) continue;
    const k = JSON.stringify([m.model, m.layer, m.scenario]);
    let row = rows.get(k);
    if (!row) {
      row = { model: m.model, layer: m.layer, scenario: m.scenario, n: 0, against: 0, share_against: null, measure: 'keywords', by_alpha: [], measures: new Set() };
      rows.set(k, row);
    }
    const probe = m.probe_score !== null && b.probe_score !== null;
    const delta = probe ? m.probe_score! - b.probe_score! : m.keyword_share - b.keyword_share;
    row.measures.add(probe ? 'probe' : 'keywords');
    const against = Math.sign(m.alpha) * delta < 0;
    row.n++;
    if (against) row.against++;
    let a = row.by_alpha.find((x) => x.alpha === m.alpha);
    if (!a) {
      a = { alpha: m.alpha, n: 0, against: 0 };
      row.by_alpha.push(a);
    }
    a.n++;
    if (against) a.against++;
  }
  const per_prompt: PromptSteerability[] = [...rows.values()].map(({ measures, ...r }) => ({
    ...r, share_against: r.n > 0 ? r.against / r.n : null,
    measure: measures.size > 1 ? 'mixed' : measures.has('probe') ? 'probe' : 'keywords',
    by_alpha: r.by_alpha.sort((x, y) => x.alpha - y.alpha),
  }));
  const groups = new Map<string, PromptSteerability[]>();
  for (const p of per_prompt) {
    const k = JSON.stringify([p.model, p.layer]);
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  const distribution = [...groups.values()].map((ps) => {
    const values = ps.map((p) => p.share_against!).sort((a, b) => a - b);
    const q = (x: number) => (values.length ? percentile(values, x) : null);
    return {
      model: ps[0].model, layer: ps[0].layer, prompts: values.length,
      mean: values.length ? values.reduce((s, v) => s + v, 0) / values.length : null,
      min: q(0), q1: q(25), median: q(50), q3: q(75), max: q(100), values,
    };
  });
  return { per_prompt, distribution };
}
