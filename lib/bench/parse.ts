import { EiaError } from '../util/errors.js';
// Parsers for llama.cpp's own bench tools: `llama-bench -o json` and `llama-batched-bench`
// (`--output-format jsonl`, or the markdown table older builds print).

export interface LlamaBenchResult {
  nPrompt: number;
  nGen: number;
  nThreads: number;
  nBatch: number;
  nUbatch: number;
  flashAttn: number | string | boolean | null;
  /** Mean tokens/s over llama-bench's repetitions. */
  avgTs: number;
  /** Tokens/s of each repetition. */
  samplesTs: number[];
  buildCommit: string | null;
  backends: string | null;
  cpuInfo: string | null;
  modelType: string | null;
}

function num(v: unknown, what: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new EiaError('E_RUNTIME', `llama-bench output: ${what} is not a number (${JSON.stringify(v)})`);
  return n;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** The tests in `llama-bench -o json` output (a JSON array; anything around the array is ignored). */
export function parseLlamaBenchJson(stdout: string): LlamaBenchResult[] {
  const start = stdout.indexOf('[');
  const end = stdout.lastIndexOf(']');
  if (start < 0 || end < start) throw new EiaError('E_RUNTIME', 'llama-bench output: no JSON array found');
  let arr: unknown;
  try {
    arr = JSON.parse(stdout.slice(start, end + 1));
  } catch (e) {
    throw new EiaError('E_RUNTIME', `llama-bench output: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(arr)) throw new EiaError('E_RUNTIME', 'llama-bench output: expected a JSON array');
  return arr.map((t: Record<string, unknown>) => {
    const samples = Array.isArray(t.samples_ts) ? t.samples_ts.map((x, i) => num(x, `samples_ts[${i}]`)) : [];
    return {
      nPrompt: num(t.n_prompt, 'n_prompt'),
      nGen: num(t.n_gen, 'n_gen'),
      nThreads: num(t.n_threads, 'n_threads'),
      nBatch: num(t.n_batch, 'n_batch'),
      nUbatch: num(t.n_ubatch, 'n_ubatch'),
      flashAttn: (t.flash_attn ?? null) as LlamaBenchResult['flashAttn'],
      avgTs: num(t.avg_ts, 'avg_ts'),
      samplesTs: samples,
      buildCommit: str(t.build_commit),
      backends: str(t.backends),
      cpuInfo: str(t.cpu_info),
      modelType: str(t.model_type),
    };
  });
}

/** Prompt-processing tokens/s (the pp test: n_prompt > 0, n_gen = 0) from llama-bench JSON. */
export function llamaBenchPromptRate(stdout: string, nPrompt?: number): number {
  const tests = parseLlamaBenchJson(stdout).filter((t) => t.nGen === 0 && t.nPrompt > 0 && (nPrompt === undefined || t.nPrompt === nPrompt));
  if (tests.length === 0) throw new EiaError('E_RUNTIME', `llama-bench output: no prompt-processing test${nPrompt ? ` with n_prompt = ${nPrompt}` : ''}`);
  return tests[0].avgTs;
}

export interface BatchedBenchRow {
  pp: number;
  tg: number;
  pl: number;
  nKv: number;
  tPp: number;
  speedPp: number;
  tTg: number;
  /** S_TG: generated tokens (pl * tg) per second of the text-generation phase. */
  speedTg: number;
  t: number;
  speed: number;
}

const MD_COLUMNS: Record<string, keyof BatchedBenchRow> = {
  PP: 'pp', TG: 'tg', B: 'pl', N_KV: 'nKv', 'T_PP s': 'tPp', 'S_PP t/s': 'speedPp',
  'T_TG s': 'tTg', 'S_TG t/s': 'speedTg', 'T s': 't', 'S t/s': 'speed',
};

/**
 * Result rows of `llama-batched-bench`: JSON lines (`--output-format jsonl`) when present, else the
 * markdown table (`| PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |`).
 * Log lines mixed into the text are skipped.
 */
export function parseBatchedBench(output: string): BatchedBenchRow[] {
  const lines = output.split(/\r?\n/);
  const rows: BatchedBenchRow[] = [];
  for (const line of lines) {
    const s = line.trim();
    if (!s.startsWith('{') || !s.includes('"speed_tg"')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(s);
    } catch {
      continue;
    }
    const g = (k: string) => num(o[k], `batched-bench ${k}`);
    rows.push({ pp: g('pp'), tg: g('tg'), pl: g('pl'), nKv: g('n_kv'), tPp: g('t_pp'), speedPp: g('speed_pp'), tTg: g('t_tg'), speedTg: g('speed_tg'), t: g('t'), speed: g('speed') });
  }
  if (rows.length > 0) return rows;
  let header: (keyof BatchedBenchRow | null)[] | null = null;
  for (const line of lines) {
    const s = line.trim();
    if (!s.startsWith('|')) continue;
    const cells = s.replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
    if (cells.includes('S_TG t/s')) {
      header = cells.map((c) => MD_COLUMNS[c] ?? null);
      continue;
    }
    if (!header || cells.every((c) => /^-*$/.test(c))) continue;
    if (cells.length !== header.length) continue;
    const row: Partial<BatchedBenchRow> = {};
    let ok = true;
    header.forEach((key, i) => {
      if (!key) return;
      const n = Number(cells[i]);
      if (!Number.isFinite(n) || cells[i] === '') ok = false;
      row[key] = n;
    });
    if (ok && Object.keys(MD_COLUMNS).every((k) => row[MD_COLUMNS[k]] !== undefined)) rows.push(row as BatchedBenchRow);
  }
  return rows;
}

/** S_TG of the run with `pl` parallel sequences. */
export function batchedBenchTgRate(output: string, pl: number): number {
  const rows = parseBatchedBench(output).filter((r) => r.pl === pl);
  if (rows.length === 0) throw new EiaError('E_RUNTIME', `llama-batched-bench output: no result row with B = ${pl} (was the context too small for the test?)`);
  return rows[0].speedTg;
}
