// Model: a loaded GGUF file. Loading runs off the JS thread; tokenisation is synchronous (fast).
import { addon, type RawModel, type RawModelInfo } from './native.js';
import { Context, type ContextOptions } from './context.js';

export type ModelInfo = RawModelInfo;

export interface LoadOptions {
  /** Layers to offload to the GPU (-1 = all). Ignored by CPU builds. */
  gpuLayers?: number;
  /** Memory-map the file (default true). */
  mmap?: boolean;
  /** Load the vocabulary only (no weights): tokenisation without the memory cost. */
  vocabOnly?: boolean;
}

export interface ChatMessage { role: string; content: string }

export class Model {
  private raw: RawModel | null;
  /** Model facts (architecture, sizes, special tokens, chat template). */
  readonly info: ModelInfo;

  private constructor(raw: RawModel) {
    this.raw = raw;
    this.info = raw.info();
  }

  /** Loads a GGUF file. Rejects with a clear message for missing, non-GGUF or broken files. */
  static async load(path: string, opts: LoadOptions = {}): Promise<Model> {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('model path must be a non-empty string');
    return new Model(await addon().Model.load(path, opts));
  }

  private get handle(): RawModel {
    if (!this.raw || this.raw.isFreed()) throw new Error('model has been freed');
    return this.raw;
  }

  get nLayer(): number { return this.info.nLayer; }
  get nEmbd(): number { return this.info.nEmbd; }

  tokenize(text: string, opts: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    return this.handle.tokenize(text, opts);
  }

  detokenize(tokens: ArrayLike<number>, opts: { removeSpecial?: boolean; unparseSpecial?: boolean } = {}): string {
    return this.handle.detokenize(Array.from(tokens), opts);
  }

  tokenPiece(token: number): string { return this.handle.tokenPiece(token); }

  isEog(token: number): boolean { return this.handle.isEog(token); }

  /** Formats messages with the model's chat template (or `template`), ending with the assistant turn. */
  applyChatTemplate(messages: ChatMessage[], opts: { addAssistant?: boolean; template?: string } = {}): string {
    return this.handle.applyChatTemplate(messages, opts);
  }

  /** A GGUF metadata value as a string, or null. */
  meta(key: string): string | null { return this.handle.meta(key); }

  /** Creates an inference context (KV cache, threads) over this model. */
  async createContext(opts: ContextOptions = {}): Promise<Context> {
    return new Context(this, await this.handle.createContext(opts));
  }

  /** Releases the weights once no context uses them. Later calls on this object throw. */
  free(): void {
    this.raw?.free();
    this.raw = null;
  }

  get freed(): boolean { return !this.raw || this.raw.isFreed(); }
}
