// Downloading a registered GGUF into the cache: resumable (HTTP Range from a .part file), verified
// (sha256 when known), atomic (rename only after the checksum passes), streamed (never whole in memory).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { modelPath } from './cache.js';
import { getModel, validateModelEntry, type ModelEntry } from './registry.js';
import { EiaError, type ErrorCode } from '../util/errors.js';

export interface PullProgress {
  /** Bytes of the file on disk so far (including a resumed part). */
  bytes: number;
  /** Full size when known. */
  total: number | null;
  /** Average speed of this transfer (resumed bytes excluded). */
  bytesPerSecond: number;
  /** Seconds left at that speed, or null when unknown. */
  etaSeconds: number | null;
  /** Offset the transfer resumed from (0 for a fresh one). */
  resumedFrom: number;
}

export interface PullOptions {
  /** Server root; default https://huggingface.co. */
  baseUrl?: string;
  /** Hugging Face token; default $HF_TOKEN (then $HUGGING_FACE_HUB_TOKEN). Sent as `Authorization: Bearer`. */
  token?: string;
  onProgress?: (p: PullProgress) => void;
  /** fetch implementation (default the global fetch). */
  fetchImpl?: typeof fetch;
  signal?: AbortSignal;
  /** Extra attempts after an interrupted transfer, each resuming from the .part file (default 3). */
  retries?: number;
  /** Wait before a retry, multiplied by the attempt number (default 1000 ms). */
  retryDelayMs?: number;
  /** Download again even when a verified file is cached. */
  force?: boolean;
  /** Environment (EIA_NATIVE_HOME, HF_TOKEN); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface PullResult {
  name: string;
  path: string;
  /** sha256 of the file (computed while downloading, or recorded by the earlier verified pull). */
  sha256: string;
  bytes: number;
  /** False when the file was already cached and nothing was transferred. */
  downloaded: boolean;
  /** Offset the (last) transfer resumed from, 0 when it started fresh. */
  resumedFrom: number;
  /** True when the sha256 matched the registry's; false when the registry has none. */
  verified: boolean;
}

/** A download that did not give a usable file: an EiaError (E_IO; E_LOCKED for a pull already running) with the HTTP status when there was one. */
export class PullError extends EiaError {
  constructor(message: string, readonly status?: number, readonly retryable = false, code: ErrorCode = 'E_IO') {
    super(code, message);
    this.name = 'PullError';
  }
}

/** The transfer stopped early; the .part file holds what arrived (internal: retried, or reported as a PullError). */
class InterruptedError extends EiaError {
  constructor(message: string) { super('E_IO', message); }
}
/** A resumed request got an answer that does not continue the .part file (internal: the download restarts). */
class BadRangeError extends EiaError {
  constructor(message: string) { super('E_IO', message); }
}

/** Why a pull stops on request: the signal's own reason, else E_ABORTED. */
const abortReason = (signal?: AbortSignal): Error => (signal?.reason instanceof Error ? signal.reason : new EiaError('E_ABORTED', 'Aborted'));

interface Marker {
  sha256: string;
  size: number;
  mtimeMs: number;
  url: string;
}

const DEFAULT_BASE = 'https://huggingface.co';

/** The download URL of an entry: `${baseUrl}/${repo}/resolve/${revision}/${file}`. */
export function downloadUrl(entry: Pick<ModelEntry, 'repo' | 'revision' | 'file'>, baseUrl = DEFAULT_BASE): string {
  const base = baseUrl.replace(/\/+$/, '');
  const file = entry.file.split('/').map(encodeURIComponent).join('/');
  return `${base}/${entry.repo}/resolve/${encodeURIComponent(entry.revision)}/${file}`;
}

async function fileSize(p: string): Promise<number | null> {
  try {
    const st = await stat(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

async function hashFile(p: string, hash: Hash, signal?: AbortSignal, start = 0, end?: number): Promise<void> {
  if (end !== undefined && end <= start) return;
  const rs = createReadStream(p, { highWaterMark: 1 << 20, start, end: end === undefined ? undefined : end - 1 });
  for await (const chunk of rs) {
    if (signal?.aborted) {
      rs.destroy();
      throw abortReason(signal);
    }
    hash.update(chunk as Buffer);
  }
}

async function readMarker(p: string): Promise<Marker | null> {
  try {
    const m = JSON.parse(await readFile(p, 'utf8')) as Marker;
    return typeof m.sha256 === 'string' && typeof m.size === 'number' && typeof m.mtimeMs === 'number' ? m : null;
  } catch {
    return null;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort: some filesystems refuse fsync on directories
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes <dest>.lock (O_EXCL) so two pulls never append to the same .part; a stale lock is taken over. */
async function acquireLock(lockPath: string, name: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new PullError(`Another pull of "${name}" is running (process ${pid}); wait for it or remove ${lockPath}`, undefined, false, 'E_LOCKED');
      }
      if (pid === process.pid) throw new PullError(`A pull of "${name}" is already running in this process`, undefined, false, 'E_LOCKED');
      await rm(lockPath, { force: true });
    }
  }
  throw new PullError(`Could not take the download lock ${lockPath}`, undefined, false, 'E_LOCKED');
}

function httpError(status: number, statusText: string, url: string, name: string, headers: Headers, hasToken: boolean): PullError {
  const hfCode = headers.get('x-error-code');
  const hfMsg = headers.get('x-error-message');
  const detail = [hfCode, hfMsg].filter(Boolean).join(': ');
  const suffix = detail ? ` (server: ${detail})` : '';
  if (status === 404) {
    return new PullError(`Not found (HTTP 404) downloading "${name}" from ${url}${suffix}. Check repo, revision and file in models.json.`, 404);
  }
  if (status === 401 || status === 403) {
    const hint = hasToken
      ? 'the token was sent but refused: check it is valid and that you accepted the model licence on huggingface.co'
      : 'the repository may be gated or private: set HF_TOKEN to a Hugging Face access token (and accept the model licence on huggingface.co)';
    return new PullError(`Access denied (HTTP ${status}) downloading "${name}" from ${url}${suffix}; ${hint}.`, status);
  }
  const retryable = status >= 500 || status === 429 || status === 408;
  return new PullError(`HTTP ${status}${statusText ? ` ${statusText}` : ''} downloading "${name}" from ${url}${suffix}.`, status, retryable);
}

function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  if (!v) return null;
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(v.trim());
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(abortReason(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      rej(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface TransferOutcome {
  complete: boolean;
  resumedFrom: number;
}

/**
 * Downloads a registered model (by name, or an explicit entry object) into the cache and returns its
 * path. Interrupted transfers leave `<file>.part`, which the next attempt resumes with an HTTP Range
 * request. The file appears under its final name only after the sha256 (when known) matched.
 */
export async function pull(entryOrName: string | ModelEntry, opts: PullOptions = {}): Promise<PullResult> {
  const entry = typeof entryOrName === 'string' ? getModel(entryOrName) : validateModelEntry(entryOrName);
  const env = opts.env ?? process.env;
  const dest = modelPath(entry, env);
  const part = `${dest}.part`;
  const markerPath = `${dest}.verified.json`;
  const url = downloadUrl(entry, opts.baseUrl ?? DEFAULT_BASE);
  const token = opts.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  const doFetch = opts.fetchImpl ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new EiaError('E_RUNTIME', 'No fetch implementation: Node >= 20 is required');
  const expected = entry.sha256;
  let hash = createHash('sha256');
  let hashed = 0;
  const catchUpHash = async (offset: number): Promise<void> => {
    if (offset < hashed) {
      hash = createHash('sha256');
      hashed = 0;
    }
    if (offset > hashed) {
      await hashFile(part, hash, opts.signal, hashed, offset);
      hashed = offset;
    }
  };

  await mkdir(dirname(dest), { recursive: true });
  const release = await acquireLock(`${dest}.lock`, entry.name);
  try {
    // 1. Already cached?
    const have = await fileSize(dest);
    if (have !== null && !opts.force) {
      const st = await stat(dest);
      const marker = await readMarker(markerPath);
      const markerOk = marker !== null && marker.size === st.size && marker.mtimeMs === st.mtimeMs && (expected === null || marker.sha256 === expected);
      if (markerOk) {
        return { name: entry.name, path: dest, sha256: marker.sha256, bytes: st.size, downloaded: false, resumedFrom: 0, verified: expected !== null };
      }
      const sizeOk = entry.sizeBytes === null || entry.sizeBytes === st.size;
      if (sizeOk) {
        const h = createHash('sha256');
        await hashFile(dest, h, opts.signal);
        const digest = h.digest('hex');
        if (expected === null || digest === expected) {
          await writeFile(markerPath, JSON.stringify({ sha256: digest, size: st.size, mtimeMs: st.mtimeMs, url } satisfies Marker));
          return { name: entry.name, path: dest, sha256: digest, bytes: st.size, downloaded: false, resumedFrom: 0, verified: expected !== null };
        }
      }
      // A cached file that does not match the registry: replace it.
      await rm(dest, { force: true });
      await rm(markerPath, { force: true });
    } else if (have !== null) {
      await rm(dest, { force: true });
      await rm(markerPath, { force: true });
    }

    // 2. Transfer, resuming from .part on interruption. The sha256 is computed on the fly; bytes
    //    already in a .part from an earlier run are hashed from disk first.
    const retries = Math.max(0, opts.retries ?? 3);
    const retryDelay = Math.max(0, opts.retryDelayMs ?? 1000);
    let outcome: TransferOutcome | null = null;
    let restartedAfterBadRange = false;
    for (let attempt = 0; ; attempt++) {
      try {
        outcome = await transfer();
        break;
      } catch (err) {
        if (err instanceof BadRangeError && !restartedAfterBadRange) {
          restartedAfterBadRange = true;
          await rm(part, { force: true });
          attempt--;
          continue;
        }
        const retryable = err instanceof InterruptedError || (err instanceof PullError && err.retryable);
        if (!retryable || opts.signal?.aborted || attempt >= retries) {
          if (err instanceof InterruptedError) {
            const have = (await fileSize(part)) ?? 0;
            throw new PullError(
              `Download of "${entry.name}" was interrupted at ${have} bytes (${err.message}); run the pull again to resume from ${part}`,
              undefined,
              true,
            );
          }
          throw err;
        }
        await sleep(retryDelay * (attempt + 1), opts.signal);
      }
    }

    // 3. Verify, then rename atomically.
    const size = (await fileSize(part)) ?? 0;
    if (entry.sizeBytes !== null && size !== entry.sizeBytes) {
      await rm(part, { force: true });
      throw new PullError(`Size mismatch for "${entry.name}": expected ${entry.sizeBytes} bytes, got ${size}; the download was deleted.`);
    }
    await catchUpHash(size);
    const digest = hash.digest('hex');
    if (expected !== null && digest !== expected) {
      await rm(part, { force: true });
      throw new PullError(
        `Checksum mismatch for "${entry.name}" (${url}): expected sha256 ${expected}, got ${digest}; the download was deleted.`,
      );
    }
    await rename(part, dest);
    await fsyncDir(dirname(dest));
    const st = await stat(dest);
    await writeFile(markerPath, JSON.stringify({ sha256: digest, size: st.size, mtimeMs: st.mtimeMs, url } satisfies Marker));
    return {
      name: entry.name,
      path: dest,
      sha256: digest,
      bytes: st.size,
      downloaded: true,
      resumedFrom: outcome?.resumedFrom ?? 0,
      verified: expected !== null,
    };
  } catch (err) {
    await release();
    await rmdir(dirname(dest)).catch(() => undefined); // only succeeds when nothing was left there
    throw err;
  } finally {
    await release();
  }

  // One HTTP request: appends to .part from its current size. Resolves when the body is complete.
  async function transfer(): Promise<TransferOutcome> {
    let offset = (await fileSize(part)) ?? 0;
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'eia-native' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await doFetch(url, { headers, signal: opts.signal, redirect: 'follow' });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new InterruptedError(`request failed: ${(err as Error).message}`);
    }
    let total: number | null = null;
    if (res.status === 206 && offset > 0) {
      const cr = parseContentRange(res.headers.get('content-range'));
      if (!cr || cr.start !== offset) {
        await res.body?.cancel().catch(() => undefined);
        throw new BadRangeError(`server answered 206 with Content-Range ${JSON.stringify(res.headers.get('content-range'))} for a request from byte ${offset}`);
      }
      total = cr.total;
    } else if (res.status === 200 || (res.status === 206 && offset === 0)) {
      if (offset > 0) offset = 0; // server ignored Range: start over
      const len = res.headers.get('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
      if (res.status === 206) total = parseContentRange(res.headers.get('content-range'))?.total ?? total;
    } else if (res.status === 416 && offset > 0) {
      await res.body?.cancel().catch(() => undefined);
      const cr = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
      if (cr && Number(cr[1]) === offset) return { complete: true, resumedFrom: offset }; // the part is whole
      throw new BadRangeError(`server refused the range from byte ${offset} (HTTP 416)`);
    } else {
      await res.body?.cancel().catch(() => undefined);
      throw httpError(res.status, res.statusText, url, entry.name, res.headers, Boolean(token));
    }
    if (!res.body) throw new InterruptedError('response has no body');

    const resumedFrom = offset;
    await catchUpHash(offset);
    const fh = await open(part, offset > 0 ? 'a' : 'w');
    let bytes = offset;
    const started = Date.now();
    let lastReport = 0;
    const report = (force: boolean): void => {
      if (!opts.onProgress) return;
      const t = Date.now();
      if (!force && t - lastReport < 200) return;
      lastReport = t;
      const secs = (t - started) / 1000;
      const rate = secs > 0 ? (bytes - resumedFrom) / secs : 0;
      const eta = total !== null && rate > 0 ? Math.max(0, total - bytes) / rate : null;
      opts.onProgress({ bytes, total, bytesPerSecond: rate, etaSeconds: eta, resumedFrom });
    };
    try {
      report(true);
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          let off = 0;
          while (off < chunk.byteLength) {
            const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
            off += bytesWritten;
          }
          hash.update(chunk);
          hashed += chunk.byteLength;
          bytes += chunk.byteLength;
          report(false);
        }
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw new InterruptedError(`connection lost: ${(err as Error).message}`);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    report(true);
    if (total !== null && bytes < total) throw new InterruptedError(`connection closed at ${bytes} of ${total} bytes`);
    if (total !== null && bytes > total) {
      await rm(part, { force: true });
      throw new PullError(`Server sent ${bytes} bytes for "${entry.name}" but announced ${total}; the download was deleted.`);
    }
    return { complete: true, resumedFrom };
  }
}
