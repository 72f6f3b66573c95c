// llama.cpp control-vector GGUF files (`llama-cli --control-vector F.gguf`): tensors
// "direction.L" (F32, one per block L >= 1). Interop both ways: our probes drive llama.cpp's
// tools, and llama.cpp control vectors (e.g. from cvector-generator) drive eia-native. Metadata of
// eia-native's own namespace ("eia." keys; the vector cards of lib/probes/vector-card.ts) travels
// in the same file: llama.cpp's loader reads only the tensors.
import { addon, type GgufMetaValue } from './native.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { EiaError, isEiaError } from '../util/errors.js';

export type { GgufMetaValue };

/** The key prefix of eia-native's GGUF metadata (native/core/cvec.h kMetaPrefix). */
export const GGUF_META_PREFIX = 'eia.';

export interface ControlVector {
  modelHint: string;
  nEmbd: number;
  /** block index -> direction */
  layers: Map<number, Float32Array>;
  /** the file's "eia." metadata */
  meta: Record<string, GgufMetaValue>;
}

/** Writes a control vector (atomically: a temporary sibling renamed over `path`); `meta` keys must start with "eia.". */
export function writeControlVector(path: string, layers: Map<number, Float32Array>, modelHint = '', meta: Record<string, GgufMetaValue> = {}): void {
  const obj: Record<number, Float32Array> = {};
  let width = -1;
  for (const [l, v] of layers) {
    if (!Number.isInteger(l) || l < 1) throw new EiaError('E_BAD_ARG', `control vectors start at block 1 (got layer ${l}): llama.cpp cannot steer block 0 this way`);
    if (width >= 0 && v.length !== width) throw new EiaError('E_BAD_ARG', 'all control-vector layers must have the same width');
    width = v.length;
    obj[l] = v;
  }
  if (width < 0) throw new EiaError('E_BAD_ARG', 'control vector needs at least one layer');
  for (const k of Object.keys(meta)) {
    if (!k.startsWith(GGUF_META_PREFIX)) throw new EiaError('E_BAD_ARG', `control-vector metadata key '${k}' is outside eia-native's namespace (keys start with '${GGUF_META_PREFIX}')`);
  }
  const bytes = addon().encodeControlVector({ modelHint, layers: obj, meta });
  try {
    writeFileAtomic(path, bytes);  // flushed and renamed; a full disk is E_IO, never a 0-byte file
  } catch (e) {
    throw isEiaError(e, 'E_IO') ? new EiaError('E_IO', `control vector: cannot write '${path}' (${e.message})`, { cause: e }) : e;
  }
}

export function readControlVector(path: string): ControlVector {
  const raw = addon().readControlVector(path);
  return {
    modelHint: raw.modelHint,
    nEmbd: raw.nEmbd,
    layers: new Map(Object.entries(raw.layers).map(([k, v]) => [Number(k), v] as [number, Float32Array]).sort((a, b) => a[0] - b[0])),
    meta: raw.meta ?? {},
  };
}

/**
 * Loads a control-vector file through llama.cpp's own loader (common_control_vector_load, what
 * llama-cli uses). Returns the data as llama.cpp applies it: layers 1..n, n_embd floats each.
 */
export function loadControlVectorWithLlama(path: string, strength = 1): { nEmbd: number; data: Float32Array } {
  return addon().loadControlVectorLlama(path, strength);
}
