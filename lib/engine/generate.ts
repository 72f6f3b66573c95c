// Batched generation: every sequence carries its own steering plan (layer, direction, alpha)
// and sampling settings; all run together in one context with a KV cache. Stream token events
// with `for await`, or await `result()`. Monitor probes give every generated token its projection
// on each probe direction (live empathy monitoring).
import type { Context } from './context.js';
import type { RawGeneration, RawGenStats, RawSequenceSpec } from './native.js';

export type SteerPositions = 'all' | 'prompt' | 'generated';

export interface SteerTerm {
  /** Decoder block whose output gets alpha * direction added. */
  layer: number;
  direction: Float32Array;
  alpha: number;
}

export interface SequenceRequest {
  /** Raw prompt text (tokenised with BOS, as the paper did) or ready token ids. */
  prompt: string | Int32Array;
  /** Wrap the prompt in the model's chat template as a user turn (default false: raw prompt). */
  chat?: boolean;
  /** System message when chat is on. */
  system?: string;
  steer?: SteerTerm[];
  /** Where the steering applies: every position (the paper), the prompt only, or generated tokens only. */
  positions?: SteerPositions;
  /** 0 = greedy. Default 0.7 (the paper). */
  temperature?: number;
  /** 0 = off. Default 50. */
  topK?: number;
  topP?: number;
  minP?: number;
  /** Sampling seed (default 0); same seed + same inputs = same tokens, alone or in any batch. */
  seed?: number;
  /** New tokens at most (default 128). */
  maxTokens?: number;
  stop?: string[];
  /** Anything; returned with the result (e.g. {alpha, sample}). */
  tag?: unknown;
}

export interface Monitor {
  layer: number;
  direction: Float32Array;
  name?: string;
}

export interface GenerateRequest {
  sequences: SequenceRequest[];
  monitors?: Monitor[];
  signal?: AbortSignal;
  /** Decode steps per native call (default 4): fewer thread hops, coarser streaming. */
  stepsPerCall?: number;
}

export interface TokenEvent {
  seq: number;
  token: number;
  piece: string;
  /** One projection per monitor (dot(residual at the position that produced the token, direction)). */
  scores?: number[];
}

export type FinishReason = 'eog' | 'length' | 'stop' | 'abort';

export interface SequenceResult {
  seq: number;
  text: string;
  tokens: Int32Array;
  finishReason: FinishReason;
  nPrompt: number;
  promptMs: number;
  genMs: number;
  /** Per monitor, one score per generated token. */
  scores?: Float32Array[];
  tag?: unknown;
}

export type GenerationStats = RawGenStats;

export class GenerationHandle implements AsyncIterable<TokenEvent> {
  private finished: Promise<SequenceResult[]> | null = null;
  private iterating = false;
  private resultsCache: SequenceResult[] | null = null;
  private statsCache: GenerationStats | null = null;

  constructor(private readonly raw: RawGeneration, private readonly req: GenerateRequest, private readonly nMonitors: number) {
    req.signal?.addEventListener('abort', () => raw.abort(), { once: true });
    if (req.signal?.aborted) raw.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TokenEvent> {
    if (this.iterating || this.finished) throw new Error('a generation can be consumed once');
    this.iterating = true;
    const steps = this.req.stepsPerCall ?? 4;
    try {
      for (;;) {
        const r = await this.raw.step(steps);
        for (let i = 0; i < r.seq.length; i++) {
          const ev: TokenEvent = { seq: r.seq[i], token: r.token[i], piece: r.pieces[i] };
          if (r.nMonitors > 0) ev.scores = Array.from(r.scores.subarray(i * r.nMonitors, (i + 1) * r.nMonitors));
          yield ev;
        }
        if (r.done) break;
      }
    } finally {
      this.collect();
    }
  }

  /** Runs to the end (or abort) and returns one result per sequence, in request order. */
  result(): Promise<SequenceResult[]> {
    if (this.resultsCache) return Promise.resolve(this.resultsCache);
    if (this.iterating) throw new Error('generation is being iterated; results come after the loop via results()');
    if (!this.finished) {
      this.finished = (async () => {
        const steps = this.req.stepsPerCall ?? 16;
        for (;;) {
          const r = await this.raw.step(steps);
          if (r.done) break;
        }
        return this.collect();
      })();
    }
    return this.finished;
  }

  /** Results after iteration finished. */
  results(): SequenceResult[] {
    if (!this.resultsCache) throw new Error('generation still running');
    return this.resultsCache;
  }

  /** Timing and token counts (prompt phase vs decode phase). */
  stats(): GenerationStats {
    if (!this.statsCache) throw new Error('generation still running');
    return this.statsCache;
  }

  abort(): void { this.raw.abort(); }

  private collect(): SequenceResult[] {
    if (this.resultsCache) return this.resultsCache;
    const raw = this.raw.results();
    this.statsCache = this.raw.stats();
    const nm = this.nMonitors;
    this.resultsCache = raw.map((r, i) => {
      const out: SequenceResult = {
        seq: i, text: r.text, tokens: r.tokens, finishReason: (r.finishReason === 'running' ? 'abort' : r.finishReason) as FinishReason,
        nPrompt: r.nPrompt, promptMs: r.promptMs, genMs: r.genMs, tag: this.req.sequences[i].tag,
      };
      if (nm > 0) {
        const n = r.scores.length / nm;
        out.scores = Array.from({ length: nm }, (_, k) => {
          const s = new Float32Array(n);
          for (let t = 0; t < n; t++) s[t] = r.scores[t * nm + k];
          return s;
        });
      }
      return out;
    });
    this.raw.dispose();
    return this.resultsCache;
  }
}

/** Validates, tokenises and starts a generation on `ctx`. */
export function startGeneration(ctx: Context, req: GenerateRequest): GenerationHandle {
  if (!req || !Array.isArray(req.sequences) || req.sequences.length === 0) throw new Error('generate needs at least one sequence');
  const model = ctx.model;
  const specs: RawSequenceSpec[] = req.sequences.map((s, i) => {
    let prompt: Int32Array;
    if (typeof s.prompt === 'string') {
      const text = s.chat
        ? model.applyChatTemplate([...(s.system ? [{ role: 'system', content: s.system }] : []), { role: 'user', content: s.prompt }])
        : s.prompt;
      prompt = model.tokenize(text, { addSpecial: true, parseSpecial: !!s.chat });
    } else if (s.prompt instanceof Int32Array) {
      prompt = s.prompt;
    } else {
      throw new TypeError(`sequences[${i}].prompt must be a string or an Int32Array`);
    }
    return {
      prompt,
      steer: s.steer?.map((t) => ({ layer: t.layer, direction: t.direction, alpha: t.alpha })),
      positions: s.positions ?? 'all',
      temperature: s.temperature ?? 0.7,
      topK: s.topK ?? 50,
      topP: s.topP ?? 1,
      minP: s.minP ?? 0,
      seed: s.seed ?? 0,
      maxTokens: s.maxTokens ?? 128,
      stop: s.stop,
    };
  });
  const monitors = (req.monitors ?? []).map((m) => ({ layer: m.layer, direction: m.direction }));
  const raw = ctx.handle.generate(specs, { monitors });
  return new GenerationHandle(raw, req, monitors.length);
}

/**
 * Context options sized for a generation of `nSeqs` sequences of at most `tokensPerSeq` tokens
 * (prompt + new): one KV stream per sequence (llama.cpp's fast layout for parallel decoding).
 */
export function generationContextOptions(nSeqs: number, tokensPerSeq: number, nThreads?: number) {
  if (!Number.isInteger(nSeqs) || nSeqs < 1 || nSeqs > 256) throw new RangeError(`number of sequences must be 1..256 (got ${nSeqs})`);
  const perSeq = Math.ceil(Math.max(tokensPerSeq, 1) / 256) * 256;  // llama.cpp pads per-sequence room to 256
  return {
    nSeqMax: nSeqs,
    nCtx: perSeq * nSeqs,
    nBatch: 512,
    kvUnified: false,
    flashAttn: 'auto' as const,
    nThreads,
  };
}
