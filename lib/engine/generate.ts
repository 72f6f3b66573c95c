// Batched generation: every sequence carries its own steering (terms, block ranges, gates) and its
// own seeded sampler; all run together in one context with a KV cache, and a sequence produces the
// same tokens alone or in any batch. Stream events with `for await` (token events, and a finish
// event as each sequence ends), or await `result()`. Monitor probes give every generated token its
// projection on each probe direction (live empathy monitoring).
//
// A generation opened with `open: true` is continuous batching: add() joins a sequence at the next
// step boundary (waiting for a free slot or rejecting, as the caller chooses), cancel() frees one at
// once, close() ends the generation once every sequence has finished.
import type { Context } from './context.js';
import { GENERATION_DEFAULTS, SAMPLING_DEFAULTS } from './defaults.js';
import type { RawGeneration, RawGenStats, RawSeqResult, RawSequenceSpec } from './native.js';
import type { Gate, SteerPositions, SteerTerm } from './steering.js';
import { checkGate, checkMaxTokens, checkMonitor, checkPositions, checkSteerTerm, type RequestLimits } from './validate.js';
import { EiaError, isEiaError } from '../util/errors.js';

export type { Gate, SteerPositions, SteerTerm } from './steering.js';

export interface SequenceRequest {
  /** Raw prompt text (tokenised with BOS, as the paper did) or ready token ids. */
  prompt: string | Int32Array;
  /** Wrap the prompt in the model's chat template as a user turn (default false: raw prompt). */
  chat?: boolean;
  /** System message when chat is on. */
  system?: string;
  steer?: SteerTerm[];
  /** Probe-gated steering (see Gate). */
  gate?: Gate;
  /** This sequence's own monitor probes: its scores list the generation's monitors first, then these. */
  monitors?: Monitor[];
  /** Default positions of this sequence's terms: every position (the paper), the prompt only, or generated tokens only. */
  positions?: SteerPositions;
  /** 0 = greedy. Default 0.7 (the paper). Applied before top-k/top-p/min-p, as Hugging Face does. */
  temperature?: number;
  /** 0 = off. Default 50. */
  topK?: number;
  /** 1 = off (default). */
  topP?: number;
  /** 0 = off (default). */
  minP?: number;
  /** Sampling seed (default 0); same seed + same inputs = same tokens, alone or in any batch. */
  seed?: number;
  /** New tokens at most (default 128). */
  maxTokens?: number;
  stop?: string[];
  /** Keep going past end-of-generation tokens (default false). */
  ignoreEog?: boolean;
  /** Keep the logits of every generated token in the result (oracles and analyses; default false). */
  keepLogits?: boolean;
  /** Anything; returned with the result (e.g. {alpha, sample}). */
  tag?: unknown;
}

export interface Monitor {
  layer: number;
  direction: Float32Array;
  name?: string;
}

export interface GenerateRequest {
  /** The sequences (required unless `open`; an open generation may start with some). */
  sequences?: SequenceRequest[];
  monitors?: Monitor[];
  /** Continuous batching: add(), cancel(), close(). */
  open?: boolean;
  signal?: AbortSignal;
  /** Decode steps per native call (default 4 when streaming, 16 for result()). */
  stepsPerCall?: number;
  /** Keep every finished result for result()/results() (default true; a long-running server turns it off). */
  keepResults?: boolean;
}

export type FinishReason = 'eog' | 'length' | 'stop' | 'abort' | 'cancel';

export interface SequenceResult {
  seq: number;
  text: string;
  tokens: Int32Array;
  finishReason: FinishReason;
  nPrompt: number;
  promptMs: number;
  genMs: number;
  /** Per monitor (the generation's, then the sequence's own), one score per generated token. */
  scores?: Float32Array[];
  /** With a gate: per generated token, 1 when the gate steered the pass that produced it. */
  gate?: Uint8Array;
  /** With a gate: positions it steered (prompt included). */
  gateSteered?: number;
  /** keepLogits: nGenerated x nVocab. */
  logits?: Float32Array;
  tag?: unknown;
}

export interface TokenEvent {
  type: 'token';
  seq: number;
  token: number;
  piece: string;
  /** One projection per monitor — the generation's, then the sequence's own — (dot(residual at the
   *  position that produced the token, direction), read after that block's steering). */
  scores?: number[];
  /** With a gate: did it steer the pass that produced this token? */
  gate?: boolean;
}

export interface FinishEvent {
  type: 'finish';
  seq: number;
  result: SequenceResult;
}

export type GenerationEvent = TokenEvent | FinishEvent;

export type GenerationStats = RawGenStats;

export interface AddOptions {
  /** When every slot is taken: wait for one to free up (default) or reject with E_FULL. */
  whenFull?: 'wait' | 'reject';
}

/** The binding's form of one sequence, every default filled (the one place they are). */
export function sequenceSpec(ctx: Context, s: SequenceRequest, who: string): RawSequenceSpec {
  if (!s || typeof s !== 'object') throw new EiaError('E_BAD_ARG', `${who} must be an object`);
  const model = ctx.model;
  let prompt: Int32Array;
  if (typeof s.prompt === 'string') {
    const text = s.chat
      ? model.applyChatTemplate([...(s.system ? [{ role: 'system', content: s.system }] : []), { role: 'user', content: s.prompt }])
      : s.prompt;
    prompt = model.tokenize(text, { addSpecial: true, parseSpecial: !!s.chat });
  } else if (s.prompt instanceof Int32Array) {
    prompt = s.prompt;
  } else {
    throw new EiaError('E_BAD_ARG', `${who}.prompt must be a string or an Int32Array`);
  }
  const limits: RequestLimits = { shape: { nLayer: model.nLayer, nEmbd: model.nEmbd } };
  const positions = checkPositions(s.positions ?? GENERATION_DEFAULTS.positions, `${who}.positions`);
  if (s.steer !== undefined && !Array.isArray(s.steer)) throw new EiaError('E_BAD_ARG', `${who}.steer must be an array of steering terms`);
  if (s.stop !== undefined && (!Array.isArray(s.stop) || s.stop.some((x) => typeof x !== 'string'))) {
    throw new EiaError('E_BAD_ARG', `${who}.stop must be an array of strings`);
  }
  if (s.monitors !== undefined && !Array.isArray(s.monitors)) throw new EiaError('E_BAD_ARG', `${who}.monitors must be an array of {layer, direction}`);
  return {
    prompt,
    steer: (s.steer ?? []).map((t, k) => checkSteerTerm(t, limits, `${who}.steer[${k}]`, positions)),
    gate: checkGate(s.gate, limits, `${who}.gate`, positions),
    monitors: (s.monitors ?? []).map((m, k) => checkMonitor(m, limits, `${who}.monitors[${k}]`)),
    temperature: s.temperature ?? SAMPLING_DEFAULTS.temperature,
    topK: s.topK ?? SAMPLING_DEFAULTS.topK,
    topP: s.topP ?? SAMPLING_DEFAULTS.topP,
    minP: s.minP ?? SAMPLING_DEFAULTS.minP,
    seed: s.seed ?? SAMPLING_DEFAULTS.seed,
    maxTokens: checkMaxTokens(s.maxTokens ?? GENERATION_DEFAULTS.maxTokens, `${who}.maxTokens`),
    stop: s.stop ?? [],
    ignoreEog: !!s.ignoreEog,
    keepLogits: !!s.keepLogits,
  };
}

function toResult(r: RawSeqResult, tag: unknown): SequenceResult {
  const out: SequenceResult = {
    seq: r.seq, text: r.text, tokens: r.tokens, finishReason: (r.finishReason === 'running' ? 'abort' : r.finishReason) as FinishReason,
    nPrompt: r.nPrompt, promptMs: r.promptMs, genMs: r.genMs, tag,
  };
  const nm = r.nMonitors;
  if (nm > 0) {
    const n = r.scores.length / nm;
    out.scores = Array.from({ length: nm }, (_, k) => {
      const s = new Float32Array(n);
      for (let t = 0; t < n; t++) s[t] = r.scores[t * nm + k];
      return s;
    });
  }
  if (r.gate.length > 0 || r.gateSteered > 0) {
    out.gate = r.gate;
    out.gateSteered = r.gateSteered;
  }
  if (r.logits) out.logits = r.logits;
  return out;
}

export class GenerationHandle implements AsyncIterable<GenerationEvent> {
  readonly open: boolean;
  private consumed: 'iterate' | 'result' | null = null;
  private pumping: Promise<void> | null = null;
  private finished = false;
  private failure: unknown = null;
  private closed = false;
  private readonly queue: GenerationEvent[] = [];
  private eventWaiter: (() => void) | null = null;
  private idleWaiter: (() => void) | null = null;
  private pokes = 0;
  private slotWaiters: (() => void)[] = [];
  private readonly resultsById = new Map<number, SequenceResult>();
  private readonly tags = new Map<number, unknown>();
  private statsCache: GenerationStats | null = null;
  private readonly keepResults: boolean;

  /** @internal use ctx.generate() */
  constructor(private readonly raw: RawGeneration, private readonly ctx: Context, private readonly req: GenerateRequest, tags: unknown[]) {
    this.open = !!req.open;
    this.keepResults = req.keepResults !== false;
    tags.forEach((t, i) => this.tags.set(i, t));
    const onAbort = () => this.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) this.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<GenerationEvent> {
    this.consume('iterate');
    const pump = this.start(this.req.stepsPerCall ?? GENERATION_DEFAULTS.stepsPerCall);
    try {
      for (;;) {
        while (this.queue.length > 0) yield this.queue.shift()!;
        if (this.finished) break;
        await new Promise<void>((resolve) => { this.eventWaiter = resolve; });
      }
      if (this.failure) throw this.failure;
    } finally {
      if (!this.finished) {
        // the consumer left early: stop the native work and release the context
        this.raw.abort();
        await pump;
      }
    }
  }

  /** Runs to the end (or abort) and returns one result per sequence, in sequence-id order. */
  async result(): Promise<SequenceResult[]> {
    if (this.consumed === 'result' && this.finished) return this.results();
    this.consume('result');
    await this.start(this.req.stepsPerCall ?? GENERATION_DEFAULTS.stepsPerCallResult);
    this.queue.length = 0;
    if (this.failure) throw this.failure;
    return this.results();
  }

  /** The finished results so far (all of them once the generation is done), in sequence-id order. */
  results(): SequenceResult[] {
    return [...this.resultsById.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Timing and token counts (prompt phase vs decode phase), once the generation is done. */
  stats(): GenerationStats {
    if (!this.statsCache) throw new EiaError('E_STATE', 'generation still running');
    return this.statsCache;
  }

  /** Open generations: joins a sequence at the next step boundary; resolves to its id. */
  async add(seq: SequenceRequest, opts: AddOptions = {}): Promise<number> {
    if (!this.open) throw new EiaError('E_STATE', 'add() needs a generation opened with open: true');
    const whenFull = opts.whenFull ?? 'wait';
    if (whenFull !== 'wait' && whenFull !== 'reject') throw new EiaError('E_BAD_ARG', "whenFull must be 'wait' or 'reject'");
    const spec = sequenceSpec(this.ctx, seq, 'sequence');
    for (;;) {
      if (this.closed || this.finished) throw new EiaError('E_STATE', 'the generation is closed: no more sequences can join');
      try {
        const id = this.raw.add(spec);
        this.tags.set(id, seq.tag);
        if (spec.gate) this.gated.add(id);
        this.poke();
        return id;
      } catch (e) {
        if (!isEiaError(e, 'E_FULL') || whenFull === 'reject') throw e;
      }
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  /** Ends a sequence (finish reason 'cancel') and frees its slot and KV cells. False if it had already finished. */
  cancel(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0) throw new EiaError('E_BAD_ARG', `unknown sequence ${String(seq)}`);
    if (this.finished) {
      if (this.resultsById.has(seq) || this.tags.has(seq)) return false;
      throw new EiaError('E_BAD_ARG', `unknown sequence ${seq}`);
    }
    const r = this.raw.cancel(seq);
    this.poke();
    return r;
  }

  /** Open generations: no more sequences; the generation ends once the running ones finish. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.finished) this.raw.close();
    this.poke();
    this.releaseSlotWaiters();
  }

  /** Stops every sequence at the next decode (finish reason 'abort'). */
  abort(): void {
    if (this.finished) return;
    this.closed = true;
    this.raw.abort();
    this.poke();
    this.releaseSlotWaiters();
  }

  /** Free sequence slots now (open generations). */
  get slotsFree(): number {
    return this.finished ? 0 : this.raw.slotsFree();
  }

  private consume(how: 'iterate' | 'result'): void {
    if (this.consumed && this.consumed !== how) throw new EiaError('E_STATE', 'a generation can be consumed once (iterate it, or await result())');
    if (this.consumed === 'iterate') throw new EiaError('E_STATE', 'a generation can be consumed once (iterate it, or await result())');
    this.consumed = how;
  }

  private start(steps: number): Promise<void> {
    if (!this.pumping) this.pumping = this.pump(steps);
    return this.pumping;
  }

  private poke(): void {
    this.pokes++;
    const w = this.idleWaiter;
    this.idleWaiter = null;
    w?.();
  }

  private releaseSlotWaiters(): void {
    const ws = this.slotWaiters;
    this.slotWaiters = [];
    ws.forEach((w) => w());
  }

  private emit(ev: GenerationEvent): void {
    if (this.consumed === 'iterate') this.queue.push(ev);
    this.wakeConsumer();
  }

  private wakeConsumer(): void {
    const w = this.eventWaiter;
    this.eventWaiter = null;
    w?.();
  }

  private async pump(steps: number): Promise<void> {
    try {
      for (;;) {
        const before = this.pokes;
        const r = await this.raw.step(steps);
        for (let i = 0; i < r.seq.length; i++) {
          const ev: TokenEvent = { type: 'token', seq: r.seq[i], token: r.token[i], piece: r.pieces[i] };
          if (r.scoreOffsets[i + 1] > r.scoreOffsets[i]) ev.scores = Array.from(r.scores.subarray(r.scoreOffsets[i], r.scoreOffsets[i + 1]));
          if (this.gated.has(ev.seq)) ev.gate = r.gate[i] === 1;
          this.emit(ev);
        }
        for (const f of r.finished) {
          const result = toResult(f, this.tags.get(f.seq));
          if (this.keepResults) this.resultsById.set(f.seq, result);
          else this.tags.delete(f.seq);
          this.emit({ type: 'finish', seq: f.seq, result });
        }
        if (r.finished.length > 0) this.releaseSlotWaiters();
        if (r.done) break;
        if (r.idle && this.pokes === before) await new Promise<void>((resolve) => { this.idleWaiter = resolve; });
      }
    } catch (e) {
      this.failure = e;
    } finally {
      try {
        this.statsCache = this.raw.stats();
      } catch { /* disposed */ }
      this.raw.dispose();
      this.finished = true;
      this.closed = true;
      this.releaseSlotWaiters();
      this.wakeConsumer();
    }
  }

  /** @internal sequences with a gate: their token events say whether it steered. */
  readonly gated = new Set<number>();
}

/** Validates, tokenises and starts a generation on `ctx`. */
export function startGeneration(ctx: Context, req: GenerateRequest): GenerationHandle {
  if (!req || typeof req !== 'object') throw new EiaError('E_BAD_ARG', 'generate needs a request object');
  const open = !!req.open;
  const seqs = req.sequences ?? [];
  if (!Array.isArray(seqs)) throw new EiaError('E_BAD_ARG', 'sequences must be an array');
  if (!open && seqs.length === 0) throw new EiaError('E_BAD_ARG', 'generate needs at least one sequence');
  if (req.monitors !== undefined && !Array.isArray(req.monitors)) throw new EiaError('E_BAD_ARG', 'monitors must be an array of {layer, direction}');
  const specs = seqs.map((s, i) => sequenceSpec(ctx, s, `sequences[${i}]`));
  const limits: RequestLimits = { shape: { nLayer: ctx.model.nLayer, nEmbd: ctx.model.nEmbd } };
  const monitors = (req.monitors ?? []).map((m, i) => checkMonitor(m, limits, `monitors[${i}]`));
  const raw = ctx.handle.generate(specs, { monitors, open });
  const h = new GenerationHandle(raw, ctx, req, seqs.map((s) => s.tag));
  specs.forEach((s, i) => { if (s.gate) h.gated.add(i); });
  return h;
}
