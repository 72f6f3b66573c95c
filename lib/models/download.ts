// One resumable download into `<file>.part`: each transfer is one HTTP request that appends to the
// part from its current size (a Range request when there is one), hashing the bytes on the fly
// (sha256; bytes already on disk from an earlier run are hashed from the file first). pull.ts
// retries transfers and verifies the result.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { EiaError, type ErrorCode } from '../util/errors.js';
import type { PullProgress } from './pull.js';

/** A download that did not give a usable file: an EiaError (E_IO; E_LOCKED for a pull already running) with the HTTP status when there was one. */
export class PullError extends EiaError {
  constructor(message: string, readonly status?: number, readonly retryable = false, code: ErrorCode = 'E_IO') {
    super(code, message);
    this.name = 'PullError';
  }
}

/** The transfer stopped early; the .part file holds what arrived (retried, or reported as a PullError). */
export class InterruptedError extends EiaError {
  constructor(message: string) { super('E_IO', message); }
}

/** A resumed request got an answer that does not continue the .part file (the download restarts). */
export class BadRangeError extends EiaError {
  constructor(message: string) { super('E_IO', message); }
}

/** Why a download stops on request: the signal's own reason, else E_ABORTED. */
export const abortReason = (signal?: AbortSignal): Error => (signal?.reason instanceof Error ? signal.reason : new EiaError('E_ABORTED', 'Aborted'));

export async function fileSize(p: string): Promise<number | null> {
  try {
    const st = await stat(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** Feeds bytes [start, end) of a file into `hash`. */
export async function hashFile(p: string, hash: Hash, signal?: AbortSignal, start = 0, end?: number): Promise<void> {
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

export interface DownloadTarget {
  /** Model name, for messages. */
  name: string;
  url: string;
  /** The .part file. */
  part: string;
  token?: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
}

/** A response that continues (or starts) the part: where its body goes and the full size when known. */
interface Continuation { res: Response; offset: number; total: number | null }

/** The part file and the running sha256 of its bytes. */
export class PartialDownload {
  private hash = createHash('sha256');
  private hashed = 0;

  constructor(private t: DownloadTarget) {}

  /** Makes the hash cover exactly bytes [0, offset) of the part (restarts it when the part shrank). */
  async catchUpHash(offset: number): Promise<void> {
    if (offset < this.hashed) {
      this.hash = createHash('sha256');
      this.hashed = 0;
    }
    if (offset > this.hashed) {
      await hashFile(this.t.part, this.hash, this.t.signal, this.hashed, offset);
      this.hashed = offset;
    }
  }

  /** The sha256 of the whole part (call after catchUpHash(size)). */
  digest(): string {
    return this.hash.digest('hex');
  }

  /** One HTTP request, appended to the part from its current size. Resolves with the offset it resumed from. */
  async transfer(): Promise<{ resumedFrom: number }> {
    const c = await this.request();
    if (!c) return { resumedFrom: (await fileSize(this.t.part)) ?? 0 };  // 416 at the part's size: it is whole
    await this.catchUpHash(c.offset);
    const bytes = await this.append(c);
    if (c.total !== null && bytes < c.total) throw new InterruptedError(`connection closed at ${bytes} of ${c.total} bytes`);
    if (c.total !== null && bytes > c.total) {
      await rm(this.t.part, { force: true });
      throw new PullError(`Server sent ${bytes} bytes for "${this.t.name}" but announced ${c.total}; the download was deleted.`);
    }
    return { resumedFrom: c.offset };
  }

  /** Sends the request; null when the server says the part is already whole (416 at its size). */
  private async request(): Promise<Continuation | null> {
    const { t } = this;
    let offset = (await fileSize(t.part)) ?? 0;
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'eia-native' };
    if (t.token) headers.authorization = `Bearer ${t.token}`;
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let res: Response;
    try {
      res = await t.fetch(t.url, { headers, signal: t.signal, redirect: 'follow' });
    } catch (err) {
      if (t.signal?.aborted) throw err;
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
      if (cr && Number(cr[1]) === offset) return null;
      throw new BadRangeError(`server refused the range from byte ${offset} (HTTP 416)`);
    } else {
      await res.body?.cancel().catch(() => undefined);
      throw httpError(res.status, res.statusText, t.url, t.name, res.headers, Boolean(t.token));
    }
    if (!res.body) throw new InterruptedError('response has no body');
    return { res, offset, total };
  }

  /** Streams the body into the part (every byte written, then fsync), hashing and reporting progress; returns the part's size. */
  private async append({ res, offset, total }: Continuation): Promise<number> {
    const fh = await open(this.t.part, offset > 0 ? 'a' : 'w');
    let bytes = offset;
    const report = progressReporter(this.t.onProgress, offset, total);
    try {
      report(bytes, true);
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          let off = 0;
          while (off < chunk.byteLength) {
            const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
            off += bytesWritten;
          }
          this.hash.update(chunk);
          this.hashed += chunk.byteLength;
          bytes += chunk.byteLength;
          report(bytes, false);
        }
      } catch (err) {
        if (this.t.signal?.aborted) throw err;
        throw new InterruptedError(`connection lost: ${(err as Error).message}`);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    report(bytes, true);
    return bytes;
  }
}

/** Progress callbacks at most every 200 ms (and when forced), with the rate of this transfer. */
function progressReporter(onProgress: DownloadTarget['onProgress'], resumedFrom: number, total: number | null): (bytes: number, force: boolean) => void {
  const started = Date.now();
  let lastReport = 0;
  return (bytes, force) => {
    if (!onProgress) return;
    const t = Date.now();
    if (!force && t - lastReport < 200) return;
    lastReport = t;
    const secs = (t - started) / 1000;
    const rate = secs > 0 ? (bytes - resumedFrom) / secs : 0;
    const eta = total !== null && rate > 0 ? Math.max(0, total - bytes) / rate : null;
    onProgress({ bytes, total, bytesPerSecond: rate, etaSeconds: eta, resumedFrom });
  };
}
