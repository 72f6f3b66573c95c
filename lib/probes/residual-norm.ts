// The residual norms that set the steering-strength bound. Adding alpha * d (d a unit direction,
// direction.ts) to a block's output makes sense while alpha is comparable to the residual stream it
// is added to; the bound itself, |alpha| <= 100 x r_L, is the validator's rule
// (lib/engine/validate.ts, ALPHA_BOUND_FACTOR). Here: r_L, the residual norm of block L, the median
// L2 norm of block L's output over the tokens of a fixed neutral sentence (NEUTRAL_TEXT, BOS excluded:
// the first position is an attention sink whose norm is often far larger; neutral-rows.ts), measured
// with one capture pass of that sentence on the model in use (the planted model: r_L ~ 15); the same
// pass refuses a model that computes NaN (neutral-rows.ts).
import type { Model } from '../engine/model.js';
import { NEUTRAL_TEXT, neutralRows } from './neutral-rows.js';

export { NEUTRAL_TEXT };

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
