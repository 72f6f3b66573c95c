// Every default of the engine API, in one place. The native binding takes every field explicitly
// and adds none; the CLI and the pipelines read their defaults from here too.
import { badField } from '../util/errors.js';
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
  /** `tune`: every search point costs points x samples x prompts x this many tokens of its budget; 64 keeps a point cheap and still shows the concept and the fluency. */
  tune: 64,
  /** The LLM judge's answer (a remote server's max_tokens): a short explanation and the rating. */
  judge: 400,
  /** The server follows OpenAI: a completion without max_tokens may fill the rest of its slot's context. */
  server: 'the rest of the slot',
} as const;

/** Model.createContext rejects nCtx above 2^20 tokens (native/core/context.cpp; docs/reliability.md X2). */
export const MAX_CONTEXT_TOKENS = 1 << 20;

/** The sampling parameters whose range is checked before any work (SAMPLING_RANGES). */
export type SamplingParameter = 'temperature' | 'topK' | 'topP' | 'minP';

/**
 * The range of each sampling parameter, the one rule for every caller (the CLI's flags, a sweep, a
 * protocol, pair generation) so that a value is refused before anything is written rather than by
 * the native sampler afterwards. The sampler holds them as 32-bit floats, so a value is judged as
 * float32 too: 1e308 is infinity there and 1e-46 is 0.
 */
export const SAMPLING_RANGES: Record<SamplingParameter, { ok: (v: number) => boolean; range: string }> = {
  temperature: { ok: (v) => Number.isFinite(Math.fround(v)) && v >= 0, range: 'a finite number >= 0 (0 = greedy)' },
  topK: { ok: (v) => Number.isInteger(v) && v >= 0 && v <= 2 ** 31 - 1, range: 'a non-negative integer (0 = off)' },
  topP: { ok: (v) => Math.fround(v) > 0 && v <= 1, range: 'in (0, 1]' },
  minP: { ok: (v) => v >= 0 && v <= 1, range: 'in [0, 1]' },
};

/** Why a number that passes as a double fails as the sampler's float32 ('' when that is not the reason). */
export function float32Reason(v: number): string {
  if (!Number.isFinite(v)) return '';
  const f = Math.fround(v);
  if (!Number.isFinite(f)) return ' (a 32-bit float, as the sampler holds it, makes it infinite)';
  if (f === 0 && v !== 0) return ' (a 32-bit float, as the sampler holds it, makes it 0)';
  return '';
}

/**
 * Checks the given sampling parameters: a FieldError (E_BAD_ARG) whose field is the parameter's
 * name (`temperature`, `topK`, …), so that each front end names it in its own words (the CLI: --temp).
 */
export function checkSampling(s: Partial<Record<SamplingParameter, number>>): void {
  for (const p of Object.keys(SAMPLING_RANGES) as SamplingParameter[]) {
    const v = s[p];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !SAMPLING_RANGES[p].ok(v)) {
      throw badField(p, 'invalid_value', (n) => `${n(p)} must be ${SAMPLING_RANGES[p].range}, got ${String(v)}${typeof v === 'number' ? float32Reason(v) : ''}`);
    }
  }
}

export const GENERATION_DEFAULTS = {
  maxTokens: MAX_TOKENS_DEFAULTS.generate,
  positions: 'all' as const,
  /** Decode steps per native call when streaming (fewer thread hops vs finer streaming). */
  stepsPerCall: 4,
  /** Decode steps per native call when only the results are wanted. */
  stepsPerCallResult: 16,
  /** Decode steps per native call in a steering sweep (`steer`, `run`; and the bench's sweep): fewer thread hops without delaying the appends. */
  stepsPerCallSweep: 8,
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
