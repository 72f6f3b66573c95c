// The context texts are captured in for detection, the paper's way (each text up to 512 tokens,
// defaults.ts; mean-pooled), many texts per decode call in one unified KV cache. Shared by the probe
// pipeline, the sweep's capture-pass probe scores and the capture commands.
import type { ContextOptions } from '../engine/context.js';
import type { Model } from '../engine/model.js';

/**
 * Context options for capture: room for one text of up to 2048..8192 tokens (the model's training
 * context within that range), 512 tokens per decode call, up to 32 texts at once.
 */
export function captureContextOptions(model: Model, nThreads?: number): ContextOptions {
  return { nThreads, nCtx: Math.max(2048, Math.min(model.info.nCtxTrain, 8192)), nBatch: 512, nSeqMax: 32 };
}
