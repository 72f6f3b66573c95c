// The offline metrics on hand-made samples: the keyword share, the perplexity ratio to the
// unsteered partner (and its fallback), steerability per prompt and its distribution, the groups
// per condition and per point, and the judge's totals (unparseable answers counted, not scored).
import { describe, expect, it } from 'vitest';
import { conceptScore, keywordShare } from '../../lib/steering/metrics/concept.js';
import type { SampleMetrics } from '../../lib/steering/metrics/compute.js';
import { steerability } from '../../lib/steering/metrics/steerability.js';
import { pplRatios, summarizeMetrics } from '../../lib/steering/metrics/summary.js';
import { verdictOf } from '../../lib/steering/judge/verdict.js';
import { sampleKey } from '../../lib/steering/samples.js';

function m(layer: number, scenario: string, alpha: number, sample: number, ppl: number | null, share: number, probe: number | null = null): SampleMetrics {
  return {
    model: 'm', layer, scenario, alpha, sample, empathetic: share > 0.3, empathy_keywords: 0, task_keywords: 0, keyword_share: share,
    tokens: 10, nll: ppl === null ? null : Math.log(ppl), perplexity: ppl, probe_score: probe, probe_source: probe === null ? null : 'record',
  };
}

describe('concept measures', () => {
  it('keyword share: empathy-keyword occurrences per word, the paper\'s substring rule, capped at 1', () => {
    expect(keywordShare('I care and I help and I listen carefully')).toBeCloseTo(4 / 9, 12);  // care, help, listen, care(fully)
    expect(keywordShare('We will reach out to them')).toBeCloseTo(1 / 6, 12);
    expect(keywordShare('')).toBe(0);
    expect(keywordShare('helphelphelp')).toBe(1);
    expect(conceptScore('win the task, help').empathetic).toBe(false);  // 1 empathy keyword vs 2 task keywords
  });
});

describe('perplexity ratios', () => {
  it('to the unsteered partner (same block, scenario, sample); else the row\'s alpha = 0 geometric mean; else null', () => {
    const ms = [
      m(2, 'a', 0, 0, 100, 0.2), m(2, 'a', 0, 1, 400, 0.2),
      m(2, 'a', 4, 0, 150, 0.5),   // partner 100 -> 1.5
      m(2, 'a', 4, 2, 400, 0.5),   // no partner: geometric mean of 100 and 400 = 200 -> 2
      m(3, 'b', 4, 0, 300, 0.5),   // no alpha = 0 in its row
      m(2, 'a', 8, 1, null, 0.6),  // empty text
    ];
    const r = pplRatios(ms);
    expect(r[0]).toBe(1);
    expect(r[2]).toBeCloseTo(1.5, 12);
    expect(r[3]).toBeCloseTo(2, 12);
    expect(r[4]).toBeNull();
    expect(r[5]).toBeNull();
  });
});

describe('steerability', () => {
  it('per prompt: the share of steered samples that moved against sign(alpha) from their partner; a tie is not against', () => {
    const ms = [
      // prompt a: partners at probe 0; +alpha moved up twice, down once; -alpha moved down (with alpha)
      m(1, 'a', 0, 0, 1, 0.2, 0), m(1, 'a', 0, 1, 1, 0.2, 0), m(1, 'a', 0, 2, 1, 0.2, 0),
      m(1, 'a', 2, 0, 1, 0.3, 1), m(1, 'a', 2, 1, 1, 0.3, 0.5), m(1, 'a', 2, 2, 1, 0.1, -1), m(1, 'a', -2, 0, 1, 0.1, -2),
      // prompt b: no probe scores -> keyword share; one tie, one against
      m(1, 'b', 0, 0, 1, 0.2), m(1, 'b', 0, 1, 1, 0.2), m(1, 'b', 2, 0, 1, 0.2), m(1, 'b', 2, 1, 1, 0.1),
      // a steered sample without partner is not counted
      m(1, 'b', 2, 9, 1, 0.9),
    ];
    const s = steerability(ms);
    const a = s.per_prompt.find((p) => p.scenario === 'a')!;
    expect(a).toMatchObject({ n: 4, against: 1, share_against: 0.25, measure: 'probe' });
    expect(a.by_alpha).toEqual([{ alpha: -2, n: 1, against: 0 }, { alpha: 2, n: 3, against: 1 }]);
    const b = s.per_prompt.find((p) => p.scenario === 'b')!;
    expect(b).toMatchObject({ n: 2, against: 1, share_against: 0.5, measure: 'keywords' });
    expect(s.distribution).toEqual([{ model: 'm', layer: 1, prompts: 2, mean: 0.375, min: 0.25, q1: 0.3125, median: 0.375, q3: 0.4375, max: 0.5, values: [0.25, 0.5] }]);
  });
});

describe('summary', () => {
  it('groups per condition and per point; the judge counts unparseable answers and scores only what parsed', () => {
    const ms = [m(2, 'a', 0, 0, 100, 0.2), m(2, 'a', 4, 0, 200, 0.6), m(2, 'b', 0, 0, 100, 0.1), m(2, 'b', 4, 0, 50, 0.4)];
    const judge = new Map([
      [sampleKey(ms[1]), verdictOf({ concept: 2, instruction: 2, fluency: 1 }, [], [])],
      [sampleKey(ms[3]), verdictOf({ concept: null, instruction: 2, fluency: 2 }, ['concept'], [])],
    ]);
    const s = summarizeMetrics(ms, judge);
    const p = s.points.find((x) => x.alpha === 4)!;
    expect(p.n).toBe(2);
    expect(p.keyword_share).toBeCloseTo(0.5, 12);
    expect(p.ppl_ratio).toBeCloseTo(Math.sqrt(2 * 0.5), 12);  // geometric mean of 2 and 0.5
    expect(p.perplexity).toBeCloseTo(100, 12);
    expect(p.judge).toMatchObject({ n: 2, concept: 2, instruction: 2, fluency: 1.5, scored: 1, unparseable: 1, failed: 0 });
    expect(p.judge!.harmonic).toBeCloseTo(1.5, 12);  // 3 / (1/2 + 1/2 + 1)
    expect(s.conditions.length).toBe(4);
    expect(s.judge).toMatchObject({ n: 2, unparseable: 1, scored: 1 });
    expect(summarizeMetrics(ms).judge).toBeUndefined();
  });
});
