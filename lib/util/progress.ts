// A small stderr progress display for long work (downloads, activation capture, generation).
//
// On a TTY it redraws one line (at most ~10 times a second); elsewhere (CI, tests, pipes) it prints
// at most one line every 2 s plus a final line. EIA_NATIVE_QUIET=1 silences it completely.
import { isQuiet } from './env.js';

export type ProgressUnit = 'bytes' | 'items' | 'tokens';

export interface ProgressOptions {
  label: string;
  /** Total amount of work, or null/undefined when unknown. */
  total?: number | null;
  unit?: ProgressUnit;
  /** Where to write (default process.stderr). */
  stream?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Environment to read EIA_NATIVE_QUIET from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Clock in ms (default Date.now), injectable for tests. */
  now?: () => number;
  /** Minimum ms between non-TTY lines (default 2000). */
  nonTtyIntervalMs?: number;
  /** Amount already done before this run (e.g. a resumed download): excluded from the rate. */
  initial?: number;
}

export interface Progress {
  /** Reports the amount done so far (absolute, not a delta); `extra` is appended to the line. */
  update(done: number, extra?: string): void;
  /** Adds `n` (default 1) to the amount done. */
  tick(n?: number, extra?: string): void;
  /** Changes the total (e.g. once a server announces it). */
  setTotal(total: number | null): void;
  /** Finishes: prints the final line (and a newline on a TTY). Further calls do nothing. */
  done(extra?: string): void;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${BYTE_UNITS[i]}`;
}

/** Seconds -> "12s", "3m05s", "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatAmount(n: number, unit: ProgressUnit): string {
  if (unit === 'bytes') return formatBytes(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function formatRate(perSec: number, unit: ProgressUnit): string {
  if (!Number.isFinite(perSec) || perSec <= 0) return '-';
  if (unit === 'bytes') return `${formatBytes(perSec)}/s`;
  const v = perSec >= 100 ? perSec.toFixed(0) : perSec.toFixed(1);
  return unit === 'tokens' ? `${v} tok/s` : `${v} it/s`;
}

/** Creates a progress display on stderr; see the module comment for when it prints. */
export function createProgress(opts: ProgressOptions): Progress {
  const quiet = isQuiet(opts.env ?? process.env);
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const now = opts.now ?? Date.now;
  const unit = opts.unit ?? 'items';
  const interval = tty ? 100 : (opts.nonTtyIntervalMs ?? 2000);
  let total = opts.total ?? null;
  let done = opts.initial ?? 0;
  const startAt = now();
  const startDone = done;
  let lastPrint = -Infinity;
  let finished = false;
  let lastExtra = '';

  const line = (final: boolean): string => {
    const t = now();
    const elapsed = (t - startAt) / 1000;
    const rate = elapsed > 0 ? (done - startDone) / elapsed : NaN;
    const parts: string[] = [];
    if (total !== null && total > 0) {
      const frac = Math.min(1, Math.max(0, done / total));
      parts.push(`${formatAmount(done, unit)}/${formatAmount(total, unit)} (${(frac * 100).toFixed(1)}%)`);
    } else {
      parts.push(formatAmount(done, unit));
    }
    parts.push(formatRate(rate, unit));
    if (final) parts.push(`in ${formatDuration(elapsed)}`);
    else if (total !== null && total > 0 && rate > 0) parts.push(`ETA ${formatDuration(Math.max(0, total - done) / rate)}`);
    if (lastExtra) parts.push(lastExtra);
    let text = `${opts.label} ${parts.join('  ')}`;
    if (tty && total !== null && total > 0) {
      const cols = stream.columns && stream.columns > 40 ? stream.columns : 80;
      const width = Math.min(30, cols - text.length - 4);
      if (width >= 10) {
        const filled = Math.round(Math.min(1, done / total) * width);
        text = `${opts.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${parts.join('  ')}`;
      }
      if (text.length > cols - 1) text = text.slice(0, cols - 1);
    }
    return text;
  };

  const print = (final: boolean): void => {
    if (quiet) return;
    lastPrint = now();
    if (tty) stream.write(`\r\x1b[2K${line(final)}${final ? '\n' : ''}`);
    else stream.write(`${line(final)}\n`);
  };

  const update = (value: number, extra?: string): void => {
    if (finished) return;
    if (extra !== undefined) lastExtra = extra;
    const t = now();
    done = value;
    if (t - lastPrint >= interval) print(false);
  };

  return {
    update,
    tick(n = 1, extra?: string) {
      update(done + n, extra);
    },
    setTotal(t: number | null) {
      total = t;
    },
    done(extra?: string) {
      if (finished) return;
      if (extra !== undefined) lastExtra = extra;
      print(true);
      finished = true;
    },
  };
}
