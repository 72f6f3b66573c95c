// Steering-engine issue: oracle vs llama.cpp control vectors, batch invariance, alpha = 0,
// planted concept dose-response, monitors, control-vector interop, bad input, event loop.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import type { Context } from '../../lib/engine/context.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import type { SequenceRequest, TokenEvent } from '../../lib/engine/generate.js';
import { writeControlVector } from '../../lib/engine/control-vector.js';
import { readNpy } from '../../lib/io/npy.js';
import { EMPATHY_KEYWORDS } from '../../lib/steering/scoring.js';
import { relErr, synthTo, tempDir, unitRandom } from '../helpers/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());


async function run(ctx: Context, sequences: SequenceRequest[], monitors = [] as { layer: number; direction: Float32Array }[]) {
  return ctx.generate({ sequences, monitors }).result();
}

describe('steering engine on a random F32 model', () => {
  let model: Model;
  let path: string;
  let d: Float32Array;
  beforeAll(async () => {
    path = (await synthTo(tmp.dir, 'gen-llama', { arch: 'llama', shape: 'tiny', type: 'f32', seed: 11 })).path;
    model = await Model.load(path);
    d = unitRandom(model.nEmbd, 5);
  });
  afterAll(() => model.free());

  it('oracle: our steering at layer L gives llama.cpp control-vector logits (rel < 1e-4) and the same greedy tokens', async () => {
    const ctx = await model.createContext({ nCtx: 512, nBatch: 64, nSeqMax: 1, nThreads: 1 });
    const toks = model.tokenize('I care about the user and the task at hand today.');
    for (const [L, alpha] of [[2, 4], [4, -3], [model.nLayer - 1, 2.5]] as const) {
      const ours = await ctx.evalLogits(toks, [{ layer: L, direction: d, alpha }]);
      const cvec = new Float32Array((model.nLayer - 1) * model.nEmbd);
      cvec.set(d.map((x) => x * alpha), (L - 1) * model.nEmbd);
      ctx.setControlVector(cvec, 1, model.nLayer - 1);
      const theirs = await ctx.evalLogits(toks);
      ctx.clearControlVector();
      const plain = await ctx.evalLogits(toks);
      expect(relErr(ours, theirs)).toBeLessThan(1e-4);
      expect(relErr(ours, plain)).toBeGreaterThan(1e-3);  // the steering did something

      const seq = { prompt: 'The user is', temperature: 0, maxTokens: 24 };
      const [a] = await run(ctx, [{ ...seq, steer: [{ layer: L, direction: d, alpha }] }]);
      ctx.setControlVector(cvec, 1, model.nLayer - 1);
      const [b] = await run(ctx, [seq]);
      ctx.clearControlVector();
      expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    }
    ctx.free();
  });

  it('alpha = 0 is bit-identical to no steering', async () => {
    const ctx = await model.createContext({ nCtx: 512, nBatch: 64, nSeqMax: 1, nThreads: 1 });
    const toks = model.tokenize('Hello there, how are you?');
    const zero = await ctx.evalLogits(toks, [{ layer: 3, direction: d, alpha: 0 }]);
    const none = await ctx.evalLogits(toks);
    expect(Buffer.from(zero.buffer).equals(Buffer.from(none.buffer))).toBe(true);
    const [a] = await run(ctx, [{ prompt: 'Hello', temperature: 0.8, seed: 3, maxTokens: 20, steer: [{ layer: 3, direction: d, alpha: 0 }] }]);
    const [b] = await run(ctx, [{ prompt: 'Hello', temperature: 0.8, seed: 3, maxTokens: 20 }]);
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    ctx.free();
  });

  it('batch invariance: mixed alphas and layers in one batch = each alone (greedy, and seeded sampling)', async () => {
    const specs: SequenceRequest[] = [];
    const alphas = [-6, -2, 0, 2, 6];
    alphas.forEach((alpha, i) => {
      specs.push({ prompt: 'The user is upset and', temperature: 0, maxTokens: 24, steer: [{ layer: 1 + (i % 4), direction: d, alpha }] });
      specs.push({ prompt: 'In this game I must', temperature: 0.9, topK: 40, topP: 0.95, seed: 100 + i, maxTokens: 24, steer: [{ layer: 2, direction: d, alpha }] });
    });
    const ctx = await model.createContext(generationContextOptions(specs.length, 64, 1));
    const batched = await run(ctx, specs);
    ctx.free();
    const solo = await model.createContext(generationContextOptions(1, 64, 1));
    for (let i = 0; i < specs.length; i++) {
      const [alone] = await run(solo, [specs[i]]);
      expect(Array.from(batched[i].tokens), `sequence ${i}`).toEqual(Array.from(alone.tokens));
    }
    solo.free();
  });

  it('sequences sharing a prompt and prompt-time steering decode it once', async () => {
    const ctx = await model.createContext(generationContextOptions(6, 64, 1));
    const seqs = [0, 1, 2, 3, 4, 5].map((i) => ({ prompt: 'Same prompt here', seed: i, maxTokens: 8, steer: [{ layer: 2, direction: d, alpha: i < 3 ? 1 : 2 }] }));
    const g = ctx.generate({ sequences: seqs });
    await g.result();
    expect(g.stats().uniquePrompts).toBe(2);
    expect(g.stats().promptTokens).toBe(2 * model.tokenize('Same prompt here').length);
    ctx.free();
  });

  it('monitors: each token carries dot(residual at the position that produced it, probe)', async () => {
    const ctx = await model.createContext(generationContextOptions(1, 64, 1));
    const L = 2;
    const g = ctx.generate({ sequences: [{ prompt: 'The user says hello', temperature: 0, maxTokens: 12 }], monitors: [{ layer: L, direction: d }] });
    const events: TokenEvent[] = [];
    for await (const ev of g) if (ev.type === 'token') events.push(ev);
    const [r] = g.results();
    expect(events.length).toBe(r.tokens.length);
    const cap = await model.createContext({ nCtx: 256, nThreads: 1 });
    const prompt = model.tokenize('The user says hello');
    const seq = new Int32Array([...prompt, ...r.tokens.slice(0, -1)]);
    const rowsOut = await cap.capture([seq], { layers: [L], pool: 'tokens', addSpecial: false });
    const n = model.nEmbd;
    for (let k = 0; k < r.tokens.length; k++) {
      const row = rowsOut.data.get(L)!.subarray((prompt.length - 1 + k) * n, (prompt.length + k) * n);
      let dot = 0;
      for (let j = 0; j < n; j++) dot += row[j] * d[j];
      expect(Math.abs(r.scores![0][k] - dot)).toBeLessThan(1e-3 * Math.max(1, Math.abs(dot)));
      expect(events[k].scores![0]).toBeCloseTo(r.scores![0][k], 5);
    }
    cap.free();
    ctx.free();
  });

  it('control-vector interop: an exported probe loaded by llama.cpp\'s loader steers like eia-native', async () => {
    const f = join(tmp.dir, 'cv.gguf');
    writeControlVector(f, new Map([[3, d]]), 'llama');
    const ctx = await model.createContext({ nCtx: 256, nBatch: 64, nSeqMax: 1, nThreads: 1 });
    const toks = model.tokenize('A short test prompt');
    ctx.loadControlVectorFile(f, { strength: 2.5 });
    const viaFile = await ctx.evalLogits(toks);
    ctx.clearControlVector();
    const ours = await ctx.evalLogits(toks, [{ layer: 3, direction: d, alpha: 2.5 }]);
    expect(relErr(ours, viaFile)).toBeLessThan(1e-4);
    ctx.free();
  });

  it('bad input gives JS errors; the process lives', async () => {
    const ctx = await model.createContext(generationContextOptions(2, 64, 1));
    const base = { prompt: 'Hi', maxTokens: 4 };
    expect(() => ctx.generate({ sequences: [{ ...base, steer: [{ layer: 1, direction: new Float32Array(model.nEmbd + 1), alpha: 1 }] }] })).toThrow(/length .* nEmbd/);
    expect(() => ctx.generate({ sequences: [{ ...base, steer: [{ layer: 1, direction: d, alpha: NaN }] }] })).toThrow(/finite/);
    expect(() => ctx.generate({ sequences: [{ ...base, steer: [{ layer: 1, direction: d, alpha: Infinity }] }] })).toThrow(/finite/);
    expect(() => ctx.generate({ sequences: [{ ...base, steer: [{ layer: model.nLayer, direction: d, alpha: 1 }] }] })).toThrow(/out of range/);
    expect(() => ctx.generate({ sequences: [{ ...base, steer: [{ layer: 1, direction: d.map((x, i) => (i === 3 ? NaN : x)), alpha: 1 }] }] })).toThrow(/NaN/);
    expect(() => ctx.generate({ sequences: [base, base, base] })).toThrow(/at most 2/);
    expect(() => ctx.generate({ sequences: [{ ...base, maxTokens: 100000 }] })).toThrow(/exceeds/);
    expect(() => ctx.generate({ sequences: [{ ...base, temperature: -1 }] })).toThrow(/temperature/);
    expect(() => ctx.generate({ sequences: [] })).toThrow(/at least one/);
    expect(() => ctx.generate({ sequences: [{ ...base }], monitors: [{ layer: 0, direction: new Float32Array(3) }] })).toThrow(/length/);
    // still usable after every rejection
    const [ok] = await run(ctx, [base]);
    expect(ok.tokens.length).toBeGreaterThan(0);
    ctx.free();
  });

  it('a 10 ms timer keeps firing during a long generation; abort returns what was produced', async () => {
    const ctx = await model.createContext(generationContextOptions(8, 600, 1));
    const seqs = Array.from({ length: 8 }, (_, i) => ({ prompt: 'Go on', seed: i, maxTokens: 500 }));
    // A gap means the JS thread did not run: our code blocking it (reproducible) or the OS not
    // scheduling the process on a loaded machine (not). Up to 3 attempts; one must stay under 100 ms.
    const attempts: { gap: number; ticks: number; ms: number }[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      let ticks = 0;
      let worstGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        worstGap = Math.max(worstGap, now - last);
        last = now;
        ticks++;
      }, 10);
      const t0 = performance.now();
      const res = await ctx.generate({ sequences: seqs }).result();
      const ms = performance.now() - t0;
      clearInterval(timer);
      expect(res.every((r) => r.tokens.length > 0)).toBe(true);
      attempts.push({ gap: worstGap, ticks, ms });
      if (worstGap < 100) break;
    }
    const best = attempts.reduce((a, b) => (b.gap < a.gap ? b : a));
    if (best.ms > 200) expect(best.ticks).toBeGreaterThan(best.ms / 10 / 3);
    expect(best.gap, `worst event-loop gap per attempt: ${attempts.map((a) => a.gap.toFixed(0)).join(', ')} ms`).toBeLessThan(100);

    const ac = new AbortController();
    const g = ctx.generate({ sequences: seqs, signal: ac.signal });
    let seen = 0;
    for await (const _ev of g) {
      if (++seen === 40) ac.abort();
    }
    const out = g.results();
    expect(out.every((r) => r.finishReason === 'abort' || r.finishReason === 'eog')).toBe(true);
    expect(out.reduce((s, r) => s + r.tokens.length, 0)).toBeGreaterThanOrEqual(40);
    ctx.free();
  });
});

describe('planted concept', () => {
  it('the share of empathy-lexicon tokens rises over alpha 0,2,5,10 and falls over -2,-5,-10 (5 samples x 64 tokens)', async () => {
    const r = await synthTo(tmp.dir, 'planted-gen', { planted: true, seed: 3 });
    const v = readNpy(r.plantedNpy!).data;
    const model = await Model.load(r.path);
    const alphas = [-10, -5, -2, 0, 2, 5, 10];
    const L = Math.floor(model.nLayer / 2);
    const seqs: SequenceRequest[] = [];
    for (const alpha of alphas) for (let s = 0; s < 5; s++) {
      seqs.push({ prompt: 'The user is in distress and I must decide what to do.', temperature: 0.7, topK: 50, seed: s, maxTokens: 64, steer: [{ layer: L, direction: v, alpha }], tag: alpha });
    }
    const ctx = await model.createContext(generationContextOptions(seqs.length, 128, 1));
    const res = await run(ctx, seqs);
    // the empathy lexicon: tokens whose piece contains one of the paper's empathy keywords
    const lexicon = new Set<number>();
    for (let t = 0; t < model.info.nVocab; t++) {
      const piece = model.tokenPiece(t).toLowerCase();
      if (EMPATHY_KEYWORDS.some((k) => piece.includes(k))) lexicon.add(t);
    }
    expect(lexicon.size).toBeGreaterThan(20);
    const share = new Map<number, number>();
    for (const alpha of alphas) {
      let hit = 0, total = 0;
      for (const out of res.filter((x) => x.tag === alpha)) {
        for (const t of out.tokens) {
          total++;
          if (lexicon.has(t)) hit++;
        }
      }
      share.set(alpha, hit / total);
    }
    const s = (a: number) => share.get(a)!;
    console.log(`planted dose-response shares ${JSON.stringify(Object.fromEntries(share))}`);
    expect(s(2)).toBeGreaterThan(s(0));
    expect(s(5)).toBeGreaterThan(s(2));
    expect(s(10)).toBeGreaterThan(s(5));
    expect(s(-2)).toBeLessThan(s(0));
    expect(s(-5)).toBeLessThan(s(-2));
    // share cannot go below 0: at the floor, -10 may equal -5, but it must still be below alpha 0
    expect(s(-10)).toBeLessThanOrEqual(s(-5));
    expect(s(-10)).toBeLessThan(s(0));
    ctx.free();
    model.free();
  });
});
