// Downloading a registered GGUF into the cache: resumable (HTTP Range from a .part file; one
// transfer is download.ts), verified (sha256 when known), atomic (rename only after the checksum
// passes), streamed (never whole in memory), one pull per file at a time (a lock file).
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EiaError } from '../util/errors.js';
import { modelPath } from './cache.js';
import { abortReason, BadRangeError, fileSize, hashFile, InterruptedError, PartialDownload, PullError } from './download.js';
import { getModel, validateModelEntry, type ModelEntry } from './registry.js';

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

/**
 * Downloads a registered model (by name, or an explicit entry object) into the cache and returns its
 * path. Interrupted transfers leave `<file>.part`, which the next attempt resumes with an HTTP Range
 * request. The file appears under its final name only after the sha256 (when known) matched.
 */
export async function pull(entryOrName: string | ModelEntry, opts: PullOptions = {}): Promise<PullResult> {
  const entry = typeof entryOrName === 'string' ? getModel(entryOrName) : validateModelEntry(entryOrName);
  const env = opts.env ?? process.env;
  const dest = modelPath(entry, env);
  const doFetch = opts.fetchImpl ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new EiaError('E_RUNTIME', 'No fetch implementation: Node >= 20 is required');
  const url = downloadUrl(entry, opts.baseUrl ?? DEFAULT_BASE);
  const dl = new PartialDownload({
    name: entry.name, url, part: `${dest}.part`, token: opts.token ?? env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN,
    fetch: doFetch, signal: opts.signal, onProgress: opts.onProgress,
  });
  await mkdir(dirname(dest), { recursive: true });
  const release = await acquireLock(`${dest}.lock`, entry.name);
  try {
    const cached = await fromCache(entry, dest, url, opts);
    if (cached) return cached;
    const resumedFrom = await transferWithRetries(dl, entry, `${dest}.part`, opts);
    return await finish(dl, entry, dest, url, resumedFrom);
  } catch (err) {
    await release();
    await rmdir(dirname(dest)).catch(() => undefined); // only succeeds when nothing was left there
    throw err;
  } finally {
    await release();
  }
}

/** 1. The cached file when it is verified (marker) or verifies now; a cached file that does not match the registry is removed. */
async function fromCache(entry: ModelEntry, dest: string, url: string, opts: PullOptions): Promise<PullResult | null> {
  const markerPath = `${dest}.verified.json`;
  const expected = entry.sha256;
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
  }
  if (have !== null) {
    // a cached file that does not match the registry (or --force): replace it
    await rm(dest, { force: true });
    await rm(markerPath, { force: true });
  }
  return null;
}

/**
 * 2. Transfers, resuming from the .part after an interruption (up to `retries` more attempts, waiting
 * longer each time); a server answer that does not continue the part restarts the download once.
 * Returns the offset the last transfer resumed from.
 */
async function transferWithRetries(dl: PartialDownload, entry: ModelEntry, part: string, opts: PullOptions): Promise<number> {
  const retries = Math.max(0, opts.retries ?? 3);
  const retryDelay = Math.max(0, opts.retryDelayMs ?? 1000);
  let restartedAfterBadRange = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return (await dl.transfer()).resumedFrom;
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
          throw new PullError(`Download of "${entry.name}" was interrupted at ${have} bytes (${err.message}); run the pull again to resume from ${part}`, undefined, true);
        }
        throw err;
      }
      await sleep(retryDelay * (attempt + 1), opts.signal);
    }
  }
}

/** 3. Verifies size and sha256, then renames the part into place (atomic) and records the verification. */
async function finish(dl: PartialDownload, entry: ModelEntry, dest: string, url: string, resumedFrom: number): Promise<PullResult> {
  const part = `${dest}.part`;
  const size = (await fileSize(part)) ?? 0;
  if (entry.sizeBytes !== null && size !== entry.sizeBytes) {
    await rm(part, { force: true });
    throw new PullError(`Size mismatch for "${entry.name}": expected ${entry.sizeBytes} bytes, got ${size}; the download was deleted.`);
  }
  await dl.catchUpHash(size);
  const digest = dl.digest();
  if (entry.sha256 !== null && digest !== entry.sha256) {
    await rm(part, { force: true });
    throw new PullError(`Checksum mismatch for "${entry.name}" (${url}): expected sha256 ${entry.sha256}, got ${digest}; the download was deleted.`);
  }
  await rename(part, dest);
  await fsyncDir(dirname(dest));
  const st = await stat(dest);
  await writeFile(`${dest}.verified.json`, JSON.stringify({ sha256: digest, size: st.size, mtimeMs: st.mtimeMs, url } satisfies Marker));
  return { name: entry.name, path: dest, sha256: digest, bytes: st.size, downloaded: true, resumedFrom, verified: entry.sha256 !== null };
}
