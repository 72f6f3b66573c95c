// Limits a client meets by accident and the transport around the routes (issue 23, items 12-17):
// multi-prompt completions beyond slots + queue, flat token-id prompts, huge prompts and the event
// loop, slow bodies and unauthenticated sockets, every request in the metrics once with its outcome,
// and the smaller points (GET /v1/models/{id}, no server paths, top-level `tokens`, OpenAI-shaped
// transport errors, 415 for text/plain, the vectors folder's names, symlinks and problems). Each
// refusal or repair is followed by a successful request.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeControlVector } from '../../lib/engine/control-vector.js';
import { writeNpy } from '../../lib/io/npy.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { encodeVectorData } from '../../lib/server/vector-data.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventually, metricValue, plantedSetup, postJson, PROBE_NAME, readSse, startServer, type Planted } from './server-fixtures.js';

const tmp = tempDir('eia-serve-limits-');
const CTX = 4096;
let p: Planted;
let server: ServerHandle;
let url: string;

beforeAll(async () => {
  p = await plantedSetup(tmp.dir);
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 2, queue: 4, ctx: CTX }));
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

interface ErrorBody { error: { message: string; type: string; param: string | null; code: string } }
interface Completion { choices: { index: number; text: string; finish_reason: string; tokens?: number[] }[]; tokens?: number[]; usage: { prompt_tokens: number } }

async function expectError(res: Response, status: number, code: string, param?: string | null): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.type).toBe('string');
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body;
}

/** The server answers a completion (the successful request after each refusal). */
async function stillServes(base = url, headers: Record<string, string> = {}): Promise<void> {
  const r = await postJson(`${base}/v1/completions`, { prompt: 'Hello', max_tokens: 3 }, headers);
  expect(r.status).toBe(200);
  expect(((await r.json()) as Completion).choices[0].text.length).toBeGreaterThan(0);
}

const portOf = (base: string) => Number(new URL(base).port);

/** A raw TCP exchange: writes `head` (and nothing more), collects what comes back until the server closes or `ms` pass. */
function rawExchange(base: string, head: string, ms: number): Promise<{ data: string; closed: boolean; elapsed: number; socket: Socket }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = connect(portOf(base), '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ data, closed, elapsed: Date.now() - t0, socket });
    };
    const timer = setTimeout(() => finish(false), ms);
    socket.on('data', (d) => { data += d.toString('utf8'); });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.write(head);
  });
}

/** The JSON body of a raw HTTP response. */
function rawBody(data: string): unknown {
  const k = data.indexOf('\r\n\r\n');
  return JSON.parse(data.slice(k + 4));
}

/** Requests counted in eia_http_requests_total, every route and outcome but the scrapes of /metrics themselves. */
async function requestsCounted(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('eia_http_requests_total{') && !l.includes('route="/metrics"'))
    .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('item 12: multi-prompt completions are admitted as one unit', () => {
  it('7 prompts against 2 slots + a queue of 4 run (they got 429 forever); beyond the per-request limit a 400 names it', async () => {
    const prompts = Array.from({ length: 7 }, (_, i) => `Prompt number ${i}:`);
    const r = await postJson(`${url}/v1/completions`, { prompt: prompts, max_tokens: 3, seed: 1 });
    const body = await r.json() as Completion;
    expect(r.status, JSON.stringify(body)).toBe(200);
    expect(body.choices.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const c of body.choices) expect(c.text.length).toBeGreaterThan(0);
    // each choice is the prompt's own completion (the same as a request of that prompt alone)
    const alone = await (await postJson(`${url}/v1/completions`, { prompt: prompts[5], max_tokens: 3, seed: 1 })).json() as Completion;
    expect(body.choices[5].text).toBe(alone.choices[0].text);
    // streamed too: every choice finishes, then [DONE]
    const s = await postJson(`${url}/v1/completions`, { prompt: prompts, max_tokens: 3, seed: 1, stream: true });
    expect(s.status).toBe(200);
    const events = await readSse(s);
    expect(events[events.length - 1]).toBe('[DONE]');
    const finished = (events.filter((e) => e !== '[DONE]') as { choices: { index: number; finish_reason: string | null }[] }[])
      .flatMap((e) => e.choices).filter((c) => c.finish_reason !== null).map((c) => c.index).sort();
    expect(finished).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // more prompts than one request may carry: a 400 naming the limit (never a 429 to retry)
    const max = server.maxPrompts;
    const e = await expectError(await postJson(`${url}/v1/completions`, { prompt: Array.from({ length: max + 1 }, () => 'x'), max_tokens: 1 }), 400, 'too_many_prompts', 'prompt');
    expect(e.error.message).toContain(String(max));
    await stillServes();
  });

  it('a server with no queue still runs a request of more prompts than slots', async () => {
    const s = await startServer({ model: p.model, slots: 2, queue: 0, ctx: 256 });
    try {
      const r = await postJson(`${s.url}/v1/completions`, { prompt: ['a', 'b', 'c'], max_tokens: 2 });
      expect(r.status, await r.clone().text()).toBe(200);
      expect(((await r.json()) as Completion).choices).toHaveLength(3);
      await stillServes(s.url);
    } finally {
      await s.server.close();
    }
  });
});

describe('item 13: token-id prompts are not prompts to count', () => {
  it('a flat prompt of 300 token ids is one prompt (it got 400 from a prompt-count limit); ids beyond the slot get context_length_exceeded', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => 10 + (i % 50));
    const flat = await postJson(`${url}/v1/completions`, { prompt: ids, max_tokens: 2 });
    const fb = await flat.json() as Completion;
    expect(flat.status, JSON.stringify(fb)).toBe(200);
    expect(fb.choices).toHaveLength(1);
    expect(fb.usage.prompt_tokens).toBe(300);
    const nested = await postJson(`${url}/v1/completions`, { prompt: [ids], max_tokens: 2 });
    expect(nested.status).toBe(200);
    await expectError(await postJson(`${url}/v1/completions`, { prompt: Array.from({ length: server.nCtxSlot + 5 }, () => 11), max_tokens: 1 }), 400, 'context_length_exceeded', 'prompt');
    await stillServes();
  });
});

describe('item 14: a huge prompt never stalls the event loop', () => {
  // tokenising the prompt on the event loop paused every stream for seconds; a stream's own steps on a
  // loaded 2-core machine take up to a few hundred ms, so the bound sits between the two
  const GAP_MS = 500;

  /** The longest pause between two chunks of a running stream while `during` runs (up to 3 tries: a loaded machine may not schedule us). */
  async function streamGapWhile(during: () => Promise<void>): Promise<number[]> {
    const gaps: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const ac = new AbortController();
      const res = await postJson(`${url}/v1/completions`, { prompt: 'A long answer follows.', max_tokens: 3000, ignore_eos: true, stream: true }, {}, ac.signal);
      expect(res.status).toBe(200);
      let last = 0;
      let worst = 0;
      let measuring = false;
      let started: Promise<void> | null = null;
      let n = 0;
      await readSse(res, () => {
        const now = performance.now();
        if (measuring && last > 0) worst = Math.max(worst, now - last);
        last = now;
        if (++n === 5) {
          measuring = true;
          started = during().finally(() => { measuring = false; });
        }
        return started !== null && !measuring;
      }).catch(() => {});
      await started;
      ac.abort();
      gaps.push(worst);
      if (worst < GAP_MS) break;
    }
    return gaps;
  }

  it('a 4 MB prompt is refused while another stream keeps its pace (its longest inter-chunk gap stays small)', async () => {
    const big = Buffer.from(JSON.stringify({ prompt: 'hello world how are you '.repeat(170_000), max_tokens: 4 }));
    expect(big.length).toBeGreaterThan(4_000_000);
    const bigChat = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: 'The user is in distress and I '.repeat(133_000) }], max_tokens: 4 }));
    let refusal: Response | null = null;
    let chatRefusal: Response | null = null;
    const gaps = await streamGapWhile(async () => {
      refusal = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      chatRefusal = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bigChat });
    });
    console.log(`item 14: longest inter-chunk gap of the running stream while 4 MB prompts were refused, per attempt: ${gaps.map((g) => `${g.toFixed(0)} ms`).join(', ')}`);
    const e = await expectError(refusal!, 400, 'context_length_exceeded', 'prompt');
    expect(e.error.message).toMatch(/slot/);
    await expectError(chatRefusal!, 400, 'context_length_exceeded', 'messages');
    expect(Math.min(...gaps)).toBeLessThan(GAP_MS);
    await stillServes();
  });

  it('a prompt within the byte bound is still tokenised (the bound never refuses what fits)', async () => {
    // the longest text that fits: a slot's worth of one-byte tokens is far below the byte bound
    const r = await postJson(`${url}/v1/completions`, { prompt: 'x'.repeat(server.nCtxSlot - 8), max_tokens: 2 });
    expect(r.status, await r.clone().text()).toBe(200);
    await expectError(await postJson(`${url}/v1/completions`, { prompt: 'x'.repeat(server.nCtxSlot + 8), max_tokens: 2 }), 400, 'context_length_exceeded', 'prompt');
    await stillServes();
  });
});

describe('item 15: slow bodies and unauthenticated sockets', () => {
  it('headers then a partial body: 408 (OpenAI-shaped) and the socket closed after the request timeout', async () => {
    const s = await startServer({ model: p.model, slots: 1, ctx: 256, requestTimeoutMs: 800 });
    try {
      const before = await metricValue(s.url, 'eia_http_requests_total{route="/v1/completions",status="408",outcome="complete"}');
      const head = 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt": "He';
      const results = await Promise.all(Array.from({ length: 20 }, () => rawExchange(s.url, head, 10_000)));
      for (const r of results) {
        expect(r.closed, `socket still open after ${r.elapsed} ms`).toBe(true);
        expect(r.data).toMatch(/^HTTP\/1\.1 408 /);
        const body = rawBody(r.data) as ErrorBody;
        expect(body.error.code).toBe('request_timeout');
        expect(body.error.type).toBe('invalid_request_error');
        expect(r.elapsed).toBeGreaterThanOrEqual(700);
      }
      // each counted once, with its outcome
      await eventually(async () => await metricValue(s.url, 'eia_http_requests_total{route="/v1/completions",status="408",outcome="complete"}') === before + 20);
      await stillServes(s.url);
    } finally {
      await s.server.close();
    }
  });

  it('an unauthenticated request gets its 401 and its socket is closed (it cannot hold a connection with a slow body)', async () => {
    const s = await startServer({ model: p.model, slots: 1, ctx: 256, apiKey: 'k3y' });
    try {
      const head = 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt": "He';
      const r = await rawExchange(s.url, head, 5000);
      expect(r.data).toMatch(/^HTTP\/1\.1 401 /);
      expect(r.data.toLowerCase()).toContain('connection: close');
      expect(r.closed, 'the server closed the socket').toBe(true);
      expect((rawBody(r.data) as ErrorBody).error.code).toBe('invalid_api_key');
      await stillServes(s.url, { authorization: 'Bearer k3y' });
    } finally {
      await s.server.close();
    }
  });

  it('malformed HTTP, oversized headers and an undecodable URL get OpenAI-shaped errors too', async () => {
    const bad = await rawExchange(url, 'THIS IS NOT HTTP\r\n\r\n', 5000);
    expect(bad.data).toMatch(/^HTTP\/1\.1 400 /);
    expect((rawBody(bad.data) as ErrorBody).error.code).toBe('bad_http_request');
    const huge = await rawExchange(url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 5000);
    expect(huge.data).toMatch(/^HTTP\/1\.1 431 /);
    expect((rawBody(huge.data) as ErrorBody).error.code).toBe('headers_too_large');
    // a URL the router cannot decode (it never reaches a route)
    await expectError(await fetch(`${url}/v1/models/%zz`), 400, 'invalid_url');
    await stillServes();
  });
});

describe('item 16: every request is counted once, with its outcome', () => {
  it('client aborts (running, queued, mid-stream) and refusals all appear in eia_http_requests_total', async () => {
    const s = await startServer({ model: p.model, slots: 1, queue: 2, ctx: CTX });
    try {
      expect(await requestsCounted(s.url)).toBe(0);
      const long = { prompt: 'Hello', max_tokens: 3000, ignore_eos: true };
      let sent = 0;
      // a non-streamed request aborted while it runs
      const running = new AbortController();
      const r1 = postJson(`${s.url}/v1/completions`, long, {}, running.signal).catch(() => null);
      sent++;
      await eventually(async () => s.server.stats().busy === 1);
      // a request aborted while it waits in the queue
      const queued = new AbortController();
      const r2 = postJson(`${s.url}/v1/completions`, long, {}, queued.signal).catch(() => null);
      sent++;
      await eventually(async () => s.server.stats().queued === 1);
      const dropped0 = await metricValue(s.url, 'eia_sequences_dropped_total{reason="client_closed"}');
      queued.abort();
      await r2;
      await eventually(async () => s.server.stats().queued === 0);
      running.abort();
      await r1;
      await eventually(async () => s.server.stats().busy === 0);
      expect(await metricValue(s.url, 'eia_sequences_dropped_total{reason="client_closed"}')).toBe(dropped0 + 1);
      // a stream aborted after a few chunks
      const mid = new AbortController();
      const st = await postJson(`${s.url}/v1/completions`, { ...long, stream: true }, {}, mid.signal);
      sent++;
      let n = 0;
      await readSse(st, () => ++n >= 3).catch(() => {});
      mid.abort();
      await eventually(async () => s.server.stats().busy === 0);
      // refusals and plain successes
      expect((await postJson(`${s.url}/v1/completions`, '{"prompt": ')).status).toBe(400);
      sent++;
      expect((await fetch(`${s.url}/nowhere`)).status).toBe(404);
      sent++;
      await stillServes(s.url);
      sent++;
      await eventually(async () => await requestsCounted(s.url) === sent);
      expect(await requestsCounted(s.url)).toBe(sent);
      expect(await metricValue(s.url, 'eia_http_requests_total{route="/metrics",status="200",outcome="complete"}')).toBeGreaterThan(0);
      expect(await metricValue(s.url, 'eia_http_requests_total{route="/v1/completions",status="499",outcome="client_closed"}')).toBe(2);
      expect(await metricValue(s.url, 'eia_http_requests_total{route="/v1/completions",status="200",outcome="client_closed"}')).toBe(1);
      await stillServes(s.url);
    } finally {
      await s.server.close();
    }
  });
});

describe('shutdown and silent connections', () => {
  it('a connection that opened and sent nothing does not hold close() (it used to wait for its client)', async () => {
    const s = await startServer({ model: p.model, slots: 1, ctx: 256 });
    await stillServes(s.url);
    const silent = connect(portOf(s.url), '127.0.0.1');
    silent.on('error', () => {});
    const partial = connect(portOf(s.url), '127.0.0.1');
    partial.on('error', () => {});
    partial.write('POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"pro');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await s.server.close();
    const ms = Date.now() - t0;
    expect(ms, `close() took ${ms} ms`).toBeLessThan(8000);
    await eventually(async () => silent.destroyed || silent.readyState === 'closed' || silent.readableEnded);
    silent.destroy();
    partial.destroy();
    await stillServes();
  }, 120_000);
});

describe('item 16 under load: requests aborted at random moments', () => {
  it('every request that reached the server is counted exactly once', async () => {
    const s = await startServer({ model: p.model, slots: 2, queue: 4, ctx: 512 });
    try {
      let reached = 0;
      s.server.app.server.on('request', (req: { url?: string }) => { if (!req.url?.startsWith('/metrics')) reached++; });
      let seed = 5;
      const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32; };
      let aborted = 0;
      const one = async () => {
        const ac = new AbortController();
        if (rnd() < 0.4) setTimeout(() => ac.abort(), rnd() * 200);
        try {
          // long enough to be cut: ignore_eos makes a request last its max_tokens, and 40-200 tokens outlast most abort moments
          // (short requests that ended on an early end-of-generation made the count of aborts depend on the machine's speed)
          const r = await postJson(`${s.url}/v1/completions`, { prompt: 'Hello', max_tokens: 40 + Math.floor(rnd() * 160), stream: rnd() < 0.5, ignore_eos: true }, {}, ac.signal);
          await r.text();
        } catch { aborted++; }
      };
      for (let wave = 0; wave < 6; wave++) await Promise.all(Array.from({ length: 20 }, one));
      expect(aborted).toBeGreaterThan(10);
      await eventually(async () => s.server.stats().busy === 0 && s.server.stats().queued === 0);
      await eventually(async () => await requestsCounted(s.url) === reached);
      expect(reached).toBeGreaterThan(100);
      await stillServes(s.url);
    } finally {
      await s.server.close();
    }
  });
});

describe('item 17: smaller points', () => {
  it('GET /v1/models/{id}: the model (client.models.retrieve works); another id is a 404', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const m = await client.models.retrieve(server.modelId);
    expect(m.id).toBe(server.modelId);
    expect(m.object).toBe('model');
    await expectError(await fetch(`${url}/v1/models/no-such-model`), 404, 'model_not_found', 'model');
    // an id with a '/' (as Hugging Face names models), plain or percent-encoded
    const s = await startServer({ model: p.model, slots: 1, ctx: 256, modelId: 'org/model-x' });
    try {
      for (const path of ['org/model-x', 'org%2Fmodel-x']) expect(((await (await fetch(`${s.url}/v1/models/${path}`)).json()) as { id: string }).id).toBe('org/model-x');
      expect((await new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 }).models.retrieve('org/model-x')).id).toBe('org/model-x');
    } finally {
      await s.server.close();
    }
    await stillServes();
  });

  it('GET /v1/steering/vectors shows no path of the server', async () => {
    const text = await (await fetch(`${url}/v1/steering/vectors`)).text();
    expect(text).not.toContain(tmp.dir);
    // the folder's own name only (what it is called, not where it lies)
    expect((JSON.parse(text) as { folder: unknown }).folder).toBe('vectors');
  });

  it('non-streamed return_tokens: tokens at the top level as in each choice', async () => {
    const r = await (await postJson(`${url}/v1/completions`, { prompt: 'Hello', max_tokens: 4, return_tokens: true })).json() as Completion;
    expect(r.choices[0].tokens).toHaveLength(4);
    expect(r.tokens).toEqual(r.choices[0].tokens);
  });

  it('Content-Type text/plain is a 415 like every other type but JSON', async () => {
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ prompt: 'Hi', max_tokens: 2 }) });
    await expectError(r, 415, 'unsupported_media_type');
    await stillServes();
  });

  describe('the vectors folder: names, files and problems', () => {
    let s: { server: ServerHandle; url: string };
    let dir: string;
    const register = (name: string, persist = false) => postJson(`${s.url}/v1/steering/vectors`, { name, data: encodeVectorData(p.v), layer: 3, persist });
    const listing = async () => (await (await fetch(`${s.url}/v1/steering/vectors`)).json()) as { data: { name: string; source: string }[]; problems: { file: string; message: string }[] };

    beforeAll(async () => {
      dir = join(tmp.dir, 'names');
      mkdirSync(dir);
      writeFileSync(join(dir, 'onlyjson.json'), '{}');
      writeFileSync(join(dir, 'broken.npy'), 'not an npy file');
      writeNpy(join(dir, 'dup.npy'), p.v);
      writeControlVector(join(dir, 'dup.gguf'), new Map([[3, p.v]]));
      const outside = join(tmp.dir, 'outside.npy');
      writeNpy(outside, p.v);
      symlinkSync(outside, join(dir, 'escape.npy'));
      symlinkSync(join(tmp.dir, 'missing.npy'), join(dir, 'dangling.npy'));
      symlinkSync(dir, join(dir, 'loop'));
      s = await startServer({ model: p.model, vectors: dir, slots: 1, ctx: 256 });
    });
    afterAll(async () => { await s?.server.close(); });

    it('registering `onlyjson` when onlyjson.json exists: the 409 names onlyjson.json', async () => {
      const e = await expectError(await register('onlyjson', true), 409, 'vector_exists', 'name');
      expect(e.error.message).toContain('onlyjson.json');
      expect(e.error.message).not.toContain('onlyjson.npy');
      expect((await register('onlyjson2', true)).status).toBe(201);
    });

    it('a name a folder file already has (also a file that cannot be read, or x beside x.npy and x.gguf) cannot be registered', async () => {
      const broken = await expectError(await register('broken'), 409, 'vector_exists', 'name');
      expect(broken.error.message).toContain('broken.npy');
      const dup = await expectError(await register('dup'), 409, 'vector_exists', 'name');
      expect(dup.error.message).toMatch(/dup\.(npy|gguf)/);
      await expectError(await register('dup', true), 409, 'vector_exists', 'name');
      expect((await register('dup-free')).status).toBe(201);
    });

    it('a file dropped in later under a registered name is reported, never shadowed in silence', async () => {
      expect((await register('late')).status).toBe(201);
      writeNpy(join(dir, 'late.npy'), p.v);
      const l = await listing();
      expect(l.data.filter((v) => v.name === 'late').map((v) => v.source)).toEqual(['memory']);
      expect(l.problems.find((x) => x.file === 'late.npy')?.message).toMatch(/registered/);
    });

    it('symlinks that leave the folder, lead back to it or lead nowhere are listed in problems', async () => {
      const l = await listing();
      const files = l.problems.map((x) => x.file);
      expect(files).toContain('escape.npy');
      expect(files).toContain('dangling.npy');
      expect(l.problems.find((x) => x.file === 'loop')?.message).toMatch(/itself/);
      expect(l.data.filter((v) => v.name.startsWith('loop/'))).toEqual([]);
      expect(JSON.stringify(l.problems)).not.toContain(tmp.dir);
      const r = await postJson(`${s.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2, steering: { vectors: [{ name: 'escape', scale: 1 }] } });
      await expectError(r, 400, 'unusable_vector', 'steering.vectors[0].name');
      await stillServes(s.url);
    });
  });

  it('a request on a kept-alive connection while the server closes is answered by the routes (OpenAI-shaped), not the framework', async () => {
    const s = await startServer({ model: p.model, slots: 1, ctx: 256 });
    const socket = connect(portOf(s.url), '127.0.0.1');
    let data = '';
    socket.on('data', (d) => { data += d.toString('utf8'); });
    socket.on('error', () => {});
    const body = JSON.stringify({ prompt: 'Hi', max_tokens: 2 });
    socket.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await eventually(async () => s.server.stats().slots === 1);
    await new Promise((r) => setTimeout(r, 100));
    const closing = s.server.close();
    await eventually(async () => !s.server.app.server.listening);
    // the rest of the first request, and a second one pipelined behind it on the same connection
    socket.write(`${body.slice(5)}POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await closing;
    const responses = data.split(/(?=HTTP\/1\.1 )/);
    expect(responses.length, data).toBe(2);
    for (const r of responses) {
      expect(r).toMatch(/^HTTP\/1\.1 503 /);
      const e = JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4)) as ErrorBody;
      expect(e.error.code).toBe('shutting_down');
      expect(e.error.type).toBe('unavailable_error');
    }
    await stillServes();
  });
});

// the monitor limit is the server's option, not a fixed schema bound (a limit a client met by accident)
describe('limits named by the server', () => {
  it('monitors: the configured maximum is what a request may bring, named in the 400', async () => {
    const s = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 1, ctx: 256, maxMonitors: 80 });
    try {
      const many = (n: number) => postJson(`${s.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2, monitor: Array.from({ length: n }, () => ({ name: PROBE_NAME })) });
      expect((await many(70)).status).toBe(200);
      const e = await expectError(await many(81), 400, 'too_many_monitors', 'monitor');
      expect(e.error.message).toContain('80');
      await stillServes(s.url);
    } finally {
      await s.server.close();
    }
  });
});

describe('docs/reliability.md, "Server"', () => {
  it('states only statuses and codes the server gives (each code is one the server\'s sources produce)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'reliability.md'), 'utf8');
    const section = doc.slice(doc.indexOf('\n## Server\n'), doc.indexOf('\n## ', doc.indexOf('\n## Server\n') + 5));
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Case') && !l.startsWith('| ---'));
    expect(rows.length).toBeGreaterThanOrEqual(20);
    const dir = join(ROOT, 'lib', 'server');
    const sources = [...readdirSync(dir).map((f) => join(dir, f)), ...readdirSync(join(dir, 'routes')).map((f) => join(dir, 'routes', f))]
      .filter((f) => f.endsWith('.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const r of rows) {
      const [, status, code] = r.split('|').slice(1, -1).map((c) => c.trim());
      expect(status, r).toMatch(/^(\d{3}|—)$/);
      if (code === '—') continue;
      const name = /^`([a-z_]+)`$/.exec(code)?.[1];
      expect(name, r).toBeTruthy();
      expect(sources.includes(`'${name}'`), `${name} is a code of lib/server`).toBe(true);
    }
  });
});
