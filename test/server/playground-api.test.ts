// What the playground needs from the server, checked without a browser (issue 27): the page and its
// files (content types, caching, ETag and 304, gzip, CSP, nothing from another origin), open without
// the API key while the API stays closed; absent with `ui: false` and `serve --no-ui`; GET /v1/limits
// (the scale bound per block = 100 x the residual norm); POST /v1/monitors/baseline (the unsteered
// median, recomputed here from a capture of the neutral sentence); return_pieces.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unitDirection } from '../../lib/probes/direction.js';
import { NEUTRAL_TEXT } from '../../lib/probes/neutral-rows.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { toApiError } from '../../lib/server/api-error.js';
import { uiRoutes } from '../../lib/server/routes/ui.js';
import { loadUiAssets } from '../../lib/server/ui-assets.js';
import { encodeVectorData } from '../../lib/server/vector-data.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { CVEC_NAME, PLANTED_LAYER, plantedSetup, postJson, PROBE_NAME, readSse, startServer, type Planted } from './server-fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-playground-api-');
const KEY = 'playground-key';
let p: Planted;
let server: ServerHandle, keyed: ServerHandle, bare: ServerHandle;
let url: string, keyedUrl: string, bareUrl: string;

const built = loadUiAssets();
if ('problem' in built) throw new Error(`these tests need the built page: ${built.problem}`);

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  p = await plantedSetup(tmp.dir);
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 2, ctx: 256 }));
  ({ server: keyed, url: keyedUrl } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 1, ctx: 128, apiKey: KEY }));
  ({ server: bare, url: bareUrl } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 1, ctx: 128, ui: false }));
});
afterAll(async () => {
  await Promise.all([server?.close(), keyed?.close(), bare?.close()]);
  p?.model.free();
  tmp.cleanup();
});

/** The page's own files: the names index.html refers to (script, style sheet, icon). */
function assetPaths(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
}

describe('the page and its files', () => {
  it('GET / is the page, revalidated by ETag, with a CSP that allows this server only; every file it names is ours', async () => {
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const paths = assetPaths(html);
    expect(paths.length).toBe(3);
    // no CDN, no other origin, no protocol-relative URL: every asset under /ui/
    expect(paths.every((x) => /^\/ui\/[A-Za-z0-9_.-]+$/.test(x)), paths.join(' ')).toBe(true);
    expect(html).not.toMatch(/https?:\/\/|\/\/cdn|<script>(?!<\/script>)/);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await fetch(`${url}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
  });

  it('the files: their content types, cached for good (content-hashed names), gzip when asked, 404 for any other name', async () => {
    const html = await (await fetch(`${url}/`)).text();
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };
    let gzipBytes = 0;
    for (const path of assetPaths(html)) {
      const ext = path.split('.').pop()!;
      const plain = await fetch(`${url}${path}`, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.status, path).toBe(200);
      expect(plain.headers.get('content-type'), path).toBe(types[ext]);
      expect(plain.headers.get('cache-control'), path).toBe('public, max-age=31536000, immutable');
      expect(plain.headers.get('content-encoding'), path).toBeNull();
      const body = Buffer.from(await plain.arrayBuffer());
      // node's fetch decodes gzip itself: ask with a raw request to see the bytes on the wire
      const { request } = await import('node:http');
      const wire = await new Promise<{ enc: string | undefined; bytes: Buffer }>((resolve, reject) => {
        request(`${url}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          const parts: Buffer[] = [];
          r.on('data', (d: Buffer) => parts.push(d));
          r.on('end', () => resolve({ enc: r.headers['content-encoding'], bytes: Buffer.concat(parts) }));
        }).on('error', reject).end();
      });
      if (wire.enc === 'gzip') {
        expect(gunzipSync(wire.bytes).equals(body), path).toBe(true);
        gzipBytes += wire.bytes.length;
      } else {
        expect(wire.bytes.equals(body), path).toBe(true);
        gzipBytes += body.length;
      }
      if (ext === 'js') expect(wire.enc).toBe('gzip');
    }
    expect((await fetch(`${url}/ui/nothing-here.js`)).status).toBe(404);
    expect((await fetch(`${url}/ui/..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${url}/ui/manifest.json`)).status).toBe(404);
    // the handle reports the same weight (index.html included)
    const index = Buffer.from(await (await fetch(`${url}/`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    const w = server.ui as { gzipBytes: number; bytes: number };
    expect(w.gzipBytes).toBeGreaterThan(gzipBytes);
    expect(w.bytes).toBeGreaterThan(index.length);
    console.log(`[playground] page weight: ${w.bytes} bytes, ${w.gzipBytes} bytes gzipped (index.html, script, style sheet, icon)`);
    // the whole page stays small (no framework; the issue's ceiling for a framework runtime alone is ~50 KB gzipped)
    expect(w.gzipBytes).toBeLessThan(64 * 1024);
  });

  it('with an API key: the page and its files are open, the API is not (401 with the server\'s message)', async () => {
    const page = await fetch(`${keyedUrl}/`);
    expect(page.status).toBe(200);
    for (const path of assetPaths(await page.text())) expect((await fetch(`${keyedUrl}${path}`)).status, path).toBe(200);
    for (const path of ['/v1/limits', '/v1/steering/vectors']) {
      const r = await fetch(`${keyedUrl}${path}`);
      expect(r.status, path).toBe(401);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/missing API key/);
    }
    const denied = await postJson(`${keyedUrl}/v1/monitors/baseline`, { monitor: [{ name: PROBE_NAME }] });
    expect(denied.status).toBe(401);
    const ok = await fetch(`${keyedUrl}/v1/limits`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(ok.status).toBe(200);
  });

  it('ui: false: no page, no files, the API as before', async () => {
    expect((await fetch(`${bareUrl}/`)).status).toBe(404);
    expect((await fetch(`${bareUrl}${assetPaths(await (await fetch(`${url}/`)).text())[0]}`)).status).toBe(404);
    expect(bare.ui).toEqual({ enabled: false });
    await expect(startServer({ model: p.model, ui: 'no' as unknown as boolean })).rejects.toThrow(/ui must be a boolean/);
    expect((await fetch(`${bareUrl}/v1/limits`)).status).toBe(200);
  });

  it('eia-native serve --no-ui: / is 404; without the flag the page is served and its address printed', async () => {
    const model = p.model.info.path;
    const start = async (extra: string[], ready: RegExp) => {
      const child = spawn(process.execPath, [CLI, 'serve', '-m', model, '--port', '0', '-t', '1', '--ctx', '128', '--slots', '1', ...extra], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      const u = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (d) => {
          stderr += d;
          const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
          if (m && ready.test(stderr)) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
      });
      return { child, url: u, stderr: () => stderr };
    };
    const off = await start(['--no-ui'], /\/v1 \(.*\)\n/);
    try {
      expect((await fetch(`${off.url}/`)).status).toBe(404);
      expect((await fetch(`${off.url}/v1/limits`)).status).toBe(200);
      expect(off.stderr()).not.toMatch(/playground/);
    } finally { off.child.kill('SIGKILL'); }
    const on = await start([], /playground on .*\n/);
    try {
      expect((await fetch(`${on.url}/`)).status).toBe(200);
      expect(on.stderr()).toContain(`playground on ${on.url}/`);
    } finally { on.child.kill('SIGKILL'); }
  });
});

describe('a missing or damaged build', () => {
  it('is a reason, not a crash: GET / answers 503 playground_not_built with it, and the API is unaffected', async () => {
    const dir = join(tmp.dir, 'web-missing');
    mkdirSync(dir);
    const missing = loadUiAssets(dir);
    expect(missing).toEqual({ problem: expect.stringMatching(/not built .*npm run build:ts/) });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'eia-playground', version: 1, files: [{ name: 'index.html' }, { name: 'x.exe' }] }));
    expect(loadUiAssets(dir)).toEqual({ problem: expect.stringMatching(/names a file the server does not serve: x\.exe/) });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'eia-playground', version: 1, files: [{ name: 'index.html' }] }));
    expect(loadUiAssets(dir)).toEqual({ problem: expect.stringMatching(/lacks index\.html \(ENOENT\)/) });
    writeFileSync(join(dir, 'manifest.json'), '{not json');
    expect(loadUiAssets(dir)).toEqual({ problem: expect.stringMatching(/manifest\.json is not JSON/) });
    // no path of the server's in any of these (GET / shows them to clients)
    expect(JSON.stringify(loadUiAssets(dir)) + JSON.stringify(missing)).not.toContain(tmp.dir);
    const app = Fastify();
    app.setErrorHandler(async (err, _req, reply) => { const e = toApiError(err); reply.code(e.status); return e.body(); });
    uiRoutes(app, missing);
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({ error: expect.objectContaining({ code: 'playground_not_built', message: (missing as { problem: string }).problem }) });
    expect((await app.inject({ method: 'GET', url: '/ui/playground.js' })).statusCode).toBe(404);
    await app.close();
  });
});

describe('GET /v1/limits', () => {
  it('the scale bound of every block is 100 x its residual norm, and a scale just beyond it is refused with that number', async () => {
    const l = await (await fetch(`${url}/v1/limits`)).json() as {
      n_layer: number; n_ctx_slot: number; slots: number; max_monitors: number; max_steering_vectors: number; body_limit: number;
      alpha_bound: { factor: number; blocks: { layer: number; residual_norm: number; max_abs_scale: number }[] };
    };
    expect(l.n_layer).toBe(p.model.nLayer);
    expect(l.n_ctx_slot).toBe(server.nCtxSlot);
    expect(l.slots).toBe(2);
    expect(l.max_monitors).toBe(32);
    expect(l.max_steering_vectors).toBe(64);
    expect(l.alpha_bound.blocks.map((b) => b.layer)).toEqual(Array.from({ length: p.model.nLayer }, (_, i) => i));
    for (const b of l.alpha_bound.blocks) expect(b.max_abs_scale).toBeCloseTo(l.alpha_bound.factor * b.residual_norm, 9);
    const b3 = l.alpha_bound.blocks[PLANTED_LAYER];
    const body = (scale: number) => ({ prompt: 'Hi', max_tokens: 2, steering: { vectors: [{ name: PROBE_NAME, scale }] } });
    expect((await postJson(`${url}/v1/completions`, body(b3.max_abs_scale * 0.999))).status).toBe(200);
    const over = await postJson(`${url}/v1/completions`, body(b3.max_abs_scale * 1.001));
    expect(over.status).toBe(400);
    const e = (await over.json() as { error: { code: string; message: string } }).error;
    expect(e.code).toBe('alpha_out_of_range');
    expect(e.message).toContain(b3.max_abs_scale.toPrecision(4));
  });
});

describe('POST /v1/monitors/baseline', () => {
  it('the median projection over the neutral sentence (first token left out), as a capture here computes it', async () => {
    const ctx = await p.model.createContext({ nCtx: 256, nBatch: 256, nSeqMax: 1, nThreads: 1 });
    let expected: number[];
    const layers = [PLANTED_LAYER, 1];
    try {
      const r = await ctx.capture([NEUTRAL_TEXT], { layers, pool: 'tokens' });
      const u = unitDirection(p.v, 'v').direction;
      expected = layers.map((l) => {
        const m = r.data.get(l)!;
        const n = m.length / r.nEmbd;
        const proj: number[] = [];
        for (let t = 1; t < n; t++) {
          let s = 0;
          for (let j = 0; j < r.nEmbd; j++) s += m[t * r.nEmbd + j] * u[j];
          proj.push(s);
        }
        proj.sort((a, b) => a - b);
        const k = (proj.length - 1) / 2;
        return (proj[Math.floor(k)] + proj[Math.ceil(k)]) / 2;
      });
    } finally {
      ctx.free();
    }
    const res = await postJson(`${url}/v1/monitors/baseline`, { monitor: [{ name: PROBE_NAME }, { data: encodeVectorData(p.v), layer: 1 }] });
    expect(res.status).toBe(200);
    const body = await res.json() as { data: { name: string; layer: number; median: number; q1: number; q3: number; n_tokens: number }[] };
    expect(body.data.map((d) => [d.name, d.layer])).toEqual([[PROBE_NAME, PLANTED_LAYER], ['inline', 1]]);
    body.data.forEach((d, i) => {
      expect(Math.abs(d.median - expected[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected[i])));
      expect(d.q1).toBeLessThanOrEqual(d.median);
      expect(d.q3).toBeGreaterThanOrEqual(d.median);
      expect(d.n_tokens).toBe(p.model.tokenize(NEUTRAL_TEXT).length - 1);
    });
    // the two blocks differ (else this compares nothing)
    expect(body.data[0].median).not.toBeCloseTo(body.data[1].median, 3);
  });

  it('refuses what a completion\'s monitor refuses, naming the field', async () => {
    const cases: [unknown, string, string][] = [
      [{ monitor: [{ name: 'nope' }] }, 'unknown_vector', 'monitor[0].name'],
      [{ monitor: [{ name: CVEC_NAME }] }, 'missing_layers', 'monitor[0].layer'],
      [{ monitor: [{ name: PROBE_NAME, layer: 99 }] }, 'layer_out_of_range', 'monitor[0].layer'],
      [{ monitor: [] }, 'invalid_value', 'monitor'],
      [{ monitor: [{ name: PROBE_NAME }], extra: 1 }, 'unknown_field', 'extra'],
    ];
    for (const [body, code, param] of cases) {
      const r = await postJson(`${url}/v1/monitors/baseline`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      const e = (await r.json() as { error: { code: string; param: string } }).error;
      expect([e.code, e.param], JSON.stringify(body)).toEqual([code, param]);
    }
  });
});

describe('return_pieces', () => {
  it('each token\'s piece, streamed and whole, beside its id', async () => {
    const body = { prompt: 'The user is upset and', max_tokens: 12, seed: 3, ignore_eos: true, return_tokens: true, return_pieces: true };
    const whole = await (await postJson(`${url}/v1/completions`, body)).json() as { choices: { text: string; tokens: number[]; pieces: string[] }[] };
    const c = whole.choices[0];
    expect(c.pieces).toEqual(c.tokens.map((t) => p.model.tokenPiece(t)));
    expect(c.pieces.join('')).toBe(c.text);
    const events = await readSse(await postJson(`${url}/v1/completions`, { ...body, stream: true }));
    const chunks = events.filter((e) => e !== '[DONE]') as { tokens?: number[]; pieces?: string[] }[];
    expect(chunks.flatMap((e) => e.tokens ?? [])).toEqual(c.tokens);
    expect(chunks.flatMap((e) => e.pieces ?? [])).toEqual(c.pieces);
    expect(chunks.every((e) => (e.tokens?.length ?? 0) === (e.pieces?.length ?? 0))).toBe(true);
    const plain = await (await postJson(`${url}/v1/completions`, { ...body, return_pieces: undefined })).json() as { choices: { pieces?: unknown }[] };
    expect(plain.choices[0].pieces).toBeUndefined();
  });
});
