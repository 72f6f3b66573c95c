// tune's search without a model: an evaluator of known answer (per block, concept and perplexity
// ratio rise with alpha, each block with its own gain and fluency cost) checks the coarse grid, the
// stops (fluency limit, clearly worse, token budget), the fine grid around the best point, the
// choice (within one standard error, the best-detecting block), the frontier and the budget.
import { describe, expect, it } from 'vitest';
import { choose, FINE_UP, frontierOf, search, type PointStats, type SearchSettings, type TriedPoint } from '../../lib/pipeline/tune/search.js';

/** Block -> [concept gain, perplexity cost per alpha^2]. Concept = 0.2 + gain * (1 - exp(-alpha / 4)); ratio = 1 + cost * alpha^2. */
const BLOCKS: Record<number, [number, number]> = { 0: [0.1, 0.01], 1: [0.61, 0.02], 2: [0.6, 0.02], 3: [0.6, 0.02] };
const AUROC = new Map([[0, 0.8], [1, 0.9], [2, 0.99], [3, 0.99]]);
const N = 12;
const COST = 100;  // tokens per sample

function point(layer: number, alpha: number): PointStats {
  const [gain, cost] = BLOCKS[layer];
  const share = 0.2 + gain * (1 - Math.exp(-alpha / 4));
  // per-sample values spread +-0.03 around the mean (se ~ 0.01)
  const samples = Array.from({ length: N }, (_, i) => share + (i % 2 === 0 ? 0.03 : -0.03));
  return {
    layer, alpha, n: N, keyword_share: share, keyword_rate: share > 0.5 ? 1 : 0, probe_mean: alpha, ppl_ratio: 1 + cost * alpha * alpha,
    judge_harmonic: null, judge_unparseable: 0, objective_samples: samples, tokens: N * COST,
  };
}

function settings(over: Partial<SearchSettings> = {}): SearchSettings {
  const grid = [1, 2, 4, 8, 16];
  return {
    candidates: [0, 1, 2, 3], auroc: AUROC, coarse: new Map([0, 1, 2, 3].map((l) => [l, grid])), objective: 'keyword_share',
    maxPplRatio: 1.5, budgetTokens: 1e9, pointCost: N * COST, reserve: 2 * N * COST, ...over,
  };
}

async function run(s: SearchSettings) {
  const calls: { layer: number; alpha: number }[][] = [];
  const r = await search(s, async (pts) => {
    calls.push(pts);
    return pts.map((p) => point(p.layer, p.alpha));
  });
  return { r, calls };
}

describe('tune search', () => {
  it('baseline first, then the coarse grid level by level; a block stops at its first point beyond the fluency limit', async () => {
    const { r, calls } = await run(settings());
    expect(calls[0]).toEqual([0, 1, 2, 3].map((layer) => ({ layer, alpha: 0 })));
    for (const l of [1, 2, 3]) {
      const coarse = r.points.filter((p) => p.layer === l && p.stage === 'coarse').map((p) => p.alpha);
      // ratio 1 + 0.02 a^2: 1.08 at 2, 1.32 at 4, 2.28 at 8 -> stops after 8, never tries 16
      expect(coarse).toEqual([1, 2, 4, 8]);
      expect(r.stopped.find((s) => s.layer === l)?.reason).toMatch(/fluency limit: perplexity ratio 2\.280 > 1\.5 at alpha 8/);
    }
    expect(r.points.filter((p) => p.alpha === 8).every((p) => !p.feasible)).toBe(true);
  });

  it('a clearly worse block stops early (its best + 2 se of the difference below the leader)', async () => {
    const { r } = await run(settings());
    const s0 = r.stopped.find((s) => s.layer === 0)!;
    expect(s0.reason).toMatch(/^clearly worse/);
    expect(r.points.filter((p) => p.layer === 0 && p.stage === 'coarse').length).toBeLessThan(4);
  });

  it('fine points: FINE_UP between the best alpha and the next one tried, one below; the choice is the best-detecting block within one se of the difference', async () => {
    const { r } = await run(settings());
    const fine = r.points.filter((p) => p.stage === 'fine');
    const blocks = [...new Set(fine.map((p) => p.layer))];
    expect(blocks.length).toBe(2);
    for (const l of blocks) {
      const a = fine.filter((p) => p.layer === l).map((p) => p.alpha).sort((x, y) => x - y);
      expect(a.length).toBe(FINE_UP + 1);
      expect(a[0]).toBe(3);  // (2 + 4) / 2
      expect(a.slice(1)).toEqual([5, 6, 7]);  // between 4 and 8
    }
    // block 1 concentrates slightly more concept (0.61 vs 0.6 gain: within one se of the difference) but detects worse: a 0.99 block is chosen
    expect(r.choice).not.toBeNull();
    expect([2, 3]).toContain(r.choice!.layer);
    // the largest feasible alpha: 1 + 0.02 a^2 <= 1.5 -> a <= 5; 5 is the best fine point
    expect(r.choice!.alpha).toBe(5);
    expect(r.choice!.feasible).toBe(true);
    expect(r.reason).toMatch(/highest keyword share with a perplexity ratio within 1\.5/);
  });

  it('the budget: levels and fine points are cut to what it pays for, never more (the validation reserve kept)', async () => {
    const s = settings({ budgetTokens: 14 * N * COST });
    const { r } = await run(s);
    expect(r.tokens).toBeLessThanOrEqual(s.budgetTokens - s.reserve);
    expect(r.stopped.some((x) => /token budget/.test(x.reason))).toBe(true);
    expect(r.choice).not.toBeNull();
    await expect(search(settings({ budgetTokens: 2 * N * COST }), async () => [])).rejects.toThrow(/cannot pay for the unsteered baseline/);
  });

  it('nothing feasible: fine points below the smallest alpha tried, and no choice when they fail too', async () => {
    const { r, calls } = await run(settings({ maxPplRatio: 1.001 }));
    const fine = calls[calls.length - 1];
    expect(fine.every((p) => p.alpha < 1)).toBe(true);
    expect(r.choice).toBeNull();
    expect(r.reason).toMatch(/no steered point kept the perplexity ratio within 1\.001/);
  });

  it('frontier: no other point at least as fluent with more concept', () => {
    const pts = [
      { alpha: 0, ppl_ratio: 1, keyword_share: 0.2 },
      { alpha: 1, ppl_ratio: 1.1, keyword_share: 0.4 },
      { alpha: 2, ppl_ratio: 1.2, keyword_share: 0.35 },  // dominated by the one before
      { alpha: 3, ppl_ratio: 1.3, keyword_share: 0.5 },
      { alpha: 4, ppl_ratio: null, keyword_share: 0.9 },  // no fluency: not on it
    ];
    expect(frontierOf(pts)).toEqual([1, 3]);
  });

  it('choose: the objective decides beyond one se of the difference; within it the AUROC', () => {
    const mk = (layer: number, objective: number, se: number): TriedPoint => ({ ...point(layer, 1), round: 1, stage: 'coarse', objective, se, feasible: true });
    expect(choose([mk(1, 0.6, 0.01), mk(2, 0.5, 0.01)], AUROC)!.layer).toBe(1);
    expect(choose([mk(1, 0.6, 0.05), mk(2, 0.57, 0.01)], AUROC)!.layer).toBe(2);
    expect(choose([mk(1, 0.6, 0.02), mk(2, 0.57, 0.02)], AUROC)!.layer).toBe(1);  // 0.03 > hypot(0.02, 0.02)
    expect(choose([{ ...mk(1, 0.6, 0.01), feasible: false }], AUROC)).toBeNull();
  });
});
