// The residual norms that set the steering-strength bound. Adding alpha * d (d a unit direction,
// direction.ts) to a block's output makes sense while alpha is comparable to the residual stream it
// is added to; the bound itself, |alpha| <= 100 x r_L, is the validator's rule
// (lib/engine/validate.ts, ALPHA_BOUND_FACTOR). Here: r_L, the residual norm of block L, the median
// L2 norm of block L's output over the tokens of a fixed neutral sentence (NEUTRAL_TEXT, BOS excluded:
// the first position is an attention sink whose norm is often far larger), measured with one capture
// pass of that sentence on the model in use (the planted model: r_L ~ 15).
import type { Model } from '../engine/model.js';
import { EiaError } from '../util/errors.js';

/** The sentence whose residual norms set the bound (plain, no topic the probes are about). */
export const NEUTRAL_TEXT = 'The weather report for tomorrow says it will be cloudy, with light rain in the afternoon and a cool wind from the north.';

/** r_L for each of `layers` (see the module comment): one capture pass in a small context of its own. */
export async function residualNorms(model: Model, layers: readonly number[], threads?: number): Promise<Map<number, number>> {
  const ls = [...new Set(layers)].sort((a, b) => a - b);
  const out = new Map<number, number>();
  if (ls.length === 0) return out;
  const ctx = await model.createContext({ nCtx: 256, nBatch: 256, nSeqMax: 1, nThreads: threads });
  try {
    const r = await ctx.capture([NEUTRAL_TEXT], { layers: ls, pool: 'tokens' });
    const n = r.data.get(ls[0])!.length / r.nEmbd;
    const skip = n > 1 ? 1 : 0;
    for (const l of ls) {
      const m = r.data.get(l)!;
      const norms: number[] = [];
      for (let t = skip; t < n; t++) {
        let s = 0;
        for (let j = 0; j < r.nEmbd; j++) s += m[t * r.nEmbd + j] ** 2;
        norms.push(Math.sqrt(s));
      }
      norms.sort((a, b) => a - b);
      const h = norms.length >> 1;
      const med = norms.length % 2 ? norms[h] : (norms[h - 1] + norms[h]) / 2;
      if (!Number.isFinite(med)) throw new EiaError('E_BAD_ARG', `${model.info.path}: block ${l}'s output is NaN or infinite on a plain sentence (broken weights?)`);
      out.set(l, med);
    }
  } finally {
    ctx.free();
  }
  return out;
}
