// The scheduler: every request's sequences run in ONE open generation of the engine (continuous
// batching: a sequence joins at the next step boundary and frees its slot and KV cells the moment it
// ends or is cancelled), behind a bounded FIFO queue (full -> 429 with Retry-After).
//
// The queue's bound counts requests, not sequences: a request of several prompts is admitted as one
// unit (it waits until its first sequence has a slot, then its prompts take slots in order as they
// free up). So a request of more prompts than slots + queue runs on an idle server instead of getting
// 429 forever; the prompts one request may carry have their own limit (a 400, prompts.ts).
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
  /** A queued job left without running: its client went away, or the server shut down. */
  dropped?(job: Job, reason: DropReason): void;
  firstToken?(job: Job, seconds: number): void;
}

export interface SchedulerStats {
  slots: number;
  busy: number;
  /** Sequences waiting for a slot. */
  queued: number;
  /** Requests waiting for their first slot (what the queue's capacity bounds). */
  queuedRequests: number;
  /** Requests that may wait before new ones get 429. */
  queueCapacity: number;
  closing: boolean;
}

/** Why a queued job left without running: its client went away, a sibling of its request failed, the server shut down. */
export type DropReason = 'client_closed' | 'request_failed' | 'shutting_down';

/** The sequences of one request: it waits (counts against the queue) until the first of them has a slot. */
interface Unit { jobs: Job[]; started: boolean }

export class Scheduler {
  private gen: GenerationHandle | null = null;
  private consuming: Promise<void> | null = null;
  private readonly queue: Job[] = [];
  private readonly unitOf = new Map<Job, Unit>();
  /** Requests none of whose sequences has a slot yet. */
  private readonly waiting = new Set<Unit>();
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
    return {
      slots: this.opts.slots, busy: this.active.size, queued: this.queue.length, queuedRequests: this.waiting.size,
      queueCapacity: this.opts.queue, closing: this.closing,
    };
  }

  /**
   * Queues the jobs of one request as one unit: 503 while shutting down; 429 when it would wait and
   * `queue` requests already wait.
   */
  submit(jobs: Job[]): void {
    if (this.closing) throw new ApiError(503, 'shutting_down', 'the server is shutting down; retry against another instance or later');
    if (jobs.length === 0) return;
    // FIFO: it waits unless a slot is free now (and then nothing is queued ahead of it)
    const waits = this.active.size >= this.opts.slots || this.queue.length > 0;
    if (waits && this.waiting.size >= this.opts.queue) {
      const retry = Math.min(60, Math.max(1, Math.ceil(this.avgSeconds * (1 + this.queue.length / this.opts.slots))));
      throw new ApiError(429, 'queue_full', `all ${this.opts.slots} slots are busy and ${this.waiting.size} requests wait (the queue holds ${this.opts.queue}); retry after ${retry} s`, null, 'rate_limit_error', { 'retry-after': String(retry) });
    }
    const unit: Unit = { jobs, started: false };
    for (const j of jobs) this.unitOf.set(j, unit);
    this.waiting.add(unit);
    this.queue.push(...jobs);
    this.admit();
  }

  /** Ends a job: a queued one leaves the queue; a running one is cancelled in the engine (slot and KV cells freed). */
  cancel(job: Job, why: Exclude<DropReason, 'shutting_down'> = 'client_closed'): void {
    if (job.state === 'queued') {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
      this.forget(job);
      job.fail(new ApiError(499, 'cancelled', 'the request was cancelled'));
      this.observer.dropped?.(job, why);
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
    if (timedOut) this.stopAll();
    await idle;
    this.gen?.close();
    await this.consuming;
  }

  /** During shutdown: ends the grace period now (queued jobs fail with 503, running ones are cancelled). */
  expedite(): void {
    if (this.closing) this.stopAll();
  }

  private stopAll(): void {
    for (const j of this.queue.splice(0)) {
      this.forget(j);
      j.fail(new ApiError(503, 'shutting_down', 'the server shut down before this request could run'));
      this.observer.dropped?.(j, 'shutting_down');
    }
    for (const j of this.active) this.cancel(j);
  }

  /** A job leaves the queue or its slot for good: its request stops waiting once none of its jobs is queued. */
  private forget(job: Job): void {
    const unit = this.unitOf.get(job);
    this.unitOf.delete(job);
    if (unit && !unit.started && !unit.jobs.some((j) => j.state === 'queued' && this.unitOf.has(j))) this.waiting.delete(unit);
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
    const unit = this.unitOf.get(job);
    this.unitOf.delete(job);
    if (unit && !unit.started) {
      unit.started = true;
      this.waiting.delete(unit);
    }
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
