// The unsteered model on one fixed neutral sentence (NEUTRAL_TEXT): each block's output at every
// token but the first, from one capture pass in a small context of its own. Two rules read it: the
// steering-strength bound (residual-norm.ts: the median row norm) and the unsteered baseline of a
// probe (the median projection of the rows on its direction; the server's colour scale and the
// playground centre on it). The first position is left out because it is an attention sink whose
// norm and projection are often far from the others'.
import type { Model } from '../engine/model.js';
import { median, percentile } from '../stats/descriptive.js';
import { EiaError } from '../util/errors.js';

/** The sentence the neutral rows come from (plain, no topic the probes are about). */
export const NEUTRAL_TEXT = 'The weather report for tomorrow says it will be cloudy, with light rain in the afternoon and a cool wind from the north.';

/** Block -> its output at each token of NEUTRAL_TEXT after the first (one row of n_embd values per token). */
export async function neutralRows(model: Model, layers: readonly number[], threads?: number): Promise<Map<number, Float32Array[]>> {
  const ls = [...new Set(layers)].sort((a, b) => a - b);
  const out = new Map<number, Float32Array[]>();
  if (ls.length === 0) return out;
  const ctx = await model.createContext({ nCtx: 256, nBatch: 256, nSeqMax: 1, nThreads: threads });
  try {
    const r = await ctx.capture([NEUTRAL_TEXT], { layers: ls, pool: 'tokens' });
    const n = r.data.get(ls[0])!.length / r.nEmbd;
    const skip = n > 1 ? 1 : 0;
    for (const l of ls) {
      const m = r.data.get(l)!;
      // copies: the capture's buffers are not kept alive by a few rows
      out.set(l, Array.from({ length: n - skip }, (_, t) => m.slice((t + skip) * r.nEmbd, (t + skip + 1) * r.nEmbd)));
    }
  } finally {
    ctx.free();
  }
  return out;
}

export interface ProjectionSummary {
  /** Median of the rows' projections on the direction. */
  median: number;
  /** 25th and 75th percentiles (numpy's linear rule). */
  q1: number;
  q3: number;
  /** Rows (tokens) summarised. */
  n: number;
}

/** The rows' projections (dot products) on `direction`, summarised; E_BAD_ARG when one is not finite. */
export function projectionSummary(rows: readonly Float32Array[], direction: Float32Array, what: string): ProjectionSummary {
  const p = rows.map((row) => {
    let s = 0;
    for (let j = 0; j < row.length; j++) s += row[j] * direction[j];
    return s;
  });
  if (p.length === 0 || p.some((x) => !Number.isFinite(x))) throw new EiaError('E_BAD_ARG', `${what}: the projection on the neutral sentence is not finite (broken weights?)`);
  return { median: median(p), q1: percentile(p, 25), q3: percentile(p, 75), n: p.length };
}
