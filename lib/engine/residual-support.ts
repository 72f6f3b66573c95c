// The support check of a model without a context of the caller's: a minimal context is created
// (which runs the check: native/core/residual_support.h) and freed. For `info`; operations read
// `ctx.residualSupport` of the context they run on.
import type { Model } from './model.js';
import type { ResidualSupport } from './context.js';
import { isEiaError } from '../util/errors.js';

export async function modelResidualSupport(model: Model, nThreads?: number): Promise<ResidualSupport> {
  let ctx;
  try {
    ctx = await model.createContext({ nCtx: 64, nBatch: 64, nSeqMax: 1, nThreads });
  } catch (e) {
    // a model eia-native cannot run at all (encoder-decoder) has no residual stream to offer either
    if (isEiaError(e, 'E_UNSUPPORTED_MODEL')) {
      const all = Array.from({ length: model.nLayer }, (_, l) => l);
      return { supported: false, reason: e.message, tensor: '', hits: all.map(() => 0), found: [], missing: all, pruned: [] };
    }
    throw e;
  }
  try {
    return ctx.residualSupport;
  } finally {
    ctx.free();
  }
}

const checked = new WeakSet<Model>();

/**
 * Throws E_UNSUPPORTED_MODEL naming `what` when the model's graph does not expose the residual
 * stream (the support check on a minimal context; once per model). Commands call it before they
 * read their inputs, so the model's refusal comes first and before any write.
 */
export async function requireModelResidual(model: Model, what: string, nThreads?: number): Promise<void> {
  if (checked.has(model)) return;
  const ctx = await model.createContext({ nCtx: 64, nBatch: 64, nSeqMax: 1, nThreads });
  try {
    ctx.requireResidual(what);
    checked.add(model);
  } finally {
    ctx.free();
  }
}
