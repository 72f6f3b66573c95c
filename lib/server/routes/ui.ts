// GET / (the playground page) and GET /ui/<file> (its script, style sheet and icon), served from
// memory (ui-assets.ts) without the API key: the page holds no data and asks for the key itself,
// then sends it with every API call. A strict Content-Security-Policy keeps the page to its own
// files and this server (no inline script, no CDN, no other origin); gzip when the client takes it;
// 304 for a matching If-None-Match.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../api-error.js';
import type { UiAsset, UiAssets } from '../ui-assets.js';

/** Route config read by the API key check (app.ts): these routes are open. */
export const PUBLIC_ROUTE = { public: true } as const;

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

function send(req: FastifyRequest, reply: FastifyReply, a: UiAsset): Buffer | string {
  reply.headers({ ...PAGE_HEADERS, 'content-type': a.contentType, 'cache-control': a.cacheControl, etag: a.etag, vary: 'accept-encoding' });
  const tags = (req.headers['if-none-match'] ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes(a.etag) || tags.includes('*')) {
    reply.code(304);
    return '';
  }
  if (a.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    reply.header('content-encoding', 'gzip');
    return a.gzip;
  }
  return a.body;
}

/** The page and its files; `problem` instead when the build is missing (then / says how to build it). */
export function uiRoutes(app: FastifyInstance, ui: { assets: UiAssets } | { problem: string }): void {
  app.get('/', { config: PUBLIC_ROUTE }, async (req, reply) => {
    if ('problem' in ui) throw new ApiError(503, 'playground_not_built', ui.problem);
    return send(req, reply, ui.assets.index);
  });
  app.get('/ui/:file', { config: PUBLIC_ROUTE }, async (req, reply) => {
    const name = (req.params as { file: string }).file;
    const a = 'assets' in ui ? ui.assets.files.get(name) : undefined;
    if (!a) throw new ApiError(404, 'not_found', `no playground file ${name.slice(0, 100)}`);
    return send(req, reply, a);
  });
}
