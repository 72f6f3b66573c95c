// pull(): downloads against a local HTTP server on 127.0.0.1 (port 0) that serves a generated file
// with Range support and can misbehave on demand (cut the connection, ignore Range, 404, 401).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { modelPath } from '../../lib/models/cache.js';
import { pull, type PullProgress } from '../../lib/models/pull.js';
import { type ModelEntry } from '../../lib/models/registry.js';

const DATA = randomBytes(3 * 1024 * 1024 + 4321);
const SHA = createHash('sha256').update(DATA).digest('hex');
const REPO = 'test-owner/test-model-GGUF';
const FILE = 'tiny-q8_0.gguf';
const PATH = `/${REPO}/resolve/main/${FILE}`;

interface Behaviour {
  /** Cut the connection after this many bytes on the next N full (non-Range) requests. */
  cutAt: number | null;
  cutTimes: number;
  ignoreRange: boolean;
  badContentRange: boolean;
  status: number | null;
}

let server: Server;
let baseUrl = '';
let requests: { url: string; headers: IncomingHttpHeaders }[] = [];
let behaviour: Behaviour;
let home = '';

function resetBehaviour(): void {
  behaviour = { cutAt: null, cutTimes: 0, ignoreRange: false, badContentRange: false, status: null };
}

function entry(over: Partial<ModelEntry> = {}): ModelEntry {
  return {
    name: 'tiny-test',
    repo: REPO,
    file: FILE,
    revision: 'main',
    sha256: SHA,
    sizeBytes: DATA.length,
    arch: 'llama',
    nLayer: 4,
    nEmbd: 64,
    probeLayers: [1, 2],
    steerLayers: [2],
    alphas: [-1, 0, 1],
    nCtx: 256,
    sampling: { temperature: null, topP: null, topK: null, repeatPenalty: null, source: 'test' },
    paperProbeDir: null,
    chatTemplate: 'chatml',
    ...over,
  };
}

beforeAll(async () => {
  resetBehaviour();
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    if (behaviour.status !== null) {
      res.writeHead(behaviour.status, { 'content-type': 'text/plain', 'x-error-code': behaviour.status === 401 ? 'GatedRepo' : 'EntryNotFound' });
      res.end('error');
      return;
    }
    if (req.url !== PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (range && !behaviour.ignoreRange) {
      const start = Number(range[1]);
      if (start >= DATA.length) {
        res.writeHead(416, { 'content-range': `bytes */${DATA.length}` });
        res.end();
        return;
      }
      const shownStart = behaviour.badContentRange ? start + 7 : start;
      res.writeHead(206, {
        'content-length': String(DATA.length - start),
        'content-range': `bytes ${shownStart}-${DATA.length - 1}/${DATA.length}`,
        'accept-ranges': 'bytes',
      });
      res.end(DATA.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': String(DATA.length), 'accept-ranges': 'bytes' });
    if (behaviour.cutAt !== null && behaviour.cutTimes > 0) {
      behaviour.cutTimes--;
      res.write(DATA.subarray(0, behaviour.cutAt), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(DATA);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  // Never outlive the test file, whatever happens.
  setTimeout(() => server.close(), 120_000).unref();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'eia-pull-'));
  vi.stubEnv('EIA_NATIVE_HOME', home);
  vi.stubEnv('HF_TOKEN', '');
  requests = [];
  resetBehaviour();
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(home, { recursive: true, force: true });
});

describe('pull', () => {
  it('downloads the whole file, verifies the checksum and reports progress; a second pull is a no-op', async () => {
    const seen: PullProgress[] = [];
    const r = await pull(entry(), { baseUrl, onProgress: (p) => seen.push(p) });
    const dest = join(home, 'models', 'tiny-test', FILE);
    expect(r.path).toBe(dest);
    expect(modelPath(entry())).toBe(dest);
    expect(r).toMatchObject({ downloaded: true, verified: true, sha256: SHA, bytes: DATA.length, resumedFrom: 0 });
    expect(readFileSync(dest).equals(DATA)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(requests).toHaveLength(1);
    expect(requests[0].url).toBe(PATH);
    expect(requests[0].headers.range).toBeUndefined();
    expect(requests[0].headers.authorization).toBeUndefined();
    const last = seen[seen.length - 1];
    expect(last.bytes).toBe(DATA.length);
    expect(last.total).toBe(DATA.length);
    expect(last.etaSeconds).toBe(0);
    expect(seen.every((p) => p.bytesPerSecond >= 0)).toBe(true);

    const again = await pull(entry(), { baseUrl });
    expect(again).toMatchObject({ downloaded: false, verified: true, sha256: SHA, path: dest });
    expect(requests).toHaveLength(1); // nothing fetched
  });

  it('resumes an interrupted transfer with an HTTP Range request', async () => {
    const cut = 1024 * 1024 + 123;
    behaviour.cutAt = cut;
    behaviour.cutTimes = 1;
    const dest = join(home, 'models', 'tiny-test', FILE);
    await expect(pull(entry(), { baseUrl, retries: 0 })).rejects.toThrow(/interrupted.*run the pull again to resume/s);
    expect(existsSync(dest)).toBe(false);
    const partSize = statSync(`${dest}.part`).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(DATA.length);

    const r = await pull(entry(), { baseUrl, retries: 0 });
    expect(requests).toHaveLength(2);
    expect(requests[1].headers.range).toBe(`bytes=${partSize}-`);
    expect(r).toMatchObject({ downloaded: true, verified: true, resumedFrom: partSize, sha256: SHA });
    expect(readFileSync(dest).equals(DATA)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('retries an interrupted transfer by itself, resuming from the .part file', async () => {
    behaviour.cutAt = 777_777;
    behaviour.cutTimes = 1;
    const r = await pull(entry(), { baseUrl, retryDelayMs: 5 });
    expect(requests).toHaveLength(2);
    expect(requests[1].headers.range).toMatch(/^bytes=\d+-$/);
    expect(r.resumedFrom).toBeGreaterThan(0);
    expect(readFileSync(r.path).equals(DATA)).toBe(true);
  });

  it('starts over when the server ignores Range (200) or answers a wrong Content-Range', async () => {
    const dest = modelPath(entry());
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(`${dest}.part`, Buffer.alloc(5000, 0xab)); // wrong bytes: must not survive
    behaviour.ignoreRange = true;
    const r1 = await pull(entry(), { baseUrl });
    expect(requests[0].headers.range).toBe('bytes=5000-');
    expect(r1.resumedFrom).toBe(0);
    expect(readFileSync(dest).equals(DATA)).toBe(true);

    rmSync(dest);
    rmSync(`${dest}.verified.json`);
    writeFileSync(`${dest}.part`, DATA.subarray(0, 4096));
    resetBehaviour();
    behaviour.badContentRange = true;
    requests = [];
    const r2 = await pull(entry(), { baseUrl });
    expect(requests.map((q) => q.headers.range)).toEqual(['bytes=4096-', undefined]);
    expect(r2.resumedFrom).toBe(0);
    expect(readFileSync(dest).equals(DATA)).toBe(true);
  });

  it('deletes the download and names both hashes when the checksum does not match', async () => {
    const wrong = 'f'.repeat(64);
    const dest = modelPath(entry());
    const err = await pull(entry({ sha256: wrong }), { baseUrl }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/checksum mismatch/i);
    expect((err as Error).message).toContain(`expected sha256 ${wrong}`);
    expect((err as Error).message).toContain(SHA);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('reports 404 clearly and leaves no file behind', async () => {
    const e = entry({ file: 'missing.gguf' });
    const dest = modelPath(e);
    await expect(pull(e, { baseUrl })).rejects.toThrow(/Not found \(HTTP 404\).*missing\.gguf/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(existsSync(`${dest}.lock`)).toBe(false);
    expect(existsSync(dirname(dest))).toBe(false);
  });

  it('reports 401 with a hint about HF_TOKEN', async () => {
    behaviour.status = 401;
    await expect(pull(entry(), { baseUrl })).rejects.toThrow(/Access denied \(HTTP 401\).*GatedRepo.*HF_TOKEN/s);
    expect(existsSync(modelPath(entry()))).toBe(false);
  });

  it('refuses names and files that would escape the cache, before any request', async () => {
    await expect(pull(entry({ name: '../evil' }), { baseUrl })).rejects.toThrow(/escape the model cache/);
    await expect(pull(entry({ name: 'a/b' }), { baseUrl })).rejects.toThrow(/path separators/);
    await expect(pull(entry({ file: '../../outside.gguf' }), { baseUrl })).rejects.toThrow(/escape the model cache/);
    await expect(pull(entry({ file: '/etc/passwd' }), { baseUrl })).rejects.toThrow(/absolute/);
    await expect(pull(entry({ name: 'nul\0name' }), { baseUrl })).rejects.toThrow(/NUL/);
    await expect(pull('no-such-model', { baseUrl })).rejects.toThrow(/Unknown model "no-such-model". Known models: .*phi-3-mini/);
    expect(requests).toHaveLength(0);
    expect(existsSync(join(home, 'evil'))).toBe(false);
  });

  it('sends HF_TOKEN as a Bearer token (env, or the token option)', async () => {
    vi.stubEnv('HF_TOKEN', 'hf_env_secret');
    await pull(entry(), { baseUrl });
    expect(requests[0].headers.authorization).toBe('Bearer hf_env_secret');

    rmSync(join(home, 'models'), { recursive: true });
    await pull(entry(), { baseUrl, token: 'hf_option_secret' });
    expect(requests[1].headers.authorization).toBe('Bearer hf_option_secret');
  });

  it('re-downloads a cached file that does not match the registry checksum', async () => {
    const dest = modelPath(entry());
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, Buffer.alloc(DATA.length, 1));
    const r = await pull(entry(), { baseUrl });
    expect(r.downloaded).toBe(true);
    expect(readFileSync(dest).equals(DATA)).toBe(true);
  });

  it('computes and reports the sha256 when the registry has none', async () => {
    const r = await pull(entry({ sha256: null, sizeBytes: null }), { baseUrl });
    expect(r).toMatchObject({ verified: false, sha256: SHA, downloaded: true });
  });
});
