// Engine issue: residual-stream capture — batch invariance, llama.cpp oracle, planted concept, bad input.
import { copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { rows } from '../../lib/engine/capture.js';
import { readGgufTensor } from '../../lib/engine/gguf.js';
import { readNpy } from '../../lib/io/npy.js';
import { readPairs } from '../../lib/probes/dataset.js';
import { meanDiffDirection } from '../../lib/probes/probe.js';
import { cosine, maxRelErrRows, relErr, synthTo, tempDir, TEXTS } from '../helpers/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe.each(['llama', 'qwen2', 'phi3'] as const)('capture batch invariance (%s, F32)', (arch) => {
  let model: Model;
  beforeAll(async () => {
    const r = await synthTo(tmp.dir, `tiny-${arch}`, { arch, shape: 'tiny', type: 'f32', seed: 7 });
    model = await Model.load(r.path);
  });
  afterAll(() => model.free());

  it('a text inside a mixed multi-sequence batch equals the text captured alone (< 1e-4)', async () => {
    // nBatch 16: the long texts span several decode calls, the short ones share calls
    const ctx = await model.createContext({ nCtx: 1024, nBatch: 16, nSeqMax: 8, nThreads: 1 });
    const layers = [0, 2, model.nLayer - 1];
    const lens = TEXTS.map((t) => model.tokenize(t).length);
    expect(Math.max(...lens)).toBeGreaterThan(16);
    expect(Math.min(...lens)).toBeLessThan(16);
    for (const pool of ['mean', 'last', 'tokens'] as const) {
      const all = await ctx.capture(TEXTS, { layers, pool });
      expect(all.decodeCalls).toBeGreaterThan(1);
      for (let i = 0; i < TEXTS.length; i++) {
        const one = await ctx.capture([TEXTS[i]], { layers, pool });
        for (const L of layers) {
          const a = all.data.get(L)!;
          const b = one.data.get(L)!;
          const n = model.nEmbd;
          const slice = pool === 'tokens'
            ? a.subarray(all.offsets![i] * n, all.offsets![i + 1] * n)
            : a.subarray(i * n, (i + 1) * n);
          expect(slice.length).toBe(b.length);
          expect(maxRelErrRows(slice, b, n)).toBeLessThan(1e-4);
        }
      }
    }
    ctx.free();
  });

  it('mean equals the mean of the tokens rows; last equals the last token row', async () => {
    const ctx = await model.createContext({ nCtx: 1024, nBatch: 32, nSeqMax: 8, nThreads: 1 });
    const L = 1;
    const mean = await ctx.capture(TEXTS, { layers: [L], pool: 'mean' });
    const last = await ctx.capture(TEXTS, { layers: [L], pool: 'last' });
    const tok = await ctx.capture(TEXTS, { layers: [L], pool: 'tokens' });
    const n = model.nEmbd;
    for (let i = 0; i < TEXTS.length; i++) {
      const from = tok.offsets![i], to = tok.offsets![i + 1];
      const avg = new Float64Array(n);
      for (let r = from; r < to; r++) for (let j = 0; j < n; j++) avg[j] += tok.data.get(L)![r * n + j] / (to - from);
      expect(relErr(rows(mean, L)[i], avg)).toBeLessThan(1e-6);
      expect(relErr(rows(last, L)[i], tok.data.get(L)!.subarray((to - 1) * n, to * n))).toBe(0);
    }
    ctx.free();
  });

  it('oracle: last-layer tokens after the final RMS norm equal llama.cpp\'s own embeddings (pooling none)', async () => {
    const path = join(tmp.dir, `tiny-${arch}.gguf`);
    const ctx = await model.createContext({ nCtx: 512, nBatch: 256, nSeqMax: 4, nThreads: 1 });
    const emb = await model.createContext({ nCtx: 512, nBatch: 256, nSeqMax: 1, nThreads: 1, embeddings: true });
    const w = readGgufTensor(path, 'output_norm.weight').data;
    const eps = Number(model.meta(`${arch}.attention.layer_norm_rms_epsilon`));
    expect(eps).toBeGreaterThan(0);
    const L = model.nLayer - 1;
    const n = model.nEmbd;
    for (const text of TEXTS) {
      const cap = await ctx.capture([text], { layers: [L], pool: 'tokens' });
      const ref = await emb.embeddingsPerToken(text);
      expect(ref.nTokens).toBe(cap.nTokens[0]);
      const x = cap.data.get(L)!;
      const normed = new Float32Array(x.length);
      for (let r = 0; r < ref.nTokens; r++) {
        let ss = 0;
        for (let j = 0; j < n; j++) ss += x[r * n + j] ** 2;
        const scale = 1 / Math.sqrt(ss / n + eps);
        for (let j = 0; j < n; j++) normed[r * n + j] = x[r * n + j] * scale * w[j];
      }
      expect(maxRelErrRows(normed, ref.data, n)).toBeLessThan(1e-4);
    }
    ctx.free();
    emb.free();
  });
});

describe('planted concept', () => {
  it('the mean-difference direction from F.train.jsonl has cosine >= 0.95 with F.planted.npy at every layer', async () => {
    const r = await synthTo(tmp.dir, 'planted', { planted: true, plantedProfile: 'easy', seed: 3 });
    const planted = readNpy(r.plantedNpy!).data;
    const pairs = readPairs(r.trainJsonl!);
    const model = await Model.load(r.path);
    const ctx = await model.createContext({ nCtx: 4096, nBatch: 512, nSeqMax: 32 });
    const layers = Array.from({ length: model.nLayer }, (_, i) => i);
    const texts = [...pairs.map((p) => p.empathicText), ...pairs.map((p) => p.nonEmpathicText)];
    const cap = await ctx.capture(texts, { layers, pool: 'mean', truncate: 512 });
    for (const L of layers) {
      const all = rows(cap, L);
      const dir = meanDiffDirection(all.slice(0, pairs.length), all.slice(pairs.length));
      expect(cosine(dir, planted), `layer ${L}`).toBeGreaterThanOrEqual(0.95);
    }
    ctx.free();
    model.free();
  });
});

describe('bad input gives a JS error and the process lives', () => {
  let model: Model;
  let path: string;
  beforeAll(async () => {
    path = (await synthTo(tmp.dir, 'bad-base', { arch: 'llama', shape: 'tiny', seed: 1 })).path;
    model = await Model.load(path);
  });

  it('missing file', async () => {
    await expect(Model.load(join(tmp.dir, 'nope.gguf'))).rejects.toThrow(/cannot open model file .*nope\.gguf/);
  });
  it('not a GGUF', async () => {
    const f = join(tmp.dir, 'not.gguf');
    writeFileSync(f, 'hello, this is not a model');
    await expect(Model.load(f)).rejects.toThrow(/not a GGUF file/);
  });
  it('truncated GGUF', async () => {
    const f = join(tmp.dir, 'trunc.gguf');
    copyFileSync(path, f);
    truncateSync(f, Math.floor(readFileSync(path).length / 2));
    await expect(Model.load(f)).rejects.toThrow(/failed to load model/);
  });
  it('layer out of range', async () => {
    const ctx = await model.createContext({ nCtx: 256, nThreads: 1 });
    await expect(ctx.capture(['hi'], { layers: [model.nLayer] })).rejects.toThrow(/out of range/);
    await expect(ctx.handle.capture(['hi'], { layers: [-1], pool: 'mean', truncate: 0, addSpecial: true })).rejects.toThrow(/out of range/);
    ctx.free();
  });
  it('empty text list, empty text', async () => {
    const ctx = await model.createContext({ nCtx: 256, nThreads: 1 });
    await expect(ctx.capture([], { layers: [0] })).rejects.toThrow(/non-empty list/);
    await expect(ctx.handle.capture([], { layers: [0], pool: 'mean', truncate: 0, addSpecial: true })).rejects.toThrow(/at least one text/);
    await expect(ctx.handle.capture([''], { layers: [0], pool: 'mean', truncate: 0, addSpecial: false })).rejects.toThrow(/no tokens/);
    ctx.free();
  });
  it('unknown pooling', async () => {
    const ctx = await model.createContext({ nCtx: 256, nThreads: 1 });
    await expect(ctx.capture(['hi'], { layers: [0], pool: 'max' as never })).rejects.toThrow(/unknown pooling/);
    expect(() => ctx.handle.capture(['hi'], { layers: [0], pool: 'max', truncate: 0, addSpecial: true })).toThrow(/unknown pooling/);
    ctx.free();
  });
  it('text longer than the context with truncation off; truncation makes it fit', async () => {
    const ctx = await model.createContext({ nCtx: 64, nBatch: 64, nThreads: 1 });
    const nCtx = ctx.props.nCtx;  // llama.cpp rounds the context up (to 256)
    let long = TEXTS.join(' ');
    while (model.tokenize(long).length <= nCtx) long += ' ' + TEXTS.join(' ');
    await expect(ctx.capture([long], { layers: [0] })).rejects.toThrow(/more than the context/);
    const ok = await ctx.capture([long], { layers: [0], truncate: 32 });
    // maxTokens is the number of NEW tokens everywhere: capture refuses it with the name to use
    await expect(ctx.capture([long], { layers: [0], maxTokens: 32 } as never)).rejects.toThrow(/capture takes truncate/);
    expect(ok.nTokens[0]).toBe(32);
    ctx.free();
  });
  it('calling a freed model; a freed context; a busy context', async () => {
    const m2 = await Model.load(path);
    const ctx = await m2.createContext({ nCtx: 256, nThreads: 1 });
    const p = ctx.capture(TEXTS, { layers: [0] });
    await expect(ctx.capture(['x'], { layers: [0] })).rejects.toThrow(/context is busy/);
    await p;
    m2.free();
    expect(() => m2.tokenize('hi')).toThrow(/model has been freed/);
    await expect(m2.createContext()).rejects.toThrow(/model has been freed/);
    // the context keeps the weights alive until it is freed
    const still = await ctx.capture(['still works'], { layers: [0] });
    expect(still.nTexts).toBe(1);
    ctx.free();
    await expect(ctx.capture(['x'], { layers: [0] })).rejects.toThrow(/context has been freed/);
  });
  it('wrong argument types are E_BAD_ARG errors, not crashes', () => {
    expect(() => model.tokenize(42 as never)).toThrow(expect.objectContaining({ code: 'E_BAD_ARG', name: 'EiaError' }));
    expect(() => model.detokenize([1e9])).toThrow(/out of range/);
    expect(() => model.detokenize([1.5])).toThrow(/not an integer/);
  });
});
