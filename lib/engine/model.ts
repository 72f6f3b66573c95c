// Model: a loaded GGUF file. Loading runs off the JS thread; tokenisation is synchronous (fast for
// the texts a command reads), with tokenizeAsync for texts from outside (a server's prompts of
// megabytes take the tokenizer seconds, which must not be the event loop's).
import { addon, type RawModel, type RawModelInfo } from './native.js';
import { Context, contextOptions, type ContextOptions } from './context.js';
import { LOAD_DEFAULTS } from './defaults.js';
import { EiaError } from '../util/errors.js';
import { note, warn } from '../util/note.js';

// device facts repeat for every context of a run: say each once per process
const noted = new Set<string>();
function noteOnce(msg: string): void {
  if (!msg || noted.has(msg)) return;
  noted.add(msg);
  note(`note: ${msg}`);
}

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

/** One line naming the blocks of an all-layers GPU load that do not run on the device, and why; '' when all do. */
export function placementWarning(info: ModelInfo): string {
  const p = info.placement;
  if (!p.probed || p.onHost.length === 0) return '';
  const where = p.device ? `${p.device} (${p.deviceDescription})` : 'the GPU';
  const name = (l: number) => (l === info.nLayer ? 'output head' : `block ${l}`);
  return `warning: ${p.deviceLayers} of ${info.nLayer} blocks run on ${where}; not on the device: ` +
    p.onHost.map((h) => `${name(h.layer)}: ${h.reason}`).join('; ');
}

export class Model {
  private raw: RawModel | null;
  /** Model facts (architecture, sizes, special tokens, chat template). */
  readonly info: ModelInfo;

  private constructor(raw: RawModel) {
    this.raw = raw;
    this.info = raw.info();
  }

  /**
   * Loads a GGUF file. Rejects with a clear message for missing, non-GGUF or broken files. With
   * every layer asked for on a GPU (gpuLayers -1), where they run is measured (`info.placement`),
   * and blocks that do not run on the device are named on stderr with the reason.
   */
  static async load(path: string, opts: LoadOptions = {}): Promise<Model> {
    if (typeof path !== 'string' || path.length === 0) throw new EiaError('E_BAD_ARG', 'model path must be a non-empty string');
    if (opts === null || typeof opts !== 'object') throw new EiaError('E_BAD_ARG', 'load options must be an object');
    const model = new Model(await addon().Model.load(path, {
      gpuLayers: opts.gpuLayers ?? LOAD_DEFAULTS.gpuLayers, mmap: opts.mmap ?? LOAD_DEFAULTS.mmap, vocabOnly: opts.vocabOnly ?? LOAD_DEFAULTS.vocabOnly,
    }));
    const off = placementWarning(model.info);
    if (off) warn(off);
    return model;
  }

  private get handle(): RawModel {
    if (!this.raw || this.raw.isFreed()) throw new EiaError('E_STATE', 'model has been freed');
    return this.raw;
  }

  get nLayer(): number { return this.info.nLayer; }
  get nEmbd(): number { return this.info.nEmbd; }

  tokenize(text: string, opts: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    return this.handle.tokenize(text, { addSpecial: opts.addSpecial ?? true, parseSpecial: opts.parseSpecial ?? false });
  }

  /** tokenize() on the thread pool: the same tokens, and the event loop keeps running meanwhile. */
  tokenizeAsync(text: string, opts: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Promise<Int32Array> {
    return this.handle.tokenizeAsync(text, { addSpecial: opts.addSpecial ?? true, parseSpecial: opts.parseSpecial ?? false });
  }

  /**
   * The fewest tokens the texts together can become with this vocabulary, computed without
   * tokenising them (0 when the tokenizer allows no such bound). SentencePiece and byte-level BPE
   * turn every input byte into part of some token's text, and no token's text is longer than
   * `info.maxTokenBytes` (a character, which may become one unknown-token, is at most 4 bytes). Only
   * ASCII whitespace beside a token with an lstrip/rstrip attribute can be dropped, so with such
   * tokens (`info.stripsWhitespace`) whitespace is not counted. WordPiece and Unigram normalise
   * (fold case, collapse whitespace) and get no bound.
   */
  minTokens(texts: string | readonly string[]): number {
    const { vocabType, maxTokenBytes, stripsWhitespace } = this.info;
    if ((vocabType !== 'spm' && vocabType !== 'bpe') || maxTokenBytes <= 0) return 0;
    const per = Math.max(maxTokenBytes, 4);
    const list = typeof texts === 'string' ? [texts] : texts;
    let bytes = 0;
    for (const t of list) bytes += Buffer.byteLength(t, 'utf8');
    if (!stripsWhitespace) return Math.ceil(bytes / per);
    for (const t of list) {
      for (let i = 0; i < t.length; i++) {
        const c = t.charCodeAt(i);
        if (c === 32 || (c >= 9 && c <= 13)) bytes--;
      }
    }
    return Math.ceil(bytes / per);
  }

  detokenize(tokens: ArrayLike<number>, opts: { removeSpecial?: boolean; unparseSpecial?: boolean } = {}): string {
    return this.handle.detokenize(Array.from(tokens), { removeSpecial: opts.removeSpecial ?? false, unparseSpecial: opts.unparseSpecial ?? false });
  }

  tokenPiece(token: number): string { return this.handle.tokenPiece(token); }

  isEog(token: number): boolean { return this.handle.isEog(token); }

  /** Formats messages with the model's chat template (or `template`), ending with the assistant turn. */
  applyChatTemplate(messages: ChatMessage[], opts: { addAssistant?: boolean; template?: string } = {}): string {
    return this.handle.applyChatTemplate(messages, { addAssistant: opts.addAssistant ?? true, template: opts.template ?? '' });
  }

  /** A GGUF metadata value as a string, or null. */
  meta(key: string): string | null { return this.handle.meta(key); }

  /** Creates an inference context (KV cache, threads) over this model. */
  async createContext(opts: ContextOptions = {}): Promise<Context> {
    if (opts === null || typeof opts !== 'object') throw new EiaError('E_BAD_ARG', 'context options must be an object');
    const ctx = new Context(this, await this.handle.createContext(contextOptions(opts, this.info.nCtxTrain)));
    noteOnce(ctx.props.samplingNote);
    return ctx;
  }

  /** Releases the weights once no context uses them. Later calls on this object throw. */
  free(): void {
    this.raw?.free();
    this.raw = null;
  }

  get freed(): boolean { return !this.raw || this.raw.isFreed(); }
}
