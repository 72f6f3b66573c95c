// The judge's HTTP client: one chat-completion request per question to any OpenAI-compatible
// endpoint (`eia-native serve`, llama-server, a hosted API), with Node's own fetch. Plain fetch
// rather than the `openai` package: the judge needs one endpoint and one response field, and its
// failure rules are ours to state exactly (docs/tune.md): a per-attempt timeout; retries on 429 and
// 5xx and on network errors, waiting what Retry-After says (seconds or an HTTP date, at most
// MAX_RETRY_AFTER_MS) or else an exponential backoff with jitter; no retry on another 4xx (a wrong
// key or model name will not heal). A reply that is not a chat completion is a failure, not an
// answer. The API key goes in the Authorization header only, and never into a message.
import { MAX_TOKENS_DEFAULTS } from '../../engine/defaults.js';
import { badField, EiaError } from '../../util/errors.js';

export interface JudgeClientOptions {
  /** Base URL (…/v1), a server root, or the full …/chat/completions URL. */
  url: string;
  /** The judge model's name as the endpoint knows it. */
  model: string;
  apiKey?: string;
  /** Per attempt (default 60 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** Tokens the judge may write per answer (default MAX_TOKENS_DEFAULTS.judge, 400: a short explanation and the rating). */
  maxTokens?: number;
  /** First backoff step when the server gives no Retry-After (default 500 ms; doubles per retry). */
  backoffMs?: number;
}

export const JUDGE_DEFAULTS = { timeoutMs: 60_000, retries: 4, maxTokens: MAX_TOKENS_DEFAULTS.judge, backoffMs: 500, concurrency: 4 } as const;
/** A Retry-After longer than this is cut to it (a server asking for an hour is not waited on for an hour). */
export const MAX_RETRY_AFTER_MS = 120_000;

/**
 * The chat-completions URL of `url` (see JudgeClientOptions.url). A URL that is none is a FieldError
 * of the option `judge` (the judge's endpoint), which a front end names in its own words.
 */
export function chatCompletionsUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badField('judge', 'invalid_value', (n) => `${n('judge')}: '${url}' is not a URL (expected e.g. http://127.0.0.1:8080/v1)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badField('judge', 'invalid_value', (n) => `${n('judge')}: '${url}' is not an http(s) URL`);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith('/chat/completions') ? path : path.endsWith('/v1') ? `${path}/chat/completions` : `${path}/v1/chat/completions`;
  return u.toString();
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), capped; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const s = header.trim();
  const ms = /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : Date.parse(s) - now;
  if (!Number.isFinite(ms)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

export class JudgeRequestError extends EiaError {
  constructor(message: string, readonly attempts: number) {
    super('E_IO', message);
  }
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((ok, bad) => {
  if (signal?.aborted) return bad(new EiaError('E_ABORTED', 'judge stopped'));
  const t = setTimeout(() => { signal?.removeEventListener('abort', stop); ok(); }, ms);
  const stop = () => { clearTimeout(t); bad(new EiaError('E_ABORTED', 'judge stopped')); };
  signal?.addEventListener('abort', stop, { once: true });
});

export class JudgeClient {
  readonly endpoint: string;
  readonly model: string;
  private readonly o: Required<Omit<JudgeClientOptions, 'apiKey' | 'url' | 'model'>> & { apiKey?: string };
  /** Attempts made and retries taken, over the client's life (reported). */
  attempts = 0;
  retried = 0;

  constructor(opts: JudgeClientOptions) {
    this.endpoint = chatCompletionsUrl(opts.url);
    if (typeof opts.model !== 'string' || opts.model === '') throw new EiaError('E_BAD_ARG', 'judge: the judge model name is required');
    this.model = opts.model;
    const o = { ...JUDGE_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    if (!(Number.isInteger(o.timeoutMs) && o.timeoutMs >= 1)) throw new EiaError('E_BAD_ARG', `judge: timeout must be a positive number of milliseconds, got ${o.timeoutMs}`);
    if (!(Number.isInteger(o.retries) && o.retries >= 0)) throw new EiaError('E_BAD_ARG', `judge: retries must be a non-negative integer, got ${o.retries}`);
    this.o = { timeoutMs: o.timeoutMs, retries: o.retries, maxTokens: o.maxTokens, backoffMs: o.backoffMs, apiKey: opts.apiKey };
  }

  /** The judge's answer (the first choice's message content) to one user message; JudgeRequestError after the retries. */
  async ask(prompt: string, signal?: AbortSignal): Promise<string> {
    const body = JSON.stringify({ model: this.model, messages: [{ role: 'user', content: prompt }], temperature: 0, max_tokens: this.o.maxTokens, stream: false });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.o.apiKey) headers.authorization = `Bearer ${this.o.apiKey}`;
    let last = '';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (signal?.aborted) throw new EiaError('E_ABORTED', 'judge stopped');
      if (attempt > 0) this.retried++;
      this.attempts++;
      const timeout = AbortSignal.timeout(this.o.timeoutMs);
      const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let wait: number | null = null;
      try {
        const res = await fetch(this.endpoint, { method: 'POST', headers, body, signal: both });
        const text = await res.text();
        if (res.ok) return contentOf(text);
        last = `HTTP ${res.status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}`;
        if (res.status !== 429 && res.status < 500) throw new JudgeRequestError(`judge ${this.endpoint} refused the request (${last})`, attempt + 1);
        wait = retryAfterMs(res.headers.get('retry-after'));
      } catch (e) {
        if (e instanceof JudgeRequestError) throw e;
        if (signal?.aborted) throw new EiaError('E_ABORTED', 'judge stopped');
        const err = e as Error;
        last = timeout.aborted ? `no answer within ${this.o.timeoutMs} ms` : `${err.name === 'EiaError' ? '' : 'network error: '}${err.message}`;
        if (e instanceof EiaError && e.code === 'E_BAD_ARG') throw new JudgeRequestError(`judge ${this.endpoint}: ${e.message}`, attempt + 1);
      }
      if (attempt < this.o.retries) {
        const backoff = this.o.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
        await sleep(wait ?? backoff, signal);
      }
    }
    throw new JudgeRequestError(`judge ${this.endpoint} failed after ${this.o.retries + 1} attempts (last: ${last})`, this.o.retries + 1);
  }
}

/** The answer text of a chat-completion response body; E_BAD_ARG when the body is not one. */
function contentOf(text: string): string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new EiaError('E_BAD_ARG', `the reply is not JSON (${JSON.stringify(text.slice(0, 80))})`);
  }
  const c = (v as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
  if (typeof c !== 'string') throw new EiaError('E_BAD_ARG', 'the reply is not a chat completion (no choices[0].message.content)');
  return c;
}
