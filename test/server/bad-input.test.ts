// Bad input and hostile situations (issue 16, last acceptance item), one test each, and after each the
// server still answers: invalid JSON, a wrong vector length, NaN in the data, an unknown vector name,
// a name with ../, a layer out of range, max_tokens beyond the context, a body over the limit, a
// missing or wrong API key, a full queue, a client that disconnects mid-stream (its slot is freed),
// a request during shutdown, a non-loopback bind without a key. And a running request is untouched
// by all of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ServerHandle } from '../../lib/server/index.js';
import { encodeVectorData } from '../../lib/server/vector-data.js';
import { residualNorms } from '../../lib/probes/residual-norm.js';
import { alphaBound } from '../../lib/engine/validate.js';
import { isEiaError } from '../../lib/util/errors.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { eventually, libraryRun, metricValue, plantedSetup, postJson, PROBE_NAME, readSse, startServer, type Planted } from './server-fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-serve-bad-');
const CTX = 4096;
const BODY_LIMIT = 64 * 1024;
let p: Planted;
let server: ServerHandle;
let url: string;

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  p = await plantedSetup(tmp.dir);
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 2, ctx: CTX, bodyLimit: BODY_LIMIT }));
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

interface ErrorBody { error: { message: string; type: string; param: string | null; code: string } }

/** The server answers health checks and completions. */
async function stillServes(base = url, headers: Record<string, string> = {}): Promise<void> {
  expect((await fetch(`${base}/health`)).status).toBe(200);
  const r = await postJson(`${base}/v1/completions`, { prompt: 'Hello', max_tokens: 3 }, headers);
  expect(r.status).toBe(200);
  expect(((await r.json()) as { choices: { text: string }[] }).choices[0].text.length).toBeGreaterThan(0);
}

async function expectError(res: Response, status: number, code: string, param?: string | null): Promise<ErrorBody> {
  const body = await res.json() as ErrorBody;
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.type).toBe(status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status === 503 ? 'unavailable_error' : 'invalid_request_error');
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body;
}

const complete = (body: Record<string, unknown>) => postJson(`${url}/v1/completions`, { prompt: 'Hello', max_tokens: 4, ...body });

describe('bad input -> 400 with an OpenAI-shaped error, and the server keeps serving', () => {
  it('invalid JSON', async () => {
    await expectError(await postJson(`${url}/v1/chat/completions`, '{"messages": [{"role": "user", "content": "hi"}'), 400, 'invalid_json', null);
    await stillServes();
  });

  it('a vector of the wrong length', async () => {
    const short = encodeVectorData(p.v.subarray(0, p.v.length - 1));
    const e = await expectError(await complete({ steering: { vectors: [{ data: short, layers: 2, scale: 1 }] } }), 400, 'vector_length', 'steering.vectors[0].data');
    expect(e.error.message).toContain(String(p.model.nEmbd));
    await stillServes();
  });

  it('NaN in the data', async () => {
    const bad = Float32Array.from(p.v);
    bad[7] = Number.NaN;
    await expectError(await complete({ monitor: [{ data: encodeVectorData(bad), layer: 2 }] }), 400, 'vector_not_finite', 'monitor[0].data');
    await stillServes();
  });

  it('an unknown vector name', async () => {
    await expectError(await complete({ steering: { vectors: [{ name: 'no-such-vector', scale: 1 }] } }), 400, 'unknown_vector', 'steering.vectors[0].name');
    await stillServes();
  });

  it('a name with ../ (and an absolute path outside the folder)', async () => {
    await expectError(await complete({ steering: { vectors: [{ name: '../vectors/probes/layer3', scale: 1 }] } }), 400, 'invalid_vector_name', 'steering.vectors[0].name');
    await expectError(await complete({ steer_vector_request: { steer_vector_local_path: '/etc/passwd', scale: 1, target_layers: [1] } }), 400, 'invalid_vector_name', 'steer_vector_request.steer_vector_local_path');
    await stillServes();
  });

  it('a layer out of range', async () => {
    const nL = p.model.nLayer;
    await expectError(await complete({ steering: { vectors: [{ name: PROBE_NAME, layers: nL, scale: 1 }] } }), 400, 'layer_out_of_range', 'steering.vectors[0].layers');
    await expectError(await complete({ monitor: [{ name: PROBE_NAME, layer: -1 }] }), 400, 'layer_out_of_range', 'monitor[0].layer');
    await expectError(await complete({ gate: { name: PROBE_NAME, layer: nL - 1, on: 0, off: 1, vectors: [{ name: PROBE_NAME }] } }), 400, 'layer_out_of_range', 'gate.layer');
    await stillServes();
  });

  it('a scale beyond the bound: |scale| <= 100 x the steered block\'s residual norm, as generate and steer refuse it', async () => {
    const norms = await residualNorms(p.model, [2, 3], 1);
    const b3 = alphaBound(norms.get(3)!);
    const e = await expectError(await complete({ steering: { vectors: [{ name: PROBE_NAME, scale: b3 * 1.01 }] } }), 400, 'alpha_out_of_range', 'steering.vectors[0].scale');
    expect(e.error.message).toMatch(/beyond the bound at block 3: \|alpha\| <= 100 x the block's residual norm/);
    // a range is bounded by its smallest block; inline data and a gate's vectors alike
    const lo = Math.min(alphaBound(norms.get(2)!), b3);
    await expectError(await complete({ steering: { vectors: [{ data: encodeVectorData(p.v), layers: [2, 3], scale: -lo * 1.01 }] } }), 400, 'alpha_out_of_range', 'steering.vectors[0].scale');
    await expectError(await complete({ gate: { name: PROBE_NAME, layer: 2, on: 0, off: 1, vectors: [{ name: PROBE_NAME, scale: 1e30 }] } }), 400, 'alpha_out_of_range', 'gate.vectors[0].scale');
    // just inside the bound is served
    expect((await complete({ steering: { vectors: [{ name: PROBE_NAME, scale: b3 * 0.99 }] } })).status).toBe(200);
    await stillServes();
  });

  it('a zero vector has no direction', async () => {
    await expectError(await complete({ steering: { vectors: [{ data: encodeVectorData(new Float32Array(p.v.length)), layers: 2, scale: 1 }] } }), 400, 'invalid_vector_data', 'steering.vectors[0].data');
    await stillServes();
  });

  it('max_tokens beyond the context', async () => {
    await expectError(await complete({ max_tokens: server.nCtxSlot + 1 }), 400, 'context_length_exceeded', 'max_tokens');
    await expectError(await complete({ max_tokens: server.nCtxSlot - 1 }), 400, 'context_length_exceeded', 'max_tokens');  // with the prompt, one too many
    await stillServes();
  });

  it('a body over the limit', async () => {
    await expectError(await postJson(`${url}/v1/completions`, { prompt: 'x'.repeat(BODY_LIMIT + 1024), max_tokens: 1 }), 400, 'body_too_large');
    await stillServes();
  });

  it('fields the server cannot honour and misspelt extensions are named, not ignored', async () => {
    await expectError(await complete({ n: 2 }), 400, 'unsupported_field', 'n');
    await expectError(await complete({ steering: { vectors: [{ name: PROBE_NAME, sclae: 2 }] } }), 400, 'unknown_field', 'steering.vectors[0].sclae');
    await expectError(await complete({ steer_vector_request: { name: PROBE_NAME, prefill_trigger_tokens: [5, 9] } }), 400, 'unsupported_field', 'steer_vector_request.prefill_trigger_tokens');
    await expectError(await complete({ temperature: 'hot' }), 400, 'invalid_value', 'temperature');
    await stillServes();
  });

  it('none of it disturbs a running request: it still produces its lone tokens', async () => {
    const ref = await libraryRun(p.model, CTX, { prompt: 'A long answer follows.', temperature: 0.7, seed: 8, maxTokens: 300, ignoreEog: true });
    const res = await postJson(`${url}/v1/completions`, { prompt: 'A long answer follows.', temperature: 0.7, seed: 8, max_tokens: 300, ignore_eos: true, stream: true, return_tokens: true });
    const bad: Promise<Response>[] = [];
    const events = await readSse(res, () => {
      if (bad.length > 0) return;
      bad.push(postJson(`${url}/v1/completions`, '{"prompt": '), complete({ max_tokens: -1 }), complete({ steering: { vectors: [{ data: 'not base64!', layers: 1 }] } }), complete({ prompt: [1e9] }));
    });
    for (const r of await Promise.all(bad)) expect(r.status).toBe(400);
    const tokens = (events.filter((e) => e !== '[DONE]') as { tokens?: number[] }[]).flatMap((e) => e.tokens ?? []);
    expect(tokens).toEqual(Array.from(ref.tokens));
  });
});

describe('API key', () => {
  it('a missing or wrong key gets 401; the right key and /health pass', async () => {
    const keyed = await startServer({ model: p.model, slots: 1, ctx: 256, apiKey: 'sekret-key' });
    try {
      await expectError(await postJson(`${keyed.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2 }), 401, 'invalid_api_key');
      await expectError(await postJson(`${keyed.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2 }, { authorization: 'Bearer sekret-kez' }), 401, 'invalid_api_key');
      await expectError(await postJson(`${keyed.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2 }, { authorization: 'Bearer sekret-key-and-more' }), 401, 'invalid_api_key');
      const models = await fetch(`${keyed.url}/v1/models`);
      expect(models.status).toBe(401);
      expect(models.headers.get('www-authenticate')).toBe('Bearer');
      await stillServes(keyed.url, { authorization: 'Bearer sekret-key' });
    } finally {
      await keyed.server.close();
    }
  });

  it('a host other than loopback without a key: refused before anything loads', async () => {
    let err: unknown = null;
    try { await createServer({ model: p.model, host: '0.0.0.0' }); } catch (e) { err = e; }
    expect(isEiaError(err, 'E_BAD_ARG') && /without an API key/.test((err as Error).message), String(err)).toBe(true);
    const keyed = await createServer({ model: p.model, host: '0.0.0.0', apiKey: 'k', slots: 1, ctx: 64 });
    let listenErr: unknown = null;
    try { await keyed.listen({ host: '10.1.2.3', port: 0 }); } catch (e) { listenErr = e; }
    expect(listenErr, 'binding an address this machine lacks fails at the socket, not at the key check').not.toBeNull();
    expect(String(listenErr)).not.toMatch(/without an API key/);
    await keyed.close();
    const cli = await runCli(['serve', '--model', 'whatever.gguf', '--host', '0.0.0.0']);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without --api-key/);
  });
});

describe('load, disconnects, shutdown', () => {
  it('a full queue gets 429 with Retry-After; the slot and queue drain when their clients leave', async () => {
    const small = await startServer({ model: p.model, slots: 1, queue: 1, ctx: CTX });
    try {
      const running = new AbortController(), waiting = new AbortController();
      const long = { prompt: 'Hello', max_tokens: 4000, ignore_eos: true, stream: true };
      const first = await postJson(`${small.url}/v1/completions`, long, {}, running.signal);
      expect(first.status).toBe(200);
      const queued = postJson(`${small.url}/v1/completions`, long, {}, waiting.signal).catch((e: unknown) => e);
      await eventually(async () => small.server.stats().queued === 1);
      const refused = await postJson(`${small.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2 });
      const retry = Number(refused.headers.get('retry-after'));
      await expectError(refused, 429, 'queue_full');
      expect(retry).toBeGreaterThanOrEqual(1);
      waiting.abort();
      running.abort();
      await queued;
      await eventually(async () => small.server.stats().busy === 0 && small.server.stats().queued === 0);
      await stillServes(small.url);
    } finally {
      await small.server.close();
    }
  });

  it('a client that disconnects mid-stream frees its slot at once (seen on /slots and /metrics)', async () => {
    const cancels0 = await metricValue(url, 'eia_sequences_finished_total{reason="cancel"}');
    const tokens0 = await metricValue(url, 'eia_completion_tokens_total');
    const ac = new AbortController();
    const res = await postJson(`${url}/v1/completions`, { prompt: 'Hello', max_tokens: 4000, ignore_eos: true, stream: true }, {}, ac.signal);
    let n = 0;
    await readSse(res, () => ++n >= 3);
    expect(((await (await fetch(`${url}/slots`)).json()) as { busy: number }).busy).toBe(1);
    ac.abort();
    await eventually(async () => ((await (await fetch(`${url}/slots`)).json()) as { busy: number }).busy === 0, 3000);
    expect(await metricValue(url, 'eia_sequences_finished_total{reason="cancel"}')).toBe(cancels0 + 1);
    expect(await metricValue(url, 'eia_completion_tokens_total') - tokens0).toBeLessThan(4000);
    await stillServes();
  });

  it('a request arriving during shutdown gets a clear 503; the running one finishes; then the port closes', async () => {
    const s = await startServer({ model: p.model, slots: 2, ctx: CTX });
    const res = await postJson(`${s.url}/v1/completions`, { prompt: 'Hello', max_tokens: 600, ignore_eos: true, stream: true, return_tokens: true });
    let closing: Promise<void> | null = null;
    let during: Promise<Response> | null = null;
    let health: Promise<Response> | null = null;
    const events = await readSse(res, () => {
      if (closing) return;
      closing = s.server.close();
      during = postJson(`${s.url}/v1/completions`, { prompt: 'Hi', max_tokens: 2 });
      health = fetch(`${s.url}/health`);
    });
    await expectError(await during!, 503, 'shutting_down');
    expect((await health!).status).toBe(503);
    const tokens = (events.filter((e) => e !== '[DONE]') as { tokens?: number[] }[]).flatMap((e) => e.tokens ?? []);
    expect(tokens.length).toBe(600);
    expect(events[events.length - 1]).toBe('[DONE]');
    await closing!;
    let refused: unknown = null;
    try { await fetch(`${s.url}/health`); } catch (e) { refused = e; }
    expect(refused).not.toBeNull();
  });
});
