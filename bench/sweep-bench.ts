// Sweep overhead and protocol projection. On the Qwen2.5-0.5B-shaped synthetic model (q8_0,
// cached), a sweep of 3 layers x 9 alphas x 1 scenario x 5 samples x 64 tokens (135 samples) runs
// through runSweep (generation + probe-score capture + JSONL appends + fsync), alternating with the
// same 135 sequences generated directly by ctx.generate (same prompts, steering and seeds). The
// ratio sweep tok/s / engine tok/s (median over A/B pairs) is the orchestration + scoring + writing
// cost. Then the paper's full protocol is projected for the three model shapes from the measured
// rates (bigger shapes extrapolated by parameter count, labelled as such). Prints one JSON object.
//
// Run: npx vite-node bench/sweep-bench.ts   (env: RUNS=3 THREADS=<cores> EIA_BENCH_CACHE=<dir>)
// Timings are not asserted in tests.

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Model } from '../lib/engine/model.js';
import { generationContextOptions } from '../lib/engine/context.js';
import type { SequenceRequest } from '../lib/engine/generate.js';
import { synth } from '../lib/engine/synth.js';
import { writeNpy } from '../lib/io/npy.js';
import { createRng } from '../lib/stats/rng.js';
import { SCENARIOS, steeringPrompt } from '../lib/steering/scenarios.js';
import { sampleSeed } from '../lib/steering/sweep/plan.js';
import type { SweepResult } from '../lib/steering/sweep/options.js';
import { runSweep } from '../lib/steering/sweep/run.js';

const RUNS = Number(process.env.RUNS ?? 3);
const THREADS = Number(process.env.THREADS ?? availableParallelism());
const cache = process.env.EIA_BENCH_CACHE ?? join(tmpdir(), 'eia-bench-cache');
mkdirSync(cache, { recursive: true });

const LAYERS = [8, 12, 16];
const ALPHAS = [-20, -10, -5, -3, 0, 3, 5, 10, 20];
const SCENARIO = 'food_delivery';
const SAMPLES = 5;
const MAX_TOKENS = 64;
const SEED = 11;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r1 = (x: number) => Math.round(x * 10) / 10;

// ---- model and probes (cached)
const modelPath = join(cache, 'qwen2-0.5b-q8_0.gguf');
if (!existsSync(modelPath)) {
  process.stderr.write(`synthesising ${modelPath} ...\n`);
  await synth({ arch: 'qwen2', shape: '0.5b', type: 'q8_0', seed: 1, out: modelPath });
}
const probesDir = join(cache, 'probes-0.5b');
{
  const rng = createRng(5);
  mkdirSync(probesDir, { recursive: true });
  for (const l of LAYERS) {
    const p = join(probesDir, `layer${l}.npy`);
    if (existsSync(p)) continue;
    const v = new Float32Array(896);
    let n = 0;
    for (let i = 0; i < v.length; i++) { v[i] = rng.normal(); n += v[i] * v[i]; }
    for (let i = 0; i < v.length; i++) v[i] /= Math.sqrt(n);
    writeNpy(p, v, [v.length]);
  }
}

// ---- engine baseline: the same 135 sequences in one ctx.generate
const model = await Model.load(modelPath);
const { loadProbes } = await import('../lib/probes/probe-file.js');
const probes = loadProbes(probesDir);
const scenario = SCENARIOS.find((s) => s.id === SCENARIO)!;
const prompt = steeringPrompt(scenario);
const promptTokens = model.tokenize(prompt, { addSpecial: true }).length;
const sequences: SequenceRequest[] = [];
for (const layer of LAYERS) for (const alpha of ALPHAS) for (let s = 0; s < SAMPLES; s++) {
  sequences.push({
    prompt, steer: alpha !== 0 ? [{ layer, direction: probes.get(layer)!.direction, alpha }] : [], positions: 'all',
    temperature: 0.7, topK: 50, topP: 1, minP: 0, seed: sampleSeed(SEED, SCENARIO, s), maxTokens: MAX_TOKENS,
  });
}

async function engineRun(): Promise<{ tokens: number; ms: number; decodeMs: number; promptMs: number }> {
  const ctx = await model.createContext(generationContextOptions(sequences.length, promptTokens + MAX_TOKENS + 1, THREADS));
  try {
    const t = performance.now();
    const h = ctx.generate({ sequences });
    const res = await h.result();
    const ms = performance.now() - t;
    const st = h.stats();
    return { tokens: res.reduce((n, r) => n + r.tokens.length, 0), ms, decodeMs: st.decodeMs, promptMs: st.promptMs };
  } finally {
    ctx.free();
  }
}

async function sweepRun(shareBaseline: boolean, probeScore: 'capture' | 'monitor' | 'off' = 'capture', samples = SAMPLES, maxTokens = MAX_TOKENS): Promise<SweepResult & { sampleTokens: number }> {
  const out = join(cache, `sweep-run-${shareBaseline ? 'shared' : 'plain'}`);
  rmSync(out, { recursive: true, force: true });
  const r = await runSweep({
    modelPath, probesDir, layers: LAYERS, alphas: ALPHAS, scenarios: [SCENARIO], samples, maxTokens,
    temperature: 0.7, topK: 50, seed: SEED, out, threads: THREADS, progress: false, shareBaseline, probeScore, log: () => {},
  });
  const lines = readFileSync(join(out, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tokens: number });
  return { ...r, sampleTokens: lines.reduce((n, l) => n + l.tokens, 0) };
}

const brief = (r: Sweep) => ({ tokens: r.sampleTokens, loopMs: r1(r.loopMs), promptMs: r1(r.promptMs), decodeMs: r1(r.decodeMs), captureMs: r1(r.captureMs), writeMs: r1(r.writeMs) });
await sweepRun(false, 'capture', 1, 4); // warm-up (page cache, file hash memo)
type Sweep = Awaited<ReturnType<typeof sweepRun>>;
type Pair = { engine: Awaited<ReturnType<typeof engineRun>>; sweep: Sweep; monitor: Sweep; bare: Sweep };
const pairs: Pair[] = [];
for (let i = 0; i < RUNS; i++) {
  // alternate the order so drift in machine load hits both sides
  let p: Pair;
  if (i % 2 === 0) {
    const engine = await engineRun(); const sweep = await sweepRun(false); const monitor = await sweepRun(false, 'monitor'); const bare = await sweepRun(false, 'off');
    p = { engine, sweep, monitor, bare };
  } else {
    const bare = await sweepRun(false, 'off'); const monitor = await sweepRun(false, 'monitor'); const sweep = await sweepRun(false); const engine = await engineRun();
    p = { engine, sweep, monitor, bare };
  }
  pairs.push(p);
  process.stderr.write(`${JSON.stringify({ run: i + 1, engine: p.engine, sweep: brief(p.sweep), monitor: brief(p.monitor), off: brief(p.bare) })}\n`);
  process.stderr.write(`run ${i + 1}/${RUNS}: engine ${r1(p.engine.tokens / (p.engine.ms / 1000))} tok/s, sweep ${r1(p.sweep.sampleTokens / (p.sweep.loopMs / 1000))} tok/s, ` +
    `monitor-scored ${r1(p.monitor.sampleTokens / (p.monitor.loopMs / 1000))} tok/s, without probe scores ${r1(p.bare.sampleTokens / (p.bare.loopMs / 1000))} tok/s\n`);
}
const shared = process.env.SHARED === '1' ? await sweepRun(true) : null;

// tokens generated per sample record in the sweep (the engine counts every generated token, first included)
const engineTokS = pairs.map((p) => p.engine.tokens / (p.engine.ms / 1000));
const sweepTokS = pairs.map((p) => p.sweep.sampleTokens / (p.sweep.loopMs / 1000));
const sweepTokSWall = pairs.map((p) => p.sweep.sampleTokens / (p.sweep.wallMs / 1000));
const ratios = pairs.map((p, i) => sweepTokS[i] / engineTokS[i]);
const ratiosWall = pairs.map((p, i) => sweepTokSWall[i] / engineTokS[i]);
// Within-run efficiency: the engine's native generation time (prompt + decode + sampling) over the
// run's wall time. Load from other processes slows both terms of one run alike, so the ratio of
// efficiencies (sweep vs direct ctx.generate) is far less noisy on a shared machine than tok/s ratios.
const engineEff = pairs.map((p) => (p.engine.promptMs + p.engine.decodeMs) / p.engine.ms);
const eff = (r: Sweep) => (r.promptMs + r.decodeMs) / r.loopMs;
const within = (pick: (p: Pair) => Sweep) => pairs.map((p, i) => eff(pick(p)) / engineEff[i]);
const bareRatios = pairs.map((p, i) => p.bare.sampleTokens / (p.bare.loopMs / 1000) / engineTokS[i]);
const monitorRatios = pairs.map((p, i) => p.monitor.sampleTokens / (p.monitor.loopMs / 1000) / engineTokS[i]);
const last = pairs[pairs.length - 1].sweep;

// ---- projection of the paper's protocol
// measured on the 0.5b shape: batched steered generation (engine rate) and the capture (prefill) rate
const decodeRate = median(engineTokS);
const captureTokens = pairs.map((p) => p.sweep.sampleTokens + (model.info.addBos ? 135 : 0));  // generated ids (+ BOS)
const captureRate = median(pairs.map((p, i) => captureTokens[i] / (p.sweep.captureMs / 1000)));
let probeTextTokens = 430;  // the paper's pair texts: ~1960 characters each, ~4.5 characters per token
const pairsFile = join(process.cwd(), '..', 'shared', 'reference', 'empathy-probes', 'data', 'contrastive_pairs', 'train_pairs.jsonl');
if (existsSync(pairsFile)) {
  const files = [pairsFile, pairsFile.replace('train_pairs', 'test_pairs')].filter(existsSync);
  const texts = files.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).flatMap((p) => [p.empathic_text as string, p.non_empathic_text as string]));
  probeTextTokens = Math.round(texts.reduce((n, t) => n + Math.min(512, t.length / 4.5), 0) / texts.length);
}
// compute per token ~ parameters used in matmuls (input embedding lookups are free; the output head is not)
const base = { matmulParams: 494e6 };  // Qwen2.5-0.5B shape, tied embedding: the table doubles as the output head
const shapes = [
  { shape: 'phi-3-mini', model: 'Phi-3-mini-4k-instruct', params: 3.82e9, embed: 32064 * 3072, steered: 4, alphas: 11 },
  { shape: 'qwen2.5-7b', model: 'Qwen2.5-7B-Instruct', params: 7.62e9, embed: 152064 * 3584, steered: 3, alphas: 9 },
  { shape: 'llama-3.1-8b', model: 'Dolphin-2.9.4-Llama-3.1-8B', params: 8.03e9, embed: 128256 * 4096, steered: 3, alphas: 7 },
];
const projection = shapes.map((s) => {
  const scale = (s.params - s.embed) / base.matmulParams;
  const samples = s.steered * s.alphas * 3 * 5;
  const genTokens = samples * 200;
  const sharedSamples = samples - (s.steered - 1) * 3 * 5;  // alpha = 0 generated once for all layers
  const dRate = decodeRate / scale;
  const cRate = captureRate / scale;
  const genS = (sharedSamples * 200) / dRate;
  const scoreS = genTokens / cRate;
  const probeS = (100 * probeTextTokens) / cRate;  // one capture pass, all 5 layers at once
  return {
    model: s.model, shape: s.shape, samples, generated_tokens: genTokens, sequences_decoded: sharedSamples,
    rate_basis: `extrapolated from the measured 0.5b rates by matmul parameter count (x${r1(scale)}); ${THREADS} CPU threads`,
    decode_tok_s: r1(dRate), capture_tok_s: r1(cRate),
    steering_hours: r3(genS / 3600), probe_score_capture_hours: r3(scoreS / 3600), probing_hours: r3(probeS / 3600),
    total_hours: r3((genS + scoreS + probeS) / 3600),
    total_hours_with_monitor_probe_scores: r3((genS + probeS) / 3600),
  };
});

console.log(JSON.stringify({
  machine: { threads: THREADS, cores: availableParallelism() },
  model: { path: modelPath, shape: '0.5b', arch: 'qwen2', type: 'q8_0' },
  grid: { layers: LAYERS, alphas: ALPHAS, scenarios: [SCENARIO], samples: SAMPLES, max_tokens: MAX_TOKENS, sequences: sequences.length },
  runs: RUNS,
  engine_tok_s: engineTokS.map(r1),
  sweep_tok_s: sweepTokS.map(r1),
  within_run_ratio: {
    note: 'sweep (native generation time / loop wall) over direct ctx.generate (native time / wall): overhead share, robust to machine load',
    capture_probe_score: within((p) => p.sweep).map(r3), monitor_probe_score: within((p) => p.monitor).map(r3), no_probe_score: within((p) => p.bare).map(r3),
    engine_efficiency: engineEff.map(r3),
  },
  ratio_median: r3(median(ratios)),  // probe_score by a separate capture pass (--probe-score capture)
  ratios: ratios.map(r3),
  ratio_incl_setup_median: r3(median(ratiosWall)),
  ratio_monitor_probe_score_median: r3(median(monitorRatios)),
  ratios_monitor_probe_score: monitorRatios.map(r3),
  ratio_without_probe_score_median: r3(median(bareRatios)),
  ratios_without_probe_score: bareRatios.map(r3),
  sweep_breakdown_ms: {
    setup: r1(last.setupMs), prompt: r1(last.promptMs), decode: r1(last.decodeMs), capture: r1(last.captureMs), write: r1(last.writeMs),
    loop: r1(last.loopMs), wall: r1(last.wallMs),
  },
  shared_baseline: shared && {
    sequences: shared.sequences, samples: shared.written, loop_ms: r1(shared.loopMs),
    sample_tok_s: r1(shared.sampleTokens / (shared.loopMs / 1000)),
    ratio_vs_engine_median: r3(shared.sampleTokens / (shared.loopMs / 1000) / median(engineTokS)),
  },
  measured: { decode_tok_s_0_5b: r1(decodeRate), capture_tok_s_0_5b: r1(captureRate), probe_text_tokens: probeTextTokens },
  projection_paper_protocol: projection,
}, null, 2));
model.free();
