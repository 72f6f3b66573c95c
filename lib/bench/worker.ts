// The bench's eia-native side, in its own process (started by lib/bench/run.ts): loads the model
// once, then runs one measurement per request through the public Node API (Model, Context.capture,
// Context.generate, Context.evalLogits), so the figures are what users get. Each reply carries the
// request's peak RSS (see proc.ts).
import { performance } from 'node:perf_hooks';
import { Model } from '../engine/model.js';
import { generationContextOptions, type Context, type ContextOptions } from '../engine/context.js';
import type { GenerateRequest, SteerPositions } from '../engine/generate.js';
import { GENERATION_DEFAULTS } from '../engine/defaults.js';
import { serveWorker } from './proc.js';
import { unitVector } from './workload.js';
import { EiaError } from '../util/errors.js';

let model: Model | null = null;
let threads: number | undefined;
const contexts = new Map<string, Context>();

function need(): Model {
  if (!model) throw new EiaError('E_STATE', 'no model loaded');
  return model;
}

async function context(key: string, opts: ContextOptions): Promise<Context> {
  let c = contexts.get(key);
  if (!c) {
    // one context at a time keeps each request's peak RSS its own
    for (const old of contexts.values()) old.free();
    contexts.clear();
    c = await need().createContext(opts);
    contexts.set(key, c);
  }
  return c;
}

export interface GenSpec {
  prompt: number[];
  alpha: number;
  seed: number;
  maxTokens: number;
  temperature: number;
  topK: number;
}

export interface GenRun {
  sequences: number;
  generatedTokens: number;
  /** Native decode phase (prompt excluded): tokens fed and milliseconds. */
  decodeTokens: number;
  decodeMs: number;
  /** Part of decodeMs (and promptMs) spent sampling, when the native build reports it. */
  sampleMs: number | null;
  promptMs: number;
  promptTokens: number;
  uniquePrompts: number;
  /** Wall clock from the generate call to the last event, as seen from JS. */
  wallMs: number;
  /** Wall clock from the first delivery of token events to the last one. */
  firstToLastMs: number;
  /**
   * Tokens in the first delivery (the events one native call returned, which reach JS in one turn of
   * the event loop): with one step per call, the prompt phase's first token of every sequence; with
   * more, those and the steps after it. The tokens after it took firstToLastMs.
   */
  firstDeliveryTokens: number;
}

/**
 * One generate call over `specs` through the same path as Context.generate (token-id prompts,
 * fixed length: end-of-generation tokens do not stop a sequence, so every run does the same work),
 * consumed with `for await` as the CLI does.
 */
async function runGenerate(ctx: Context, specs: GenSpec[], steer: { layer: number; direction: Float32Array } | null,
  monitor: { layer: number; direction: Float32Array } | null, positions: SteerPositions = 'all', stepsPerCall?: number): Promise<GenRun> {
  const monitors = monitor ? [monitor] : [];
  // stepsPerCall: the sweep's (the first delivery holds the prompt phase's first tokens and the
  // steps after them in that call); undefined (plain generation): the engine's default, what users get
  const req: GenerateRequest = {
    sequences: specs.map((s) => ({
      prompt: Int32Array.from(s.prompt),
      steer: steer && s.alpha !== 0 ? [{ layer: steer.layer, direction: steer.direction, alpha: s.alpha }] : [],
      positions, temperature: s.temperature, topK: s.topK, topP: 1, minP: 0, seed: s.seed, maxTokens: s.maxTokens, ignoreEog: true,
    })),
    monitors, ...(stepsPerCall === undefined ? {} : { stepsPerCall }),
  };
  const t0 = performance.now();
  const gen = ctx.generate(req);
  let n = 0;
  let tFirst = 0;
  let tLast = 0;
  // A delivery is what one native call returned: its events reach this loop within one turn of the
  // event loop, so a setImmediate armed at a delivery's first event fires after its last one.
  let deliveries = 0;
  let inDelivery = false;
  let firstDeliveryTokens = 0;
  for await (const ev of gen) {
    if (ev.type !== 'token') continue;
    tLast = performance.now();
    if (!inDelivery) {
      inDelivery = true;
      deliveries++;
      setImmediate(() => { inDelivery = false; });
    }
    if (n === 0) tFirst = tLast;
    if (deliveries === 1) firstDeliveryTokens++;
    n++;
  }
  const wallMs = performance.now() - t0;
  const st = gen.stats();
  return {
    sequences: specs.length, generatedTokens: n, decodeTokens: st.decodeTokens, decodeMs: st.decodeMs,
    sampleMs: typeof st.sampleMs === 'number' ? st.sampleMs : null, promptMs: st.promptMs,
    promptTokens: st.promptTokens, uniquePrompts: st.uniquePrompts, wallMs, firstToLastMs: tLast - tFirst, firstDeliveryTokens,
  };
}

const num = (v: unknown, d?: number): number => (typeof v === 'number' ? v : d !== undefined ? d : Number.NaN);

serveWorker({
  async load(a) {
    threads = typeof a.threads === 'number' ? a.threads : undefined;
    model = await Model.load(String(a.model));
    const i = model.info;
    return { arch: i.arch, nLayer: i.nLayer, nEmbd: i.nEmbd, nVocab: i.nVocab, bos: i.bos, addBos: i.addBos, nParams: i.nParams, sizeBytes: i.sizeBytes };
  },

  /** Detokenised random token ids (for capture texts, which the public API takes as strings). */
  async texts(a) {
    const m = need();
    return (a.ids as number[][]).map((ids) => m.detokenize(ids));
  },

  /** Capture at `layers`, mean pool, texts truncated to `truncate` tokens (one text per 512-token batch). */
  async capture(a) {
    const texts = a.texts as string[];
    const layers = a.layers as number[];
    const truncate = num(a.truncate);
    const batch = num(a.batch, 512);
    const ctx = await context(`capture:${batch}`, { nCtx: Math.max(1024, 2 * batch), nBatch: batch, nUbatch: batch, nSeqMax: 4, nThreads: threads });
    const t0 = performance.now();
    const r = await ctx.capture(texts, { layers, pool: 'mean', truncate });
    const wallMs = performance.now() - t0;
    return { tokens: r.tokensTotal, nativeMs: r.ms, wallMs, decodeCalls: r.decodeCalls, minTokens: Math.min(...r.nTokens), maxTokens: Math.max(...r.nTokens) };
  },

  /**
   * Generation of `specs` in one call (a sweep: every spec its own sequence) or one call per spec
   * (`sequential`), optionally steered at `layer` along a fixed random direction, optionally with
   * one monitor probe.
   */
  async generate(a) {
    const m = need();
    const specs = a.specs as GenSpec[];
    const sequential = a.sequential === true;
    // ctxSeqs / ctxTokens: size the context for a bigger run than this one (a warm-up on the same context)
    const tokensPerSeq = num(a.ctxTokens, Math.max(...specs.map((s) => s.prompt.length + s.maxTokens)));
    const nSeqs = sequential ? 1 : num(a.ctxSeqs, specs.length);
    const ctx = await context(`gen:${nSeqs}:${tokensPerSeq}`, generationContextOptions(nSeqs, tokensPerSeq, threads));
    const layer = typeof a.layer === 'number' ? a.layer : null;
    const direction = unitVector(m.nEmbd, num(a.directionSeed, 11));
    const steer = layer !== null && a.steer !== false ? { layer, direction } : null;
    const monitor = layer !== null && a.monitor === true ? { layer, direction } : null;
    const positions = (a.positions ?? 'all') as SteerPositions;
    // each side runs as users get it: plain generation at the engine's default steps per call, the
    // sweep at a steering sweep's (GENERATION_DEFAULTS.stepsPerCallSweep, what `steer` and `run` use).
    // One step per call would add a thread hop per step to the decode time (ggml's threads park between
    // calls): 0.87-0.89 of llama-batched-bench instead of 0.93+ on the sapphirerapids variant.
    const stepsPerCall = a.stepsPerCall === 'default' ? undefined : num(a.stepsPerCall, GENERATION_DEFAULTS.stepsPerCallSweep);
    if (!sequential) return runGenerate(ctx, specs, steer, monitor, positions, stepsPerCall);
    const runs: GenRun[] = [];
    const t0 = performance.now();
    for (const s of specs) runs.push(await runGenerate(ctx, [s], steer, monitor, positions, stepsPerCall));
    const sum = (k: 'generatedTokens' | 'decodeTokens' | 'decodeMs' | 'promptMs' | 'promptTokens' | 'uniquePrompts' | 'firstToLastMs' | 'firstDeliveryTokens') => runs.reduce((x, r) => x + r[k], 0);
    return {
      sequences: specs.length, generatedTokens: sum('generatedTokens'), decodeTokens: sum('decodeTokens'), decodeMs: sum('decodeMs'),
      sampleMs: runs.every((r) => r.sampleMs !== null) ? runs.reduce((x, r) => x + r.sampleMs!, 0) : null,
      promptMs: sum('promptMs'), promptTokens: sum('promptTokens'), uniquePrompts: sum('uniquePrompts'),
      wallMs: performance.now() - t0, firstToLastMs: sum('firstToLastMs'), firstDeliveryTokens: sum('firstDeliveryTokens'),
    } satisfies GenRun;
  },

  /**
   * The paper's computation pattern on this engine: steering without a KV cache (every new token
   * re-evaluates the whole sequence, argmax of the last row), one sample at a time; then capture
   * with one pass per probed layer and per text.
   */
  async paperMethod(a) {
    const m = need();
    const ctx = await context('paper:1', { nCtx: 2048, nBatch: 512, nUbatch: 512, nSeqMax: 1, nThreads: threads });
    const grid = a.grid as PaperGrid;
    const direction = unitVector(m.nEmbd, 13);
    const nVocab = m.info.nVocab;
    const t0 = performance.now();
    let generated = 0;
    for (const alpha of grid.alphas) {
      for (let s = 0; s < grid.samples; s++) {
        const seq = grid.prompt.slice();
        for (let t = 0; t < grid.genTokens; t++) {
          const logits = await ctx.evalLogits(Int32Array.from(seq), alpha !== 0 ? [{ layer: grid.layer, direction, alpha }] : []);
          const last = logits.subarray((seq.length - 1) * nVocab, seq.length * nVocab);
          let best = 0;
          for (let k = 1; k < nVocab; k++) if (last[k] > last[best]) best = k;
          seq.push(best);
          generated++;
        }
      }
    }
    const tGen = performance.now() - t0;
    for (const layer of grid.probeLayers) for (const text of grid.texts) await ctx.capture([text], { layers: [layer], pool: 'mean', truncate: grid.textTokens });
    const ms = performance.now() - t0;
    return { ms, generateMs: tGen, captureMs: ms - tGen, generated };
  },

  /** eia-native's way for the same grid: one batched, cached, steered generation; one capture pass for all layers. */
  async eiaMethod(a) {
    const m = need();
    const grid = a.grid as PaperGrid;
    const direction = unitVector(m.nEmbd, 13);
    const specs: GenSpec[] = [];
    for (const alpha of grid.alphas) for (let s = 0; s < grid.samples; s++) specs.push({ prompt: grid.prompt, alpha, seed: s, maxTokens: grid.genTokens, temperature: 0, topK: 0 });
    const gctx = await context(`eia:${specs.length}`, generationContextOptions(specs.length, grid.prompt.length + grid.genTokens, threads));
    const t0 = performance.now();
    const g = await runGenerate(gctx, specs, { layer: grid.layer, direction }, null);
    const tGen = performance.now() - t0;
    // the capture context is set up outside the timed part, as the generation context is
    const t1 = performance.now();
    const cctx = await context('eia:capture', { nCtx: 2048, nBatch: 512, nUbatch: 512, nSeqMax: 8, nThreads: threads });
    const setup = performance.now() - t1;
    const t2 = performance.now();
    await cctx.capture(grid.texts, { layers: grid.probeLayers, pool: 'mean', truncate: grid.textTokens });
    const tCap = performance.now() - t2;
    return { ms: tGen + tCap, generateMs: tGen, captureMs: tCap, setupMs: setup, generated: g.generatedTokens };
  },

  async unload() {
    for (const c of contexts.values()) c.free();
    contexts.clear();
    model?.free();
    model = null;
    return {};
  },
});

export interface PaperGrid {
  alphas: number[];
  samples: number;
  prompt: number[];
  genTokens: number;
  layer: number;
  probeLayers: number[];
  texts: string[];
  textTokens: number;
}
