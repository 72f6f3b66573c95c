// The stated bound on steering strength. Adding alpha * d (d a unit direction, direction.ts) to a
// block's output makes sense while alpha is comparable to the residual stream it is added to; far
// beyond it the activations overflow and the model emits control characters. The bound:
//
//     |alpha| <= ALPHA_BOUND_FACTOR (100) x r_L
//
// where r_L is the residual norm of block L: the median L2 norm of block L's output over the tokens
// of a fixed neutral sentence (NEUTRAL_TEXT, BOS excluded: the first position is an attention sink
// whose norm is often far larger), measured with one capture pass of that sentence on the model in
// use (the same pass refuses a model that computes NaN: see residualNorms). Typical steering
// strengths sit well inside: the paper's |alpha| <= 20 on 7-8B models, the demo's |alpha| <= 10 on
// the planted model (r_L ~ 15). A layer range is bounded by its smallest r_L.
import type { Model } from '../engine/model.js';
import { EiaError } from '../util/errors.js';

export const ALPHA_BOUND_FACTOR = 100;

/** The sentence whose residual norms set the bound (plain, no topic the probes are about). */
export const NEUTRAL_TEXT = 'The weather report for tomorrow says it will be cloudy, with light rain in the afternoon and a cool wind from the north.';

/**
 * r_L for each of `layers` (see the module comment), from one capture pass of NEUTRAL_TEXT through
 * every block of the model in a small context of its own. The same pass is the one check that the
 * model computes numbers at all: a NaN or infinity in any block's output, or in the logits of the
 * sentence's last position, refuses the model (E_BAD_ARG) before anything is generated or written.
 * A GGUF whose rope.freq_base is NaN or 0, or whose weights hold NaN, otherwise generates token 0
 * at every step and monitor scores of null without a word. Every command that runs a model (capture
 * and probe check their own activations instead: checkCaptureFinite) and the server use it; with no
 * `layers` it is the check alone (checkModelComputes).
 */
export async function residualNorms(model: Model, layers: readonly number[], threads?: number): Promise<Map<number, number>> {
  const ls = [...new Set(layers)].sort((a, b) => a - b);
  const all = Array.from({ length: model.nLayer }, (_, l) => l);
  const out = new Map<number, number>();
  const broken = (what: string) => new EiaError('E_BAD_ARG', `${model.info.path}: ${what} is NaN or infinite on a plain sentence: the model's ` +
    'weights or hyper-parameters are broken (e.g. rope.freq_base NaN or 0, NaN weights); refused before anything is generated or written');
  const ctx = await model.createContext({ nCtx: 256, nBatch: 256, nSeqMax: 1, nThreads: threads });
  try {
    const r = await ctx.capture([NEUTRAL_TEXT], { layers: all, pool: 'tokens' });
    for (const l of all) {
      const m = r.data.get(l)!;
      for (let i = 0; i < m.length; i++) if (!Number.isFinite(m[i])) throw broken(`the output of block ${l} (row ${Math.floor(i / r.nEmbd)})`);
    }
    const logits = await ctx.evalLogits(model.tokenize(NEUTRAL_TEXT));
    for (let i = 0; i < logits.length; i++) if (!Number.isFinite(logits[i])) throw broken(`the logit of token ${i}`);
    const n = r.data.get(0)!.length / r.nEmbd;
    const skip = n > 1 ? 1 : 0;
    for (const l of ls) {
      const m = r.data.get(l);
      if (!m) throw new EiaError('E_BAD_ARG', `block ${l} out of range [0, ${model.nLayer - 1}]`);
      const norms: number[] = [];
      for (let t = skip; t < n; t++) {
        let s = 0;
        for (let j = 0; j < r.nEmbd; j++) s += m[t * r.nEmbd + j] ** 2;
        norms.push(Math.sqrt(s));
      }
      norms.sort((a, b) => a - b);
      const h = norms.length >> 1;
      out.set(l, norms.length % 2 ? norms[h] : (norms[h - 1] + norms[h]) / 2);
    }
  } finally {
    ctx.free();
  }
  return out;
}

/** The check of residualNorms alone: the model computes finite numbers (E_BAD_ARG otherwise). */
export async function checkModelComputes(model: Model, threads?: number): Promise<void> {
  await residualNorms(model, [], threads);
}

/** The largest |alpha| allowed at a block of residual norm `norm`. */
export function alphaBound(norm: number): number {
  return ALPHA_BOUND_FACTOR * norm;
}

/**
 * Checks steering strengths against the bound; E_BAD_ARG starting with `field:` (the option's name,
 * which a front end may replace by its own) naming the alpha, the block and the bound.
 */
export function checkAlphaBound(alphas: readonly number[], layers: readonly number[], norms: ReadonlyMap<number, number>, field = 'alphas'): void {
  const worst = Math.max(...alphas.map((a) => Math.abs(a)));
  if (!(worst > 0)) return;
  for (const l of layers) {
    const r = norms.get(l);
    if (r === undefined) throw new EiaError('E_INTERNAL', `no residual norm measured for block ${l}`);
    if (worst > alphaBound(r)) {
      const a = alphas.find((x) => Math.abs(x) === worst)!;
      throw new EiaError('E_BAD_ARG', `${field}: ${a} is beyond the bound at block ${l}: |alpha| <= ${ALPHA_BOUND_FACTOR} x the block's ` +
        `residual norm (${r.toPrecision(4)}) = ${alphaBound(r).toPrecision(4)}`);
    }
  }
}
