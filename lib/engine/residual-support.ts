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
