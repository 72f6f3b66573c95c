// How many sequences of a given length one context can hold (the engine's sequence limit and its
// largest context). Whether a generation fits its context is the validator's rule
// (lib/engine/validate.ts, checkContextFit).
import { engineLimits, MAX_CONTEXT_TOKENS } from '../engine/defaults.js';
/** How many sequences of `tokensPerSeq` tokens one context can hold (engine's sequence limit and largest context). */
export function sequencesPerContext(tokensPerSeq: number): number {
  const { maxSequences, kvPadding } = engineLimits();
  const perSeq = Math.ceil(Math.max(tokensPerSeq, 1) / kvPadding) * kvPadding;
  return Math.max(1, Math.min(maxSequences, Math.floor(MAX_CONTEXT_TOKENS / perSeq)));
}
