// The search of `tune`, apart from how points are evaluated (so it is tested without a model):
//
// 1. coarse: the coarse alpha grid, one level at a time, on every candidate block still in the race
//    (one batched generation per level). A block stops climbing at its first point beyond the
//    fluency limit (perplexity ratio rises with |alpha|: larger alphas would only be less fluent);
//    with a judge as the objective, when its objective fell at two levels in a row. After each level
//    a block is stopped when it is clearly worse: some point of another block is at least as fluent
//    (perplexity ratio no higher) and beats the block's best feasible point by more than two
//    standard errors of the difference. Blocks are compared at equal fluency, not at equal alpha:
//    the same alpha pushes harder at one block than at another (a block whose output a later block
//    amplifies), so equal alphas are not equal steps. When the token budget cannot pay for every block's next point, the blocks that
//    are behind (best feasible objective, then detection AUROC) wait out the level and stop.
// 2. fine: around the best feasible point of the best two blocks, FINE_UP points between its alpha
//    and the next alpha tried above it (the fluency limit lies there) and one between it and the
//    alpha below; when no point was feasible, alphas below the smallest tried.
// 3. choice: the best feasible point by objective; points within one standard error of the
//    difference of it are equally good, and among those the block that detects best (AUROC) wins,
//    then the larger objective. On the planted model every block from 2 up steers alike, so this keeps the choice
//    on a best-detecting block instead of on whichever block the sampling noise favoured.
// Tokens are counted as generated: every point's cost is known once it ran; a level runs only when
// its worst-case cost (points x tokens per point) fits what is left of the budget after the
// held-out validation's reserve.
import { badField, EiaError } from '../../util/errors.js';

export type Objective = 'keyword_share' | 'judge_harmonic';

/** What evaluating one (block, alpha) on the train prompts gave. */
export interface PointStats {
  layer: number;
  alpha: number;
  /** Samples. */
  n: number;
  keyword_share: number;
  keyword_rate: number;
  probe_mean: number | null;
  /** Geometric mean perplexity ratio to the unsteered partners; null when unknown. */
  ppl_ratio: number | null;
  /** Mean judge harmonic mean over the samples whose answers parsed (null without a judge or when none parsed). */
  judge_harmonic: number | null;
  judge_unparseable: number;
  /** The objective per sample (its keyword share, or its harmonic mean where it has one). */
  objective_samples: number[];
  /** Generated tokens of its samples. */
  tokens: number;
}

export interface TriedPoint extends PointStats {
  /** Order of evaluation (0 = the unsteered baseline). */
  round: number;
  stage: 'baseline' | 'coarse' | 'fine';
  objective: number | null;
  /** Standard error of the objective's mean. */
  se: number | null;
  feasible: boolean;
}

export interface StoppedBlock { layer: number; round: number; reason: string }

export interface SearchSettings {
  /** Candidate blocks. */
  candidates: number[];
  /** Detection AUROC per block (ties; absent: 0). */
  auroc: ReadonlyMap<number, number>;
  /** Coarse alphas per block, ascending, positive. */
  coarse: ReadonlyMap<number, number[]>;
  objective: Objective;
  /** Perplexity-ratio limit of a feasible point (null: none; the judge's fluency question stands in for it). */
  maxPplRatio: number | null;
  budgetTokens: number;
  /** Worst-case tokens of one point (samples x prompts x max tokens). */
  pointCost: number;
  /** Tokens kept for the held-out validation. */
  reserve: number;
}

export interface SearchResult {
  points: TriedPoint[];
  stopped: StoppedBlock[];
  choice: TriedPoint | null;
  /** Why the choice is what it is, for people. */
  reason: string;
  /** Generated tokens of the search (the baseline included). */
  tokens: number;
  /** Indices into `points` of the steered points on the concept-vs-fluency frontier (no other point is at least as fluent and higher in concept). */
  frontier: number[];
}

export type Evaluate = (points: { layer: number; alpha: number }[], stage: TriedPoint['stage']) => Promise<PointStats[]>;

/** Fine points above the best alpha (toward the fluency limit). */
export const FINE_UP = 3;
/** Blocks refined around their best point. */
export const FINE_BLOCKS = 2;

const round4 = (x: number) => Number(x.toPrecision(4));

function objectiveOf(p: PointStats, o: Objective): { value: number | null; se: number | null } {
  const xs = p.objective_samples;
  if (xs.length === 0) return { value: o === 'keyword_share' ? p.keyword_share : p.judge_harmonic, se: null };
  const m = xs.reduce((s, v) => s + v, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1) : 0;
  return { value: m, se: Math.sqrt(v / xs.length) };
}

function feasibleOf(p: PointStats, s: SearchSettings, objective: number | null): boolean {
  if (objective === null) return false;
  if (s.maxPplRatio === null) return true;
  return p.ppl_ratio !== null && p.ppl_ratio <= s.maxPplRatio;
}

/** The steered points on the concept-vs-fluency frontier (indices). */
export function frontierOf(points: readonly { alpha: number; ppl_ratio: number | null; keyword_share: number }[]): number[] {
  const idx = points.map((p, i) => i).filter((i) => points[i].alpha !== 0 && points[i].ppl_ratio !== null);
  return idx.filter((i) => !idx.some((j) => j !== i &&
    points[j].ppl_ratio! <= points[i].ppl_ratio! && points[j].keyword_share >= points[i].keyword_share &&
    (points[j].ppl_ratio! < points[i].ppl_ratio! || points[j].keyword_share > points[i].keyword_share)))
    .sort((a, b) => points[a].ppl_ratio! - points[b].ppl_ratio!);
}

/** The choice among feasible points (see the module comment, 3). */
export function choose(points: readonly TriedPoint[], auroc: ReadonlyMap<number, number>): TriedPoint | null {
  const ok = points.filter((p) => p.feasible && p.alpha !== 0 && p.objective !== null);
  if (ok.length === 0) return null;
  const best = ok.reduce((a, b) => (b.objective! > a.objective! ? b : a));
  const near = ok.filter((p) => best.objective! - p.objective! <= Math.hypot(best.se ?? 0, p.se ?? 0));
  const au = (l: number) => auroc.get(l) ?? 0;
  return near.reduce((a, b) => (au(b.layer) > au(a.layer) || (au(b.layer) === au(a.layer) && b.objective! > a.objective!) ? b : a));
}

export async function search(s: SearchSettings, evaluate: Evaluate): Promise<SearchResult> {
  if (s.candidates.length === 0) throw new EiaError('E_BAD_ARG', 'tune needs at least one candidate block');
  const points: TriedPoint[] = [];
  const stopped: StoppedBlock[] = [];
  let spent = 0;
  let round = 0;
  const add = (stats: PointStats[], stage: TriedPoint['stage']) => {
    for (const p of stats) {
      const { value, se } = objectiveOf(p, s.objective);
      points.push({ ...p, round, stage, objective: value, se, feasible: p.alpha !== 0 && feasibleOf(p, s, value) });
      spent += p.tokens;
    }
    round++;
  };
  const au = (l: number) => s.auroc.get(l) ?? 0;
  const bestOf = (l: number) => {
    const f = points.filter((p) => p.layer === l && p.feasible && p.alpha !== 0);
    return f.length ? f.reduce((a, b) => (b.objective! > a.objective! ? b : a)) : null;
  };
  const ahead = (a: number, b: number) => (bestOf(b)?.objective ?? -1) - (bestOf(a)?.objective ?? -1) || au(b) - au(a) || a - b;
  const left = () => s.budgetTokens - s.reserve - spent;
  const stop = (layer: number, reason: string) => {
    stopped.push({ layer, round, reason });
    active.delete(layer);
  };

  // the unsteered baseline (the fluency reference and the steerability partners of every block)
  if (left() < s.pointCost) {
    throw badField('budgetTokens', 'invalid_value', (n) => `${n('budgetTokens')}: ${s.budgetTokens} tokens cannot pay for the unsteered baseline and the validation ` +
      `(${s.pointCost + s.reserve} tokens at most)`);
  }
  add(await evaluate(s.candidates.map((layer) => ({ layer, alpha: 0 })), 'baseline'), 'baseline');

  const active = new Set(s.candidates);
  const falling = new Map<number, number>();
  for (let level = 0; active.size > 0; level++) {
    let blocks = [...active].filter((l) => level < s.coarse.get(l)!.length).sort(ahead);
    for (const l of [...active]) if (level >= s.coarse.get(l)!.length) stop(l, 'coarse grid done');
    if (blocks.length === 0) break;
    const affordable = Math.floor(left() / s.pointCost);
    if (affordable < blocks.length) {
      for (const l of blocks.slice(Math.max(0, affordable))) stop(l, 'token budget: behind the blocks kept');
      blocks = blocks.slice(0, Math.max(0, affordable));
    }
    if (blocks.length === 0) break;
    const before = new Map(blocks.map((l) => [l, bestOf(l)?.objective ?? null]));
    add(await evaluate(blocks.map((layer) => ({ layer, alpha: s.coarse.get(layer)![level] })), 'coarse'), 'coarse');
    const now = points.slice(-blocks.length);
    for (const p of now) {
      if (s.maxPplRatio !== null && (p.ppl_ratio === null || p.ppl_ratio > s.maxPplRatio)) {
        stop(p.layer, `fluency limit: perplexity ratio ${p.ppl_ratio === null ? 'unknown' : p.ppl_ratio.toFixed(3)} > ${s.maxPplRatio} at alpha ${p.alpha}`);
        continue;
      }
      if (s.maxPplRatio === null) {
        const prev = before.get(p.layer);
        const fell = prev !== null && prev !== undefined && p.objective !== null && p.objective < prev ? (falling.get(p.layer) ?? 0) + 1 : 0;
        falling.set(p.layer, fell);
        if (fell >= 2) stop(p.layer, `objective fell at two levels in a row (alpha ${p.alpha})`);
      }
    }
    // clearly worse: dominated at equal fluency, beyond the noise
    for (const l of [...active]) {
      const b = bestOf(l);
      if (!b || b.ppl_ratio === null) continue;
      const beats = points.filter((q) => q.layer !== l && q.feasible && q.ppl_ratio !== null && q.ppl_ratio <= b.ppl_ratio! &&
        q.objective! - b.objective! > 2 * Math.hypot(b.se ?? 0, q.se ?? 0));
      if (beats.length === 0) continue;
      const q = beats.reduce((x, y) => (y.objective! > x.objective! ? y : x));
      stop(l, `clearly worse: its best ${b.objective!.toFixed(3)} at perplexity ratio ${b.ppl_ratio.toFixed(3)} is beaten by block ${q.layer}'s ` +
        `${q.objective!.toFixed(3)} at ratio ${q.ppl_ratio!.toFixed(3)} (by more than 2 se of the difference)`);
    }
  }

  // fine grid around the best points (or below everything when nothing was feasible)
  const ranked = [...new Set(points.filter((p) => p.feasible).map((p) => p.layer))].sort(ahead).slice(0, FINE_BLOCKS);
  const fine: { layer: number; alpha: number }[] = [];
  const triedAt = (l: number) => points.filter((p) => p.layer === l && p.alpha !== 0).map((p) => p.alpha).sort((a, b) => a - b);
  if (ranked.length > 0) {
    for (const l of ranked) {
      const b = bestOf(l)!;
      const alphas = triedAt(l);
      const hi = alphas.find((a) => a > b.alpha) ?? b.alpha * 2;
      const lo = [...alphas].reverse().find((a) => a < b.alpha) ?? 0;
      for (let j = 1; j <= FINE_UP; j++) fine.push({ layer: l, alpha: round4(b.alpha + ((hi - b.alpha) * j) / (FINE_UP + 1)) });
      fine.push({ layer: l, alpha: round4((lo + b.alpha) / 2) });
    }
  } else {
    const l = s.candidates.slice().sort(ahead)[0];
    const smallest = triedAt(l)[0] ?? s.coarse.get(l)![0];
    for (const f of [0.75, 0.5, 0.25]) fine.push({ layer: l, alpha: round4(smallest * f) });
  }
  const fresh = fine.filter((f, i) => f.alpha > 0 && !points.some((p) => p.layer === f.layer && p.alpha === f.alpha) &&
    fine.findIndex((g) => g.layer === f.layer && g.alpha === f.alpha) === i);
  const take = fresh.slice(0, Math.max(0, Math.floor(left() / s.pointCost)));
  if (take.length < fresh.length) stopped.push({ layer: -1, round, reason: `token budget: ${fresh.length - take.length} of ${fresh.length} fine points left out` });
  if (take.length > 0) add(await evaluate(take, 'fine'), 'fine');

  const choice = choose(points, s.auroc);
  const reason = choice === null
    ? (s.maxPplRatio !== null ? `no steered point kept the perplexity ratio within ${s.maxPplRatio}` : 'no steered point has a judged objective')
    : `the highest ${s.objective === 'keyword_share' ? 'keyword share' : 'judge harmonic mean'}${s.maxPplRatio !== null ? ` with a perplexity ratio within ${s.maxPplRatio}` : ''}` +
      ` (points within one standard error of the difference from the best count as equal; among them the block with the highest detection AUROC)`;
  return { points, stopped, choice, reason, tokens: spent, frontier: frontierOf(points) };
}
