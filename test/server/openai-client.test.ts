// The official `openai` npm client against `createServer` on a loopback port (issue 16, acceptance 1):
// streamed and non-streamed chat completions and text completions from the planted model, each equal
// to the library's `generate` with the same settings, also while 7 other requests with other
// steering and other monitors run in the same batch.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SequenceRequest } from '../../lib/engine/generate.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { encodeVectorData } from '../../lib/server/vector-data.js';
import { tempDir } from '../helpers/fixtures.js';
import { libraryRun, plantedSetup, startServer, type Planted } from './server-fixtures.js';

const tmp = tempDir('eia-serve-openai-');
const CTX = 256;
const PROMPT = 'The user is in distress and I must decide what to do.';
let p: Planted;
let server: ServerHandle;
let client: OpenAI;

// the request extensions ride along in the body; the client passes unknown fields through
type Extended = Record<string, unknown>;

beforeAll(async () => {
  p = await plantedSetup(tmp.dir);
  const s = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 8, ctx: CTX });
  server = s.server;
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

describe('openai client', () => {
  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([server.modelId]);
  });

  it('non-streamed chat completion = library generate with chat: true, same seed and sampling', async () => {
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, chat: true, temperature: 0.9, topK: 40, seed: 11, maxTokens: 24 });
    const r = await client.chat.completions.create({
      model: server.modelId, messages: [{ role: 'user', content: PROMPT }], temperature: 0.9, seed: 11, max_tokens: 24,
      top_k: 40, return_tokens: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming & Extended);
    const choice = r.choices[0] as OpenAI.ChatCompletion.Choice & { tokens: number[] };
    expect(choice.tokens).toEqual(Array.from(ref.tokens));
    expect(choice.message.content).toBe(ref.text);
    expect(choice.message.role).toBe('assistant');
    expect(choice.finish_reason).toBe(ref.finishReason === 'length' ? 'length' : 'stop');
    expect(r.usage?.completion_tokens).toBe(ref.tokens.length);
    expect(r.usage?.prompt_tokens).toBe(ref.nPrompt);
  });

  it('streamed chat completion: the deltas spell the non-streamed text, token by token as generate makes them', async () => {
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, chat: true, temperature: 0.7, seed: 5, maxTokens: 20 });
    const stream = await client.chat.completions.create({
      model: server.modelId, messages: [{ role: 'user', content: PROMPT }], temperature: 0.7, seed: 5, max_tokens: 20,
      stream: true, stream_options: { include_usage: true }, return_tokens: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming & Extended);
    let text = '';
    const tokens: number[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let roles = 0;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      if (c.delta.role) roles++;
      text += c.delta.content ?? '';
      tokens.push(...((chunk as unknown as { tokens?: number[] }).tokens ?? []));
      if (c.finish_reason) finish = c.finish_reason;
    }
    expect(roles).toBe(1);
    expect(tokens).toEqual(Array.from(ref.tokens));
    expect(text).toBe(ref.text);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(20);
  });

  it('a streamed, steered chat with probe scores (the docs/server.md example): tokens and scores = the library run', async () => {
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, chat: true, temperature: 0.7, seed: 7, maxTokens: 24, steer: [{ layer: 3, direction: p.v, alpha: 4 }] }, [{ layer: 3, direction: p.v }]);
    const stream = await client.chat.completions.create({
      model: server.modelId, stream: true, max_tokens: 24, seed: 7, temperature: 0.7, messages: [{ role: 'user', content: PROMPT }],
      steering: { vectors: [{ name: 'probes/layer3', scale: 4 }] }, monitor: [{ name: 'probes/layer3' }], return_tokens: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming & Extended);
    const scores: number[][] = [];
    const tokens: number[] = [];
    let text = '';
    for await (const chunk of stream) {
      const x = chunk as unknown as { probe_scores?: number[][]; tokens?: number[] };
      scores.push(...(x.probe_scores ?? []));
      tokens.push(...(x.tokens ?? []));
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(tokens).toEqual(Array.from(ref.tokens));
    expect(scores).toEqual(Array.from(ref.scores![0], (s) => [s]));
    expect(text).toBe(ref.text);
  });

  it('text completion (raw prompt, streamed and not) = library generate of the raw prompt', async () => {
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.8, topP: 0.9, seed: 3, maxTokens: 16 });
    const r = await client.completions.create({ model: server.modelId, prompt: PROMPT, temperature: 0.8, top_p: 0.9, seed: 3, max_tokens: 16 });
    expect(r.choices[0].text).toBe(ref.text);
    const stream = await client.completions.create({ model: server.modelId, prompt: PROMPT, temperature: 0.8, top_p: 0.9, seed: 3, max_tokens: 16, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(ref.text);
  });

  it('a stop string: streamed and whole both end before it, as the library does (finish_reason stop)', async () => {
    const free = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.7, seed: 21, maxTokens: 30, ignoreEog: true });
    // a word from the middle of the free run, cut there by the stop string
    const pieces = Array.from(free.tokens, (t) => p.model.tokenPiece(t));
    const stop = pieces[12];
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.7, seed: 21, maxTokens: 30, ignoreEog: true, stop: [stop] });
    expect(ref.finishReason).toBe('stop');
    const params = { model: server.modelId, prompt: PROMPT, temperature: 0.7, seed: 21, max_tokens: 30, stop: [stop], ignore_eos: true };
    const whole = await client.completions.create(params as OpenAI.CompletionCreateParamsNonStreaming & Extended);
    expect(whole.choices[0].text).toBe(ref.text);
    expect(whole.choices[0].finish_reason).toBe('stop');
    const stream = await client.completions.create({ ...params, stream: true } as OpenAI.CompletionCreateParamsStreaming & Extended);
    let text = '';
    let sawStop = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (text.includes(stop)) sawStop = true;
    }
    expect(sawStop).toBe(false);
    expect(text).toBe(ref.text);
  });

  it('several prompts in one completion request: one choice each, in order, each = its library run', async () => {
    const prompts = ['The user is upset and', 'In this game I must', PROMPT];
    const refs = await Promise.all(prompts.map((pr) => libraryRun(p.model, CTX, { prompt: pr, temperature: 0.7, seed: 2, maxTokens: 12 })));
    const r = await client.completions.create({ model: server.modelId, prompt: prompts, temperature: 0.7, seed: 2, max_tokens: 12 });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(r.choices.map((c) => c.text)).toEqual(refs.map((x) => x.text));
    const stream = await client.completions.create({ model: server.modelId, prompt: prompts, temperature: 0.7, seed: 2, max_tokens: 12, stream: true });
    const texts = ['', '', ''];
    for await (const chunk of stream) for (const c of chunk.choices) texts[c.index] += c.text;
    expect(texts).toEqual(refs.map((x) => x.text));
  });

  it('without a seed each request draws its own, and the seed it reports reproduces the answer', async () => {
    const ask = (seed?: number) => client.completions.create({ model: server.modelId, prompt: PROMPT, max_tokens: 24, ignore_eos: true, ...(seed === undefined ? {} : { seed }) } as OpenAI.CompletionCreateParamsNonStreaming & Extended);
    const a = await ask(), b = await ask();
    const seedA = (a as unknown as { seed: number }).seed, seedB = (b as unknown as { seed: number }).seed;
    expect(seedA).not.toBe(seedB);
    expect(a.choices[0].text).not.toBe(b.choices[0].text);
    const again = await ask(seedA);
    expect((again as unknown as { seed: number }).seed).toBe(seedA);
    expect(again.choices[0].text).toBe(a.choices[0].text);
  });

  it('with 7 other requests (other steering, other monitors) running in the same batch, a request still equals its lone generate', async () => {
    const v = p.v;
    const other = (i: number) => ({
      prompt: `Request number ${i}: the user writes that`, temperature: 0.8, seed: 100 + i, maxTokens: 220, ignoreEog: true,
      layer: 1 + (i % 4), alpha: i % 2 === 0 ? 3 + i : -2 - i,
    });
    const target: SequenceRequest = { prompt: PROMPT, chat: true, temperature: 0.7, topK: 50, seed: 42, maxTokens: 40 };
    const refTarget = await libraryRun(p.model, CTX, target);
    const refOthers = await Promise.all(Array.from({ length: 7 }, async (_, i) => {
      const o = other(i);
      return libraryRun(p.model, CTX, { prompt: o.prompt, temperature: o.temperature, seed: o.seed, maxTokens: o.maxTokens, ignoreEog: true, steer: [{ layer: o.layer, direction: v, alpha: o.alpha }] });
    }));
    const times: { first: number; last: number }[] = [];
    const started: Promise<void>[] = [];
    const others = Array.from({ length: 7 }, (_, i) => {
      const o = other(i);
      let onFirst!: () => void;
      started.push(new Promise<void>((r) => { onFirst = r; }));
      return (async () => {
        const stream = await client.completions.create({
          model: server.modelId, prompt: o.prompt, temperature: o.temperature, seed: o.seed, max_tokens: o.maxTokens, stream: true,
          ignore_eos: true, return_tokens: true,
          steering: { vectors: [{ data: encodeVectorData(v), layers: o.layer, scale: o.alpha }] },
          monitor: [{ data: encodeVectorData(v), layer: (i % 5) + 1 }],
        } as OpenAI.CompletionCreateParamsStreaming & Extended);
        const tokens: number[] = [];
        const t = { first: 0, last: 0 };
        for await (const chunk of stream) {
          const ids = (chunk as unknown as { tokens?: number[] }).tokens ?? [];
          if (ids.length > 0 && tokens.length === 0) { t.first = performance.now(); onFirst(); }
          tokens.push(...ids);
        }
        t.last = performance.now();
        times[i] = t;
        return tokens;
      })();
    });
    await Promise.all(started);  // all 7 are decoding: the target joins a running batch
    const tJoin = performance.now();
    const r = await client.chat.completions.create({
      model: server.modelId, messages: [{ role: 'user', content: PROMPT }], temperature: 0.7, seed: 42, max_tokens: 40, return_tokens: true,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming & Extended);
    const tDone = performance.now();
    const otherTokens = await Promise.all(others);
    expect((r.choices[0] as unknown as { tokens: number[] }).tokens).toEqual(Array.from(refTarget.tokens));
    expect(r.choices[0].message.content).toBe(refTarget.text);
    otherTokens.forEach((t, i) => expect(t, `other request ${i}`).toEqual(Array.from(refOthers[i].tokens)));
    // it really ran beside them: every other request was still decoding when the target finished
    const stillRunning = times.filter((t) => t.last > tDone).length;
    console.log(`[serve] target joined ${times.filter((t) => t.first < tJoin).length} running requests; ${stillRunning} still running when it finished`);
    expect(stillRunning).toBeGreaterThanOrEqual(1);
  });
});
