// Live generation (issue 15), on the Qwen2.5-0.5B-shaped synthetic model (q8_0, cached):
//  1. continuous batching: 2 x SLOTS sequences (128-token prompts, MAX_TOKENS new tokens each) through
//     one open generation of SLOTS slots, a new sequence added whenever one finishes, vs the same
//     sequences started together in fixed generations of SLOTS; and the same with lengths that vary
//     (MAX_TOKENS/2..MAX_TOKENS), where a fixed batch idles until its longest sequence ends;
//  2. gate cost: SLOTS steered sequences with a probe gate (read at block Lm, steering at Ls) vs the
//     same steering always on (fixed lengths, so both decode the same number of tokens).
// Each comparison runs in alternating order; figures are medians of per-round ratios (with spread).
// Prints one JSON object (also written to bench/results/ when OUT is set).
//
// Run: npx vite-node bench/live-bench.ts   (env: ROUNDS=3 SLOTS=55 MAX_TOKENS=200 THREADS=<cores> SHAPE=0.5b|tiny
//      PARTS=continuous,gate OUT=file)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Model } from '../lib/engine/model.js';
import { generationContextOptions } from '../lib/engine/context.js';
import type { Gate, SequenceRequest } from '../lib/engine/generate.js';
import { runtimeInfo } from '../lib/engine/runtime-info.js';
import { synth } from '../lib/engine/synth.js';
import { createRng } from '../lib/stats/rng.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SLOTS = Number(process.env.SLOTS ?? 55);
const MAX_TOKENS = Number(process.env.MAX_TOKENS ?? 200);
const PROMPT_TOKENS = 128;
// the model's shape (a synthetic qwen2 of that shape, q8_0): 0.5b by default; tiny isolates the
// scheduling overhead (the part continuous batching could cost) from the matmuls
const SHAPE = (process.env.SHAPE ?? '0.5b') as '0.5b' | 'tiny';
// which comparisons to run: continuous (1.) and/or gate (2.)
const PARTS = new Set((process.env.PARTS ?? 'continuous,gate').split(','));
const THREADS = Number(process.env.THREADS ?? availableParallelism());
const cache = process.env.EIA_BENCH_CACHE ?? join(tmpdir(), 'eia-bench-cache');
mkdirSync(cache, { recursive: true });

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r1 = (x: number) => Math.round(x * 10) / 10;

const modelPath = join(cache, `qwen2-${SHAPE}-q8_0.gguf`);
if (!existsSync(modelPath)) {
  process.stderr.write(`synthesising ${modelPath} ...\n`);
  await synth({ arch: 'qwen2', shape: SHAPE, type: 'q8_0', seed: 1, out: modelPath });
}
const model = await Model.load(modelPath);
const rng = createRng(7);
const nV = model.info.nVocab;
const dir = new Float32Array(model.nEmbd);
{
  let n = 0;
  for (let i = 0; i < dir.length; i++) { dir[i] = rng.normal(); n += dir[i] * dir[i]; }
  for (let i = 0; i < dir.length; i++) dir[i] /= Math.sqrt(n);
}
const Lm = Math.floor(model.nLayer / 2) - 2, Ls = Math.floor(model.nLayer / 2);

function prompt(i: number): Int32Array {
  const r = createRng(1000 + i);
  return Int32Array.from({ length: PROMPT_TOKENS }, () => 10 + Math.floor(r.next() * (nV - 10)));
}

function sequences(n: number, varied: boolean, extra: Partial<SequenceRequest> = {}): SequenceRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    prompt: prompt(i), temperature: 0.7, topK: 50, seed: i, ignoreEog: true,
    maxTokens: varied ? Math.round(MAX_TOKENS / 2 + (MAX_TOKENS / 2) * createRng(5000 + i).next()) : MAX_TOKENS,
    ...extra,
  }));
}

const ctxOpts = generationContextOptions(SLOTS, PROMPT_TOKENS + MAX_TOKENS + 1, THREADS);
const ctx = await model.createContext(ctxOpts);

/** Fixed generations of SLOTS sequences, one after the other. */
async function together(seqs: SequenceRequest[]): Promise<{ tokens: number; ms: number }> {
  const t0 = performance.now();
  let tokens = 0;
  for (let i = 0; i < seqs.length; i += SLOTS) {
    const res = await ctx.generate({ sequences: seqs.slice(i, i + SLOTS) }).result();
    tokens += res.reduce((s, r) => s + r.tokens.length, 0);
  }
  return { tokens, ms: performance.now() - t0 };
}

/** One open generation: SLOTS at first, then a new sequence whenever one finishes. */
async function continuous(seqs: SequenceRequest[]): Promise<{ tokens: number; ms: number }> {
  const t0 = performance.now();
  const gen = ctx.generate({ sequences: seqs.slice(0, SLOTS), open: true, keepResults: false, stepsPerCall: 4 });
  let next = SLOTS, tokens = 0, done = 0;
  for await (const ev of gen) {
    if (ev.type === 'token') { tokens++; continue; }
    done++;
    if (next < seqs.length) void gen.add(seqs[next++], { whenFull: 'reject' });
    if (done === seqs.length) gen.close();
  }
  return { tokens, ms: performance.now() - t0 };
}

async function steered(gated: boolean): Promise<{ tokens: number; ms: number; gateOn: number }> {
  const term = { layer: Ls, direction: dir, alpha: 4 };
  // the gate switches around the middle of this direction's projections (read in a first run below)
  const seqs = sequences(SLOTS, false, gated ? { gate: gate! } : { steer: [term] });
  const t0 = performance.now();
  const res = await ctx.generate({ sequences: seqs }).result();
  return { tokens: res.reduce((s, r) => s + r.tokens.length, 0), ms: performance.now() - t0, gateOn: res.reduce((s, r) => s + (r.gate ? r.gate.reduce((a, b) => a + b, 0) : 0), 0) };
}

// thresholds for the gate: the median and 75th percentile of the unsteered projections at Lm
let gate: Gate | null = null;
{
  const res = await ctx.generate({ sequences: sequences(SLOTS, false, { maxTokens: 32 }), monitors: [{ layer: Lm, direction: dir }] }).result();
  const p = res.flatMap((r) => Array.from(r.scores![0])).sort((a, b) => a - b);
  gate = { layer: Lm, direction: dir, on: p[p.length >> 1], off: p[Math.floor(p.length * 0.75)], positions: 'generated', steer: [{ layer: Ls, direction: dir, alpha: 4 }] };
}

const rate = (x: { tokens: number; ms: number }) => x.tokens / (x.ms / 1000);
const rounds: Record<string, number>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const fixed = sequences(2 * SLOTS, false), varied = sequences(2 * SLOTS, true);
  const first = r % 2 === 0;
  const run = async <T>(a: () => Promise<T>, b: () => Promise<T>): Promise<[T, T]> => {
    if (first) { const x = await a(); return [x, await b()]; }
    const y = await b(); return [await a(), y];
  };
  const row: Record<string, number> = {};
  if (PARTS.has('continuous')) {
    const [cf, tf] = await run(() => continuous(fixed), () => together(fixed));
    const [cv, tv] = await run(() => continuous(varied), () => together(varied));
    Object.assign(row, { continuous_fixed: rate(cf), together_fixed: rate(tf), continuous_varied: rate(cv), together_varied: rate(tv) });
  }
  if (PARTS.has('gate')) {
    const [g, s] = await run(() => steered(true), () => steered(false));
    Object.assign(row, { gated: rate(g), always_on: rate(s), gate_on_share: g.gateOn / g.tokens });
  }
  rounds.push(row);
  process.stderr.write(`round ${r + 1}/${ROUNDS}: ${JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, r1(v)])))}\n`);
}
ctx.free();
model.free();

const ratio = (a: string, b: string) => {
  const xs = rounds.map((x) => x[a] / x[b]);
  return { median: r3(median(xs)), rounds: xs.map(r3) };
};
const rt = runtimeInfo();
const report = {
  bench: 'live-generation',
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, threads: THREADS, load_average_end: r1(loadavg()[0]), runtime: rt.runtimePackage ?? rt.runtime, backend: rt.gpu ?? `cpu (${rt.cpuVariant})` },
  settings: { model: `qwen2 ${SHAPE}-shaped synthetic, q8_0`, slots: SLOTS, sequences: 2 * SLOTS, prompt_tokens: PROMPT_TOKENS, max_tokens: MAX_TOKENS, rounds: ROUNDS, gate: { lm: Lm, ls: Ls, alpha: 4 } },
  parts: [...PARTS],
  ratios: {
    ...(PARTS.has('continuous') ? {
      continuous_vs_together_fixed_lengths: ratio('continuous_fixed', 'together_fixed'),
      continuous_vs_together_varied_lengths: ratio('continuous_varied', 'together_varied'),
    } : {}),
    ...(PARTS.has('gate') ? { gated_vs_always_on: ratio('gated', 'always_on') } : {}),
  },
  ...(PARTS.has('gate') ? {
    gate_cost: r3(1 - median(rounds.map((x) => x.gated / x.always_on))),
    gate_on_share: r3(median(rounds.map((x) => x.gate_on_share))),
  } : {}),
  rates_tok_s: rounds.map((x) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, r1(v)]))),
};
const text = JSON.stringify(report, null, 2);
process.stdout.write(text + '\n');
if (process.env.OUT) writeFileSync(process.env.OUT, text + '\n');
