// `createServer(options)`: an OpenAI-compatible HTTP server over one model with per-request steering,
// probe monitors and gates (what `eia-native serve` runs), and the playground page at / unless
// `ui: false` (docs/playground.md). Returns a handle: listen() binds it
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
import { MonitorBaselines } from './monitor-baseline.js';
import { PromptTokenizer } from './prompts.js';
import { SERVER_DEFAULTS, type ServerOptions } from './options.js';
import { Scheduler, type SchedulerStats } from './scheduler.js';
import type { ServerState } from './state.js';
import { loadUiAssets, uiWeight } from './ui-assets.js';
import { VectorStore } from './vector-store.js';

export type { ServerOptions } from './options.js';
export { SERVER_DEFAULTS } from './options.js';
export { encodeVectorData } from './vector-data.js';

/** After the drain: how long responses still being written get before the remaining connections are closed. */
const CLOSE_GRACE_MS = 2000;

export interface ServerAddress { url: string; host: string; port: number }

export interface ServerHandle {
  readonly app: FastifyInstance;
  readonly model: Model;
  readonly modelId: string;
  /** Tokens one request may use (prompt + completion). */
  readonly nCtxSlot: number;
  readonly slots: number;
  /** Prompts one /v1/completions request may carry. */
  readonly maxPrompts: number;
  listen(opts?: { host?: string; port?: number }): Promise<ServerAddress>;
  /**
   * Stops taking requests and drains (running and queued requests get `drainMs` to finish). Called
   * again while draining with `drainMs: 0`, it ends the drain at once: queued requests get 503,
   * running ones are cancelled (a stream ends with an error event, a whole response is a 503).
   */
  close(opts?: { drainMs?: number }): Promise<void>;
  stats(): SchedulerStats;
  /** Warnings about the vectors folder: probes whose sidecar records another model (the CLI prints them at start). */
  vectorWarnings(): Promise<string[]>;
  /** The playground at `/`: off (`ui: false`), served (its weight), or why it cannot be (not built). */
  readonly ui: { enabled: false } | { enabled: true; bytes: number; gzipBytes: number } | { enabled: true; problem: string };
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
  const maxPrompts = positiveInt(options.maxPrompts, SERVER_DEFAULTS.maxPrompts, 'maxPrompts', 65_536);
  const requestTimeoutMs = options.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 0 || requestTimeoutMs > 2 ** 31 - 1) {
    throw badField('requestTimeoutMs', 'invalid_value', (n) => `${n('requestTimeoutMs')} must be an integer in [0, ${2 ** 31 - 1}] ms, 0 for no limit (got ${String(options.requestTimeoutMs)})`);
  }
  const stepsPerCall = positiveInt(options.stepsPerCall, GENERATION_DEFAULTS.stepsPerCall, 'stepsPerCall', 1024);
  const maxMonitors = positiveInt(options.maxMonitors, SERVER_DEFAULTS.maxMonitors, 'maxMonitors', 1024);
  const drainMs = options.drainMs ?? SERVER_DEFAULTS.drainMs;
  const store = new VectorStore(options.vectors ?? null);
  if (options.ui !== undefined && typeof options.ui !== 'boolean') throw badField('ui', 'invalid_value', (n) => `${n('ui')} must be a boolean (got ${String(options.ui)})`);
  const ui = options.ui === false ? null : loadUiAssets();

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
    ctx = await model.createContext(generationContextOptions(slots, ctxTokens, options.threads));
    // every block's residual norm: the bound on a request's |scale| (probes/residual-norm.ts). A model
    // whose graph does not expose the residual stream serves plain completions only: its requests'
    // steering, monitor and gate fields are refused (request.ts); the same pass refuses a model that
    // computes NaN, on either kind of model
    norms = await residualNorms(model, ctx.residualSupport.supported ? Array.from({ length: model.nLayer }, (_, l) => l) : [], options.threads);
  } catch (e) {
    ctx?.free();
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
    prepare: { model, store, nCtxSeq, maxMonitors, residualNorms: norms, requireResidual: (what) => ctx.requireResidual(what) },
    baselines: new MonitorBaselines(model, options.threads), bodyLimit,
    prompts: new PromptTokenizer(model, nCtxSeq, maxPrompts),
  };
  const app = buildApp(state, { bodyLimit, apiKey, logger: options.logger ?? false, requestTimeoutMs, ui });

  let closing: Promise<void> | null = null;
  return {
    app, model, modelId, nCtxSlot: nCtxSeq, slots, maxPrompts,
    ui: !ui ? { enabled: false } : 'problem' in ui ? { enabled: true, problem: ui.problem } : { enabled: true, ...uiWeight(ui.assets) },
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
          // every generation has ended; what is left gets a moment to flush. A connection that opened and
          // sent nothing, or a request still arriving, is not idle to Node and would hold the port until its
          // client leaves (the request timeout is no longer checked once the server closes): it is closed
          const closingApp = app.close();
          const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
          await closingApp;
          clearTimeout(cut);
          await state.baselines.idle();
          ctx.free();
          if (owned) model.free();
        })();
      } else if (opts.drainMs === 0) {
        scheduler.expedite();
      }
      return closing;
    },
  };
}
