// `createServer(options)`: an OpenAI-compatible HTTP server over one model with per-request steering,
// probe monitors and gates (what `eia-native serve` runs). Returns a handle: listen() binds it
// (loopback unless an API key is set), close() stops taking requests (503), lets the running and
// queued ones finish (up to drainMs), then releases the port, the context and, when it loaded it,
// the model.
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generationContextOptions } from '../engine/context.js';
import { engineLimits, GENERATION_DEFAULTS } from '../engine/defaults.js';
import { Model } from '../engine/model.js';
import { resolveModel } from '../models/cache.js';
import { residualNorms } from '../probes/residual-norm.js';
import { badField, EiaError } from '../util/errors.js';
import { warn } from '../util/note.js';
import { buildApp } from './app.js';
import { ApiKeyCheck, isLoopback } from './auth.js';
import { ServerMetrics } from './metrics.js';
import { ModelCheck } from './model-check.js';
import { SERVER_DEFAULTS, type ServerOptions } from './options.js';
import { Scheduler, type SchedulerStats } from './scheduler.js';
import type { ServerState } from './state.js';
import { VectorStore } from './vector-store.js';

export type { ServerOptions } from './options.js';
export { SERVER_DEFAULTS } from './options.js';
export { encodeVectorData } from './vector-data.js';

export interface ServerAddress { url: string; host: string; port: number }

export interface ServerHandle {
  readonly app: FastifyInstance;
  readonly model: Model;
  readonly modelId: string;
  /** Tokens one request may use (prompt + completion). */
  readonly nCtxSlot: number;
  readonly slots: number;
  listen(opts?: { host?: string; port?: number }): Promise<ServerAddress>;
  close(opts?: { drainMs?: number }): Promise<void>;
  stats(): SchedulerStats;
  /** Warnings about the vectors folder: probes whose sidecar records another model (the CLI prints them at start). */
  vectorWarnings(): Promise<string[]>;
}

function positiveInt(v: number | undefined, fallback: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x < 1 || x > max) throw badField(what, 'invalid_value', (n) => `${n(what)} must be an integer in [1, ${max}] (got ${String(v)})`);
  return x;
}

/** Refuses a non-loopback address without an API key. */
function checkExposure(host: string, apiKey: string | null | undefined): void {
  if (!isLoopback(host) && !apiKey) {
    throw new EiaError('E_BAD_ARG', `refusing to listen on ${host} without an API key: anyone who can reach it could use the model (give an API key, or bind 127.0.0.1)`);
  }
}

export async function createServer(options: ServerOptions): Promise<ServerHandle> {
  if (!options || typeof options !== 'object') throw new EiaError('E_BAD_ARG', 'createServer needs an options object');
  const host = options.host ?? SERVER_DEFAULTS.host;
  checkExposure(host, options.apiKey);
  const apiKey = options.apiKey ? new ApiKeyCheck(options.apiKey) : null;
  const slots = positiveInt(options.slots, SERVER_DEFAULTS.slots, 'slots', engineLimits().maxSequences);
  const ctxTokens = positiveInt(options.ctx, SERVER_DEFAULTS.ctx, 'ctx');
  const queue = options.queue ?? SERVER_DEFAULTS.queuePerSlot * slots;
  if (!Number.isInteger(queue) || queue < 0) throw badField('queue', 'invalid_value', (n) => `${n('queue')} must be an integer >= 0 (got ${String(options.queue)})`);
  const bodyLimit = positiveInt(options.bodyLimit, SERVER_DEFAULTS.bodyLimit, 'bodyLimit');
  const stepsPerCall = positiveInt(options.stepsPerCall, GENERATION_DEFAULTS.stepsPerCall, 'stepsPerCall', 1024);
  const maxMonitors = positiveInt(options.maxMonitors, SERVER_DEFAULTS.maxMonitors, 'maxMonitors', 1024);
  const drainMs = options.drainMs ?? SERVER_DEFAULTS.drainMs;
  const store = new VectorStore(options.vectors ?? null);

  const owned = typeof options.model === 'string';
  const model = typeof options.model === 'string'
    ? await Model.load(resolveModel(options.model), { gpuLayers: options.gpuLayers })
    : options.model;
  const modelId = options.modelId ?? (typeof options.model === 'string'
    ? basename(options.model).replace(/\.gguf$/i, '')
    : model.meta('general.name') ?? 'model');
  let ctx;
  let norms: Map<number, number>;
  try {
    // every block's residual norm: the bound on a request's |scale| (probes/residual-norm.ts)
    norms = await residualNorms(model, Array.from({ length: model.nLayer }, (_, l) => l), options.threads);
    ctx = await model.createContext(generationContextOptions(slots, ctxTokens, options.threads));
  } catch (e) {
    if (owned) model.free();
    throw e;
  }
  const modelCheck = new ModelCheck(model.info.path, options.logger ? (l) => app.log.warn(l) : warn);
  modelCheck.prime(store.list().vectors);
  const nCtxSeq = ctx.props.nCtxSeq;
  let state: ServerState;
  const metrics = new ServerMetrics(() => state.scheduler.stats());
  const scheduler = new Scheduler(ctx, { slots, queue, stepsPerCall }, metrics.observer());
  state = {
    model, ctx, modelId, store, scheduler, metrics, modelCheck, closing: false,
    prepare: { model, store, nCtxSeq, maxMonitors, residualNorms: norms },
  };
  const app = buildApp(state, { bodyLimit, apiKey, logger: options.logger ?? false });

  let closing: Promise<void> | null = null;
  return {
    app, model, modelId, nCtxSlot: nCtxSeq, slots,
    stats: () => scheduler.stats(),
    vectorWarnings: () => modelCheck.warnings(store.list().vectors),
    async listen(opts = {}) {
      const h = opts.host ?? host;
      checkExposure(h, options.apiKey);
      await app.listen({ host: h, port: opts.port ?? options.port ?? SERVER_DEFAULTS.port });
      const addr = app.server.address();
      if (!addr || typeof addr === 'string') throw new EiaError('E_INTERNAL', 'the server has no TCP address');
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return { url: `http://${shown}:${addr.port}`, host: addr.address, port: addr.port };
    },
    close(opts = {}) {
      if (!closing) {
        closing = (async () => {
          state.closing = true;
          await scheduler.shutdown(opts.drainMs ?? drainMs);
          await app.close();
          ctx.free();
          if (owned) model.free();
        })();
      }
      return closing;
    },
  };
}
