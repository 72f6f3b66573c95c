// Probe-gated steering (issue 15), on the planted model. The oracle: a gated generation gives, at
// every generated token, the same logits as a hand-run reference that evaluates the same token
// sequence with the steering added exactly where the gate's rule says, the rule run here in plain
// TypeScript over the unsteered projections (read by a separate capture pass). Lm < Ls acts on the
// same token, Lm == Ls on the next; hysteresis, hold and budget hold. And the point of it: a gate
// that switches on below the unsteered median raises the empathy-keyword share over the ungated
// baseline while steering fewer tokens than always-on steering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import type { Gate, SequenceRequest, SequenceResult } from '../../lib/engine/generate.js';
import { readNpy } from '../../lib/io/npy.js';
import { EMPATHY_KEYWORDS } from '../../lib/steering/scoring.js';
import { relErr, synthTo, tempDir } from '../helpers/fixtures.js';
import { gateRule } from '../helpers/gate-rule.js';

const tmp = tempDir('eia-gates-');
afterAll(() => tmp.cleanup());

let model: Model;
let v: Float32Array;
const PROMPT = 'The user is in distress and I must decide what to do.';

beforeAll(async () => {
  const r = await synthTo(tmp.dir, 'planted-gates', { planted: true, seed: 3 });
  v = readNpy(r.plantedNpy!).data;
  model = await Model.load(r.path);
});
afterAll(() => model.free());

/** Unsteered projections on `dir` at block `layer` of every position of `tokens` (a capture pass). */
async function projections(tokens: Int32Array, layer: number, dir: Float32Array): Promise<number[]> {
  const cap = await model.createContext({ nCtx: 512, nThreads: 1 });
  const r = await cap.capture([tokens], { layers: [layer], pool: 'tokens', addSpecial: false });
  cap.free();
  const m = r.data.get(layer)!;
  const n = model.nEmbd;
  return Array.from({ length: tokens.length }, (_, t) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += m[t * n + j] * dir[j];
    return s;
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** A threshold near quantile q, in the middle of the widest gap between neighbouring projections there. */
function threshold(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const c = Math.min(s.length - 2, Math.floor(q * s.length));
  let best = c;
  for (let i = Math.max(0, c - 3); i <= Math.min(s.length - 2, c + 3); i++) if (s[i + 1] - s[i] > s[best + 1] - s[best]) best = i;
  return (s[best] + s[best + 1]) / 2;
}

describe('probe-gated steering', () => {
  for (const variant of [
    { name: 'Lm < Ls: the decision applies to the same forward pass', gateLayer: 1, steerLayers: [3, 4] as [number, number], minHold: 1, budget: null as number | null, positions: 'all' as const },
    { name: 'Lm == Ls: the decision applies from the next token on; hold 3, budget 12, generated tokens only', gateLayer: 2, steerLayers: [2, 3] as [number, number], minHold: 3, budget: 12, positions: 'generated' as const },
  ]) {
    it(`oracle (${variant.name}): logits at every token = a hand-run reference steered where the rule says (rel < 1e-4)`, async () => {
      const prompt = model.tokenize(PROMPT);
      // thresholds from an unsteered run's projections at the gate's block, between the 35th and 70th percentiles
      const plainCtx = await model.createContext({ ...generationContextOptions(1, 128, 1), flashAttn: 'off' });
      const [plain] = await plainCtx.generate({ sequences: [{ prompt, temperature: 0.7, topK: 50, seed: 4, maxTokens: 48, ignoreEog: true }] }).result();
      const p0 = await projections(Int32Array.from([...prompt, ...plain.tokens]), variant.gateLayer, v);
      const gen0 = p0.slice(prompt.length);
      // A projection within rounding of a threshold could tip one way in generation and the other in
      // the capture pass (they round differently in the last digits): try threshold pairs near these
      // quantiles until no projection of the gated run sits that close (deterministic: same seeds).
      const nearThreshold = (ps: number[], g: Gate) =>
        Math.min(...ps.map((x) => Math.min(Math.abs(x - g.on), Math.abs(x - g.off)))) <= 1e-5 * Math.max(...ps.map(Math.abs));
      let gate!: Gate, r!: SequenceResult, flags!: boolean[], fed!: Int32Array, p!: number[];
      for (const [qOn, qOff] of [[0.4, 0.7], [0.35, 0.65], [0.45, 0.75], [0.3, 0.6], [0.5, 0.8]]) {
        gate = {
          layer: variant.gateLayer, direction: v, on: threshold(gen0, qOn), off: threshold(gen0, qOff), minHold: variant.minHold,
          positions: variant.positions, ...(variant.budget !== null ? { budget: variant.budget } : {}),
          steer: [{ layers: variant.steerLayers, direction: v, alpha: 6 }],
        };
        const seq: SequenceRequest = { prompt, temperature: 0.7, topK: 50, seed: 4, maxTokens: 48, ignoreEog: true, gate, keepLogits: true };
        const gen = plainCtx.generate({ sequences: [seq] });
        flags = [];
        for await (const ev of gen) if (ev.type === 'token') flags.push(ev.gate!);
        [r] = gen.results();
        // the reference: the rule over the unsteered projections of the tokens the gated run fed
        fed = Int32Array.from([...prompt, ...r.tokens.subarray(0, r.tokens.length - 1)]);
        p = await projections(fed, variant.gateLayer, v);
        if (!nearThreshold(p, gate)) break;
      }
      plainCtx.free();

      const margin = Math.min(...p.map((x) => Math.min(Math.abs(x - gate.on), Math.abs(x - gate.off))));
      // (capture and generation round differently in the last digits: a projection on a threshold could tip)
      expect(margin, 'a projection sits on a threshold: pick other thresholds').toBeGreaterThan(1e-5 * Math.max(...p.map(Math.abs)));
      const nP = prompt.length;
      const mask = gateRule(p, {
        on: gate.on, off: gate.off, minHold: variant.minHold, budget: variant.budget, lagged: variant.gateLayer === variant.steerLayers[0],
        firstPos: variant.positions === 'generated' ? nP : 0,
      });
      const genMask = mask.slice(nP - 1);
      // it fired, and not everywhere: the comparison is meaningful
      expect(genMask.filter((x) => x === 1).length, `gate flags ${genMask.join('')}`).toBeGreaterThan(2);
      expect(genMask.filter((x) => x === 0).length).toBeGreaterThan(2);
      expect(flags.map((f) => (f ? 1 : 0))).toEqual(genMask);
      expect(Array.from(r.gate!)).toEqual(genMask);
      expect(r.gateSteered).toBe(mask.reduce((a, b) => a + b, 0));
      if (variant.budget !== null) expect(r.gateSteered).toBeLessThanOrEqual(variant.budget);

      const evalCtx = await model.createContext({ nCtx: 512, nThreads: 1 });
      const ref = await evalCtx.evalLogits(fed, gate.steer, { steerAt: Uint8Array.from(mask) });
      const unsteered = await evalCtx.evalLogits(fed);
      evalCtx.free();
      const nV = model.info.nVocab;
      let worst = 0, steeredDiff = 0;
      for (let k = 0; k < r.tokens.length; k++) {
        const ours = r.logits!.subarray(k * nV, (k + 1) * nV);
        const row = nP - 1 + k;
        worst = Math.max(worst, relErr(ours, ref.subarray(row * nV, (row + 1) * nV)));
        if (mask[row]) steeredDiff = Math.max(steeredDiff, relErr(ours, unsteered.subarray(row * nV, (row + 1) * nV)));
      }
      console.log(`[gates] ${variant.name}: ${r.gateSteered} of ${mask.length} positions steered; max logits rel. err ${worst.toExponential(2)}; steered rows differ from unsteered by up to ${steeredDiff.toFixed(3)}`);
      expect(worst).toBeLessThan(1e-4);
      expect(steeredDiff).toBeGreaterThan(1e-2);  // the steering changed what it touched
    });
  }

  it('hysteresis, hold and budget: runs start below `on`, last at least minHold, end above `off`, and stop at the budget', async () => {
    const prompt = model.tokenize(PROMPT);
    const ctx = await model.createContext(generationContextOptions(1, 160, 1));
    const base = await ctx.generate({ sequences: [{ prompt, temperature: 0.7, topK: 50, seed: 11, maxTokens: 96, ignoreEog: true }] }).result();
    const p0 = await projections(Int32Array.from([...prompt, ...base[0].tokens]), 1, v);
    const gen0 = p0.slice(prompt.length);
    const on = threshold(gen0, 0.45), off = threshold(gen0, 0.75);
    const gate: Gate = { layer: 1, direction: v, on, off, minHold: 4, budget: 30, positions: 'generated', steer: [{ layer: 3, direction: v, alpha: 0.5 }] };
    const [r] = await ctx.generate({ sequences: [{ prompt, temperature: 0.7, topK: 50, seed: 11, maxTokens: 96, ignoreEog: true, gate }] }).result();
    ctx.free();
    const fed = Int32Array.from([...prompt, ...r.tokens.subarray(0, r.tokens.length - 1)]);
    const p = await projections(fed, 1, v);
    const m = Array.from(r.gate!);
    const nP = prompt.length;
    const all = gateRule(p, { on, off, minHold: 4, budget: 30, lagged: false, firstPos: nP });
    expect(m).toEqual(all.slice(nP - 1));
    // properties of the rule, checked on the native flags (prompt positions included via `all`)
    let used = 0;
    for (let t = 0; t < all.length; t++) {
      if (all[t] && (t === 0 || !all[t - 1])) expect(p[t], `run starting at ${t}`).toBeLessThan(on);
      if (!all[t] && t > 0 && all[t - 1]) {
        let len = 0;
        for (let u = t - 1; u >= 0 && all[u]; u--) len++;
        const budgetHit = used >= 30;
        if (!budgetHit) {
          expect(len, `run ending at ${t}`).toBeGreaterThanOrEqual(4);
          expect(p[t], `run ending at ${t}`).toBeGreaterThan(off);
        }
      }
      used += all[t];
    }
    expect(used).toBe(r.gateSteered);
    expect(used).toBeLessThanOrEqual(30);
    const runs = m.join('').split(/0+/).filter((x) => x.length > 0).length;
    expect(runs, `flags ${m.join('')}`).toBeGreaterThanOrEqual(2);  // it switched on and off more than once
    console.log(`[gates] hysteresis run: ${used} steered positions in ${runs} runs, budget 30, flags ${m.join('')}`);
  });

  it('planted behaviour: a gate below the unsteered median raises the empathy-keyword share over the ungated baseline with fewer steered tokens than always-on', async () => {
    const prompt = model.tokenize(PROMPT);
    const Lm = 1, Ls = Math.floor(model.nLayer / 2), N = 8, T = 48;
    const ctx = await model.createContext(generationContextOptions(N, 128, 1));
    const seqs = (extra: Partial<SequenceRequest>) => Array.from({ length: N }, (_, s) => ({ prompt, temperature: 0.7, topK: 50, seed: s, maxTokens: T, ignoreEog: true, ...extra }));
    const baseline = await ctx.generate({ sequences: seqs({}), monitors: [{ layer: Lm, direction: v }] }).result();
    const proj = baseline.flatMap((r) => Array.from(r.scores![0]));
    const median = quantile(proj, 0.5);
    const gate: Gate = { layer: Lm, direction: v, on: median, off: quantile(proj, 0.75), positions: 'generated', steer: [{ layer: Ls, direction: v, alpha: 5 }] };
    const gated = await ctx.generate({ sequences: seqs({ gate }) }).result();
    const always = await ctx.generate({ sequences: seqs({ steer: [{ layer: Ls, direction: v, alpha: 5 }] }) }).result();
    ctx.free();
    const lexicon = new Set<number>();
    for (let t = 0; t < model.info.nVocab; t++) {
      const piece = model.tokenPiece(t).toLowerCase();
      if (EMPATHY_KEYWORDS.some((k) => piece.includes(k))) lexicon.add(t);
    }
    const share = (rs: typeof baseline) => {
      let hit = 0, total = 0;
      for (const r of rs) for (const t of r.tokens) { total++; if (lexicon.has(t)) hit++; }
      return hit / total;
    };
    const gateOn = gated.reduce((s, r) => s + Array.from(r.gate!).reduce((a, b) => a + b, 0), 0);
    const alwaysOn = always.reduce((s, r) => s + r.tokens.length, 0);
    const figures = { baseline: share(baseline), gated: share(gated), always: share(always), gate_on_tokens: gateOn, always_on_tokens: alwaysOn };
    console.log(`[gates] planted behaviour ${JSON.stringify(figures)}`);
    expect(figures.gated).toBeGreaterThan(figures.baseline);
    expect(gateOn).toBeGreaterThan(0);
    expect(gateOn).toBeLessThan(alwaysOn);
  });

  it('bad gates give a clear EiaError and the process lives', async () => {
    const ctx = await model.createContext(generationContextOptions(1, 64, 1));
    const g = (over: Partial<Gate>): SequenceRequest => ({ prompt: 'Hi', maxTokens: 2, gate: { layer: 1, direction: v, on: 0, off: 1, steer: [{ layer: 2, direction: v, alpha: 1 }], ...over } });
    const bad: [Partial<Gate>, RegExp][] = [
      [{ on: 1, off: 1 }, /^sequences\[0\]\.gate: on \(1\) must be below off \(1\)$/],
      [{ on: 2, off: 1 }, /must be below off/],
      [{ layer: model.nLayer - 1 }, /gate\.layer \d+ out of range \[0, \d+\] \(the gate reads a block below the last\)/],
      [{ layer: -1 }, /gate\.layer -1 out of range/],
      [{ layer: 3, steer: [{ layer: 2, direction: v, alpha: 1 }] }, /gate\.steer\[0\]\.layer 2 is below the sequences\[0\]\.gate\.layer 3/],
      [{ budget: -1 }, /budget must be >= 0/],
      [{ minHold: 0 }, /minHold must be >= 1/],
      [{ on: NaN }, /gate\.on must be a finite number/],
      [{ direction: new Float32Array(3) }, /gate\.direction has length 3/],
      [{ steer: [] }, /a gate needs at least one steering term/],
    ];
    for (const [over, re] of bad) {
      expect(() => ctx.generate({ sequences: [g(over)] }), JSON.stringify(Object.keys(over))).toThrow(expect.objectContaining({ code: 'E_BAD_ARG', message: expect.stringMatching(re) }));
    }
    const [ok] = await ctx.generate({ sequences: [g({})] }).result();
    expect(ok.tokens.length).toBeGreaterThan(0);
    ctx.free();
  });
});
