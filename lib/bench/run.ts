// `eia-native bench`: eia-native measured against llama.cpp's own tools on the same model and
// threads (the physical limit on this machine), against node-llama-cpp (what users would use
// otherwise) and against the paper's computation pattern, in one run, as ratios.
//
// Every eia-native figure comes from a worker process (worker.ts) that uses the public Node API;
// llama.cpp's tools (built from the same vendored source) and node-llama-cpp run as their own
// processes. The two sides of each ratio run back to back in rounds with alternating order, after
// a warm-up, and each ratio is the median of the per-round ratios. One file per step (steps/),
// all recording into one Recorder (recorder.ts); report.ts assembles the result.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { synth, type SynthShape } from '../engine/synth.js';
import { cacheDir } from '../models/cache.js';
import { createRng } from '../stats/rng.js';
import type { BenchContext, ModelFacts } from './context.js';
import { loadAverage, machineInfo } from './machine.js';
import { WorkerClient, workerScript } from './proc.js';
import { Recorder } from './recorder.js';
import { measurements, type BenchReport } from './report.js';
import { round } from './stats.js';
import { captureStep } from './steps/capture.js';
import { paperStep } from './steps/paper.js';
import { plainStep, type NodeLlamaCppInfo } from './steps/plain.js';
import { sweepStep } from './steps/sweep.js';
import { ensureTools } from './tools.js';
import { benchSettings, type BenchShape } from './workload.js';

export interface BenchOptions {
  shape: BenchShape;
  /** A GGUF file instead of the synthetic model. */
  model?: string;
  threads?: number;
  /** Measured rounds per ratio (after a warm-up). */
  reps?: number;
  quick: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (msg: string) => void;
}

/** Flash attention as each side runs it (written into the report's settings). */
const FLASH_ATTN = { capture: 'off', llama_bench: 'off (-fa 0)', generation: 'auto', batched_bench: 'auto (-fa auto)', node_llama_cpp: 'auto' };

/** The synthetic model of `shape` (its own architecture, q8_0), made once under <cache>/bench-models. */
export async function benchModel(shape: BenchShape, log: (m: string) => void): Promise<{ path: string; seconds: number | null }> {
  const dir = join(cacheDir(), 'bench-models');
  const path = join(dir, `synth-${shape}-q8_0.gguf`);
  if (existsSync(path)) return { path, seconds: null };
  mkdirSync(dir, { recursive: true });
  log(`bench: writing the synthetic ${shape} model (q8_0) to ${path} (once)`);
  const tmp = join(dir, `.synth-${shape}-q8_0.${process.pid}.gguf`);
  const t0 = performance.now();
  try {
    await synth({ shape: shape as SynthShape, type: 'q8_0', seed: 1, out: tmp });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { path, seconds: (performance.now() - t0) / 1000 };
}

/** Runs the whole bench. Steps that cannot run leave their ratio null with the reason. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const threads = o.threads ?? availableParallelism();
  const S = benchSettings({ quick: o.quick, threads, reps: o.reps, shape: o.shape });
  const rec = new Recorder(log);
  const made = o.model ? null : await benchModel(o.shape, log);
  const modelPath = o.model ?? made!.path;
  const machine = machineInfo(threads);
  const tools: Record<string, string | null> = ensureTools(['llama-bench', 'llama-batched-bench'], log);
  const worker = new WorkerClient('eia-native worker', workerScript('worker'));
  let b: BenchContext | null = null;
  let nlc: NodeLlamaCppInfo = { status: 'unavailable', version: null, detail: null };
  try {
    const info = (await worker.request<ModelFacts>('load', { model: modelPath, threads })).result;
    b = { S, threads, modelPath, info, rng: createRng(1), worker, tools, rec, log, captureLayers: [], steerLayer: null };
    const ctx = b;
    await rec.timed('capture', () => captureStep(ctx));
    await rec.timed('sweep', () => sweepStep(ctx));
    await rec.timed('plain', async () => { nlc = await plainStep(ctx, workerScript('nlc-worker')); });
    await rec.timed('paper', () => paperStep(ctx));
    await worker.request('unload').catch(() => undefined);
  } finally {
    await worker.close();
  }
  machine.load_average.end = loadAverage();
  const { info } = b;
  return {
    bench: 'eia-native',
    date: new Date().toISOString(),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    machine,
    model: {
      path: modelPath, synthetic: !o.model, shape: o.model ? null : o.shape, arch: info.arch, n_layer: info.nLayer, n_embd: info.nEmbd,
      n_vocab: info.nVocab, n_params: info.nParams, size_mib: Math.round(info.sizeBytes / 2 ** 20),
      synth_seconds: made && made.seconds !== null ? round(made.seconds, 1) : null,
    },
    settings: { ...S, flash_attn: FLASH_ATTN, steer_layer: b.steerLayer, capture_layers: b.captureLayers, tools },
    ...measurements(rec),
    node_llama_cpp: nlc,
  };
}
