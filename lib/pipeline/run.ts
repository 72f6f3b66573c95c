// The paper's whole protocol for one model, as resumable stages in one RUN folder:
//   probe  (RUN/probes: one capture pass, probes per layer, Table 1 + controls)
//   -> choose steering layers (configured, or the best detection layers)
//   -> steer (RUN/samples.jsonl + manifest.json: the batched, resumable sweep)
//   -> score (RUN/score.json + score.md: Table 2 + dose-response)
//   -> report (RUN/report.html + report.md)
// RUN/run.json records each stage's parameters; a finished stage with the same parameters is
// skipped, so the same command resumes after any interruption.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/npy.js';
import { fileSha256 } from '../io/file-hash.js';
import { readPairs, type ContrastivePair } from '../probes/dataset.js';
import { runProbe, writeProbeRun, type ProbeReport } from '../probes/pipeline.js';
import { runSweep, type SweepResult } from '../steering/sweep.js';
import { readSamplesJsonl } from '../steering/samples.js';
import { scoreSamples, doseResponseSeriesByScenario, renderTable2Markdown, type ScoreResult } from '../steering/tables.js';
import { createProgress } from '../models/progress.js';

export const RUN_FILE = 'run.json';

export interface RunOptions {
  /** GGUF file. */
  modelPath: string;
  /** Short model name for tables (default: file name without .gguf). */
  modelKey?: string;
  out: string;
  /** Pair files (paper's JSONL format). */
  train: string;
  test: string;
  ablated?: string;
  /** Blocks to probe. */
  probeLayers: number[];
  /** Blocks to steer; default: the `nBest` best detection layers. */
  steerLayers?: number[];
  nBest?: number;
  alphas: number[];
  scenarios: string[];
  samples: number;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP?: number;
  seed: number;
  randomBaseline: number;
  permutations: number;
  bootstrap: number;
  /** Truncation for capture (paper: 512). */
  captureMaxTokens: number;
  chat?: boolean;
  /** The model is synthetic (the report says so plainly). */
  synthetic?: boolean;
  threads?: number;
  gpuLayers?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Renders the report (injected so that the protocol does not depend on the plotting stack). */
  report?: (runDir: string) => Promise<{ html: string; markdown?: string }>;
}

interface StageRecord { hash: string; done_at: string; [k: string]: unknown }
export interface RunState {
  format: 'eia-native-run';
  version: 1;
  model: { path: string; sha256: string; key: string };
  synthetic: boolean;
  stages: Partial<Record<'probe' | 'steer' | 'score' | 'report', StageRecord>>;
}

export interface RunResult {
  out: string;
  probe: ProbeReport;
  steerLayers: number[];
  sweep: SweepResult | null;
  score: ScoreResult | null;
  reportPath: string | null;
  skipped: string[];
}

const hashOf = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

function loadState(dir: string): RunState | null {
  const f = join(dir, RUN_FILE);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as RunState;
  } catch {
    throw new Error(`${f}: not valid JSON (delete it to start the run over)`);
  }
}

function saveState(dir: string, s: RunState): void {
  writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(s, null, 2) + '\n');
}

/** The best `n` layers by test AUROC (ties: larger separation), in ascending order. */
export function bestLayers(report: ProbeReport, n: number): number[] {
  const sorted = [...report.layers].sort((a, b) => b.auroc - a.auroc || b.separation - a.separation || a.layer - b.layer);
  return sorted.slice(0, Math.max(1, n)).map((l) => l.layer).sort((a, b) => a - b);
}

export async function runProtocol(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const sha = await fileSha256(o.modelPath);
  const key = o.modelKey ?? o.modelPath.split('/').pop()!.replace(/\.gguf$/, '');
  let state = loadState(out);
  if (state && state.model.sha256 !== sha) {
    throw new Error(`${out} holds a run of another model (sha256 ${state.model.sha256.slice(0, 12)}…); use a new --out folder`);
  }
  state ??= { format: 'eia-native-run', version: 1, model: { path: resolve(o.modelPath), sha256: sha, key }, synthetic: !!o.synthetic, stages: {} };
  state.synthetic = !!o.synthetic;
  saveState(out, state);
  const skipped: string[] = [];

  // ---- 1. probe --------------------------------------------------------------------------------
  const probesDir = join(out, 'probes');
  const probeParams = {
    model: sha, train: await fileSha256(o.train), test: await fileSha256(o.test), ablated: o.ablated ? await fileSha256(o.ablated) : null,
    layers: o.probeLayers, randomBaseline: o.randomBaseline, permutations: o.permutations, bootstrap: o.bootstrap, seed: o.seed, maxTokens: o.captureMaxTokens,
  };
  let probe: ProbeReport;
  if (state.stages.probe?.hash === hashOf(probeParams) && existsSync(join(probesDir, 'validation.json'))) {
    probe = JSON.parse(readFileSync(join(probesDir, 'validation.json'), 'utf8')) as ProbeReport;
    skipped.push('probe');
    log(`probe: done earlier (${join(probesDir, 'validation.json')})`);
  } else {
    const train: ContrastivePair[] = readPairs(o.train);
    const test: ContrastivePair[] = readPairs(o.test);
    const ablated = o.ablated ? readPairs(o.ablated) : undefined;
    const total = new Set([...train, ...test, ...(ablated ?? [])].flatMap((p) => [p.empathicText, p.nonEmpathicText])).size;
    const bar = createProgress({ label: 'probe: capture', total, unit: 'items' });
    const t0 = Date.now();
    const run = await runProbe({
      modelPath: o.modelPath, trainPairs: train, testPairs: test, ablatedPairs: ablated, ablationSource: o.ablated,
      layers: o.probeLayers, randomBaseline: o.randomBaseline, permutations: o.permutations, bootstrap: o.bootstrap,
      seed: o.seed, maxTokens: o.captureMaxTokens, threads: o.threads, gpuLayers: o.gpuLayers,
      onProgress: (done, _t, tok) => bar.update(done, `${tok} tokens, ${(tok / Math.max(0.001, (Date.now() - t0) / 1000)).toFixed(0)} tok/s`),
    });
    bar.done();
    writeProbeRun(probesDir, run);
    probe = run.report;
    state.stages.probe = { hash: hashOf(probeParams), done_at: new Date().toISOString(), best_layer: probe.bestLayer };
    saveState(out, state);
    log(`probe: best layer ${probe.bestLayer} (AUROC ${probe.bestAuroc.toFixed(3)})`);
  }
  if (o.signal?.aborted) throw Object.assign(new Error('interrupted after the probe stage; resume with the same command'), { exitCode: 130 });

  // ---- 2. steering layers ------------------------------------------------------------------------
  const steerLayers = o.steerLayers ?? bestLayers(probe, o.nBest ?? 3);
  for (const l of steerLayers) {
    if (!probe.layers.some((x) => x.layer === l)) throw new Error(`steering layer ${l} was not probed (probed: ${o.probeLayers.join(', ')})`);
  }

  // ---- 3. steer (the sweep resumes by itself) -----------------------------------------------------
  const sweep = await runSweep({
    modelPath: o.modelPath, modelKey: key, probesDir, layers: steerLayers, alphas: o.alphas, scenarios: o.scenarios,
    samples: o.samples, maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed,
    out, chat: o.chat, monitor: true, threads: o.threads, gpuLayers: o.gpuLayers, signal: o.signal, log,
  });
  state.stages.steer = { hash: hashOf({ steerLayers, a: o.alphas, s: o.scenarios, n: o.samples }), done_at: new Date().toISOString(), kept: sweep.kept, total: sweep.total };
  saveState(out, state);
  if (sweep.interrupted) {
    throw Object.assign(new Error(`interrupted: ${sweep.kept}/${sweep.total} samples kept; resume with the same command`), { exitCode: 130 });
  }

  // ---- 4. score -----------------------------------------------------------------------------------
  const samples = readSamplesJsonl(join(out, 'samples.jsonl'));
  const score = scoreSamples(samples, { bootstrap: o.bootstrap, seed: o.seed });
  writeFileAtomic(join(out, 'score.json'), JSON.stringify({ ...score, dose_response_series: doseResponseSeriesByScenario(score) }, null, 2) + '\n');
  writeFileAtomic(join(out, 'score.md'), renderTable2Markdown(score));
  state.stages.score = { hash: hashOf(sweep.kept), done_at: new Date().toISOString(), headline: score.headline };
  saveState(out, state);

  // ---- 5. report ----------------------------------------------------------------------------------
  let reportPath: string | null = null;
  if (o.report) {
    const r = await o.report(out);
    reportPath = r.html;
    state.stages.report = { hash: hashOf(Date.now()), done_at: new Date().toISOString(), html: r.html };
    saveState(out, state);
  }
  return { out, probe, steerLayers, sweep, score, reportPath, skipped };
}
