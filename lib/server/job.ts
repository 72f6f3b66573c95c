// One generated sequence of a request as the scheduler runs it: queued, then running in a slot of the
// open generation, then done. The route that made it listens through callbacks (tokens as they come,
// the finish) and two promises (it started; it ended).
import type { FinishReason, SequenceRequest } from '../engine/generate.js';
import type { ApiError } from './api-error.js';

export interface JobToken {
  token: number;
  piece: string;
  /** This request's monitors, in request order (null without monitors): the sequence's own monitors. */
  scores: number[] | null;
  /** Gated requests: did the gate steer the pass that produced this token? */
  gate: boolean | null;
}

export interface JobResult {
  text: string;
  tokens: Int32Array;
  finishReason: FinishReason;
  nPrompt: number;
  /** Per request monitor, one score per generated token. */
  scores: Float32Array[] | null;
  gate: Uint8Array | null;
  gateSteered: number;
}

export interface JobListener {
  /** The tokens one native step produced (a step decodes up to stepsPerCall positions). */
  tokens?(ts: JobToken[]): void;
  finish?(r: JobResult): void;
}

export type JobState = 'queued' | 'running' | 'done';

export class Job {
  state: JobState = 'queued';
  /** The engine's sequence id once running. */
  seq = -1;
  cancelRequested = false;
  readonly submittedAt = performance.now();
  firstTokenAt: number | null = null;
  private batch: JobToken[] = [];
  /** Resolves when the job joins the generation; rejects when it never will (cancelled, shut down, refused). */
  readonly started: Promise<void>;
  /** Resolves with the finished result; rejects on failure. */
  readonly result: Promise<JobResult>;
  private resolveStarted!: () => void;
  private rejectStarted!: (e: ApiError) => void;
  private resolveResult!: (r: JobResult) => void;
  private rejectResult!: (e: ApiError) => void;

  private readonly monitored: boolean;

  constructor(readonly sequence: SequenceRequest, readonly gated: boolean, private readonly listener: JobListener = {}) {
    this.monitored = (sequence.monitors?.length ?? 0) > 0;
    this.started = new Promise((res, rej) => { this.resolveStarted = res; this.rejectStarted = rej; });
    this.result = new Promise((res, rej) => { this.resolveResult = res; this.rejectResult = rej; });
    // a caller may only await one of them; neither may become an unhandled rejection
    this.started.catch(() => {});
    this.result.catch(() => {});
  }

  /** @internal scheduler: the job takes a slot (its sequence id follows with markStarted). */
  markJoining(): void {
    this.state = 'running';
  }

  /** @internal scheduler: the job's sequence is in the generation. */
  markStarted(seq: number): void {
    this.seq = seq;
    this.resolveStarted();
  }

  /** @internal scheduler: one token event; held until flush(). */
  deliverToken(token: number, piece: string, scores: number[] | undefined, gate: boolean | undefined): void {
    if (this.state !== 'running') return;
    if (this.firstTokenAt === null) this.firstTokenAt = performance.now();
    if (!this.listener.tokens) return;
    this.batch.push({
      token, piece,
      scores: this.monitored && scores ? scores : null,
      gate: this.gated ? !!gate : null,
    });
  }

  /** @internal scheduler: hands the tokens held so far to the listener (one call per native step). */
  flush(): void {
    if (this.batch.length === 0) return;
    const ts = this.batch;
    this.batch = [];
    this.listener.tokens?.(ts);
  }

  /** @internal scheduler: the engine finished this sequence. */
  deliverFinish(r: { text: string; tokens: Int32Array; finishReason: FinishReason; nPrompt: number; scores?: Float32Array[]; gate?: Uint8Array; gateSteered?: number }): void {
    if (this.state === 'done') return;
    this.flush();
    this.state = 'done';
    const result: JobResult = {
      text: r.text, tokens: r.tokens, finishReason: r.finishReason, nPrompt: r.nPrompt,
      scores: this.monitored && r.scores ? r.scores : null,
      gate: this.gated ? r.gate ?? new Uint8Array(0) : null,
      gateSteered: r.gateSteered ?? 0,
    };
    this.listener.finish?.(result);
    this.resolveResult(result);
  }

  /** @internal scheduler: the job ends without a result. */
  fail(e: ApiError): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.rejectStarted(e);
    this.rejectResult(e);
  }
}
