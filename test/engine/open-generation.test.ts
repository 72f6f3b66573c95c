// Live generation (issue 15): sequences join and leave a running batch. A sequence that joins after
// others have decoded for a while, or that runs beside a cancelled one, produces exactly the tokens
// it produces alone; every end is a finish event; slots are waited for or refused as asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { generationContextOptions, type Context } from '../../lib/engine/context.js';
import type { GenerationEvent, SequenceRequest, SequenceResult } from '../../lib/engine/generate.js';
import { isEiaError } from '../../lib/util/errors.js';
import { synthTo, tempDir, unitRandom } from '../helpers/fixtures.js';

const tmp = tempDir('eia-open-');
afterAll(() => tmp.cleanup());


const TOKENS = 40;  // prompt + new tokens per sequence: every context gets the same per-sequence room

let model: Model;
let d: Float32Array;
let seqs: SequenceRequest[];
const alone = new Map<number, number[]>();

async function solo(s: SequenceRequest): Promise<number[]> {
  const ctx = await model.createContext(generationContextOptions(1, TOKENS, 1));
  const [r] = await ctx.generate({ sequences: [s] }).result();
  ctx.free();
  return Array.from(r.tokens);
}

beforeAll(async () => {
  const path = (await synthTo(tmp.dir, 'open', { arch: 'llama', shape: 'tiny', type: 'f32', seed: 21 })).path;
  model = await Model.load(path);
  d = unitRandom(model.nEmbd, 9);
  // three running sequences with their own steering, alphas and seeds, and the one that joins
  seqs = [
    { prompt: 'The user is upset and', temperature: 0.8, topK: 40, seed: 1, maxTokens: 30, ignoreEog: true, steer: [{ layer: 2, direction: d, alpha: 3 }] },
    { prompt: 'In this game I must', temperature: 0.9, topP: 0.9, seed: 2, maxTokens: 30, ignoreEog: true, steer: [{ layer: 3, direction: d, alpha: -4 }] },
    { prompt: 'Hello there', temperature: 0, maxTokens: 30, ignoreEog: true, steer: [{ layers: [1, 4], direction: d, alpha: 1.5 }] },
    { prompt: 'My friend stopped answering', temperature: 0.7, topK: 50, seed: 7, maxTokens: 12, ignoreEog: true, steer: [{ layer: 2, direction: d, alpha: 5 }] },
  ];
  for (let i = 0; i < seqs.length; i++) alone.set(i, await solo(seqs[i]));
});
afterAll(() => model.free());

/** Collects events; `onToken(seq, nTokensSoFar)` may act on the generation while it runs. */
async function drive(events: AsyncIterable<GenerationEvent>, onToken: (seq: number, n: number) => void = () => {}) {
  const tokens = new Map<number, number[]>();
  const finished = new Map<number, SequenceResult>();
  const order: string[] = [];
  for await (const ev of events) {
    if (ev.type === 'token') {
      expect(finished.has(ev.seq), `token after the finish event of ${ev.seq}`).toBe(false);
      const t = tokens.get(ev.seq) ?? [];
      t.push(ev.token);
      tokens.set(ev.seq, t);
      onToken(ev.seq, t.length);
    } else {
      expect(finished.has(ev.seq), `second finish event for ${ev.seq}`).toBe(false);
      finished.set(ev.seq, ev.result);
      order.push(`${ev.seq}:${ev.result.finishReason}`);
    }
  }
  return { tokens, finished, order };
}

describe('open generations', () => {
  it('join = alone: a sequence added after 17 decode steps of three others, and the three others, give their solo tokens', async () => {
    const ctx = await model.createContext(generationContextOptions(4, TOKENS, 1));
    const gen = ctx.generate({ sequences: seqs.slice(0, 3), open: true, stepsPerCall: 1 });
    let joined: Promise<number> | null = null;
    const { tokens, finished } = await drive(gen, (seq, n) => {
      // sequence 0's first token comes from the prompt pass; 18 tokens = 17 decode steps done
      if (seq === 0 && n === 18 && !joined) {
        joined = gen.add(seqs[3]);
        void joined.then(() => gen.close());
      }
    });
    expect(await joined!).toBe(3);
    for (let i = 0; i < 4; i++) {
      expect(tokens.get(i), `sequence ${i}`).toEqual(alone.get(i));
      expect(Array.from(finished.get(i)!.tokens)).toEqual(alone.get(i));
      expect(finished.get(i)!.finishReason).toBe('length');
    }
    expect(gen.stats().joined).toBe(4);
    ctx.free();
  });

  it('a cancel in the middle frees the slot at once; the remaining sequences keep their solo tokens', async () => {
    const ctx = await model.createContext(generationContextOptions(4, TOKENS, 1));
    const gen = ctx.generate({ sequences: seqs, open: true, stepsPerCall: 1 });
    let cancelled = false;
    const { tokens, finished, order } = await drive(gen, (seq, n) => {
      if (seq === 1 && n === 9 && !cancelled) {
        cancelled = true;
        expect(gen.cancel(1)).toBe(true);
        gen.close();
      }
    });
    expect(finished.get(1)!.finishReason).toBe('cancel');
    expect(tokens.get(1)!.length).toBeLessThan(30);
    expect(tokens.get(1)).toEqual(alone.get(1)!.slice(0, tokens.get(1)!.length));
    for (const i of [0, 2, 3]) expect(tokens.get(i), `sequence ${i}`).toEqual(alone.get(i));
    expect(order.filter((o) => o.endsWith('cancel'))).toEqual(['1:cancel']);
    expect(gen.cancel(1)).toBe(false);  // already finished
    ctx.free();
  });

  it('a sequence joining with the prompt and prompt-time steering of a running one copies its KV cells (same tokens)', async () => {
    const ctx = await model.createContext(generationContextOptions(3, TOKENS, 1));
    const twin: SequenceRequest = { ...seqs[0], seed: 99, maxTokens: 10 };
    const gen = ctx.generate({ sequences: [seqs[0]], open: true, stepsPerCall: 1 });
    let added = false;
    const { tokens } = await drive(gen, (seq, n) => {
      if (seq === 0 && n === 5 && !added) {
        added = true;
        void gen.add(twin).then(() => gen.close());
      }
    });
    expect(gen.stats().sharedPrompts).toBe(1);
    expect(gen.stats().uniquePrompts).toBe(1);
    expect(tokens.get(1)).toEqual(await solo(twin));
    expect(tokens.get(0)).toEqual(alone.get(0));
    ctx.free();
  });

  it('a full context: add rejects with E_FULL when asked to, or waits for a free slot', async () => {
    const ctx = await model.createContext(generationContextOptions(2, TOKENS, 1));
    const gen = ctx.generate({ sequences: [seqs[0], seqs[3]], open: true, stepsPerCall: 2 });
    let err: unknown = null;
    try {
      await gen.add(seqs[2], { whenFull: 'reject' });
    } catch (e) {
      err = e;
    }
    expect(isEiaError(err, 'E_FULL'), String(err)).toBe(true);
    // waits until sequence 1 (12 tokens) finishes, then joins in its slot
    const waiting = gen.add(seqs[2]);
    const run = drive(gen);
    expect(await waiting).toBe(2);
    gen.close();
    const { tokens, finished } = await run;
    expect(tokens.get(2)).toEqual(alone.get(2));
    expect(finished.size).toBe(3);
    ctx.free();
  });

  it('an open generation idles without spinning until add() or close(); result() returns every finished sequence', async () => {
    const ctx = await model.createContext(generationContextOptions(2, TOKENS, 1));
    const gen = ctx.generate({ open: true });
    const res = gen.result();
    await new Promise((r) => setTimeout(r, 50));
    const id = await gen.add(seqs[3]);
    expect(id).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    await gen.add({ ...seqs[3], seed: 8 });
    gen.close();
    const all = await res;
    expect(all.map((r) => r.seq)).toEqual([0, 1]);
    expect(Array.from(all[0].tokens)).toEqual(alone.get(3));
    expect(ctx.busy).toBe(false);
    ctx.free();
  });

  it("per-sequence monitors: each sequence's own probes score its tokens exactly as a generation-wide monitor does", async () => {
    const e = unitRandom(model.nEmbd, 13);
    const ctx = await model.createContext(generationContextOptions(3, TOKENS, 1));
    // reference: the generation-wide monitors on each sequence alone
    const ref = async (s: SequenceRequest, mons: { layer: number; direction: Float32Array }[]) => (await ctx.generate({ sequences: [s], monitors: mons }).result())[0];
    const a = await ref(seqs[0], [{ layer: 2, direction: d }]);
    const b = await ref(seqs[1], [{ layer: 2, direction: d }, { layer: 4, direction: e }]);
    const c = await ref(seqs[2], [{ layer: 2, direction: d }]);
    // together in one open generation: a generation-wide monitor (layer 2, d) plus each sequence's own
    const gen = ctx.generate({
      sequences: [
        seqs[0],
        { ...seqs[1], monitors: [{ layer: 4, direction: e }] },
        { ...seqs[2], monitors: [] },
      ],
      monitors: [{ layer: 2, direction: d }], open: true,
    });
    gen.close();
    const [ra, rb, rc] = await gen.result();
    expect(ra.scores!.length).toBe(1);
    expect(rb.scores!.length).toBe(2);
    expect(rc.scores!.length).toBe(1);
    expect(Array.from(rb.tokens)).toEqual(Array.from(b.tokens));
    // (the same tokens; a row computed in a batch of three and alone rounds alike to ~1e-6)
    let worst = 0;
    for (const [got, want] of [[ra, a], [rb, b], [rc, c]] as const) {
      got.scores!.forEach((s, k) => s.forEach((x, t) => { worst = Math.max(worst, Math.abs(x - want.scores![k][t]) / Math.max(1, Math.abs(x))); }));
    }
    expect(worst).toBeLessThan(1e-4);
    ctx.free();
  });

  it('bad input gives a clear EiaError and the process lives', async () => {
    const ctx = await model.createContext(generationContextOptions(2, TOKENS, 1));
    const fixed = ctx.generate({ sequences: [seqs[3]] });
    await expect(fixed.add(seqs[0])).rejects.toMatchObject({ code: 'E_STATE', message: expect.stringMatching(/open: true/) });
    await fixed.result();

    const gen = ctx.generate({ open: true });
    expect(() => gen.cancel(5)).toThrow(expect.objectContaining({ code: 'E_BAD_ARG', message: 'unknown sequence 5' }));
    expect(() => gen.cancel(-1)).toThrow(expect.objectContaining({ code: 'E_BAD_ARG' }));
    await expect(gen.add({ ...seqs[0], maxTokens: 0 })).rejects.toMatchObject({ code: 'E_BAD_ARG', message: expect.stringMatching(/maxTokens must be >= 1/) });
    await expect(gen.add(seqs[0], { whenFull: 'later' as never })).rejects.toMatchObject({ code: 'E_BAD_ARG' });
    gen.close();
    await expect(gen.add(seqs[0])).rejects.toMatchObject({ code: 'E_STATE', message: expect.stringMatching(/closed/) });
    expect(await gen.result()).toEqual([]);

    // an open generation needs one KV stream per sequence (a unified cache mixes their rows)
    const unified = await model.createContext({ nCtx: 256, nSeqMax: 2, nThreads: 1 });
    expect(() => unified.generate({ open: true })).toThrow(expect.objectContaining({ code: 'E_BAD_ARG', message: expect.stringMatching(/kvUnified: false/) }));
    unified.free();

    // still usable
    const [r] = await ctx.generate({ sequences: [seqs[3]] }).result();
    expect(Array.from(r.tokens)).toEqual(alone.get(3));
    ctx.free();
  });

  it('abort ends every sequence, waiting adds are refused, and the context is released', async () => {
    const ctx: Context = await model.createContext(generationContextOptions(2, TOKENS, 1));
    const ac = new AbortController();
    const gen = ctx.generate({ sequences: [seqs[0], seqs[1]], open: true, signal: ac.signal, stepsPerCall: 1 });
    const waiting = gen.add(seqs[2]).then(() => null, (e: unknown) => e);  // settles while the loop runs
    const { finished } = await drive(gen, (seq, n) => { if (seq === 0 && n === 3) ac.abort(); });
    expect([...finished.values()].every((r) => r.finishReason === 'abort')).toBe(true);
    expect(await waiting).toMatchObject({ code: 'E_STATE' });
    expect(ctx.busy).toBe(false);
    ctx.free();
  });
});
