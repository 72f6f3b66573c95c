// The stated bound on steering strength. Adding alpha * d (d a unit direction, direction.ts) to a
// block's output makes sense while alpha is comparable to the residual stream it is added to; far
// beyond it the activations overflow and the model emits control characters. The bound:
//
//     |alpha| <= ALPHA_BOUND_FACTOR (100) x r_L
//
// where r_L is the residual norm of block L: the median L2 norm of block L's output over the tokens
// of a fixed neutral sentence (NEUTRAL_TEXT, BOS excluded: the first position is an attention sink
// whose norm is often far larger; neutral-rows.ts), measured with one capture pass of that sentence
// on the model in use (the same pass refuses a model that computes NaN: neutral-rows.ts). Typical
// steering strengths sit well inside: the paper's |alpha| <= 20 on 7-8B models, the demo's
// |alpha| <= 10 on the planted model (r_L ~ 15). A layer range is bounded by its smallest r_L.
import type { Model } from '../engine/model.js';
import { EiaError } from '../util/errors.js';
import { NEUTRAL_TEXT, neutralRows } from './neutral-rows.js';

export { NEUTRAL_TEXT };

export const ALPHA_BOUND_FACTOR = 100;

/**
 * r_L for each of `layers` (see the module comment), from one capture pass of NEUTRAL_TEXT in a small
 * context of its own (neutral-rows.ts), which also refuses a model that computes NaN or infinity.
 * Every command that runs a model (capture and probe check their own activations instead:
 * checkCaptureFinite) and the server use it; with no `layers` it is the check alone (checkModelComputes).
 */
export async function residualNorms(model: Model, layers: readonly number[], threads?: number): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const [l, rows] of await neutralRows(model, layers, threads)) {
    const norms = rows.map((row) => {
      let s = 0;
      for (let j = 0; j < row.length; j++) s += row[j] ** 2;
      return Math.sqrt(s);
    });
    norms.sort((a, b) => a - b);
    const h = norms.length >> 1;
    out.set(l, norms.length % 2 ? norms[h] : (norms[h - 1] + norms[h]) / 2);
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
