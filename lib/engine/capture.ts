// Residual-stream capture from TypeScript: texts in, per-layer pooled activations out.
// The heavy lifting (packing texts into multi-sequence batches, one forward pass for all layers,
// pooling) is native; this file chunks the work for progress/abort and concatenates results.
import type { Context } from './context.js';
import { CAPTURE_DEFAULTS } from './defaults.js';
import type { RawCaptureResult } from './native.js';
import { EiaError } from '../util/errors.js';

export type Pooling = 'mean' | 'last' | 'tokens';
export const POOLINGS: readonly Pooling[] = ['mean', 'last', 'tokens'];

export interface CaptureOptions {
  /** Decoder blocks to read (0-based; output of block L = llama.cpp's `l_out-L`). */
  layers: number[];
  /** mean over all positions (the paper), the last position, or every position. */
  pool?: Pooling;
  /** Keep the first `truncate` tokens of each text (paper: 512). 0/undefined: no truncation. */
  truncate?: number;
  /** Add BOS as the tokenizer does by default (default true). */
  addSpecial?: boolean;
  /** Texts per native call when reporting progress (default: all at once without onProgress, 32 with). */
  chunkSize?: number;
  onProgress?: (textsDone: number, textsTotal: number, tokensDone: number) => void;
  signal?: AbortSignal;
}

export interface CaptureResult {
  layers: number[];
  nEmbd: number;
  nTexts: number;
  pool: Pooling;
  /** Tokens per text after truncation. */
  nTokens: Int32Array;
  /** Per layer, row-major: nTexts rows for mean/last; sum(nTokens) rows for tokens. */
  data: Map<number, Float32Array>;
  /** tokens pooling: first row of text i is offsets[i]; offsets[nTexts] = total rows. */
  offsets?: Float64Array;
  decodeCalls: number;
  tokensTotal: number;
  ms: number;
}

/** Row i of a layer's matrix as a view (no copy). */
export function row(result: CaptureResult, layer: number, i: number): Float32Array {
  const m = result.data.get(layer);
  if (!m) throw new EiaError('E_BAD_ARG', `layer ${layer} was not captured`);
  return m.subarray(i * result.nEmbd, (i + 1) * result.nEmbd);
}

/** All rows of a layer as views, one per text (mean/last) or per token (tokens). */
export function rows(result: CaptureResult, layer: number): Float32Array[] {
  const m = result.data.get(layer);
  if (!m) throw new EiaError('E_BAD_ARG', `layer ${layer} was not captured`);
  const n = m.length / result.nEmbd;
  return Array.from({ length: n }, (_, i) => m.subarray(i * result.nEmbd, (i + 1) * result.nEmbd));
}

/**
 * Captures texts (tokenised here, BOS as the tokenizer adds it unless addSpecial is false) or ready
 * token-id sequences (Int32Array each, used as given).
 */
export async function capture(ctx: Context, texts: string[] | Int32Array[], opts: CaptureOptions): Promise<CaptureResult> {
  if (!Array.isArray(texts) || texts.length === 0) throw new EiaError('E_BAD_ARG', 'capture needs a non-empty list of texts');
  const ids = texts[0] instanceof Int32Array;
  (texts as unknown[]).forEach((t, i) => {
    if (ids ? !(t instanceof Int32Array) : typeof t !== 'string') {
      throw new EiaError('E_BAD_ARG', `texts[${i}] is not ${ids ? 'an Int32Array (all inputs must be token ids)' : 'a string'}`);
    }
  });
  if (!opts || !Array.isArray(opts.layers) || opts.layers.length === 0) throw new EiaError('E_BAD_ARG', 'capture needs at least one layer');
  const nLayer = ctx.model.nLayer;
  for (const l of opts.layers) {
    if (!Number.isInteger(l) || l < 0 || l >= nLayer) throw new EiaError('E_BAD_ARG', `layer ${l} out of range [0, ${nLayer - 1}]`);
  }
  const pool = opts.pool ?? CAPTURE_DEFAULTS.pool;
  if (!POOLINGS.includes(pool)) throw new EiaError('E_BAD_ARG', `unknown pooling '${pool}' (expected mean, last or tokens)`);
  // maxTokens is the number of NEW tokens everywhere (generate); it was capture's truncation once
  if ((opts as { maxTokens?: unknown }).maxTokens !== undefined) {
    throw new EiaError('E_BAD_ARG', 'capture takes truncate (keep the first N tokens of each text); maxTokens is the number of new tokens a generation makes');
  }
  const truncate = opts.truncate ?? CAPTURE_DEFAULTS.truncate;
  if (!Number.isInteger(truncate) || truncate < 0) throw new EiaError('E_BAD_ARG', 'truncate must be a non-negative integer');
  const chunk = opts.chunkSize ?? (opts.onProgress || opts.signal ? 32 : texts.length);
  if (!Number.isInteger(chunk) || chunk < 1) throw new EiaError('E_BAD_ARG', 'chunkSize must be a positive integer');

  const parts: RawCaptureResult[] = [];
  let tokensDone = 0;
  const onAbort = () => ctx.abort();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    for (let i = 0; i < texts.length; i += chunk) {
      if (opts.signal?.aborted) throw new EiaError('E_ABORTED', 'capture aborted');
      const r = await ctx.handle.capture(texts.slice(i, i + chunk) as string[] | Int32Array[], {
        layers: opts.layers, pool, truncate, addSpecial: opts.addSpecial ?? CAPTURE_DEFAULTS.addSpecial,
      });
      if (r.aborted) throw new EiaError('E_ABORTED', 'capture aborted');
      parts.push(r);
      tokensDone += r.tokensTotal;
      opts.onProgress?.(Math.min(i + chunk, texts.length), texts.length, tokensDone);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  return merge(parts, opts.layers, pool);
}

function merge(parts: RawCaptureResult[], layers: number[], pool: Pooling): CaptureResult {
  const nEmbd = parts[0].nEmbd;
  const nTexts = parts.reduce((s, p) => s + p.nTexts, 0);
  const nTokens = new Int32Array(nTexts);
  let k = 0;
  for (const p of parts) { nTokens.set(p.nTokens, k); k += p.nTexts; }
  const data = new Map<number, Float32Array>();
  layers.forEach((layer, li) => {
    if (parts.length === 1) { data.set(layer, parts[0].data[li]); return; }
    const total = parts.reduce((s, p) => s + p.data[li].length, 0);
    const m = new Float32Array(total);
    let off = 0;
    for (const p of parts) { m.set(p.data[li], off); off += p.data[li].length; }
    data.set(layer, m);
  });
  let offsets: Float64Array | undefined;
  if (pool === 'tokens') {
    offsets = new Float64Array(nTexts + 1);
    for (let i = 0; i < nTexts; i++) offsets[i + 1] = offsets[i] + nTokens[i];
  }
  return {
    layers: [...layers], nEmbd, nTexts, pool, nTokens, data, offsets,
    decodeCalls: parts.reduce((s, p) => s + p.decodeCalls, 0),
    tokensTotal: parts.reduce((s, p) => s + p.tokensTotal, 0),
    ms: parts.reduce((s, p) => s + p.ms, 0),
  };
}
