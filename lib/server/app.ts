// The Fastify application: JSON parsing and body limit (Fastify's), request validation (Ajv, strict
// types: no coercion, no silently dropped fields), the API key check, OpenAI-shaped errors for every
// failure, request metrics, and the routes.
import Fastify, { type FastifyInstance } from 'fastify';
import { ApiError, toApiError } from './api-error.js';
import type { ApiKeyCheck } from './auth.js';
import { baselineRoutes } from './routes/baseline.js';
import { completionRoutes } from './routes/completions.js';
import { limitsRoutes } from './routes/limits.js';
import { statusRoutes } from './routes/status.js';
import { uiRoutes } from './routes/ui.js';
import { vectorRoutes } from './routes/vectors.js';
import type { ServerState } from './state.js';
import type { UiAssets } from './ui-assets.js';

export interface AppOptions {
  bodyLimit: number; apiKey: ApiKeyCheck | null; logger: boolean;
  /** The playground's files (or why they cannot be served); null: no playground routes (`ui: false`). */
  ui: { assets: UiAssets } | { problem: string } | null;
}

/** Routes anyone may call without the key (liveness probes); routes may also say so in their config (`public: true`: the playground's files). */
const PUBLIC = new Set(['/health']);

function rejectionReason(status: number): string | null {
  return status === 429 ? 'queue_full' : status === 503 ? 'shutting_down' : status === 401 ? 'unauthorized' : status === 400 ? 'bad_request' : null;
}

export function buildApp(s: ServerState, o: AppOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: o.bodyLimit,
    logger: o.logger,
    // requests on kept-alive connections during close() get Fastify's 503 too
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true } },
  });

  app.addHook('onRequest', async (req) => {
    (req as { startedAt?: number }).startedAt = performance.now();
    const open = PUBLIC.has(req.routeOptions.url ?? req.url) || (req.routeOptions.config as { public?: boolean } | undefined)?.public === true;
    if (o.apiKey && !open) o.apiKey.check(req.headers.authorization);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    s.metrics.requests.inc({ route, status: String(reply.statusCode) });
    const t0 = (req as { startedAt?: number }).startedAt;
    if (t0 !== undefined) s.metrics.requestSeconds.observe({ route }, (performance.now() - t0) / 1000);
  });

  app.setErrorHandler(async (err, req, reply) => {
    const e = toApiError(err);
    if (e.status >= 500 && !(err instanceof ApiError)) {
      // a bug or a runtime failure: the client gets no internals, the operator gets all of them
      if (o.logger) req.log.error(err);
      else process.stderr.write(`eia-native serve: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    const reason = rejectionReason(e.status);
    if (reason) s.metrics.rejected.inc({ reason });
    reply.code(e.status).headers(e.headers);
    return e.body();
  });

  app.setNotFoundHandler(async (req, reply) => {
    reply.code(404);
    return new ApiError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`).body();
  });

  statusRoutes(app, s);
  vectorRoutes(app, s);
  completionRoutes(app, s);
  limitsRoutes(app, s);
  baselineRoutes(app, s);
  if (o.ui) uiRoutes(app, o.ui);
  return app;
}
