// The paper's whole protocol for one model, as resumable stages in one RUN folder:
//   probe  (RUN/probes: one capture pass, probes per layer, Table 1 + controls)
//   -> choose steering layers (configured, or the best detection layers)
//   -> steer (RUN/samples.jsonl + manifest.json: the batched, resumable sweep)
//   -> score (RUN/score.json + score.md: Table 2 + dose-response)
//   -> report (RUN/report.html + report.md)
// RUN/run.json records each stage's parameters (run-state.ts); a finished stage with the same
// parameters is skipped, so the same call resumes after any interruption. With a shard, the sweep
// stage runs only that part of the grid (steering/sweep/shard.ts) and the score is marked partial;
// `merge` or `score`/`report` of all the shards' RUNs make the whole.
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { SAMPLING_DEFAULTS } from '../engine/defaults.js';
import { fileSha256 } from '../io/file-hash.js';
import { RUN_FILES } from '../io/run-folder.js';
import { PROBE_DEFAULTS } from '../probes/defaults.js';
import { readPairs } from '../probes/dataset.js';
import { runProbe } from '../probes/pipeline.js';
import { readValidation, writeProbeRun, type ProbeReport } from '../probes/validation.js';
import { readSweepRuns } from '../steering/merge/read.js';
import { partialBanner, scoreSweep, sweepFacts } from '../steering/merge/score.js';
import { runSweep } from '../steering/sweep/run.js';
import type { SweepOptions, SweepResult } from '../steering/sweep/options.js';
import { doseResponseSeriesByScenario, renderTable2Markdown, type ScoreResult } from '../steering/tables.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { note } from '../util/note.js';
import { EiaError } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { finishStage, hashOf, loadState, saveState, type RunState } from './run-state.js';

/** The protocol's options; the sweep's (steering/sweep/options.ts) keep their meaning and defaults. */
export interface RunOptions extends Pick<SweepOptions, 'alphas' | 'scenarios' | 'samples' | 'maxTokens' | 'temperature' | 'topK' | 'topP' | 'seed'
  | 'chat' | 'threads' | 'gpuLayers' | 'signal' | 'log' | 'shard'> {
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
  /** Random directions of the baseline, label permutations, bootstrap resamples (defaults: probes/defaults.ts). */
  randomBaseline?: number;
  permutations?: number;
  bootstrap?: number;
  /** Truncation for capture (default 512, the paper's). */
  captureMaxTokens?: number;
  /** The model is synthetic (the report says so plainly). */
  synthetic?: boolean;
  /** Renders the report (injected so that the protocol does not depend on the plotting stack). */
  report?: (runDir: string) => Promise<{ html: string; markdown?: string }>;
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

/** The options with their defaults. */
type Settings = RunOptions & Required<Pick<RunOptions, 'randomBaseline' | 'permutations' | 'bootstrap' | 'captureMaxTokens' | 'temperature' | 'topK'>>;

/** One protocol call: its settings, RUN folder and run.json. */
interface Protocol { o: Settings; out: string; sha: string; key: string; state: RunState; log: (msg: string) => void; skipped: string[] }

/** The best `n` layers by test AUROC (ties: larger separation), in ascending order. */
export function bestLayers(report: ProbeReport, n: number): number[] {
  const sorted = [...report.layers].sort((a, b) => b.auroc - a.auroc || b.separation - a.separation || a.layer - b.layer);
  return sorted.slice(0, Math.max(1, n)).map((l) => l.layer).sort((a, b) => a - b);
}

/** Runs (or resumes) the whole protocol. Stopped by `signal`: E_ABORTED (finished stages and samples are kept). */
export async function runProtocol(options: RunOptions): Promise<RunResult> {
  const o: Settings = {
    ...options, randomBaseline: options.randomBaseline ?? PROBE_DEFAULTS.randomBaseline, permutations: options.permutations ?? PROBE_DEFAULTS.permutations,
    bootstrap: options.bootstrap ?? PROBE_DEFAULTS.bootstrap, captureMaxTokens: options.captureMaxTokens ?? PROBE_DEFAULTS.maxTokens, temperature: options.temperature ?? SAMPLING_DEFAULTS.temperature,
    topK: options.topK ?? SAMPLING_DEFAULTS.topK,
  };
  const p = await openRun(o);
  const probe = await probeStage(p);
  if (o.signal?.aborted) throw new EiaError('E_ABORTED', 'interrupted after the probe stage; resume with the same command');
  const steerLayers = o.steerLayers ?? bestLayers(probe, o.nBest ?? 3);
  for (const l of steerLayers) {
    if (!probe.layers.some((x) => x.layer === l)) throw new EiaError('E_BAD_ARG', `steering layer ${l} was not probed (probed: ${o.probeLayers.join(', ')})`);
  }
  const sweep = await steerStage(p, steerLayers);
  const score = scoreStage(p, sweep);
  let reportPath: string | null = null;
  if (o.report) {
    const r = await o.report(p.out);
    reportPath = r.html;
    finishStage(p.out, p.state, 'report', hashOf(Date.now()), { html: r.html });
  }
  return { out: p.out, probe, steerLayers, sweep, score, reportPath, skipped: p.skipped };
}

/** The RUN folder and its run.json (refused when it holds a run of another model). */
async function openRun(o: Settings): Promise<Protocol> {
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const sha = await fileSha256(o.modelPath);
  const key = o.modelKey ?? basename(o.modelPath).replace(/\.gguf$/, '');
  let state = loadState(out);
  if (state && state.model.sha256 !== sha) {
    throw new EiaError('E_CONFLICT', `${out} holds a run of another model (sha256 ${state.model.sha256.slice(0, 12)}…); use a new RUN folder`);
  }
  state ??= { format: 'eia-native-run', version: 1, model: { path: resolve(o.modelPath), sha256: sha, key }, synthetic: !!o.synthetic, stages: {} };
  state.synthetic = !!o.synthetic;
  saveState(out, state);
  return { o, out, sha, key, state, log: o.log ?? note, skipped: [] };
}

/** 1. probes per layer + validation (skipped when done with the same parameters and data). */
async function probeStage(p: Protocol): Promise<ProbeReport> {
  const { o, out, state, log } = p;
  const probesDir = join(out, RUN_FILES.probes);
  const validationPath = join(out, RUN_FILES.validation);
  // the keys are part of the stage hash of existing RUNs: keep them as they are
  const params = {
    model: p.sha, train: await fileSha256(o.train), test: await fileSha256(o.test), ablated: o.ablated ? await fileSha256(o.ablated) : null,
    layers: o.probeLayers, randomBaseline: o.randomBaseline, permutations: o.permutations, bootstrap: o.bootstrap, seed: o.seed, maxTokens: o.captureMaxTokens,
  };
  if (state.stages.probe?.hash === hashOf(params) && existsSync(validationPath)) {
    p.skipped.push('probe');
    log(`probe: done earlier (${validationPath})`);
    return readValidation(validationPath);
  }
  const train = readPairs(o.train);
  const test = readPairs(o.test);
  const ablated = o.ablated ? readPairs(o.ablated) : undefined;
  const total = new Set([...train, ...test, ...(ablated ?? [])].flatMap((x) => [x.empathicText, x.nonEmpathicText])).size;
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
  finishStage(out, state, 'probe', hashOf(params), { best_layer: run.report.best_layer });
  log(`probe: best layer ${run.report.best_layer} (AUROC ${run.report.best_auroc.toFixed(3)})`);
  return run.report;
}

/** 3. the steering sweep (it resumes by itself). */
async function steerStage(p: Protocol, steerLayers: number[]): Promise<SweepResult> {
  const { o, out, state } = p;
  const sweep = await runSweep({
    modelPath: o.modelPath, modelKey: p.key, probesDir: join(out, RUN_FILES.probes), layers: steerLayers, alphas: o.alphas, scenarios: o.scenarios,
    samples: o.samples, maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed,
    out, chat: o.chat, monitor: true, threads: o.threads, gpuLayers: o.gpuLayers, signal: o.signal, log: p.log, shard: o.shard,
  });
  finishStage(out, state, 'steer', hashOf({ steerLayers, a: o.alphas, s: o.scenarios, n: o.samples }), {
    kept: sweep.kept, total: sweep.total, ...(sweep.shard ? { shard: `${sweep.shard.index}/${sweep.shard.count}` } : {}),
  });
  if (sweep.interrupted) throw new EiaError('E_ABORTED', `interrupted: ${sweep.kept}/${sweep.total} samples kept; resume with the same command`);
  return sweep;
}

/** 4. Table 2 + dose-response from samples.jsonl, read as `score RUN` reads it (a shard's is partial). */
function scoreStage(p: Protocol, sweep: SweepResult): ScoreResult {
  const { o, out, state } = p;
  const merged = readSweepRuns([out]);
  for (const n of merged.notes) p.log(n);
  const { result: score, notScored } = scoreSweep(merged, { bootstrap: o.bootstrap, seed: o.seed });
  writeJsonAtomic(join(out, RUN_FILES.score), { ...score, dose_response_series: doseResponseSeriesByScenario(score), ...sweepFacts(merged, notScored) });
  writeFileAtomic(join(out, RUN_FILES.scoreMarkdown), partialBanner(merged, notScored) + renderTable2Markdown(score));
  finishStage(out, state, 'score', hashOf(sweep.kept), { headline: score.headline });
  return score;
}
