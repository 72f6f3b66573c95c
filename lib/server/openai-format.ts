// Response bodies in OpenAI's shapes (chat.completion, chat.completion.chunk, text_completion), with
// our per-token extras beside the standard fields:
//   probe_scores  [token][monitor] — each token's projection on each requested monitor (request order)
//   gate          [token] booleans — gated requests: did the gate steer the pass that made the token
//   tokens        [token] ids      — with return_tokens
//   pieces        [token] strings  — with return_pieces: each token's own text (a character split over
//                 byte tokens shows as U+FFFD in each of its pieces; the text fields hold it whole)
// and `seed`, the sampling seed (the request's or a drawn one), in the final response and finish chunks;
// `warnings` (notes on the request's vectors: a norm other than 1, a probe of another model) in the
// final response and in the first chunk of a stream, when there are any.
// In a chunk they cover the chunk's token(s); in the final response the whole completion. They sit in
// each choice, and at the top level for the first choice (a chunk has one choice), so a client reads
// `probe_scores` in the same place in chunks and in the final response.
import { randomUUID } from 'node:crypto';
import type { FinishReason } from '../engine/generate.js';

export type Endpoint = 'chat' | 'completion';

export interface TokenExtras {
  probe_scores?: number[][];
  gate?: boolean[];
  tokens?: number[];
  pieces?: string[];
}

export interface ChoiceOutcome extends TokenExtras {
  text: string;
  finishReason: FinishReason;
  gateSteered?: number;
}

export interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

/** OpenAI's finish reasons: end-of-generation and stop strings are both 'stop'. */
export function openaiFinishReason(r: FinishReason): 'stop' | 'length' {
  return r === 'length' ? 'length' : 'stop';
}

export class ResponseFormat {
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);

  /** Warnings not yet sent: they go into the first chunk of a stream. */
  private pendingWarnings: string[] | null;

  constructor(readonly endpoint: Endpoint, readonly model: string, readonly seed: number, readonly warnings: string[] = []) {
    this.id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '')}`;
    this.pendingWarnings = warnings.length > 0 ? warnings : null;
  }

  private head(chunk: boolean) {
    const h: Record<string, unknown> = {
      id: this.id,
      object: this.endpoint === 'chat' ? (chunk ? 'chat.completion.chunk' : 'chat.completion') : 'text_completion',
      created: this.created,
      model: this.model,
    };
    if (chunk && this.pendingWarnings) {
      h.warnings = this.pendingWarnings;
      this.pendingWarnings = null;
    }
    if (!chunk && this.warnings.length > 0) h.warnings = this.warnings;
    return h;
  }

  /** The first chunk of a chat choice: the assistant role, no content yet (as OpenAI streams). */
  roleChunk(index: number): object {
    return { ...this.head(true), choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] };
  }

  /** One streamed piece of choice `index`: its new text and its tokens' extras. */
  chunk(index: number, text: string, extras: TokenExtras): object {
    const choice = this.endpoint === 'chat'
      ? { index, delta: { content: text }, logprobs: null, finish_reason: null, ...extras }
      : { index, text, logprobs: null, finish_reason: null, ...extras };
    return { ...this.head(true), choices: [choice], ...extras };
  }

  /** The last chunk of a choice: the rest of its text (if any), its finish reason, the seed it sampled with. */
  finishChunk(index: number, text: string, reason: FinishReason): object {
    const finish_reason = openaiFinishReason(reason);
    const choice = this.endpoint === 'chat'
      ? { index, delta: text ? { content: text } : {}, logprobs: null, finish_reason }
      : { index, text, logprobs: null, finish_reason };
    return { ...this.head(true), choices: [choice], seed: this.seed };
  }

  /** stream_options.include_usage: a last chunk with no choices and the usage. */
  usageChunk(usage: Usage): object {
    return { ...this.head(true), choices: [], usage };
  }

  /** The whole (non-streamed) response. */
  final(choices: ChoiceOutcome[], usage: Usage): object {
    const out = choices.map((c, index) => {
      const extras: Record<string, unknown> = {};
      if (c.probe_scores) extras.probe_scores = c.probe_scores;
      if (c.gate) { extras.gate = c.gate; extras.gate_steered = c.gateSteered ?? 0; }
      if (c.tokens) extras.tokens = c.tokens;
      if (c.pieces) extras.pieces = c.pieces;
      const finish_reason = openaiFinishReason(c.finishReason);
      return this.endpoint === 'chat'
        ? { index, message: { role: 'assistant', content: c.text }, logprobs: null, finish_reason, ...extras }
        : { index, text: c.text, logprobs: null, finish_reason, ...extras };
    });
    const first = out[0] as Record<string, unknown>;
    const top: Record<string, unknown> = {};
    for (const k of ['probe_scores', 'gate', 'gate_steered', 'tokens']) if (first && first[k] !== undefined) top[k] = first[k];
    return { ...this.head(false), choices: out, usage, seed: this.seed, ...top };
  }
}
