// Talking to the server: JSON calls and streamed completions, with the API key when the server needs
// one. The key is asked for once (on the first 401), kept in sessionStorage only (gone when the tab
// closes; never in localStorage, a cookie or the URL), and asked for again when the server refuses it.
// Errors carry the server's own message, code and field, and Retry-After for a 429.
import { SseParser } from './sse.js';

const KEY_ITEM = 'eia-native.api-key';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Seconds, from Retry-After (429, 503). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** The server's OpenAI-shaped error body -> an HttpError (or a plain one when the body is something else). */
export async function errorOf(res: Response): Promise<HttpError> {
  let message = `${res.status} ${res.statusText}`.trim(), code: string | null = null, param: string | null = null;
  try {
    const body = await res.json() as { error?: { message?: string; code?: string; param?: string | null } };
    const e = body.error;
    if (e?.message) { message = e.message; code = e.code ?? null; param = e.param ?? null; }
  } catch { /* not JSON */ }
  const ra = Number(res.headers.get('retry-after'));
  return new HttpError(res.status, message, code, param, Number.isFinite(ra) && ra > 0 ? ra : null);
}

export interface StreamHandlers { event(data: unknown): void }

export class Api {
  /** Asks the person for a key (shows the server's message); resolves with it, or null when they cancel. */
  askKey: (message: string) => Promise<string | null> = async () => null;

  get key(): string | null { return sessionStorage.getItem(KEY_ITEM); }
  set key(k: string | null) {
    if (k) sessionStorage.setItem(KEY_ITEM, k);
    else sessionStorage.removeItem(KEY_ITEM);
  }

  /** Whether the server asked for a key (a 401 was seen), for the Share panel's snippets. */
  needsKey = false;

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = {};
    if (json) h['content-type'] = 'application/json';
    if (this.key) h.authorization = `Bearer ${this.key}`;
    return h;
  }

  /** fetch with the key; on a 401 asks for a key and tries again (until a key works or the person cancels). */
  async fetch(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
    for (;;) {
      const res = await fetch(path, {
        method: init.method ?? 'GET',
        headers: this.headers(init.body !== undefined),
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
      if (res.status !== 401) return res;
      this.needsKey = true;
      const err = await errorOf(res);
      const k = await this.askKey(err.message);
      if (k === null) throw err;
      this.key = k;
    }
  }

  async json<T>(path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(path, body === undefined ? {} : { method: 'POST', body });
    if (!res.ok) throw await errorOf(res);
    return await res.json() as T;
  }

  /** A streamed completion: every SSE event's data in order; throws the server's error (before or during the stream). */
  async stream(path: string, body: unknown, h: StreamHandlers, signal: AbortSignal): Promise<void> {
    const res = await this.fetch(path, { method: 'POST', body, signal });
    if (!res.ok || !res.body) throw await errorOf(res);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new HttpError(0, 'the stream ended before [DONE] (the connection was cut)');
      for (const ev of parser.push(value)) {
        if (ev.done) return;
        const err = (ev.data as { error?: { message?: string; code?: string } }).error;
        if (err) throw new HttpError(500, err.message ?? 'the server ended the stream with an error', err.code ?? null);
        h.event(ev.data);
      }
    }
  }
}
