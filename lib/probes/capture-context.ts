// The context texts are captured in for detection, the paper's way (each text up to 512 tokens,
// defaults.ts; mean-pooled), many texts per decode call in one unified KV cache. Shared by the probe
// pipeline, the sweep's capture-pass probe scores and the capture commands.
import type { ContextOptions } from '../engine/context.js';
import type { CaptureResult } from '../engine/capture.js';
import type { Model } from '../engine/model.js';
import { badField, EiaError } from '../util/errors.js';

/** Room for one text by default: the model's training context within 2048..8192 tokens. */
export function captureCtxSize(model: Model): number {
  return Math.max(2048, Math.min(model.info.nCtxTrain, 8192));
}

/**
 * Context options for capture: room for one text of `ctxSize` tokens (default captureCtxSize),
 * 512 tokens per decode call, up to 32 texts at once.
 */
export function captureContextOptions(model: Model, nThreads?: number, ctxSize?: number): ContextOptions {
  const nCtx = ctxSize ?? captureCtxSize(model);
  return { nThreads, nCtx, nBatch: Math.min(512, nCtx), nSeqMax: Math.min(32, nCtx) };
}

/**
 * Checks, before any capture, that every text fits the capture context once truncated to
 * `truncate` tokens (0 = off). A FieldError naming the options (truncate, ctxSize), which a front end
 * names in its own words.
 */
export function checkTextsFit(model: Model, texts: readonly string[], truncate: number, ctxSize: number): void {
  texts.forEach((t, i) => {
    let n = model.tokenize(t).length;
    if (truncate > 0) n = Math.min(n, truncate);
    if (n > ctxSize) {
      throw badField('ctxSize', 'context_length_exceeded', (name) => `text ${i} has ${n} tokens, more than the context of ${ctxSize} tokens per text (${name('ctxSize')}); ` +
        `truncate the texts (${name('truncate')}) or raise ${name('ctxSize')}`);
    }
  });
}

/**
 * Refuses captured activations holding NaN or infinity (a model with broken weights, or
 * activations that overflow): nothing derived from them may be written. Names the block and the row.
 */
export function checkCaptureFinite(res: CaptureResult, modelPath: string): void {
  for (const [layer, m] of res.data) {
    for (let i = 0; i < m.length; i++) {
      if (!Number.isFinite(m[i])) {
        throw new EiaError('E_BAD_ARG', `${modelPath}: the output of block ${layer} is NaN or infinite (row ${Math.floor(i / res.nEmbd)}): ` +
          'the model\'s weights or activations are broken; nothing was written');
      }
    }
  }
}
