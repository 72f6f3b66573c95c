// The scheduler: every request's sequences run in ONE open generation of the engine (continuous
// batching: a sequence joins at the next step boundary and frees its slot and KV cells the moment it
// ends or is cancelled), behind a bounded FIFO queue (full -> 429 with Retry-After).
//
// Each sequence carries its request's steering, gate and monitors (the engine's per-sequence
// monitors: a sequence's own probes score its own tokens), so requests with different probes share
// the batch with no coordination; the generation itself reads no monitor. The generation stays open
// for the server's lifetime; should it end (a native failure), the jobs in it fail with a 5xx and
// the next request opens a new one.
import type { Context } from '../engine/context.js';
import type { GenerationHandle, SequenceResult } from '../engine/generate.js';
import { ApiError, toApiError } from './api-error.js';
import type { Job } from './job.js';

export interface SchedulerOptions {
  slots: number;
  /** Sequences that may wait for a slot; beyond them a submit is refused with 429. */
  queue: number;
  stepsPerCall: number;
}

export interface SchedulerObserver {
  tokens?(n: number): void;
  finished?(job: Job, reason: string): void;
  firstToken?(job: Job, seconds: number): void;
}

export interface SchedulerStats {
  slots: number;
  busy: number;
  queued: number;
  queueCapacity: number;
  closing: boolean;
}

export class Scheduler {
  private gen: GenerationHandle | null = null;
  private consuming: Promise<void> | null = null;
  private readonly queue: Job[] = [];
  /** Jobs in the generation by sequence id (once add() has given the id). */
  private readonly running = new Map<number, Job>();
  /** Jobs holding a slot (joined or joining). */
  private readonly active = new Set<Job>();
  private closing = false;
  private idleWaiters: (() => void)[] = [];
  /** Jobs holding tokens of the step being delivered: flushed together once the step's events are in. */
  private readonly dirty = new Set<Job>();
  private flushScheduled = false;
  /** Seconds a request took on average (for Retry-After). */
  private avgSeconds = 1;

  constructor(private readonly ctx: Context, private readonly opts: SchedulerOptions, private readonly observer: SchedulerObserver = {}) {}

  stats(): SchedulerStats {
    return { slots: this.opts.slots, busy: this.active.size, queued: this.queue.length, queueCapacity: this.opts.queue, closing: this.closing };
  }

  /** Queues the jobs of one request, all or none: 503 while shutting down, 429 when the queue cannot take them. */
  submit(jobs: Job[]): void {
    if (this.closing) throw new ApiError(503, 'shutting_down', 'the server is shutting down; retry against another instance or later');
    const freeSlots = this.opts.slots - this.active.size;
    const waiting = Math.max(0, this.queue.length + jobs.length - Math.max(0, freeSlots));
    if (waiting > this.opts.queue) {
      const retry = Math.min(60, Math.max(1, Math.ceil(this.avgSeconds * (1 + this.queue.length / this.opts.slots))));
      throw new ApiError(429, 'queue_full', `all ${this.opts.slots} slots are busy and the queue (${this.opts.queue}) is full; retry after ${retry} s`, null, 'rate_limit_error', { 'retry-after': String(retry) });
    }
    this.queue.push(...jobs);
    this.admit();
  }

  /** Ends a job: a queued one leaves the queue; a running one is cancelled in the engine (slot and KV cells freed). */
  cancel(job: Job): void {
    if (job.state === 'queued') {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
      job.fail(new ApiError(499, 'cancelled', 'the request was cancelled'));
      this.admit();
      return;
    }
    if (job.state !== 'running') return;
    job.cancelRequested = true;
    if (job.seq < 0 || !this.gen) return;  // not joined yet: cancelled as soon as its id is known
    try {
      this.gen.cancel(job.seq);
    } catch {
      // the generation has just ended: its end fails every job still running, this one included
    }
  }

  /**
   * Stops taking requests (submit -> 503) and waits for the running and queued ones to finish; after
   * `graceMs` the rest are cancelled. Then the generation closes.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    const idle = new Promise<void>((resolve) => { this.idleWaiters.push(resolve); });
    this.checkIdle();
    let timer: NodeJS.Timeout | null = null;
    const timedOut = await Promise.race([idle.then(() => false), new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs); })]);
    if (timer) clearTimeout(timer);
    if (timedOut) {
      for (const j of this.queue.splice(0)) j.fail(new ApiError(503, 'shutting_down', 'the server shut down before this request could run'));
      for (const j of this.active) this.cancel(j);
      await idle;
    }
    this.gen?.close();
    await this.consuming;
  }

  private checkIdle(): void {
    if (this.active.size > 0 || this.queue.length > 0) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    ws.forEach((w) => w());
  }

  /** Starts queued jobs in order while slots are free (opening the generation when there is none). */
  private admit(): void {
    while (this.queue.length > 0 && this.active.size < this.opts.slots) {
      if (!this.gen) this.open();
      this.start(this.queue.shift()!);
    }
    this.checkIdle();
  }

  private open(): void {
    const gen = this.ctx.generate({ open: true, keepResults: false, stepsPerCall: this.opts.stepsPerCall });
    this.gen = gen;
    this.consuming = this.consume(gen);
  }

  private start(job: Job): void {
    const gen = this.gen!;
    this.active.add(job);
    job.markJoining();
    // add() reserves the slot synchronously; its id comes back before any event of the sequence can
    gen.add(job.sequence, { whenFull: 'reject' }).then((seq) => {
      this.running.set(seq, job);
      job.markStarted(seq);
      if (job.cancelRequested) gen.cancel(seq);
    }, (e: unknown) => {
      this.active.delete(job);
      job.fail(toApiError(e));
      this.admit();
    });
  }

  private async consume(gen: GenerationHandle): Promise<void> {
    let failure: unknown = null;
    try {
      for await (const ev of gen) {
        const job = this.running.get(ev.seq);
        if (!job) continue;
        if (ev.type === 'token') {
          const first = job.firstTokenAt === null;
          job.deliverToken(ev.token, ev.piece, ev.scores, ev.gate);
          if (first) this.observer.firstToken?.(job, (job.firstTokenAt! - job.submittedAt) / 1000);
          this.observer.tokens?.(1);
          this.dirty.add(job);
          // a step's events arrive in one go: one chunk per job per step, after all of them
          if (!this.flushScheduled) {
            this.flushScheduled = true;
            setImmediate(() => this.flush());
          }
        } else {
          this.finish(job, ev.seq, ev.result);
        }
      }
    } catch (e) {
      failure = e;
    }
    // the generation has ended (closed at shutdown, or failed)
    const err = failure ? toApiError(failure) : new ApiError(503, 'unavailable', 'the generation ended before this request finished');
    for (const job of this.active) job.fail(err);
    this.active.clear();
    this.running.clear();
    this.dirty.clear();
    if (this.gen === gen) this.gen = null;
    this.admit();
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const j of this.dirty) j.flush();
    this.dirty.clear();
  }

  private finish(job: Job, seq: number, r: SequenceResult): void {
    this.running.delete(seq);
    this.dirty.delete(job);
    this.active.delete(job);
    const seconds = (performance.now() - job.submittedAt) / 1000;
    this.avgSeconds = 0.8 * this.avgSeconds + 0.2 * seconds;
    job.deliverFinish(r);
    this.observer.finished?.(job, r.finishReason);
    this.admit();
  }
}
