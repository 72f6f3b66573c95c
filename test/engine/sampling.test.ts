// Sampling (issue 12): each sequence samples with its own llama.cpp sampler chain in the order
// Hugging Face `generate` applies its warpers (temperature, then top-k, then top-p), which the
// paper used. Greedy = argmax; the same seed and inputs give the same tokens alone and in any batch
// (with and without steering), on the host and with llama.cpp's in-graph (backend) sampling; and
// with top-p < 1 the empirical token distribution over many seeds is the HF-order distribution
// computed from the logits (and measurably not llama.cpp's default order, top-p before temperature).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import type { SequenceRequest } from '../../lib/engine/generate.js';
import { readNpy } from '../../lib/io/npy.js';
import { synthTo, tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-sampling-');
afterAll(() => tmp.cleanup());

let model: Model;
let v: Float32Array;
const PROMPT = 'The user is in distress and I must decide what to do.';

beforeAll(async () => {
  const r = await synthTo(tmp.dir, 'planted-sampling', { planted: true, seed: 3 });
  v = readNpy(r.plantedNpy!).data;
  model = await Model.load(r.path);
});
afterAll(() => model.free());

function softmax(x: number[]): number[] {
  const mx = Math.max(...x);
  const e = x.map((a) => Math.exp(a - mx));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((a) => a / z);
}

/** The distribution after the warpers in `order`: 'hf' = temperature, top-k, top-p; 'llama' = top-k, top-p, temperature. */
function warped(logits: Float32Array, order: 'hf' | 'llama', temperature: number, topK: number, topP: number): Map<number, number> {
  const ids = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, topK);
  const p = softmax(ids.map((i) => (order === 'hf' ? logits[i] / temperature : logits[i])));
  let cum = 0, keep = 0;
  while (keep < p.length && cum < topP) cum += p[keep++];  // smallest prefix reaching top-p
  const kept = ids.slice(0, keep);
  const q = softmax(kept.map((i) => logits[i] / temperature));
  return new Map(kept.map((id, j) => [id, q[j]]));
}

function tv(a: Map<number, number>, b: Map<number, number>): number {
  let s = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) s += Math.abs((a.get(k) ?? 0) - (b.get(k) ?? 0));
  return s / 2;
}

describe('sampling with llama.cpp sampler chains', () => {
  it('greedy = argmax of the logits at every position', async () => {
    const ctx = await model.createContext(generationContextOptions(1, 64, 1));
    const prompt = model.tokenize(PROMPT);
    const [r] = await ctx.generate({ sequences: [{ prompt, temperature: 0, maxTokens: 16, ignoreEog: true }] }).result();
    ctx.free();
    const ev = await model.createContext({ nCtx: 256, nThreads: 1 });
    const fed = Int32Array.from([...prompt, ...r.tokens.subarray(0, r.tokens.length - 1)]);
    const lg = await ev.evalLogits(fed);
    ev.free();
    const nV = model.info.nVocab;
    r.tokens.forEach((tok, k) => {
      const row = lg.subarray((prompt.length - 1 + k) * nV, (prompt.length + k) * nV);
      let best = 0;
      for (let i = 1; i < nV; i++) if (row[i] > row[best]) best = i;
      expect(tok, `token ${k}`).toBe(best);
    });
  });

  for (const sampling of ['host', 'backend'] as const) {
    it(`${sampling} sampling: the same seed gives the same tokens alone and in a mixed batch, with and without steering`, async () => {
      const seqs: SequenceRequest[] = [
        { prompt: PROMPT, temperature: 0.7, topK: 50, seed: 1, maxTokens: 24, ignoreEog: true },
        { prompt: PROMPT, temperature: 0.7, topK: 50, seed: 1, maxTokens: 24, ignoreEog: true, steer: [{ layer: 3, direction: v, alpha: 4 }] },
        { prompt: 'Another prompt entirely', temperature: 1.1, topP: 0.9, minP: 0.02, seed: 2, maxTokens: 24, ignoreEog: true },
        { prompt: PROMPT, temperature: 0.5, topK: 20, topP: 0.8, seed: 3, maxTokens: 24, ignoreEog: true, steer: [{ layers: [1, 4], direction: v, alpha: -2 }] },
        { prompt: PROMPT, temperature: 0, maxTokens: 24, ignoreEog: true },
      ];
      const ctx = await model.createContext({ ...generationContextOptions(seqs.length, 64, 1), sampling });
      expect(ctx.props.backendSampling).toBe(sampling === 'backend');
      const batch = await ctx.generate({ sequences: seqs }).result();
      ctx.free();
      const solo = await model.createContext({ ...generationContextOptions(1, 64, 1), sampling });
      for (let i = 0; i < seqs.length; i++) {
        const [alone] = await solo.generate({ sequences: [seqs[i]] }).result();
        expect(Array.from(batch[i].tokens), `sequence ${i}`).toEqual(Array.from(alone.tokens));
      }
      solo.free();
      expect(batch[0].tokens).not.toEqual(batch[1].tokens);  // the steering mattered
    });
  }

  it('backend and host sampling are each deterministic and agree on greedy; seeded draws differ between them', async () => {
    const seqs: SequenceRequest[] = [0, 1, 2, 3].map((s) => ({ prompt: PROMPT, temperature: 0.9, seed: s, maxTokens: 24, ignoreEog: true }));
    seqs.push({ prompt: PROMPT, temperature: 0, maxTokens: 24, ignoreEog: true });
    const out: Record<string, number[][]> = {};
    for (const sampling of ['host', 'backend'] as const) {
      const ctx = await model.createContext({ ...generationContextOptions(seqs.length, 64, 1), sampling });
      const a = await ctx.generate({ sequences: seqs }).result();
      const b = await ctx.generate({ sequences: seqs }).result();
      ctx.free();
      expect(a.map((r) => Array.from(r.tokens))).toEqual(b.map((r) => Array.from(r.tokens)));
      out[sampling] = a.map((r) => Array.from(r.tokens));
    }
    expect(out.backend[4]).toEqual(out.host[4]);  // greedy
    // the first token is drawn on the host in both modes (it comes from the prompt pass); later ones differ
    expect(out.backend.slice(0, 4).some((t, i) => JSON.stringify(t) !== JSON.stringify(out.host[i]))).toBe(true);
  });

  it('top-p < 1: over 2,000 seeds the first token follows the HF-order distribution (temperature, top-k, top-p), not top-p before temperature', async () => {
    const T = 0.4, K = 30, P = 0.75, N = 2000;
    const prompt = model.tokenize(PROMPT);
    const ev = await model.createContext({ nCtx: 256, nThreads: 1 });
    const lg = await ev.evalLogits(prompt);
    ev.free();
    const nV = model.info.nVocab;
    const last = lg.subarray((prompt.length - 1) * nV, prompt.length * nV);
    const hf = warped(last, 'hf', T, K, P);
    const llama = warped(last, 'llama', T, K, P);
    const gap = tv(hf, llama);
    expect(gap).toBeGreaterThan(0.1);  // the two orders are far enough apart for N draws to tell them apart

    const counts = new Map<number, number>();
    const ctx = await model.createContext(generationContextOptions(250, prompt.length + 8, 1));
    for (let s0 = 0; s0 < N; s0 += 250) {
      const res = await ctx.generate({
        sequences: Array.from({ length: 250 }, (_, i) => ({ prompt, temperature: T, topK: K, topP: P, seed: s0 + i, maxTokens: 1, ignoreEog: true })),
      }).result();
      for (const r of res) counts.set(r.tokens[0], (counts.get(r.tokens[0]) ?? 0) + 1);
    }
    ctx.free();
    const emp = new Map([...counts].map(([k, c]) => [k, c / N]));
    const outside = [...counts.keys()].filter((k) => !hf.has(k));
    expect(outside, 'tokens drawn outside the HF-order nucleus').toEqual([]);
    const dHf = tv(emp, hf), dLlama = tv(emp, llama);
    console.log(`[sampling] ${N} draws, support ${hf.size} (HF order) vs ${llama.size} (top-p first): TV to HF order ${dHf.toFixed(3)}, to top-p-first ${dLlama.toFixed(3)}`);
    // sampling noise for N = 2000 over ~10 tokens is ~0.025 TV: 0.06 leaves a wide margin, the other order sits at `gap`
    expect(dHf).toBeLessThan(0.06);
    expect(dLlama).toBeGreaterThan(dHf + 0.05);
  });
});
