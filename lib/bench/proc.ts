// Child processes for the bench: llama.cpp's tools (run to completion, peak RSS sampled from
// /proc/<pid>/status while they run) and long-lived bench workers (one JSON request per line on
// stdin, one JSON reply per line on stdout; each reply carries the worker's own peak RSS for that
// request, measured in the worker after resetting its high-water mark).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EiaError } from '../util/errors.js';
import { packageRoot } from '../util/package.js';

/** VmHWM (peak resident set, KiB) of a process from /proc, or null where /proc is unavailable. */
export function readVmHwmKb(pid: number | 'self'): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Resets this process's peak-RSS high-water mark to its current RSS (Linux: clear_refs 5), so the
 * next VmHWM read is the peak of the work in between. Returns false where that is not possible.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS (KiB) since the last reset: VmHWM, else getrusage's maxrss (process lifetime). */
export function peakRssKb(): number {
  return readVmHwmKb('self') ?? process.resourceUsage().maxRSS;
}

export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Highest VmHWM seen while it ran (sampled every pollMs; null off Linux). */
  peakRssKb: number | null;
}

/** Runs a program to completion, sampling its peak RSS. Rejects only when it cannot start. */
export function runTool(file: string, args: string[], opts: { timeoutMs?: number; pollMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ToolRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let peak: number | null = null;
    const sample = () => {
      if (child.pid === undefined) return;
      const v = readVmHwmKb(child.pid);
      if (v !== null && (peak === null || v > peak)) peak = v;
    };
    const poll = setInterval(sample, opts.pollMs ?? 50);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.stdout.on('data', (d: Buffer) => { out.push(d); sample(); });
    child.stderr.on('data', (d: Buffer) => { err.push(d); sample(); });
    child.on('error', (e) => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      resolvePromise({
        code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - t0, peakRssKb: peak,
      });
    });
  });
}

export interface WorkerReply<T = unknown> {
  id: number;
  ok: boolean;
  result?: T;
  error?: string;
  /** Peak RSS of the worker during this request (KiB). */
  peakRssKb?: number;
  /** true: the peak covers only this request; false: the worker's whole life so far. */
  peakIsPerRequest?: boolean;
}

/** The compiled worker script `name` of this folder (dist/bench/<name>.js; tests run the sources, so look there too). */
export function workerScript(name: string): string {
  const here = join(dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  return existsSync(here) ? here : join(packageRoot, 'dist', 'bench', `${name}.js`);
}

/** A long-lived worker process speaking JSON lines. */
export class WorkerClient {
  private child: ChildProcessWithoutNullStreams;
  private buf = '';
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private stderrTail = '';
  private exited: string | null = null;

  constructor(readonly name: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => this.onData(d));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => { this.stderrTail = (this.stderrTail + d).slice(-4000); });
    this.child.on('error', (e) => this.failAll(`${name} worker could not start: ${e.message}`));
    this.child.on('exit', (code, signal) => this.failAll(`${name} worker exited (${signal ?? code})`));
  }

  get pid(): number | undefined { return this.child.pid; }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let msg: WorkerReply;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      p.resolve(msg);
    }
  }

  private failAll(why: string): void {
    if (this.exited) return;
    this.exited = why;
    const tail = this.stderrTail.trim().split('\n').slice(-8).join('\n');
    for (const p of this.pending.values()) p.reject(new EiaError('E_RUNTIME', `${why}${tail ? `:\n${tail}` : ''}`));
    this.pending.clear();
  }

  /** Sends one request; resolves with the reply (rejects if the worker reports an error or dies). */
  request<T>(op: string, args: Record<string, unknown> = {}): Promise<WorkerReply<T> & { result: T }> {
    if (this.exited) return Promise.reject(new EiaError('E_RUNTIME', this.exited));
    const id = this.nextId++;
    return new Promise((resolvePromise, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.ok ? resolvePromise(r as WorkerReply<T> & { result: T }) : reject(new EiaError('E_RUNTIME', `${this.name}: ${r.error}`))),
        reject,
      });
      this.child.stdin.write(JSON.stringify({ id, op, args }) + '\n');
    });
  }

  /** Ends the worker at once (a request that hangs); pending requests reject. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Asks the worker to exit and waits for it (kills it after a grace period). */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      this.child.stdin.end();
    } catch { /* already closed */ }
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}

export type WorkerHandler = (args: Record<string, unknown>) => Promise<unknown>;

/**
 * The worker side: reads requests from stdin, runs them one at a time, replies on stdout with the
 * request's peak RSS. Exits when stdin closes.
 */
export function serveWorker(handlers: Record<string, WorkerHandler>): void {
  let buf = '';
  let chain = Promise.resolve();
  const reply = (r: WorkerReply) => process.stdout.write(JSON.stringify(r) + '\n');
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      chain = chain.then(async () => {
        let req: { id: number; op: string; args?: Record<string, unknown> };
        try {
          req = JSON.parse(line);
        } catch {
          return;
        }
        const h = handlers[req.op];
        const perRequest = resetPeakRss();
        try {
          if (!h) throw new EiaError('E_INTERNAL', `unknown op '${req.op}'`);
          const result = await h(req.args ?? {});
          reply({ id: req.id, ok: true, result, peakRssKb: peakRssKb(), peakIsPerRequest: perRequest });
        } catch (e) {
          reply({ id: req.id, ok: false, error: (e as Error)?.message ?? String(e), peakRssKb: peakRssKb(), peakIsPerRequest: perRequest });
        }
      });
    }
  });
  process.stdin.on('end', () => { void chain.then(() => process.exit(0)); });
}
