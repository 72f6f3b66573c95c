// The Fastify application: JSON parsing and body limit (Fastify's), request validation (Ajv, strict
// types: no coercion, no silently dropped fields), the API key check, OpenAI-shaped errors for every
// failure (also the ones Node's HTTP parser meets before a route: a malformed request, oversized
// headers, a request that does not arrive in time), request metrics, and the routes.
//
// Transport limits: a client has `requestTimeoutMs` to send its whole request, headers and body
// (Node's requestTimeout; then a 408 and the socket is closed), so slow or stalled bodies cannot hold
// sockets for ever; a 401 closes its socket, so an unauthenticated client cannot hold one either.
//
// Every request is counted once in eia_http_requests_total, when its response closes, with its route,
// the status it got (499 when its client left before any response: nginx's code) and its outcome:
// `complete` (the whole response was sent) or `client_closed` (the client left first, also while the
// request waited in the queue or mid-stream).
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { ApiError, badRequest, toApiError } from './api-error.js';
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
  bodyLimit: number;
  apiKey: ApiKeyCheck | null;
  logger: boolean;
  /** Time a client has to send its whole request (headers and body); 0 = no limit. */
  requestTimeoutMs: number;
  /** The playground's files (or why they cannot be served); null: no playground routes (`ui: false`). */
  ui: { assets: UiAssets } | { problem: string } | null;
}

/** Routes anyone may call without the key (liveness probes); routes may also say so in their config (`public: true`: the playground's files). */
const PUBLIC = new Set(['/health']);

/** Node's limit on a request's headers (http.maxHeaderSize), for the 431's message. */
const MAX_HEADER_KIB = 16;

function rejectionReason(status: number): string | null {
  if (status === 429) return 'queue_full';
  if (status === 503) return 'shutting_down';
  if (status === 401) return 'unauthorized';
  if (status === 408) return 'timeout';
  return status === 400 || status === 415 || status === 431 ? 'bad_request' : null;
}

/** What Node's HTTP parser reports on a connection (before or instead of a route), as the API's error. */
function clientErrorToApi(code: string | undefined, requestTimeoutMs: number): ApiError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ApiError(408, 'request_timeout', `the request did not arrive whole within ${requestTimeoutMs} ms (headers and body); the connection is closed`);
  }
  if (code === 'HPE_HEADER_OVERFLOW') return new ApiError(431, 'headers_too_large', `the request's headers are larger than this server's limit (${MAX_HEADER_KIB} KiB)`);
  return new ApiError(400, 'bad_http_request', `malformed HTTP request (${code ?? 'parse error'})`);
}

interface Tracked { status: number | null }

export function buildApp(s: ServerState, o: AppOptions): FastifyInstance {
  const timeout = o.requestTimeoutMs;
  /** The request in flight on a socket (Node serves one at a time per connection). */
  const inFlight = new WeakMap<Socket, Tracked>();
  const app = Fastify({
    bodyLimit: o.bodyLimit,
    logger: o.logger,
    // requests on kept-alive connections during close() reach the routes, which answer 503 (OpenAI-shaped)
    // to new work; Fastify's own 503 has another shape
    return503OnClosing: false,
    requestTimeout: timeout,
    http: timeout > 0
      ? { requestTimeout: timeout, headersTimeout: Math.min(60_000, timeout), connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(timeout / 4))) }
      : { requestTimeout: 0 },
    clientErrorHandler: (err, socket) => {
      // a reset connection has nobody to answer (a routed request on it is counted when it closes)
      if ((err as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      const e = clientErrorToApi((err as { code?: string }).code, timeout);
      const tracked = inFlight.get(socket);
      if (tracked) tracked.status = e.status;
      else s.metrics.requests.inc({ route: 'unknown', status: String(e.status), outcome: 'complete' });
      const reason = rejectionReason(e.status);
      if (reason) s.metrics.rejected.inc({ reason });
      // nothing may be written into a response that has begun
      const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (socket.writable && !current?.headersSent) {
        const body = JSON.stringify(e.body());
        socket.write(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
      socket.destroy();
    },
    // a URL the router cannot decode never reaches the hooks: answered and counted here
    frameworkErrors: (err, req, reply) => {
      track(req.raw, reply.raw, () => 'unknown');
      const e = (err as { code?: string }).code === 'FST_ERR_BAD_URL'
        ? badRequest('invalid_url', null, `the URL ${req.raw.url?.slice(0, 200) ?? ''} is not valid (a malformed percent-encoding)`)
        : toApiError(err);
      s.metrics.rejected.inc({ reason: 'bad_request' });
      void (reply as unknown as FastifyReply).code(e.status).send(e.body());
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true } },
  });
  // the API takes JSON only: text/plain gets the same 415 as every other type (Fastify parses it by default)
  app.removeContentTypeParser('text/plain');

  /** Counts the request once, when its response closes (finished, or cut short by the client). */
  function track(req: IncomingMessage, res: ServerResponse, route: () => string): void {
    const t0 = performance.now();
    const socket = req.socket;
    const tracked: Tracked = { status: null };
    inFlight.set(socket, tracked);
    let finished = false;
    res.once('finish', () => { finished = true; });
    res.once('close', () => {
      if (inFlight.get(socket) === tracked) inFlight.delete(socket);
      let status: number;
      let outcome: 'complete' | 'client_closed';
      if (tracked.status !== null) [status, outcome] = [tracked.status, 'complete'];  // answered by the client-error handler
      else if (finished) [status, outcome] = [res.statusCode, 'complete'];
      else [status, outcome] = [res.headersSent ? res.statusCode : 499, 'client_closed'];
      s.metrics.requests.inc({ route: route(), status: String(status), outcome });
      s.metrics.requestSeconds.observe({ route: route() }, (performance.now() - t0) / 1000);
    });
  }

  app.addHook('onRequest', async (req, reply) => {
    track(req.raw, reply.raw, () => req.routeOptions.url ?? 'unknown');
    const open = PUBLIC.has(req.routeOptions.url ?? req.url) || (req.routeOptions.config as { public?: boolean } | undefined)?.public === true;
    if (o.apiKey && !open) o.apiKey.check(req.headers.authorization);
  });

  app.setErrorHandler(async (err, req, reply) => {
    // a stream cut by its client (Fastify reports the broken pipe) is the client's leaving, not a fault:
    // it is counted as client_closed when the response closes
    if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' && reply.raw.destroyed) {
      reply.code(499);
      return new ApiError(499, 'client_closed_request', 'the client closed the connection').body();
    }
    const e = toApiError(err);
    if (e.status >= 500 && !(err instanceof ApiError)) {
      // a bug or a runtime failure: the client gets no internals, the operator gets all of them
      if (o.logger) req.log.error(err);
      else process.stderr.write(`eia-native serve: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    // a connection already gone (its client left, or the client-error handler answered it) is no rejection
    const reason = reply.raw.destroyed ? null : rejectionReason(e.status);
    if (reason) s.metrics.rejected.inc({ reason });
    reply.code(e.status).headers(e.headers);
    // an unauthenticated client keeps no connection (nor a half-sent body on it)
    if (e.status === 401) reply.header('connection', 'close');
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
