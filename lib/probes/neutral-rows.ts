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

/**
 * Block -> its output at each token of NEUTRAL_TEXT after the first (one row of n_embd values per token).
 * The same pass is the one check that the model computes numbers at all: every block's output and the
 * logits of the sentence's last position are read, and a NaN or infinity anywhere refuses the model
 * (E_BAD_ARG) before anything is generated or written. A GGUF whose rope.freq_base is NaN or 0, or whose
 * weights hold NaN, otherwise generates token 0 at every step and monitor scores of null without a word.
 * With no `layers` it is the check alone, and it also runs on a model whose graph does not expose the
 * residual stream (docs/architectures.md): there only the logits are read, so plain generation keeps
 * working; asking such a model for rows is E_UNSUPPORTED_MODEL.
 */
export async function neutralRows(model: Model, layers: readonly number[], threads?: number): Promise<Map<number, Float32Array[]>> {
  const ls = [...new Set(layers)].sort((a, b) => a - b);
  for (const l of ls) if (!(Number.isInteger(l) && l >= 0 && l < model.nLayer)) throw new EiaError('E_BAD_ARG', `block ${l} out of range [0, ${model.nLayer - 1}]`);
  const broken = (what: string) => new EiaError('E_BAD_ARG', `${model.info.path}: ${what} is NaN or infinite on a plain sentence: the model's ` +
    'weights or hyper-parameters are broken (e.g. rope.freq_base NaN or 0, NaN weights); refused before anything is generated or written');
  const out = new Map<number, Float32Array[]>();
  // a model without a vocabulary (llama.cpp's test models) reads token ids only: a fixed run of ids stands in for the sentence
  const ids = model.info.hasVocab ? null : Int32Array.from({ length: 16 }, (_, i) => (i + 1) % model.info.nVocab);
  const ctx = await model.createContext({ nCtx: 256, nBatch: 256, nSeqMax: 1, nThreads: threads });
  try {
    // a graph without the residual stream has no rows (capture would refuse in terms of capture)
    if (ls.length > 0) ctx.requireResidual('steering');
    if (ctx.residualSupport.supported) {
      const all = Array.from({ length: model.nLayer }, (_, l) => l);
      const r = ids ? await ctx.capture([ids], { layers: all, pool: 'tokens' }) : await ctx.capture([NEUTRAL_TEXT], { layers: all, pool: 'tokens' });
      for (const l of all) {
        const m = r.data.get(l)!;
        for (let i = 0; i < m.length; i++) if (!Number.isFinite(m[i])) throw broken(`the output of block ${l} (row ${Math.floor(i / r.nEmbd)})`);
      }
      const n = r.data.get(0)!.length / r.nEmbd;
      const skip = n > 1 ? 1 : 0;
      for (const l of ls) {
        const m = r.data.get(l)!;
        // copies: the capture's buffers are not kept alive by a few rows
        out.set(l, Array.from({ length: n - skip }, (_, t) => m.slice((t + skip) * r.nEmbd, (t + skip + 1) * r.nEmbd)));
      }
    }
    const logits = await ctx.evalLogits(ids ?? model.tokenize(NEUTRAL_TEXT));
    for (let i = 0; i < logits.length; i++) if (!Number.isFinite(logits[i])) throw broken(`the logit of token ${i}`);
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
