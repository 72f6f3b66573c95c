// Context: KV cache + threads over a Model, the unit of work for capture and generation.
// One operation at a time: a second call while one runs rejects with "context is busy".
import type { Model } from './model.js';
import type { RawContext } from './native.js';
import { capture, type CaptureOptions, type CaptureResult } from './capture.js';
import { startGeneration, type GenerateRequest, type GenerationHandle } from './generate.js';

export interface ContextOptions {
  /** KV cache size in tokens (default min(4096, training context)). */
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
   * fast layout for many parallel generations (what `generate` helpers create).
   */
  kvUnified?: boolean;
  /** Flash attention: 'off' (default; f32 attention, exact capture), 'on' or 'auto' (llama.cpp's choice). */
  flashAttn?: 'auto' | 'on' | 'off';
}

export class Context {
  constructor(readonly model: Model, private raw: RawContext | null) {}

  /** @internal the native handle (throws once freed). */
  get handle(): RawContext {
    if (!this.raw) throw new Error('context has been freed');
    return this.raw;
  }

  get props(): { nCtx: number; nBatch: number; nSeqMax: number; nThreads: number; kvUnified: boolean; nCtxSeq: number } { return this.handle.props(); }
  get busy(): boolean { return !!this.raw && this.raw.busy(); }

  /** Residual-stream capture (see capture.ts). */
  capture(texts: string[], opts: CaptureOptions): Promise<CaptureResult> { return capture(this, texts, opts); }

  /** Batched, per-sequence-steered generation (see generate.ts). */
  generate(req: GenerateRequest): GenerationHandle { return startGeneration(this, req); }

  /** llama.cpp's own per-token embeddings (final norm applied); needs `embeddings: true`. */
  embeddingsPerToken(text: string, opts: { addSpecial?: boolean } = {}): Promise<{ nTokens: number; data: Float32Array }> {
    return this.handle.embeddingsPerToken(text, opts);
  }

  /** Logits (nTokens x nVocab, row-major) of one token sequence, optionally steered at every position. */
  evalLogits(tokens: Int32Array, steer: { layer: number; direction: Float32Array; alpha: number }[] = []): Promise<Float32Array> {
    return this.handle.evalLogits(tokens, { steer });
  }

  /** llama.cpp's own control-vector path: `data` holds layers 1..n-1 (n_embd each). */
  setControlVector(data: Float32Array, layerStart: number, layerEnd: number): void {
    this.handle.setControlVector(data, layerStart, layerEnd);
  }

  /** Loads a control-vector GGUF through llama.cpp's own loader and applies it. */
  loadControlVectorFile(path: string, opts: { strength?: number; layerStart?: number; layerEnd?: number } = {}): void {
    this.handle.loadControlVectorFile(path, opts);
  }

  clearControlVector(): void { this.handle.clearControlVector(); }

  /** Asks the running operation to stop at its next decode. */
  abort(): void { this.raw?.abort(); }

  free(): void {
    this.raw?.free();
    this.raw = null;
  }
}
