// The engine's oracles on the runtime in use (issue 12: they must hold on the prebuilt runtime, and
// the output names the backend that ran them): a text captured inside a mixed batch equals the
// text captured alone (< 1e-4); steering equals llama.cpp's own control-vector path (< 1e-4, same
// greedy tokens), also over a block range (llama.cpp's --control-vector-layer-range); alpha = 0 is
// bit-identical to no steering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { runtimeInfo } from '../../lib/engine/runtime-info.js';
import { maxRelErrRows, relErr, synthTo, tempDir, TEXTS, unitRandom } from '../helpers/fixtures.js';

const tmp = tempDir('eia-oracles-');
afterAll(() => tmp.cleanup());


let model: Model;
let d: Float32Array;
const figures: string[] = [];

beforeAll(async () => {
  model = await Model.load((await synthTo(tmp.dir, 'oracle', { arch: 'llama', shape: 'tiny', type: 'f32', seed: 17 })).path);
  d = unitRandom(model.nEmbd, 3);
});
afterAll(() => {
  const rt = runtimeInfo();
  const where = rt.runtime === 'prebuilt' ? `prebuilt ${rt.runtimePackage}` : 'source build';
  process.stderr.write(`[oracles] runtime ${where}, backend ${rt.gpu ?? `cpu${rt.cpuVariant ? ` (${rt.cpuVariant})` : ''}`}: ${figures.join('; ')}\n`);
  model.free();
});

describe(`engine oracles on the loaded runtime`, () => {
  it('names the runtime and backend that run the oracles', () => {
    const rt = runtimeInfo();
    expect(rt.error).toBe('');
    expect(rt.backends.some((b) => b.name === 'cpu' && (b.status === 'loaded' || b.status === 'builtin'))).toBe(true);
    if (rt.runtime === 'prebuilt') {
      expect(rt.runtimePackage).toMatch(/^@node-llama-cpp\/.+@3\.21\.1$/);
      expect(rt.cpuVariant).toBeTruthy();
    }
  });

  it('capture: each text inside a mixed batch = the text alone (rel < 1e-4)', async () => {
    const ctx = await model.createContext({ nCtx: 1024, nBatch: 16, nSeqMax: 8, nThreads: 1 });
    const layers = [0, 2, model.nLayer - 1];
    const all = await ctx.capture(TEXTS, { layers });
    let worst = 0;
    for (let i = 0; i < TEXTS.length; i++) {
      const one = await ctx.capture([TEXTS[i]], { layers });
      for (const l of layers) worst = Math.max(worst, maxRelErrRows(all.data.get(l)!.subarray(i * model.nEmbd, (i + 1) * model.nEmbd), one.data.get(l)!, model.nEmbd));
    }
    ctx.free();
    figures.push(`capture batch = alone max rel err ${worst.toExponential(1)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('steering = llama.cpp control vector: logits (rel < 1e-4) and greedy tokens; also over a block range', async () => {
    const ctx = await model.createContext({ nCtx: 512, nBatch: 64, nSeqMax: 1, nThreads: 1 });
    const toks = model.tokenize('I care about the user and the task at hand today.');
    const nL = model.nLayer, nE = model.nEmbd;
    let worst = 0;
    for (const [a, b, alpha] of [[2, 2, 4], [1, 4, -1.5], [3, nL - 1, 2]] as const) {
      const term = a === b ? { layer: a, direction: d, alpha } : { layers: [a, b] as const, direction: d, alpha };
      const ours = await ctx.evalLogits(toks, [term]);
      const cvec = new Float32Array((nL - 1) * nE);
      for (let l = a; l <= b; l++) cvec.set(d.map((x) => x * alpha), (l - 1) * nE);
      ctx.setControlVector(cvec, a, b);
      const theirs = await ctx.evalLogits(toks);
      const [greedyTheirs] = await ctx.generate({ sequences: [{ prompt: 'The user is', temperature: 0, maxTokens: 16 }] }).result();
      ctx.clearControlVector();
      const [greedyOurs] = await ctx.generate({ sequences: [{ prompt: 'The user is', temperature: 0, maxTokens: 16, steer: [term] }] }).result();
      const plain = await ctx.evalLogits(toks);
      worst = Math.max(worst, relErr(ours, theirs));
      expect(relErr(ours, theirs), `blocks ${a}-${b}`).toBeLessThan(1e-4);
      expect(relErr(ours, plain), `blocks ${a}-${b}`).toBeGreaterThan(1e-3);
      expect(Array.from(greedyOurs.tokens), `blocks ${a}-${b}`).toEqual(Array.from(greedyTheirs.tokens));
    }
    ctx.free();
    figures.push(`steering vs llama.cpp control vector max rel err ${worst.toExponential(1)} (single blocks and ranges), greedy tokens equal`);
  });

  it('alpha = 0 is bit-identical to no steering (logits and seeded tokens)', async () => {
    const ctx = await model.createContext({ nCtx: 512, nBatch: 64, nSeqMax: 1, nThreads: 1 });
    const toks = model.tokenize('Hello there, how are you?');
    const zero = await ctx.evalLogits(toks, [{ layer: 3, direction: d, alpha: 0 }, { layers: [1, 2], direction: d, alpha: 0, normalize: true }]);
    const none = await ctx.evalLogits(toks);
    expect(Buffer.from(zero.buffer).equals(Buffer.from(none.buffer))).toBe(true);
    const [a] = await ctx.generate({ sequences: [{ prompt: 'Hello', temperature: 0.8, seed: 3, maxTokens: 20, steer: [{ layer: 3, direction: d, alpha: 0 }] }] }).result();
    const [b] = await ctx.generate({ sequences: [{ prompt: 'Hello', temperature: 0.8, seed: 3, maxTokens: 20 }] }).result();
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    ctx.free();
    figures.push('alpha 0 bit-identical');
  });
});
