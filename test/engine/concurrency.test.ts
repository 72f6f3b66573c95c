// Concurrency: two models and four contexts used at once from JS (Promise.all of captures and
// generations) give exactly what sequential use gives; a second call into a busy context is
// rejected at once with "context is busy" (documented behaviour: reject, never queue); and the
// event loop keeps turning (max gap of a 5 ms interval < 50 ms) during load, capture and generation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import type { Context } from '../../lib/engine/context.js';
import type { CaptureResult } from '../../lib/engine/capture.js';
import type { SequenceResult } from '../../lib/engine/generate.js';
import { synthTo, tempDir, TEXTS } from '../helpers/fixtures.js';

const tmp = tempDir('eia-conc-');
afterAll(() => tmp.cleanup());

let paths: { llama: string; qwen2: string };
let models: Model[] = [];
let ctxs: Context[] = [];

const CAP_OPTS = { layers: [0, 2, 5], pool: 'mean' as const };
const TEXTS_MANY = Array.from({ length: 24 }, (_, i) => `${TEXTS[i % TEXTS.length]} (${i})`);

function genReq(model: Model, seed: number) {
  const d = new Float32Array(model.nEmbd).map((_, i) => Math.sin(i + seed));
  return {
    sequences: [
      { prompt: 'Tell me a story', temperature: 0, maxTokens: 24 },
      { prompt: 'Tell me a story', temperature: 0.8, seed, maxTokens: 24, steer: [{ layer: 2, direction: d, alpha: 4 }] },
      { prompt: 'Another prompt here', temperature: 0.7, seed: seed + 1, maxTokens: 16 },
    ],
    monitors: [{ layer: 3, direction: d }],
  };
}

function sameCapture(a: CaptureResult, b: CaptureResult) {
  expect(Array.from(a.nTokens)).toEqual(Array.from(b.nTokens));
  for (const l of CAP_OPTS.layers) expect(Array.from(a.data.get(l)!)).toEqual(Array.from(b.data.get(l)!));
}

function sameGen(a: SequenceResult[], b: SequenceResult[]) {
  expect(a.length).toBe(b.length);
  a.forEach((r, i) => {
    expect(Array.from(r.tokens)).toEqual(Array.from(b[i].tokens));
    expect(r.text).toBe(b[i].text);
    expect(r.scores!.map((s) => Array.from(s))).toEqual(b[i].scores!.map((s) => Array.from(s)));
  });
}

/** Runs `fn` while a 5 ms interval measures the largest gap between ticks. */
async function withLoopWatch<T>(fn: () => Promise<T>): Promise<{ value: T; maxGap: number; ticks: number; ms: number }> {
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  try {
    const value = await fn();
    // one more tick so that a block at the very end is measured too
    await new Promise((r) => setTimeout(r, 6));
    return { value, maxGap: Math.max(maxGap, performance.now() - last), ticks, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

describe('two models, four contexts, concurrently', () => {
  beforeAll(async () => {
    paths = {
      llama: (await synthTo(tmp.dir, 'c-llama', { arch: 'llama', shape: 'tiny', seed: 21 })).path,
      qwen2: (await synthTo(tmp.dir, 'c-qwen2', { arch: 'qwen2', shape: 'tiny', seed: 22 })).path,
    };
    models = [await Model.load(paths.llama), await Model.load(paths.qwen2)];
    for (const m of models) {
      for (let k = 0; k < 2; k++) ctxs.push(await m.createContext({ nCtx: 1024, nBatch: 64, nSeqMax: 4, nThreads: 1 }));
    }
  });
  afterAll(() => {
    ctxs.forEach((c) => c.free());
    models.forEach((m) => m.free());
  });

  it('Promise.all of captures and generations on 4 contexts == the same calls one after another', async () => {
    // contexts 0,1 belong to model 0 (llama), 2,3 to model 1 (qwen2)
    const work = (c: Context, i: number) => (i % 2 === 0
      ? c.capture(TEXTS_MANY, CAP_OPTS)
      : c.generate(genReq(c.model, 100 + i)).result());
    const sequential: unknown[] = [];
    for (let i = 0; i < 4; i++) sequential.push(await work(ctxs[i], i));
    const concurrent = await Promise.all(ctxs.map((c, i) => work(c, i)));
    // and swapped roles: generations on the even contexts while captures run on the odd ones
    const swapped = await Promise.all(ctxs.map((c, i) => (i % 2 === 1 ? c.capture(TEXTS_MANY, CAP_OPTS) : c.generate(genReq(c.model, 101 + i)).result())));
    for (let i = 0; i < 4; i++) {
      if (i % 2 === 0) {
        sameCapture(concurrent[i] as CaptureResult, sequential[i] as CaptureResult);
        sameGen(swapped[i] as SequenceResult[], sequential[i + 1] as SequenceResult[]);
      } else {
        sameGen(concurrent[i] as SequenceResult[], sequential[i] as SequenceResult[]);
        sameCapture(swapped[i] as CaptureResult, sequential[i - 1] as CaptureResult);
      }
    }
    // the two models really differ (not the same computation four times)
    expect(Array.from((sequential[0] as CaptureResult).data.get(0)!.subarray(0, 8)))
      .not.toEqual(Array.from((sequential[2] as CaptureResult).data.get(0)!.subarray(0, 8)));
  });

  it('streamed generations on two contexts of one model interleave and match their results()', async () => {
    const run = async (c: Context, seed: number) => {
      const g = c.generate({ ...genReq(c.model, seed), stepsPerCall: 1 });
      const seen: number[][] = [[], [], []];
      for await (const ev of g) if (ev.type === 'token') seen[ev.seq].push(ev.token);
      return { seen, res: g.results() };
    };
    const [a, b] = await Promise.all([run(ctxs[0], 7), run(ctxs[1], 8)]);
    for (const x of [a, b]) x.res.forEach((r, i) => expect(x.seen[i]).toEqual(Array.from(r.tokens)));
    const [a2] = await Promise.all([run(ctxs[0], 7)]);
    sameGen(a2.res, a.res);
  });

  it('a call into a busy context rejects at once with "context is busy" (no queueing); the running call is unaffected', async () => {
    const c = ctxs[0];
    const ref = await c.capture(TEXTS_MANY, CAP_OPTS);
    const running = c.capture(TEXTS_MANY, CAP_OPTS);
    expect(c.busy).toBe(true);
    const t0 = performance.now();
    await expect(c.capture(['x'], CAP_OPTS)).rejects.toThrow(/context is busy/);
    expect(() => c.generate(genReq(c.model, 1))).toThrow(/context is busy/);
    // (evalLogits throws synchronously, before any promise exists; `await` sees it either way)
    await expect((async () => c.evalLogits(c.model.tokenize('hi')))()).rejects.toThrow(/context is busy/);
    expect(() => c.setControlVector(new Float32Array(c.model.nEmbd), 1, 1)).toThrow(/context is busy/);
    expect(() => c.free()).toThrow(/context is busy/);
    expect(performance.now() - t0).toBeLessThan(50);  // rejected, not queued behind the capture
    sameCapture(await running, ref);
    expect(c.busy).toBe(false);

    // a generation holds the context until it is consumed
    const g = c.generate(genReq(c.model, 3));
    await expect(c.capture(['x'], CAP_OPTS)).rejects.toThrow(/context is busy/);
    await g.result();
    expect(c.busy).toBe(false);
    // other contexts of the same model are free meanwhile
    const g2 = c.generate(genReq(c.model, 3));
    const other = await ctxs[1].capture(['free'], CAP_OPTS);
    expect(other.nTexts).toBe(1);
    await g2.result();
  });

  // A gap means the JS thread did not run: either our code blocked it (reproducible: native work
  // on the JS thread) or the OS did not schedule the process (a loaded 2-core CI box). Each phase
  // is therefore measured up to 3 times and must stay under 50 ms at least once; all attempts are reported.
  it('the event loop is never blocked > 50 ms during load, context creation, capture and generation', async () => {
    const report: string[] = [];
    // Each attempt repeats the operation until 60 ms have passed (releasing all but the last
    // result), so even a fast machine gives a window in which a blocked loop would show.
    const phase = async <T>(name: string, once: () => Promise<T>, done: (v: T) => void = () => {}): Promise<T> => {
      const tries: number[] = [];
      const fn = async (): Promise<T> => {
        const t0 = performance.now();
        let v = await once();
        while (performance.now() - t0 < 60) {
          done(v);
          v = await once();
        }
        return v;
      };
      for (let attempt = 0; ; attempt++) {
        const r = await withLoopWatch(fn);
        tries.push(r.maxGap);
        if (r.maxGap < 50 || attempt === 2) {
          report.push(`${name} ${tries.map((g) => g.toFixed(1)).join('/')} ms over ${r.ms.toFixed(0)} ms`);
          expect(r.ms, `${name} too short to measure`).toBeGreaterThan(20);
          expect(r.maxGap, `${name}: max event-loop gap ${tries.map((g) => g.toFixed(1)).join(', ')} ms in ${tries.length} attempts`).toBeLessThan(50);
          return r.value;
        }
        done(r.value);
      }
    };
    const freeAll = (xs: { free(): void }[]) => xs.forEach((x) => x.free());
    const [m1, m2] = await phase('load', () => Promise.all([Model.load(paths.llama), Model.load(paths.qwen2)]), freeAll);
    try {
      const ctxOpts = { nCtx: 16384, nBatch: 64, nSeqMax: 4, nThreads: 1 };
      const [c1, c2] = await phase('createContext', () => Promise.all([m1.createContext(ctxOpts), m2.createContext(ctxOpts)]), freeAll);
      try {
        const long = Array.from({ length: 64 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${'and more words '.repeat(i % 7)}`);
        await phase('capture', () => Promise.all([c1.capture(long, { layers: [0, 3, 5], pool: 'tokens' }), c2.capture(long, { layers: [1], pool: 'mean' })]), () => {});
        await phase('generate', () => Promise.all([
          c1.generate({ sequences: [0, 1, 2, 3].map((s) => ({ prompt: 'Go on', seed: s, maxTokens: 96 })), monitors: [{ layer: 2, direction: new Float32Array(m1.nEmbd).fill(0.1) }] }).result(),
          c2.generate({ sequences: [0, 1].map((s) => ({ prompt: 'Go on', seed: s, maxTokens: 96 })) }).result(),
        ]));
        process.stderr.write(`[concurrency] max event-loop gap per attempt: ${report.join('; ')}\n`);
      } finally {
        c1.free();
        c2.free();
      }
    } finally {
      m1.free();
      m2.free();
    }
  });
});
