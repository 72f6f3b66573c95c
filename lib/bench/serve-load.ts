// The figures of a streaming-server load test (bench/serve-vs-llama-server.ts): what N concurrent
// streaming clients saw of one server in one window, and the comparisons between servers over
// alternating windows. Pure arithmetic on the client-side records; the driver owns the processes.
//
// Definitions (client side, every time from the client's clock):
//   - aggregate tok/s: tokens the clients received in a window / the window's wall time (from the
//     first request sent to the last response finished);
//   - TTFT: request sent -> first chunk that carries a token (queueing and prompt included);
//   - inter-token latency (ITL): the gap between two successive chunks that carry tokens, shared
//     evenly by the tokens of the later chunk (a chunk of k tokens after a gap g gives k values g/k).
//     A server that sends one token per chunk gives its chunk gaps; one that sends a step's tokens
//     together gives the same mean per token. The raw chunk gaps are reported beside it
//     (`chunk_gap_ms`: what a reader of the stream waits between updates), and tokens per chunk;
//   - quantiles: nearest rank (the smallest value with at least q of the values at or below it);
//   - lead requests (`lead: true`): the first request of each client when arrivals are staggered
//     (bench/serve-vs-llama-server.ts ARRIVALS=staggered: client i's first request asks for i/N of
//     the tokens, so that the clients' later requests arrive spread over a request's lifetime instead
//     of in waves). Their tokens count towards the window's rate (every slot is busy throughout); their
//     latencies do not (they all arrive together, as a wave).
import { median } from './stats.js';

/** One chunk of a streamed response: when it arrived (ms) and how many tokens it carried. */
export interface StreamChunk { atMs: number; tokens: number }

/** One request as its client saw it. */
export interface StreamRecord {
  sentMs: number;
  /** Chunks that carried tokens, in arrival order. */
  chunks: StreamChunk[];
  /** Finished as asked (all its tokens, finish reason `length`). */
  ok: boolean;
  error?: string;
  /** A staggering request (see lead requests above): its latencies are left out. */
  lead?: boolean;
}

/** Nearest-rank quantile of finite values (q in [0, 1]); NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const rank = Math.ceil(q * v.length);
  return v[Math.min(v.length - 1, Math.max(0, rank - 1))];
}

export function tokensOf(r: StreamRecord): number {
  return r.chunks.reduce((a, c) => a + c.tokens, 0);
}

/** Request sent -> first chunk with a token; NaN when none came. */
export function ttftMs(r: StreamRecord): number {
  const c = r.chunks.find((x) => x.tokens > 0);
  return c ? c.atMs - r.sentMs : Number.NaN;
}

/** Per-token inter-token latencies of one request (see the definitions above). */
export function itlMs(r: StreamRecord): number[] {
  const out: number[] = [];
  const cs = r.chunks.filter((c) => c.tokens > 0);
  for (let i = 1; i < cs.length; i++) {
    const share = (cs[i].atMs - cs[i - 1].atMs) / cs[i].tokens;
    for (let k = 0; k < cs[i].tokens; k++) out.push(share);
  }
  return out;
}

/** Gaps between successive chunks that carry tokens. */
export function chunkGapsMs(r: StreamRecord): number[] {
  const cs = r.chunks.filter((c) => c.tokens > 0);
  return cs.slice(1).map((c, i) => c.atMs - cs[i].atMs);
}

export interface LatencyFigures { p50: number; p99: number; n: number }

function figures(xs: number[]): LatencyFigures {
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), n: xs.length };
}

export interface WindowSummary {
  requests: number;
  ok: number;
  /** Requests that failed or came back short. */
  failed: number;
  tokens: number;
  wallMs: number;
  tokS: number;
  ttftMs: LatencyFigures;
  itlMs: LatencyFigures;
  chunkGapMs: LatencyFigures;
  tokensPerChunk: number;
  errors: string[];
}

/**
 * The figures of one window: its records and its wall time. Latencies come from the requests that
 * finished as asked, lead requests left out; tokens from every request.
 */
export function summariseWindow(records: readonly StreamRecord[], wallMs: number): WindowSummary {
  const ok = records.filter((r) => r.ok && !r.lead);
  const tokens = records.reduce((a, r) => a + tokensOf(r), 0);
  const chunks = ok.reduce((a, r) => a + r.chunks.filter((c) => c.tokens > 0).length, 0);
  return {
    requests: records.length,
    ok: records.filter((r) => r.ok).length,
    failed: records.filter((r) => !r.ok).length,
    tokens,
    wallMs,
    tokS: wallMs > 0 ? tokens / (wallMs / 1000) : Number.NaN,
    ttftMs: figures(ok.map(ttftMs)),
    itlMs: figures(ok.flatMap(itlMs)),
    chunkGapMs: figures(ok.flatMap(chunkGapsMs)),
    tokensPerChunk: chunks > 0 ? ok.reduce((a, r) => a + tokensOf(r), 0) / chunks : Number.NaN,
    errors: [...new Set(records.filter((r) => !r.ok).map((r) => r.error ?? 'unknown'))].slice(0, 5),
  };
}

/** The pooled figures of several windows of one configuration (latencies over all their requests). */
export function summariseWindows(windows: readonly { records: readonly StreamRecord[]; wallMs: number }[]): WindowSummary {
  const all = windows.flatMap((w) => w.records);
  const wall = windows.reduce((a, w) => a + w.wallMs, 0);
  return summariseWindow(all, wall);
}

/** Median over rounds of a per-round figure of A over the same figure of B (rounds where B is not positive are skipped). */
export function medianRoundRatio(a: readonly number[], b: readonly number[]): { median: number; rounds: number[] } {
  const rounds: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i] > 0 && Number.isFinite(a[i]) && Number.isFinite(b[i])) rounds.push(a[i] / b[i]);
  return { median: median(rounds), rounds };
}

/** An RSS sample: seconds of load the process had served when it was taken, and its RSS in bytes. */
export interface RssSample { t: number; bytes: number }

export interface RssChange {
  loadSeconds: number;
  /** Highest and lowest RSS in the first minute of load, and in the last minute. */
  minute1: { max: number; min: number };
  lastMinute: { max: number; min: number };
  /** max of the last minute / max of minute 1 - 1 (and the same of the lows). */
  changeOfMax: number;
  changeOfMin: number;
}

/**
 * How RSS moved from the first minute of load to the last. RSS swings within a wave of requests (KV
 * cells and per-sequence buffers live while it decodes), so minutes are compared by their high- and
 * low-water marks rather than by one sample each. Null when the load lasted under two minutes (the
 * two minutes would overlap) or a minute has no sample.
 */
export function rssChange(samples: readonly RssSample[], minuteS = 60): RssChange | null {
  if (samples.length === 0) return null;
  const end = Math.max(...samples.map((s) => s.t));
  if (end < 2 * minuteS) return null;
  const first = samples.filter((s) => s.t <= minuteS).map((s) => s.bytes);
  const last = samples.filter((s) => s.t >= end - minuteS).map((s) => s.bytes);
  if (first.length === 0 || last.length === 0) return null;
  const m1 = { max: Math.max(...first), min: Math.min(...first) };
  const lm = { max: Math.max(...last), min: Math.min(...last) };
  return { loadSeconds: end, minute1: m1, lastMinute: lm, changeOfMax: lm.max / m1.max - 1, changeOfMin: lm.min / m1.min - 1 };
}
