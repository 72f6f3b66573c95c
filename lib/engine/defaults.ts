// Every default of the engine API, in one place. The native binding takes every field explicitly
// and adds none; the CLI and the pipelines read their defaults from here too.
import { addon } from './native.js';

/** Sampling as the paper did it (Hugging Face generate: temperature 0.7), with HF's top-k 50. */
export const SAMPLING_DEFAULTS = { temperature: 0.7, topK: 50, topP: 1, minP: 0, seed: 0 } as const;

/**
 * New tokens per sequence when a caller gives none: the one table of these defaults. They differ
 * on purpose, each for its reason; whether a value is allowed (an integer >= 1 that fits the
 * context) is the validator's rule (lib/engine/validate.ts), the same for every front end.
 */
export const MAX_TOKENS_DEFAULTS = {
  /** The engine API (`ctx.generate`) and `eia-native generate`: a short completion to read or inspect. */
  generate: 128,
  /** `steer`, `run` and `runSweep`: the paper generated up to 200 new tokens per steering sample. */
  sweep: 200,
  /** `demo`: the planted model's keyword share settles well within 48 tokens, and the demo stays short. */
  demo: 48,
  /** `pairs`: each side of a contrastive pair is a paragraph of its own. */
  pairs: 300,
  /** The server follows OpenAI: a completion without max_tokens may fill the rest of its slot's context. */
  server: 'the rest of the slot',
} as const;

/** Model.createContext rejects nCtx above 2^20 tokens (native/core/context.cpp; docs/reliability.md X2). */
export const MAX_CONTEXT_TOKENS = 1 << 20;

export const GENERATION_DEFAULTS = {
  maxTokens: MAX_TOKENS_DEFAULTS.generate,
  positions: 'all' as const,
  /** Decode steps per native call when streaming (fewer thread hops vs finer streaming). */
  stepsPerCall: 4,
  /** Decode steps per native call when only the results are wanted. */
  stepsPerCallResult: 16,
  gateMinHold: 1,
} as const;

export const CONTEXT_DEFAULTS = {
  /** KV cells: min(4096, the model's training context), at least 256. */
  nCtx: (nCtxTrain: number) => Math.min(4096, Math.max(256, nCtxTrain)),
  nBatch: 512,
  nSeqMax: 64,
  /** 0 = all hardware threads. */
  nThreads: 0,
  embeddings: false,
  kvUnified: true,
  flashAttn: 'off' as const,
  sampling: 'auto' as const,
} as const;

export const LOAD_DEFAULTS = { gpuLayers: 0, mmap: true, vocabOnly: false } as const;

export const CAPTURE_DEFAULTS = { pool: 'mean' as const, truncate: 0, addSpecial: true } as const;

export interface EngineLimits {
  /** Sequences one context can hold (llama.cpp's LLAMA_MAX_SEQ). */
  maxSequences: number;
  /** llama.cpp pads each sequence's KV room to a multiple of this many cells. */
  kvPadding: number;
}

/** The engine's fixed limits, read from the addon. */
export function engineLimits(): EngineLimits {
  return addon().limits();
}
