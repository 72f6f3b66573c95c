// A request's prompts -> token ids, tokenised as `generate` tokenises them (a chat through the model's
// template with special tokens parsed; a raw text with BOS and no special tokens; token ids as they
// are), without holding the event loop:
//   1. a text that cannot fit a slot by its size alone is refused before any tokenisation
//      (Model.minTokens: its bytes over the longest token's), as is a token-id list longer than a slot;
//   2. the rest is tokenised on the thread pool (Model.tokenizeAsync), at most TOKENIZE_AT_ONCE texts
//      at a time, so that tokenisation never takes every pool thread from the running generation.
// A 4 MB prompt thus costs the event loop a byte count, and every running stream keeps its pace.
import type { Model } from '../engine/model.js';
import { badRequest } from './api-error.js';

export interface ChatMessageBody { role: string; content?: string | { type: string; text?: string }[] | null; name?: string }

/** OpenAI's four forms: a string, strings, token ids, or lists of token ids. */
export type PromptField = string | (string | number | number[])[];

/** Texts tokenised at once (libuv's pool has 4 threads by default; the generation needs one). */
const TOKENIZE_AT_ONCE = 2;

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

/** The text of a message: a string, or OpenAI's content parts when all of them are text. */
function messageText(m: ChatMessageBody, i: number): string {
  if (m.content === undefined || m.content === null) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.map((p, k) => {
    if (p.type !== 'text' || typeof p.text !== 'string') throw badRequest('unsupported_field', `messages[${i}].content[${k}]`, `messages[${i}].content[${k}]: only text parts are supported (got '${p.type}')`);
    return p.text;
  }).join('');
}

/** A counting semaphore: runs `f` once fewer than `limit` others run. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await f();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export class PromptTokenizer {
  private readonly gate = new Gate(TOKENIZE_AT_ONCE);

  /**
   * @param nCtxSeq tokens one slot holds (prompt and completion together)
   * @param maxPrompts prompts one completion request may carry (each is a sequence of its own)
   */
  constructor(private readonly model: Model, private readonly nCtxSeq: number, readonly maxPrompts: number) {}

  /** A chat's messages through the model's template (special tokens parsed, as `generate --chat`). */
  async chat(messages: ChatMessageBody[]): Promise<Int32Array> {
    const msgs = messages.map((m, i) => {
      if (!ROLES.has(m.role)) throw badRequest('invalid_value', `messages[${i}].role`, `messages[${i}].role '${m.role}' is not supported (system, developer, user, assistant)`);
      return { role: m.role === 'developer' ? 'system' : m.role, content: messageText(m, i) };
    });
    // the template keeps every message's text (trimmed at most), so the contents alone can refuse a
    // chat before the template copies megabytes
    this.checkSize(msgs.map((m) => m.content), 'messages');
    return this.text(this.model.applyChatTemplate(msgs), true, 'messages');
  }

  /** A completion request's prompts, one token list per prompt (a flat list of ids is one prompt, whatever its length). */
  async completion(prompt: PromptField): Promise<Int32Array[]> {
    if (typeof prompt === 'string') return [await this.text(prompt, false, 'prompt')];
    if (prompt.every((x) => typeof x === 'number')) return [this.ids(prompt as number[], 'prompt')];
    if (prompt.length > this.maxPrompts) {
      throw badRequest('too_many_prompts', 'prompt', `a request may carry at most ${this.maxPrompts} prompts (got ${prompt.length}); send the rest in further requests`);
    }
    const param = (i: number) => (prompt.length > 1 ? `prompt[${i}]` : 'prompt');
    // every check that needs no tokenisation first, so that a bad last prompt costs no tokenising
    prompt.forEach((p, i) => {
      if (typeof p === 'string') this.checkSize(p, param(i));
      else if (!Array.isArray(p)) throw badRequest('invalid_value', `prompt[${i}]`, 'prompt must be a string, a list of strings, a list of token ids, or a list of such lists');
    });
    return Promise.all(prompt.map((p, i) => (typeof p === 'string' ? this.text(p, false, param(i)) : this.ids(p as number[], `prompt[${i}]`))));
  }

  /** Refuses text whose size alone shows that it cannot leave a slot room for one generated token. */
  private checkSize(text: string | string[], param: string): void {
    const least = this.model.minTokens(text);
    if (least >= this.nCtxSeq) {
      const bytes = (typeof text === 'string' ? [text] : text).reduce((a, t) => a + Buffer.byteLength(t, 'utf8'), 0);
      throw badRequest('context_length_exceeded', param,
        `the prompt has at least ${least} tokens (${bytes} bytes; no token of this model stands for more than ${Math.max(this.model.info.maxTokenBytes, 4)}); a slot holds ${this.nCtxSeq} (prompt and completion together)`);
    }
  }

  private async text(text: string, chat: boolean, param: string): Promise<Int32Array> {
    this.checkSize(text, param);
    // raw text as `generate` tokenises a raw prompt: BOS added, special tokens not parsed; a chat parses them
    return this.gate.run(() => this.model.tokenizeAsync(text, { addSpecial: true, parseSpecial: chat }));
  }

  private ids(xs: number[], param: string): Int32Array {
    if (xs.length === 0) throw badRequest('invalid_value', param, `${param} is an empty token list`);
    if (xs.length >= this.nCtxSeq) {
      throw badRequest('context_length_exceeded', param, `the prompt has ${xs.length} tokens; a slot holds ${this.nCtxSeq} (prompt and completion together)`);
    }
    const nVocab = this.model.info.nVocab;
    xs.forEach((t, k) => {
      if (!Number.isInteger(t) || t < 0 || t >= nVocab) throw badRequest('invalid_value', `${param}[${k}]`, `${param}[${k}]: token id ${t} is not in the vocabulary [0, ${nVocab - 1}]`);
    });
    return Int32Array.from(xs);
  }
}
