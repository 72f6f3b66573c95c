// createServer's options and their defaults (the server's own; the engine's are in
// lib/engine/defaults.ts and apply to every request field left out).
import type { Model } from '../engine/model.js';

export interface ServerOptions {
  /** A GGUF path or a pulled model name, or a loaded Model (then the caller frees it). */
  model: string | Model;
  /** Folder of steering vectors: .npy probes with sidecars, control-vector GGUFs. */
  vectors?: string | null;
  /** Sequences generated at once (continuous batching slots). */
  slots?: number;
  /** Tokens per slot: prompt + completion of one request (the KV cache holds slots x ctx). */
  ctx?: number;
  /** Requests that may wait for a slot (a request of several prompts is one); beyond them requests get 429. Default 4 x slots. */
  queue?: number;
  /** Prompts one /v1/completions request may carry (each is a sequence); beyond it a 400 names the limit. */
  maxPrompts?: number;
  host?: string;
  port?: number;
  /** Required for a host other than loopback; clients send `Authorization: Bearer <key>`. */
  apiKey?: string | null;
  threads?: number;
  gpuLayers?: number;
  /** Largest request body in bytes. */
  bodyLimit?: number;
  /** Time a client has to send its whole request, headers and body (then 408 and the socket is closed); 0 = no limit. */
  requestTimeoutMs?: number;
  /** Decode steps per native call (fewer thread hops vs finer streaming; default: the engine's). */
  stepsPerCall?: number;
  /** Monitors one request may bring at most. */
  maxMonitors?: number;
  /** How long close() lets running and queued requests finish before cancelling them. */
  drainMs?: number;
  /** The id /v1/models reports (default: the model file's name without .gguf). */
  modelId?: string;
  /** Fastify's logger (pino) on stdout; default off. */
  logger?: boolean;
  /** Serve the playground page at `/` (default true; docs/playground.md). */
  ui?: boolean;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  slots: 4,
  ctx: 2048,
  queuePerSlot: 4,
  maxPrompts: 256,
  bodyLimit: 4 * 1024 * 1024,
  // 4 MiB at 1 Mbit/s; a local client sends it in milliseconds
  requestTimeoutMs: 60_000,
  maxMonitors: 32,
  drainMs: 30_000,
} as const;
