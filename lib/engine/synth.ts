// Synthetic GGUF models written by the native core through ggml's gguf API (no download needed):
// random weights with the paper's architectures' real dimensions, or the planted-concept model
// whose answer is known (see docs/synthetic-models.md).
import { resolve } from 'node:path';
import { EiaError } from '../util/errors.js';
import { addon, type RawSynthResult } from './native.js';

export const SYNTH_ARCHES = ['llama', 'qwen2', 'phi3'] as const;
export const SYNTH_SHAPES = ['tiny', '0.5b', 'phi-3-mini', 'qwen2.5-7b', 'llama-3.1-8b'] as const;
export const SYNTH_TYPES = ['f32', 'f16', 'q8_0'] as const;
/**
 * Planted-model profiles. 'realistic' (default): pooled activations vary mostly with content (topic,
 * length, wording, writer), the class difference is a small part of the variance and the signal grows
 * over the first blocks, so the paper's controls mean something (random directions centre on 0.5,
 * lexical ablation lowers detection); also writes F.ablated.jsonl. 'easy': the class gap dominates
 * every direction at every block (probes are perfect everywhere; for fast tests).
 */
export const PLANTED_PROFILES = ['realistic', 'easy'] as const;
export type PlantedProfile = (typeof PLANTED_PROFILES)[number];
export type SynthArch = (typeof SYNTH_ARCHES)[number];
export type SynthShape = (typeof SYNTH_SHAPES)[number];
export type SynthType = (typeof SYNTH_TYPES)[number];

export interface SynthOptions {
  arch?: SynthArch;
  shape?: SynthShape;
  type?: SynthType;
  seed?: number;
  /** The planted-concept model (word vocabulary; llama unless `arch` says qwen2 or phi3) + F.planted.npy + F.train/test.jsonl. */
  planted?: boolean;
  /** Planted only: 'realistic' (default) or 'easy'. */
  plantedProfile?: PlantedProfile;
  out: string;
}

export type SynthResult = RawSynthResult & {
  /** planted: the profile written */
  plantedProfile?: PlantedProfile;
  /** realistic planted profile: F.ablated.jsonl, the test pairs after the paper's lexical ablation */
  ablatedJsonl?: string;
  /** mean words replaced per ablated pair */
  ablationReplacements?: number;
};

/** The files synth writes for `out` (the model; planted: its direction and pair files, realistic: the ablated pairs too). */
export function synthOutputs(out: string, planted = false, profile: PlantedProfile = 'realistic'): string[] {
  if (!planted) return [out];
  const stem = out.replace(/\.gguf$/, '');
  return [out, `${stem}.planted.npy`, `${stem}.train.jsonl`, `${stem}.test.jsonl`, ...(profile === 'realistic' ? [`${stem}.ablated.jsonl`] : [])];
}

export async function synth(opts: SynthOptions): Promise<SynthResult> {
  if (!opts || typeof opts.out !== 'string' || !opts.out) throw new EiaError('E_BAD_ARG', 'synth needs an output path (out)');
  if (opts.arch !== undefined && !SYNTH_ARCHES.includes(opts.arch)) throw new EiaError('E_BAD_ARG', `unknown arch '${opts.arch}' (expected ${SYNTH_ARCHES.join(', ')})`);
  if (opts.shape !== undefined && !SYNTH_SHAPES.includes(opts.shape)) throw new EiaError('E_BAD_ARG', `unknown shape '${opts.shape}' (expected ${SYNTH_SHAPES.join(', ')})`);
  if (opts.type !== undefined && !SYNTH_TYPES.includes(opts.type)) throw new EiaError('E_BAD_ARG', `unknown type '${opts.type}' (expected ${SYNTH_TYPES.join(', ')})`);
  if (opts.plantedProfile !== undefined && !PLANTED_PROFILES.includes(opts.plantedProfile)) {
    throw new EiaError('E_BAD_ARG', `unknown planted profile '${opts.plantedProfile}' (expected ${PLANTED_PROFILES.join(', ')})`);
  }
  if (opts.plantedProfile !== undefined && !opts.planted) throw new EiaError('E_BAD_ARG', 'plantedProfile needs planted: true');
  if (opts.seed !== undefined && !(Number.isSafeInteger(opts.seed) && opts.seed >= 0)) throw new EiaError('E_BAD_ARG', `'seed' must be a non-negative integer (at most 2^53 - 1), got ${String(opts.seed)}`);
  // the addon's synth also takes plantedProfile and returns the planted extras (native/binding/addon.cpp)
  const native = addon().synth as (o: SynthOptions) => Promise<SynthResult>;
  return native({ ...opts, out: resolve(opts.out) });
}
