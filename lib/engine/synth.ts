// Synthetic GGUF models written by the native core through ggml's gguf API (no download needed):
// random weights with the paper's architectures' real dimensions, or the planted-concept model
// whose answer is known (see README "Synthetic models").
import { resolve } from 'node:path';
import { addon, type RawSynthResult } from './native.js';

export const SYNTH_ARCHES = ['llama', 'qwen2', 'phi3'] as const;
export const SYNTH_SHAPES = ['tiny', '0.5b', 'phi-3-mini', 'qwen2.5-7b', 'llama-3.1-8b'] as const;
export const SYNTH_TYPES = ['f32', 'f16', 'q8_0'] as const;
export type SynthArch = (typeof SYNTH_ARCHES)[number];
export type SynthShape = (typeof SYNTH_SHAPES)[number];
export type SynthType = (typeof SYNTH_TYPES)[number];

export interface SynthOptions {
  arch?: SynthArch;
  shape?: SynthShape;
  type?: SynthType;
  seed?: number;
  /** The planted-concept model (llama, word vocabulary) + F.planted.npy + F.train/test.jsonl. */
  planted?: boolean;
  out: string;
}

export type SynthResult = RawSynthResult;

export async function synth(opts: SynthOptions): Promise<SynthResult> {
  if (!opts || typeof opts.out !== 'string' || !opts.out) throw new Error('synth needs an output path (out)');
  if (opts.arch !== undefined && !SYNTH_ARCHES.includes(opts.arch)) throw new Error(`unknown arch '${opts.arch}' (expected ${SYNTH_ARCHES.join(', ')})`);
  if (opts.shape !== undefined && !SYNTH_SHAPES.includes(opts.shape)) throw new Error(`unknown shape '${opts.shape}' (expected ${SYNTH_SHAPES.join(', ')})`);
  if (opts.type !== undefined && !SYNTH_TYPES.includes(opts.type)) throw new Error(`unknown type '${opts.type}' (expected ${SYNTH_TYPES.join(', ')})`);
  return addon().synth({ ...opts, out: resolve(opts.out) });
}
