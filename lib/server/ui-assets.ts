// The playground's built files (scripts/build-web.mjs writes them to dist/web with a manifest), read
// once when the server starts and served from memory: each with its content type, a strong ETag
// (sha256 of its bytes) and a gzip copy made here. Only the files the manifest names are served, and
// only with a known type, so no request path ever reaches the file system.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../util/package.js';

/** Where the build puts the page (scripts/build-web.mjs). */
export const UI_DIST_DIR = join(packageRoot, 'dist', 'web');

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

export interface UiAsset {
  name: string;
  contentType: string;
  body: Buffer;
  /** null when gzip would not make it smaller. */
  gzip: Buffer | null;
  etag: string;
  /** Content-hashed names never change content: cached for a year; the page itself is revalidated. */
  cacheControl: string;
}

export interface UiAssets {
  /** The page served at `/`. */
  index: UiAsset;
  /** Everything else, by file name (served under /ui/). */
  files: Map<string, UiAsset>;
}

interface Manifest { format?: unknown; files?: { name?: unknown; immutable?: unknown }[] }

/** The built page, or the reason it cannot be served (not built, or a damaged build). */
export function loadUiAssets(dir = UI_DIST_DIR): { assets: UiAssets } | { problem: string } {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return { problem: 'the playground is not built (no dist/web/manifest.json): run `npm run build:ts` in the package folder' };
  // the messages go to clients too (GET / answers 503 with them): file names, never paths
  let listed: { name: string; immutable: boolean }[];
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (m.format !== 'eia-playground' || !Array.isArray(m.files)) throw new Error('manifest.json is not a playground manifest');
    listed = m.files.map((f) => ({ name: String(f.name), immutable: f.immutable === true }));
  } catch (e) {
    return { problem: `the playground's build in dist/web cannot be read (${e instanceof SyntaxError ? 'manifest.json is not JSON' : (e as Error).message}): rebuild it with \`npm run build:ts\`` };
  }
  for (const { name } of listed) {
    const ext = /\.([a-z]+)$/.exec(name)?.[1] ?? '';
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || !CONTENT_TYPES[ext]) return { problem: `the playground's manifest.json names a file the server does not serve: ${name.slice(0, 100)}` };
  }
  const files: UiAsset[] = [];
  for (const { name, immutable } of listed) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch (e) {
      return { problem: `the playground's build in dist/web lacks ${name} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}): rebuild it with \`npm run build:ts\`` };
    }
    const gz = gzipSync(body, { level: 9 });
    files.push({
      name, contentType: CONTENT_TYPES[/\.([a-z]+)$/.exec(name)![1]], body,
      gzip: gz.length < body.length ? gz : null,
      etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`,
      cacheControl: immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  const index = files.find((f) => f.name === 'index.html');
  if (!index) return { problem: 'the playground\'s build has no index.html: rebuild it with `npm run build:ts`' };
  return { assets: { index, files: new Map(files.filter((f) => f !== index).map((f) => [f.name, f])) } };
}

/** Total bytes the page loads (index + every asset), plain and as sent gzipped. */
export function uiWeight(a: UiAssets): { bytes: number; gzipBytes: number } {
  let bytes = 0, gzipBytes = 0;
  for (const f of [a.index, ...a.files.values()]) {
    bytes += f.body.length;
    gzipBytes += (f.gzip ?? f.body).length;
  }
  return { bytes, gzipBytes };
}
