// Whether generations fit a context, checked before anything is written: the prompt plus the new
// tokens of one sequence must fit its context (ctxSize tokens per sequence, by default the model's
// training context: generating past it is outside what the model was trained for), and all the
// sequences of one batch must fit the engine's largest context.
import { engineLimits } from '../engine/defaults.js';
import { EiaError } from '../util/errors.js';

/** Model.createContext rejects nCtx above 2^20 tokens (native/core/context.cpp; docs/reliability.md X2). */
export const MAX_CONTEXT_TOKENS = 1 << 20;

/**
 * Checks that `promptTokens` + `maxTokens` (+ 1 for the last sampled token) fit `ctxSize` tokens
 * per sequence (default `nCtxTrain`). Errors start with the option's name (maxTokens) and name
 * ctxSize, so that a front end can put its own flag names in.
 */
export function checkGenerationFits(promptTokens: number, maxTokens: number, ctxSize: number | undefined, nCtxTrain: number): void {
  const limit = ctxSize ?? nCtxTrain;
  const need = promptTokens + maxTokens + 1;
  if (need > limit) {
    throw new EiaError('E_BAD_ARG', `maxTokens: the prompt (${promptTokens} tokens) + ${maxTokens} new tokens exceed the context of ` +
      `${limit} tokens per sequence (${ctxSize === undefined ? "the model's training context; a larger ctxSize allows more" : 'ctxSize'})`);
  }
  if (need > MAX_CONTEXT_TOKENS) {
    throw new EiaError('E_BAD_ARG', `maxTokens: the prompt (${promptTokens} tokens) + ${maxTokens} new tokens exceed the engine's largest context (${MAX_CONTEXT_TOKENS} tokens)`);
  }
}

/** How many sequences of `tokensPerSeq` tokens one context can hold (engine's sequence limit and largest context). */
export function sequencesPerContext(tokensPerSeq: number): number {
  const { maxSequences, kvPadding } = engineLimits();
  const perSeq = Math.ceil(Math.max(tokensPerSeq, 1) / kvPadding) * kvPadding;
  return Math.max(1, Math.min(maxSequences, Math.floor(MAX_CONTEXT_TOKENS / perSeq)));
}
