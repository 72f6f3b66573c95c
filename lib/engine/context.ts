// Context: KV cache + threads over a Model, the unit of work for capture and generation.
// One operation at a time: a second call while one runs rejects with E_BUSY ("context is busy").
import type { Model } from './model.js';
import type { RawContext, RawContextOptions, RawSteerTerm } from './native.js';
import { capture, type CaptureOptions, type CaptureResult } from './capture.js';
import { CONTEXT_DEFAULTS, engineLimits } from './defaults.js';
import { startGeneration, type GenerateRequest, type GenerationHandle } from './generate.js';
import type { SteerTerm } from './steering.js';
import { checkSteerTerm } from './validate.js';
import { EiaError } from '../util/errors.js';

export interface ContextOptions {
  /** KV cache size in tokens (default min(4096, training context), at least 256). */
  nCtx?: number;
  /** Tokens per decode call (default 512). */
  nBatch?: number;
  nUbatch?: number;
  /** Sequences the context can hold at once (default 64). */
  nSeqMax?: number;
  /** CPU threads (default: all hardware threads). */
  nThreads?: number;
  /** Enable llama.cpp's own per-token embeddings output (oracle use). */
  embeddings?: boolean;
  /**
   * true (default): one KV cache shared by all sequences — any mix of lengths, several texts per
   * decode call (best for capture). false: one KV stream per sequence, nCtx split evenly — llama.cpp's
   * fast layout for many parallel generations (what generationContextOptions creates; open generations need it).
   */
  kvUnified?: boolean;
  /** Flash attention: 'off' (default; f32 attention, exact capture), 'on' or 'auto' (llama.cpp's choice). */
  flashAttn?: 'auto' | 'on' | 'off';
  /**
   * Where tokens are drawn: 'auto' (default: in llama.cpp's graph when the model runs on a GPU, so
   * only token ids come back per step), 'host', or 'backend'. Each is deterministic for a seed; the
   * two draw different tokens for the same seed. On a CPU-type Vulkan device (Mesa's llvmpipe) tokens
   * are drawn on the host whatever is asked, and `props.samplingNote` says why (docs/device-path.md).
   */
  sampling?: 'auto' | 'host' | 'backend';
}

/** Every context option filled in (the binding takes them explicitly). */
export function contextOptions(o: ContextOptions, nCtxTrain: number): RawContextOptions {
  const nBatch = o.nBatch ?? CONTEXT_DEFAULTS.nBatch;
  return {
    nCtx: o.nCtx ?? CONTEXT_DEFAULTS.nCtx(nCtxTrain),
    nBatch,
    nUbatch: o.nUbatch ?? nBatch,
    nSeqMax: o.nSeqMax ?? CONTEXT_DEFAULTS.nSeqMax,
    nThreads: o.nThreads ?? CONTEXT_DEFAULTS.nThreads,
    embeddings: o.embeddings ?? CONTEXT_DEFAULTS.embeddings,
    kvUnified: o.kvUnified ?? CONTEXT_DEFAULTS.kvUnified,
    flashAttn: o.flashAttn ?? CONTEXT_DEFAULTS.flashAttn,
    sampling: o.sampling ?? CONTEXT_DEFAULTS.sampling,
  };
}

/**
 * Context options sized for a generation of `nSeqs` sequences of at most `tokensPerSeq` tokens
 * (prompt + new): one KV stream per sequence (llama.cpp's fast layout for parallel decoding).
 */
export function generationContextOptions(nSeqs: number, tokensPerSeq: number, nThreads?: number): ContextOptions {
  const { maxSequences, kvPadding } = engineLimits();
  if (!Number.isInteger(nSeqs) || nSeqs < 1 || nSeqs > maxSequences) {
    throw new EiaError('E_BAD_ARG', `number of sequences must be 1..${maxSequences} (got ${nSeqs})`);
  }
  const perSeq = Math.ceil(Math.max(tokensPerSeq, 1) / kvPadding) * kvPadding;
  return { nSeqMax: nSeqs, nCtx: perSeq * nSeqs, nBatch: 512, kvUnified: false, flashAttn: 'auto', nThreads };
}

export interface Props {
  nCtx: number; nBatch: number; nSeqMax: number; nThreads: number; kvUnified: boolean; nCtxSeq: number; backendSampling: boolean;
  /** Why backend sampling (asked for, or chosen by 'auto') is off on this device; '' when it is not. */
  samplingNote: string;
}

/**
 * Does the context's graph expose the residual stream (the output of every decoder block)? Checked
 * once when the context is created, by a two-token decode that counts the block-output node of each
 * block (docs/architectures.md). Capture, probes, monitors, gates and steering need it; plain
 * generation does not.
 */
export interface ResidualSupport {
  supported: boolean;
  /** Why not: names the architecture and what is missing ('' when supported). */
  reason: string;
  /** The graph node read as block L's output (e.g. 'l_out-{L}'). */
  tensor: string;
  /** Callbacks per block in the check's one decode (1 = seen exactly once). */
  hits: number[];
  found: number[];
  missing: number[];
  /** Blocks whose graph keeps only the output tokens' rows (llama.cpp's pruning before the head). */
  pruned: number[];
}

export class Context {
  constructor(readonly model: Model, private raw: RawContext | null) {}

  /** @internal the native handle (throws once freed). */
  get handle(): RawContext {
    if (!this.raw) throw new EiaError('E_STATE', 'context has been freed');
    return this.raw;
  }

  get props(): Props { return this.handle.props(); }

  /** The support check's finding (see ResidualSupport). */
  get residualSupport(): ResidualSupport {
    const r = this.handle.residualSupport();
    return { supported: r.supported, reason: r.reason, tensor: r.tensor, hits: Array.from(r.hits), found: Array.from(r.found), missing: Array.from(r.missing), pruned: Array.from(r.pruned) };
  }

  /** Throws E_UNSUPPORTED_MODEL naming `what` (e.g. 'steering') when the graph lacks the residual stream. */
  requireResidual(what: string): void { this.handle.requireResidual(what); }
  get busy(): boolean { return !!this.raw && this.raw.busy(); }

  /** Residual-stream capture of texts or token-id sequences (see capture.ts). */
  capture(texts: string[] | Int32Array[], opts: CaptureOptions): Promise<CaptureResult> { return capture(this, texts, opts); }

  /** Batched, per-sequence-steered generation; `open: true` for continuous batching (see generate.ts). */
  generate(req: GenerateRequest): GenerationHandle { return startGeneration(this, req); }

  /** llama.cpp's own per-token embeddings (final norm applied); needs `embeddings: true`. */
  embeddingsPerToken(text: string, opts: { addSpecial?: boolean } = {}): Promise<{ nTokens: number; data: Float32Array }> {
    return this.handle.embeddingsPerToken(text, { addSpecial: opts.addSpecial ?? true });
  }

  /**
   * Logits (nTokens x nVocab, row-major) of one token sequence, steered at every position, or with
   * `steerAt` only at the positions marked 1 (the hand-run reference for gated generation).
   */
  evalLogits(tokens: Int32Array, steer: SteerTerm[] = [], opts: { steerAt?: Uint8Array } = {}): Promise<Float32Array> {
    if (!Array.isArray(steer)) throw new EiaError('E_BAD_ARG', 'steer must be an array of steering terms');
    const limits = { shape: { nLayer: this.model.nLayer, nEmbd: this.model.nEmbd } };
    const terms: RawSteerTerm[] = steer.map((t, k) => checkSteerTerm(t, limits, `steer[${k}]`, 'all'));
    return this.handle.evalLogits(tokens, { steer: terms, steerAt: opts.steerAt ?? null });
  }

  /**
   * The log-probability of each continuation token given the prompt and the continuation tokens
   * before it, under the model as it is (no steering): one Float32Array per item, one value per
   * continuation token (empty for an empty continuation). Items share decode calls (one KV sequence
   * each; a unified-cache context packs several per call) and the log-softmax is taken natively, off
   * the event loop. The fluency measure of steered text (lib/steering/metrics) reads it.
   */
  async tokenLogprobs(items: readonly { prompt: ArrayLike<number>; continuation: ArrayLike<number> }[]): Promise<Float32Array[]> {
    if (!Array.isArray(items)) throw new EiaError('E_BAD_ARG', 'tokenLogprobs needs an array of {prompt, continuation}');
    // Int32Arrays and plain arrays go as they are (the binding checks every id); other typed arrays as plain arrays
    const ids = (v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof Int32Array) ? Array.from(v as unknown as ArrayLike<number>) : v);
    const raw = items.map((it) => (it !== null && typeof it === 'object' ? { prompt: ids(it.prompt), continuation: ids(it.continuation) } : it));
    return this.handle.tokenLogprobs(raw as never);
  }

  /** llama.cpp's own control-vector path: `data` holds layers 1..n-1 (n_embd each). */
  setControlVector(data: Float32Array, layerStart: number, layerEnd: number): void {
    this.handle.setControlVector(data, layerStart, layerEnd);
  }

  /** Loads a control-vector GGUF through llama.cpp's own loader and applies it. */
  loadControlVectorFile(path: string, opts: { strength?: number; layerStart?: number; layerEnd?: number } = {}): void {
    this.handle.loadControlVectorFile(path, { strength: opts.strength ?? 1, layerStart: opts.layerStart ?? 1, layerEnd: opts.layerEnd ?? this.model.nLayer - 1 });
  }

  clearControlVector(): void { this.handle.clearControlVector(); }

  /** Asks the running operation to stop at its next decode. */
  abort(): void { this.raw?.abort(); }

  free(): void {
    this.raw?.free();
    this.raw = null;
  }
}
