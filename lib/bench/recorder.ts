// What the bench measured, collected step by step: per-round figures, the ratios and why a ratio
// is missing, the peak resident set of each side, and the seconds each step took. Every step
// records into one Recorder; run.ts turns it into the report.
import { performance } from 'node:perf_hooks';
import type { ToolRun } from './proc.js';
import { median } from './stats.js';

/** The ratio names (a contract: scripts read them from the JSON). */
export const RATIO_KEYS = [
  'capture_vs_llama_bench',
  'steer_vs_batched_bench',
  'steer_sampled_vs_batched_bench',
  'sweep_vs_sequential',
  'plain_vs_node_llama_cpp',
  'monitor_overhead',
  'paper_method_vs_eia',
] as const;
export type RatioKey = (typeof RATIO_KEYS)[number];

export class Recorder {
  readonly ratios = Object.fromEntries(RATIO_KEYS.map((k) => [k, null])) as Record<RatioKey, number | null>;
  /** Why a ratio is null. */
  readonly reasons: Partial<Record<RatioKey, string>> = {};
  /** Absolute figures (medians over rounds). */
  readonly rates: Record<string, number | null> = {};
  /** Peak RSS per side (KiB) and how it was measured. */
  readonly peaks: Record<string, number> = {};
  readonly rssMethod: Record<string, string> = {};
  /** Per-round raw figures. */
  readonly rounds: Record<string, number[]> = {};
  readonly stepSeconds: Record<string, number> = {};

  constructor(private log: (msg: string) => void) {}

  /** One round's figure of measurement `k`. */
  push(k: string, v: number): void {
    (this.rounds[k] ??= []).push(Math.round(v * 1000) / 1000);
  }

  /** rates[k] = the median of k's rounds (when any were recorded). */
  settle(...keys: string[]): void {
    for (const k of keys) if (this.rounds[k]) this.rates[k] = median(this.rounds[k]);
  }

  peak(k: string, kb: number | null | undefined, how: string): void {
    if (kb === null || kb === undefined) return;
    this.peaks[k] = Math.max(this.peaks[k] ?? 0, kb);
    this.rssMethod[k] = how;
  }

  /** The peak RSS a worker reported for one request. */
  workerPeak(k: string, r: { peakRssKb?: number; peakIsPerRequest?: boolean }, otherwise = 'worker maxrss since start (no per-step reset here)'): void {
    this.peak(k, r.peakRssKb, r.peakIsPerRequest ? 'worker VmHWM, reset before the step' : otherwise);
  }

  toolPeak(k: string, r: ToolRun): void {
    this.peak(k, r.peakRssKb, 'VmHWM of the tool process, sampled every 50 ms');
  }

  /** Ratio `key` could not be measured: keep the reason. */
  fail(key: RatioKey, e: unknown): void {
    this.reasons[key] = (e as Error)?.message ?? String(e);
    this.log(`bench: ${key}: ${this.reasons[key]}`);
  }

  /** Runs one step, recording its wall time. */
  async timed(step: string, fn: () => Promise<void>): Promise<void> {
    const t = performance.now();
    try {
      await fn();
    } finally {
      this.stepSeconds[step] = Math.round((performance.now() - t) / 100) / 10;
    }
  }
}
