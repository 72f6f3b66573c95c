// Per-token log-probabilities of given continuation tokens (Context.tokenLogprobs, the fluency
// measure's engine call): a hand-computed two-token case against the logits of evalLogits, items
// packed into shared decode calls equal the same items scored alone, and every bad input is an
// E_BAD_ARG before anything is decoded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import type { Context } from '../../lib/engine/context.js';
import { logSoftmaxAt, meanNll, perplexity } from '../../lib/stats/perplexity.js';
import { synthTo, tempDir, TEXTS } from '../helpers/fixtures.js';

const tmp = tempDir('eia-logprobs-');
let model: Model;
let ctx: Context;

beforeAll(async () => {
  model = await Model.load((await synthTo(tmp.dir, 'lp', { arch: 'llama', shape: 'tiny', type: 'f32', seed: 5 })).path);
  // a small batch so that long items span several decode calls
  ctx = await model.createContext({ nCtx: 1024, nBatch: 16, nSeqMax: 8, nThreads: 1 });
});
afterAll(() => {
  ctx?.free();
  model?.free();
  tmp.cleanup();
});

describe('tokenLogprobs', () => {
  it('NLL math on a hand-computed row: logits [0, ln 3] give p = 1/4 and 3/4', () => {
    const row = [0, Math.log(3)];
    expect(logSoftmaxAt(row, 0)).toBeCloseTo(Math.log(0.25), 12);
    expect(logSoftmaxAt(row, 1)).toBeCloseTo(Math.log(0.75), 12);
    // two tokens with p = 1/4 then 3/4: NLL = -(ln 1/4 + ln 3/4) / 2, perplexity = 1 / sqrt(3/16)
    const lp = [Math.log(0.25), Math.log(0.75)];
    expect(meanNll(lp)).toBeCloseTo(-(Math.log(0.25) + Math.log(0.75)) / 2, 12);
    expect(perplexity(lp)).toBeCloseTo(1 / Math.sqrt(3 / 16), 12);
    expect(meanNll([])).toBeNull();
  });

  it('a two-token continuation: each log-probability is the log-softmax of the logit row before it', async () => {
    const prompt = model.tokenize('I care');
    const cont = model.tokenize(' about you', { addSpecial: false }).slice(0, 2);
    expect(cont.length).toBe(2);
    const all = Int32Array.from([...prompt, cont[0]]);
    const logits = await ctx.evalLogits(all);  // rows: one per token of `all`
    const V = model.info.nVocab;
    const row = (i: number) => logits.subarray(i * V, (i + 1) * V);
    const hand = [logSoftmaxAt(row(prompt.length - 1), cont[0]), logSoftmaxAt(row(prompt.length), cont[1])];
    const [lp] = await ctx.tokenLogprobs([{ prompt, continuation: cont }]);
    expect(lp.length).toBe(2);
    expect(Math.abs(lp[0] - hand[0])).toBeLessThan(1e-4);
    expect(Math.abs(lp[1] - hand[1])).toBeLessThan(1e-4);
    expect(lp[0]).toBeLessThan(0);
    expect(Math.abs(meanNll(lp)! - -(hand[0] + hand[1]) / 2)).toBeLessThan(1e-4);
  });

  it('items packed into shared decode calls = each item alone (< 1e-4), long items across several calls', async () => {
    const items = TEXTS.map((t, i) => {
      const toks = model.tokenize(t);
      const cut = Math.max(1, Math.min(toks.length - 1, 1 + i));
      return { prompt: toks.slice(0, cut), continuation: toks.slice(cut) };
    });
    items.push({ prompt: model.tokenize('Nothing follows'), continuation: new Int32Array(0) });
    const packed = await ctx.tokenLogprobs(items);
    expect(packed.length).toBe(items.length);
    expect(packed[packed.length - 1].length).toBe(0);
    let worst = 0;
    for (let i = 0; i < items.length; i++) {
      expect(packed[i].length).toBe(items[i].continuation.length);
      const [alone] = await ctx.tokenLogprobs([items[i]]);
      for (let k = 0; k < alone.length; k++) worst = Math.max(worst, Math.abs(alone[k] - packed[i][k]));
    }
    expect(items.some((it) => it.prompt.length + it.continuation.length > 16), 'an item longer than nBatch').toBe(true);
    expect(worst).toBeLessThan(1e-4);
  });

  it('bad items are E_BAD_ARG before any decode; the context stays usable', async () => {
    const p = model.tokenize('Hi');
    const bad: [unknown, RegExp][] = [
      [[], /at least one item/],
      [[{ prompt: new Int32Array(0), continuation: p }], /prompt is empty/],
      [[{ prompt: p, continuation: [model.info.nVocab + 5] }], /token/],
      [[{ prompt: p, continuation: new Int32Array(2000).fill(5) }], /more than the context/],
      [[{ prompt: p }], /continuation is required/],
    ];
    for (const [items, msg] of bad) {
      const err = await ctx.tokenLogprobs(items as never).then(() => null, (e: Error & { code?: string }) => e);
      expect(err?.code, String(msg)).toBe('E_BAD_ARG');
      expect(err?.message).toMatch(msg);
    }
    const [ok] = await ctx.tokenLogprobs([{ prompt: p, continuation: model.tokenize(' there', { addSpecial: false }) }]);
    expect(ok.length).toBeGreaterThan(0);
  });
});
