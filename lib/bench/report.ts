// The bench's result: the JSON report (`bench --json`, bench/results/*.json) and its table for
// people. Ratios are named in recorder.ts (RATIO_KEYS, a contract for scripts).
import type { MachineInfo } from './machine.js';
import { RATIO_KEYS, type RatioKey, type Recorder } from './recorder.js';
import { round, roundRate } from './stats.js';
import type { BenchSettings } from './workload.js';

/** Acceptance targets on a 2-core CPU machine (paper_method_vs_eia and steer_sampled_vs_batched_bench are reported, no target). */
export const TARGETS: Record<RatioKey, { op: '>=' | '<='; value: number } | null> = {
  capture_vs_llama_bench: { op: '>=', value: 0.95 },
  steer_vs_batched_bench: { op: '>=', value: 0.95 },
  steer_sampled_vs_batched_bench: null,
  sweep_vs_sequential: { op: '>=', value: 3 },
  plain_vs_node_llama_cpp: { op: '>=', value: 1.0 },
  monitor_overhead: { op: '<=', value: 0.05 },
  paper_method_vs_eia: null,
};

export interface BenchReport {
  bench: 'eia-native';
  date: string;
  seconds: number;
  machine: MachineInfo;
  model: { path: string; synthetic: boolean; shape: string | null; arch: string; n_layer: number; n_embd: number; n_vocab: number; n_params: number; size_mib: number; synth_seconds: number | null };
  settings: BenchSettings & { flash_attn: Record<string, string>; steer_layer: number | null; capture_layers: number[]; tools: Record<string, string | null> };
  ratios: Record<RatioKey, number | null>;
  /** Why a ratio is null (only for null ones). */
  null_reasons: Partial<Record<RatioKey, string>>;
  targets: Record<RatioKey, string | null>;
  met: Record<RatioKey, boolean | null>;
  /** Absolute figures (medians over rounds): tokens per second unless the name says otherwise. */
  rates: Record<string, number | null>;
  /** Peak resident set of each measured step (MiB; the maximum over its rounds). */
  peak_rss_mib: Record<string, number | null>;
  /** How each peak RSS was measured. */
  rss_method: Record<string, string>;
  /** Per-round raw figures, for anyone who wants to check a median. */
  rounds: Record<string, number[]>;
  step_seconds: Record<string, number>;
  node_llama_cpp: { status: 'ok' | 'unavailable' | 'failed'; version: string | null; detail: string | null };
}

const mib = (kb: number | null | undefined): number | null => (kb === null || kb === undefined ? null : Math.round((kb / 1024) * 10) / 10);

/** The recorded figures as the report's measurement part: non-finite ratios become null with a reason, targets checked. */
export function measurements(rec: Recorder): Pick<BenchReport, 'ratios' | 'null_reasons' | 'targets' | 'met' | 'rates' | 'peak_rss_mib' | 'rss_method' | 'rounds' | 'step_seconds'> {
  const { ratios, reasons } = rec;
  for (const k of RATIO_KEYS) {
    if (ratios[k] !== null && !Number.isFinite(ratios[k]!)) {
      reasons[k] ??= 'no valid measurement';
      ratios[k] = null;
    }
    if (ratios[k] === null) reasons[k] ??= 'not measured';
  }
  const met = Object.fromEntries(RATIO_KEYS.map((k) => {
    const t = TARGETS[k];
    const v = ratios[k];
    return [k, t === null || v === null ? null : t.op === '>=' ? v >= t.value : v <= t.value];
  })) as Record<RatioKey, boolean | null>;
  return {
    ratios: Object.fromEntries(RATIO_KEYS.map((k) => [k, round(ratios[k] ?? Number.NaN, 4)])) as Record<RatioKey, number | null>,
    null_reasons: reasons,
    targets: Object.fromEntries(RATIO_KEYS.map((k) => [k, TARGETS[k] ? `${TARGETS[k]!.op} ${TARGETS[k]!.value}` : null])) as Record<RatioKey, string | null>,
    met,
    rates: Object.fromEntries(Object.entries(rec.rates).map(([k, v]) => [k, v === null ? null : roundRate(v)])),
    peak_rss_mib: Object.fromEntries(Object.entries(rec.peaks).map(([k, v]) => [k, mib(v)])),
    rss_method: rec.rssMethod,
    rounds: rec.rounds,
    step_seconds: rec.stepSeconds,
  };
}

const fmt = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));

/** The human-readable table: one row per ratio with its two absolute rates and peak RSS. */
export function formatReport(r: BenchReport): string {
  const rows: string[][] = [['ratio', 'value', 'target', 'ok', 'eia-native', 'reference', 'peak RSS MiB (eia / ref)']];
  const R = r.rates;
  const P = r.peak_rss_mib;
  const line = (k: RatioKey, ours: string, ref: string, rss: string) => {
    const v = r.ratios[k];
    const m = r.met[k];
    rows.push([k, v === null ? 'null' : fmt(v, k === 'paper_method_vs_eia' ? 4 : 3), r.targets[k] ?? '-', m === null ? '-' : m ? 'yes' : 'NO', ours, ref, rss]);
  };
  line('capture_vs_llama_bench', `${fmt(R.capture_tok_s, 1)} tok/s`, `${fmt(R.llama_bench_pp_tok_s, 1)} tok/s pp${r.settings.capture.textTokens}`, `${fmt(P.capture, 0)} / ${fmt(P.llama_bench, 0)}`);
  line('steer_vs_batched_bench', `${fmt(R.steered_decode_calls_tok_s, 1)} tok/s decode calls`, `${fmt(R.batched_bench_tg_tok_s, 1)} tok/s S_TG`, `${fmt(P.steered_sweep, 0)} / ${fmt(P.batched_bench, 0)}`);
  line('steer_sampled_vs_batched_bench', `${fmt(R.steered_decode_tok_s, 1)} tok/s sampled`, `${fmt(R.batched_bench_tg_tok_s, 1)} tok/s S_TG`, `${fmt(P.steered_sweep, 0)} / ${fmt(P.batched_bench, 0)}`);
  line('sweep_vs_sequential', `${fmt(R.sweep_wall_tok_s, 1)} tok/s`, `${fmt(R.sequential_wall_tok_s, 1)} tok/s 1-at-a-time`, `${fmt(P.steered_sweep, 0)} / ${fmt(P.sequential, 0)}`);
  line('plain_vs_node_llama_cpp', `${fmt(R.plain_tok_s, 1)} tok/s`, `${fmt(R.node_llama_cpp_tok_s, 1)} tok/s`, `${fmt(P.plain, 0)} / ${fmt(P.node_llama_cpp, 0)}`);
  line('monitor_overhead', `${fmt(R.monitored_decode_tok_s, 1)} tok/s`, `${fmt(R.steered_decode_tok_s, 1)} tok/s no monitor`, `${fmt(P.monitored_sweep, 0)} / ${fmt(P.steered_sweep, 0)}`);
  line('paper_method_vs_eia', `${fmt((R.eia_method_ms ?? NaN) / 1000, 2)} s`, `${fmt((R.paper_method_ms ?? NaN) / 1000, 2)} s paper pattern`, `${fmt(P.eia_method, 0)} / ${fmt(P.paper_method, 0)}`);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const out = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const m = r.machine;
  const notes = Object.entries(r.null_reasons).map(([k, why]) => `  ${k}: null (${why})`);
  return [
    `eia-native bench (${r.settings.quick ? 'quick' : 'full'}): ${r.model.synthetic ? `synthetic ${r.model.shape} (${r.model.arch}, q8_0)` : r.model.path}, ` +
      `${m.threads} thread${m.threads === 1 ? '' : 's'} on ${m.cpu} (${m.cores} cores, ${m.backend}), llama.cpp ${m.llama_cpp_commit.slice(0, 7)}, eia-native ${m.eia_native_version}`,
    `median of ${r.settings.rounds} paired rounds after a warm-up; ${r.seconds} s; load average ${m.load_average.start} -> ${m.load_average.end ?? '?'} on ${m.cores} cores`,
    '',
    ...out,
    ...(notes.length ? ['', ...notes] : []),
    '',
    `paper_method_vs_eia = rate of the paper's pattern / rate of eia-native's way (eia-native is ${fmt(R.eia_speedup_over_paper_method, 1)}x faster on this grid)`,
  ].join('\n');
}
