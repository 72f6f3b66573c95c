// The paper's controls, measured on a planted synthetic model: the detection analysis of `probe`
// (one capture pass, a mean-difference probe per block, 100 random directions, label permutations,
// the lexically ablated test pairs) on the model's own pair files, judged against what the controls
// show on real models. `eia-native synth --planted` prints this; test/planted.test.ts asserts it.
import { readNpy } from '../io/npy.js';
import { Model } from '../engine/model.js';
import { rows as captureRows } from '../engine/capture.js';
import type { SynthResult } from '../engine/synth.js';
import { readPairs } from './dataset.js';
import { runProbe } from './pipeline.js';
import type { LayerReport } from './validation.js';
import { EiaError } from '../util/errors.js';

export interface PlantedControlsOptions {
  /** seed of the random directions and permutations (default 1) */
  seed?: number;
  randomBaseline?: number;
  permutations?: number;
  threads?: number;
}

/** One control, stated as a claim with its measured value and the range it must fall in. */
export interface ControlCheck {
  id: 'random-mean' | 'random-std' | 'probe-auroc' | 'beats-random' | 'empirical-p' | 'permutation-p' | 'grows' | 'ablation' | 'cosine';
  claim: string;
  measured: string;
  want: string;
  pass: boolean;
}

export interface PlantedControls {
  profile: string;
  seed: number;
  randomBaseline: number;
  permutations: number;
  layers: { layer: number; auroc: number; cosine: number; randomMean: number; randomStd: number; randomP95: number; z: number | null; empiricalP: number; permutationP: number; ablatedAuroc: number | null }[];
  bestLayer: number;
  /** share of the pooled activations' variance (test texts) that is the class difference, at the best layer */
  classVarianceShare: number;
  ablation: { file: string; meanReplacements: number | null } | null;
  checks: ControlCheck[];
  passed: boolean;
  seconds: number;
}

const f3 = (x: number) => x.toFixed(3);
const range = (xs: number[]) => `${f3(Math.min(...xs))}-${f3(Math.max(...xs))}`;

/** Between-class share of the total variance: |mean_emp - mean_non|^2 / 4 over the trace of the covariance (equal class sizes). */
export function classVarianceShare(emp: ArrayLike<number>[], non: ArrayLike<number>[]): number {
  const d = emp[0].length, all = [...emp, ...non], n = all.length;
  const mu = new Float64Array(d), me = new Float64Array(d), mn = new Float64Array(d);
  for (const r of emp) for (let j = 0; j < d; j++) me[j] += r[j] / emp.length;
  for (const r of non) for (let j = 0; j < d; j++) mn[j] += r[j] / non.length;
  for (const r of all) for (let j = 0; j < d; j++) mu[j] += r[j] / n;
  let tot = 0, gap = 0;
  for (const r of all) for (let j = 0; j < d; j++) tot += (r[j] - mu[j]) ** 2 / n;
  for (let j = 0; j < d; j++) gap += (me[j] - mn[j]) ** 2;
  return tot > 0 ? gap / 4 / tot : 0;
}

/** Runs the controls on the files `synth({planted: true})` wrote. */
export async function checkPlantedControls(m: SynthResult, opts: PlantedControlsOptions = {}): Promise<PlantedControls> {
  if (!m.plantedNpy || !m.trainJsonl || !m.testJsonl) throw new EiaError('E_BAD_ARG', `${m.path} is not a planted model (no planted direction or pair files)`);
  const t0 = Date.now();
  const seed = opts.seed ?? 1, nBase = opts.randomBaseline ?? 100, nPerm = opts.permutations ?? 1000;
  const v = readNpy(m.plantedNpy).data;
  const train = readPairs(m.trainJsonl), test = readPairs(m.testJsonl);
  const ablated = m.ablatedJsonl ? readPairs(m.ablatedJsonl) : undefined;
  const model = await Model.load(m.path);
  // small planted models run best on one thread: more only spin in ggml's pool, badly so on a busy
  // machine (tiny: 2.6 s with one thread, 16.7 s with two, measured on the 2-core VM under load)
  const threads = opts.threads ?? (model.nEmbd <= 256 ? 1 : undefined);
  let run: Awaited<ReturnType<typeof runProbe>>;
  let share: number;
  try {
    run = await runProbe({
      modelPath: m.path, model, trainPairs: train, testPairs: test, ablatedPairs: ablated, ablationSource: m.ablatedJsonl,
      layers: Array.from({ length: model.nLayer }, (_, i) => i), randomBaseline: nBase, permutations: nPerm, bootstrap: 1,
      seed, threads,
    });
    // the variance decomposition needs the activations themselves: one more small pass (the 30 test
    // texts, best layer only)
    const L = run.report.best_layer;
    const ctx = await model.createContext({ nThreads: threads, nCtx: 4096, nBatch: 512, nSeqMax: 32 });
    try {
      const cap = await ctx.capture([...test.map((p) => p.empathicText), ...test.map((p) => p.nonEmpathicText)], { layers: [L], pool: 'mean', truncate: 512 });
      const r = captureRows(cap, L);
      share = classVarianceShare(r.slice(0, test.length), r.slice(test.length));
    } finally {
      ctx.free();
    }
  } finally {
    model.free();
  }
  const cos = (d: Float32Array) => { let s = 0; for (let i = 0; i < d.length; i++) s += d[i] * v[i]; return s; };
  const layers = run.report.layers.map((l: LayerReport, i) => ({
    layer: l.layer, auroc: l.auroc, cosine: cos(run.probes[i].direction),
    randomMean: l.random_baseline!.mean, randomStd: l.random_baseline!.std, randomP95: l.random_baseline!.p95, z: l.random_baseline!.z,
    empiricalP: l.random_baseline!.empirical_p, permutationP: l.permutation!.p, ablatedAuroc: l.ablation?.auroc ?? null,
  }));
  const best = layers.find((l) => l.layer === run.report.best_layer)!;
  const l0 = layers[0];
  const checks: ControlCheck[] = [
    { id: 'random-mean', claim: 'random directions centre near 0.5', measured: `mean ${range(layers.map((l) => l.randomMean))} over blocks`, want: '0.40-0.60 at every block',
      pass: layers.every((l) => l.randomMean >= 0.4 && l.randomMean <= 0.6) },
    { id: 'random-std', claim: 'random directions spread as on real models (paper, Phi-3 block 12: 0.240)', measured: `std ${range(layers.map((l) => l.randomStd))} over blocks`,
      want: '0.10-0.30 at every block', pass: layers.every((l) => l.randomStd >= 0.1 && l.randomStd <= 0.3) },
    { id: 'probe-auroc', claim: `the probe detects the concept at the best block (${best.layer})`, measured: `AUROC ${f3(best.auroc)}`, want: '>= 0.95', pass: best.auroc >= 0.95 },
    { id: 'beats-random', claim: 'the probe beats random directions', measured: `AUROC ${f3(best.auroc)} vs their 95th percentile ${f3(best.randomP95)} (z ${best.z === null ? 'n/a' : best.z.toFixed(2)})`,
      want: 'above the 95th percentile', pass: best.auroc > best.randomP95 },
    { id: 'empirical-p', claim: 'random directions as good as the probe are rare', measured: `empirical p ${best.empiricalP.toFixed(4)}`, want: '<= 0.02', pass: best.empiricalP <= 0.02 },
    { id: 'permutation-p', claim: 'the label-permutation test is significant', measured: `p ${best.permutationP.toFixed(4)} (${nPerm} shuffles)`, want: '<= 0.01', pass: best.permutationP <= 0.01 },
    { id: 'grows', claim: 'the signal grows over the first blocks', measured: `block 0 AUROC ${f3(l0.auroc)}, ${f3(best.auroc - l0.auroc)} below the best`, want: '>= 0.1 below', pass: best.auroc - l0.auroc >= 0.1 },
    best.ablatedAuroc === null
      ? { id: 'ablation', claim: 'lexical ablation lowers but does not erase detection', measured: 'no ablated pairs (easy profile)', want: 'lower, >= 0.7', pass: false }
      : { id: 'ablation', claim: 'lexical ablation lowers but does not erase detection', measured: `AUROC ${f3(best.ablatedAuroc)} on the ablated test pairs (from ${f3(best.auroc)})`,
        want: 'lower, >= 0.7', pass: best.ablatedAuroc < best.auroc && best.ablatedAuroc >= 0.7 },
    { id: 'cosine', claim: 'the probe recovers the planted direction', measured: `cosine ${f3(best.cosine)} at the best block`, want: '>= 0.9', pass: best.cosine >= 0.9 },
  ];
  return {
    profile: m.plantedProfile ?? 'realistic', seed, randomBaseline: nBase, permutations: nPerm, layers, bestLayer: best.layer, classVarianceShare: share,
    ablation: m.ablatedJsonl ? { file: m.ablatedJsonl, meanReplacements: m.ablationReplacements ?? null } : null,
    checks, passed: checks.every((c) => c.pass), seconds: (Date.now() - t0) / 1000,
  };
}

/** The statement `synth --planted` prints: one line per control, then the variance share. */
export function plantedControlsLines(c: PlantedControls): string[] {
  const out = [`controls measured on this model (probe on blocks 0-${c.layers.length - 1}, ${c.randomBaseline} random directions, ${c.permutations} permutations, seed ${c.seed}; ${c.seconds.toFixed(1)} s):`];
  for (const k of c.checks) out.push(`  [${k.pass ? 'ok' : 'FAIL'}] ${k.claim}: ${k.measured} (want ${k.want})`);
  out.push(`  the class difference is ${(c.classVarianceShare * 100).toFixed(1)}% of the variance of the test texts' pooled activations at block ${c.bestLayer}`);
  if (c.profile === 'easy') out.push('  (easy profile: built for fast tests; the class gap dominates every direction, so its controls are not meaningful)');
  return out;
}
