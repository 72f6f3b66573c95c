// What the routes share: the model and its context, the vectors, the scheduler, the metrics.
import type { Context } from '../engine/context.js';
import type { Model } from '../engine/model.js';
import type { ServerMetrics } from './metrics.js';
import type { MonitorBaselines } from './monitor-baseline.js';
import type { ModelCheck } from './model-check.js';
import type { PromptTokenizer } from './prompts.js';
import type { PrepareContext } from './request.js';
import type { Scheduler } from './scheduler.js';
import type { VectorStore } from './vector-store.js';

export interface ServerState {
  model: Model;
  ctx: Context;
  modelId: string;
  store: VectorStore;
  scheduler: Scheduler;
  metrics: ServerMetrics;
  /** Vectors' recorded models against the served one. */
  modelCheck: ModelCheck;
  prepare: PrepareContext;
  /** Monitors' unsteered baselines (POST /v1/monitors/baseline). */
  baselines: MonitorBaselines;
  /** Largest request body in bytes (GET /v1/limits reports it). */
  bodyLimit: number;
  /** Prompts -> token ids, off the event loop. */
  prompts: PromptTokenizer;
  /** Set by close(): /health reports it, new requests get 503. */
  closing: boolean;
}
