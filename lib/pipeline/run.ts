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
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { checkSampling, SAMPLING_DEFAULTS } from '../engine/defaults.js';
import { Model } from '../engine/model.js';
import { checkAlphas, checkContextFit, checkLayer, checkMaxTokens } from '../engine/validate.js';
import { fileSha256 } from '../io/file-hash.js';
import { inputName, readInputBytes, readInputText } from '../io/input.js';
import { existing, moveAside, PROBE_OUTPUTS, RUN_FILES } from '../io/run-folder.js';
import { withRunLock } from '../io/run-lock.js';
import { bestLayers } from '../probes/best-layer.js';
import { PROBE_DEFAULTS } from '../probes/defaults.js';
import { parsePairs, type ContrastivePair } from '../probes/dataset.js';
import { runProbe } from '../probes/pipeline.js';
import { residualNorms } from '../probes/residual-norm.js';
import { readValidation, writeProbeRun, type ProbeReport } from '../probes/validation.js';
import { recordDoseResponse } from '../steering/card-dose.js';
import { readSweepRuns } from '../steering/merge/read.js';
import { partialBanner, scoreSweep, sweepFacts } from '../steering/merge/score.js';
import { SCENARIOS, steeringPrompt } from '../steering/scenarios.js';
import { manifestShard, readManifest } from '../steering/sweep/manifest.js';
import { checkShard, checkShardCount, formatShard } from '../steering/sweep/shard.js';
import { runSweep } from '../steering/sweep/run.js';
import type { SweepOptions, SweepResult } from '../steering/sweep/options.js';
import { doseResponseSeriesByScenario, renderTable2Markdown, type ScoreResult } from '../steering/tables.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { note, warn } from '../util/note.js';
import { badField, EiaError, FieldError, type FieldNamer } from '../util/errors.js';
import { createProgress } from '../util/progress.js';
import { finishStage, hashOf, loadState, type RunState } from './run-state.js';

/** The protocol's options; the sweep's (steering/sweep/options.ts) keep their meaning and defaults. */
export interface RunOptions extends Pick<SweepOptions, 'alphas' | 'scenarios' | 'samples' | 'maxTokens' | 'temperature' | 'topK' | 'topP' | 'seed'
  | 'chat' | 'threads' | 'gpuLayers' | 'signal' | 'log' | 'ctxSize' | 'shard'> {
  /** GGUF file. */
  modelPath: string;
  /** Short model name for tables (default: file name without .gguf). */
  modelKey?: string;
  out: string;
  /** Pair files (paper's JSONL format); '-' reads one of them from stdin. */
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
  /** Keep the first N tokens of each text the probes capture (default 512, the paper's; 0 = off). */
  truncate?: number;
  /**
   * Replace results in `out` made with other parameters instead of refusing (E_CONFLICT): they move
   * to out/replaced-<time>/ (probes of other parameters take every later stage with them).
   */
  force?: boolean;
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
type Settings = RunOptions & Required<Pick<RunOptions, 'randomBaseline' | 'permutations' | 'bootstrap' | 'truncate' | 'temperature' | 'topK'>>;

/** One protocol call: its settings, RUN folder and run.json. */
interface Protocol {
  o: Settings; out: string; sha: string; key: string; state: RunState; log: (msg: string) => void; alert: (msg: string) => void; skipped: string[]; inputs: Inputs;
  /** run.json belongs to a run of another model, replaced (force) */
  replacesRun: boolean;
}

/** The pair files, read once (a path or '-' for stdin), with the sha256 of their bytes. */
interface Inputs {
  train: ContrastivePair[]; test: ContrastivePair[]; ablated?: ContrastivePair[];
  sha: { train: string; test: string; ablated: string | null };
}

const bad = (field: string, text: (n: FieldNamer) => string): never => { throw badField(field, 'invalid_value', text); };

/**
 * Runs (or resumes) the whole protocol. Every check (inputs, the model's layers, the steering
 * strengths against their bound, what the RUN folder already holds) runs before the first write;
 * results of other parameters are refused (E_CONFLICT) unless `force`, which moves them aside.
 * Stopped by `signal`: E_ABORTED (finished stages and samples are kept).
 */
export async function runProtocol(options: RunOptions): Promise<RunResult> {
  const o = settingsOf(options);
  checkLists(o);
  const inputs = readInputs(o);
  const log = o.log ?? note;
  const alert = o.log ?? warn;  // what must be seen even under EIA_NATIVE_QUIET
  return withRunLock(o.out, 'run', async () => {
    const p = await openRun(o, inputs, log, alert);
    await checkAgainstModel(o);
    const probe = await probeStage(p);
    if (o.signal?.aborted) throw new EiaError('E_ABORTED', 'interrupted after the probe stage; resume with the same command');
    const steerLayers = o.steerLayers ?? bestLayers(probe.layers, o.nBest ?? 3);
    const sweep = await steerStage(p, steerLayers);
    const score = scoreStage(p, sweep);
    let reportPath: string | null = null;
    if (o.report) {
      const r = await o.report(p.out);
      reportPath = r.html;
      finishStage(p.out, p.state, 'report', hashOf(Date.now()), { html: r.html });
    }
    return { out: p.out, probe, steerLayers, sweep, score, reportPath, skipped: p.skipped };
  }, log);
}

/** The options with their defaults filled in. */
function settingsOf(options: RunOptions): Settings {
  return {
    ...options, randomBaseline: options.randomBaseline ?? PROBE_DEFAULTS.randomBaseline, permutations: options.permutations ?? PROBE_DEFAULTS.permutations,
    bootstrap: options.bootstrap ?? PROBE_DEFAULTS.bootstrap, truncate: options.truncate ?? PROBE_DEFAULTS.truncate, temperature: options.temperature ?? SAMPLING_DEFAULTS.temperature,
    topK: options.topK ?? SAMPLING_DEFAULTS.topK,
  };
}

/**
 * Every check runProtocol makes before it opens the RUN folder (lists, input files, the model's
 * blocks, steering strengths, context room), without writing anything: so that a program running
 * several protocols (study) refuses bad input before its first write.
 */
export async function checkRun(options: RunOptions): Promise<void> {
  const o = settingsOf(options);
  checkLists(o);
  readInputs(o);
  await checkAgainstModel(o);
}

/**
 * Every check runProtocol makes before its first write (checkRun's, and what the RUN folder holds),
 * and no write: for a caller that must prepare files of its own first and may put them into the RUN
 * only when the protocol will accept it (`demo`, whose planted model is written only then). Holds the
 * RUN's lock while it looks (re-entrant: a caller holding it keeps it).
 */
export async function checkProtocol(options: RunOptions): Promise<void> {
  const o = settingsOf(options);
  checkLists(o);
  const inputs = readInputs(o);
  await withRunLock(o.out, 'run', async () => {
    const p = await openRun(o, inputs, o.log ?? note, o.log ?? warn);
    await checkAgainstModel(o);
    probePlan(p);
  });
}

/** The checks of lists and counts (no model, no files). */
function checkLists(o: Settings): void {
  if ((o as { captureMaxTokens?: unknown }).captureMaxTokens !== undefined) bad('truncate', () => 'runProtocol takes truncate (keep the first N tokens of each text the probes capture); captureMaxTokens is gone: maxTokens is the number of new tokens a generation makes');
  const distinct = (xs: readonly unknown[], what: string) => {
    if (xs.length === 0) bad(what, (n) => `${n(what)}: the list is empty`);
    if (new Set(xs.map((x) => JSON.stringify(x))).size !== xs.length) bad(what, (n) => `${n(what)}: a value is listed twice`);
  };
  distinct(o.probeLayers, 'probeLayers');
  for (const l of o.probeLayers) if (!Number.isInteger(l) || l < 0) bad('probeLayers', (n) => `${n('probeLayers')}: ${l} is not a block index`);
  if (o.steerLayers) {
    distinct(o.steerLayers, 'steerLayers');
    for (const l of o.steerLayers) if (!o.probeLayers.includes(l)) bad('steerLayers', (n) => `${n('steerLayers')}: ${l} is not probed (probed: ${o.probeLayers.join(', ')})`);
  }
  distinct(o.alphas, 'alphas');
  checkAlphas(o.alphas, [], undefined, 'alphas');
  distinct(o.scenarios, 'scenarios');
  for (const id of o.scenarios) if (!SCENARIOS.some((x) => x.id === id)) bad('scenarios', (n) => `${n('scenarios')}: unknown scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`);
  if (!Number.isInteger(o.samples) || o.samples < 1) bad('samples', (n) => `${n('samples')} must be a positive integer, got ${o.samples}`);
  checkMaxTokens(o.maxTokens, 'maxTokens');
  checkSampling({ temperature: o.temperature, topK: o.topK, topP: o.topP });
  if (o.nBest !== undefined && (!Number.isInteger(o.nBest) || o.nBest < 1)) bad('nBest', (n) => `${n('nBest')} must be a positive integer, got ${o.nBest}`);
  if (o.shard) checkShard(o.shard);
  if (o.shard && o.shard.count > 1) {
    // the steered layers are chosen after probing; their number is known now (the shard count's bound, shard.ts)
    const nSteer = o.steerLayers?.length ?? Math.min(Math.max(1, o.nBest ?? 3), o.probeLayers.length);
    checkShardCount({ layers: Array.from({ length: nSteer }, (_, i) => i), alphas: o.alphas, scenarios: o.scenarios, samples: o.samples, maxTokens: o.maxTokens }, o.shard.count);
  }
}

function readInputs(o: Settings): Inputs {
  const sha = (path: string) => createHash('sha256').update(readInputBytes(path, path)).digest('hex');
  const pairs = (path: string) => parsePairs(readInputText(path, path), inputName(path));
  return {
    train: pairs(o.train), test: pairs(o.test), ablated: o.ablated ? pairs(o.ablated) : undefined,
    sha: { train: sha(o.train), test: sha(o.test), ablated: o.ablated ? sha(o.ablated) : null },
  };
}

/** The RUN folder and its run.json (refused when it holds a run of another model). Writes nothing. */
async function openRun(o: Settings, inputs: Inputs, log: (msg: string) => void, alert: (msg: string) => void): Promise<Protocol> {
  const out = resolve(o.out);
  const sha = await fileSha256(o.modelPath);
  const key = o.modelKey ?? basename(o.modelPath).replace(/\.gguf$/, '');
  let state = loadState(out);
  const replacesRun = !!state && state.model.sha256 !== sha;
  if (replacesRun) {
    if (!o.force) throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds a run of another model (sha256 ${state!.model.sha256.slice(0, 12)}…); use a new RUN folder (or ${n('force')} to replace it)`);
    state = null;
  }
  // a RUN of one shard resumes only as that shard (checked here too, before the probe stage writes)
  const manifestPath = join(out, RUN_FILES.manifest);
  if (!o.force && !replacesRun && existsSync(manifestPath)) {
    const have = manifestShard(readManifest(manifestPath));
    const want = o.shard && o.shard.count > 1 ? formatShard(o.shard) : null;
    if (have !== want) {
      const words = (s: string | null) => (s ? `shard ${s}` : 'the whole grid (no shard)');
      throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds the sweep of ${words(have)}, this call asks for ${words(want)}; give each shard its own RUN folder (or ${n('force')} to replace it)`);
    }
  }
  state ??= { format: 'eia-native-run', version: 1, model: { path: resolve(o.modelPath), sha256: sha, key }, synthetic: !!o.synthetic, stages: {} };
  state.synthetic = !!o.synthetic;
  return { o, out, sha, key, state, log, alert, skipped: [], inputs, replacesRun };
}

/** The checks that need the model: blocks in range, steering strengths within their bound, prompts + new tokens within the context. */
async function checkAgainstModel(o: Settings): Promise<void> {
  // on the CPU (mmap: cheap): one short sentence for the norms; the stages load the model as asked
  const model = await Model.load(o.modelPath);
  try {
    for (const l of o.probeLayers) checkLayer(l, model, 'probeLayers');
    // the steered layers are chosen after probing: every candidate must accept the alphas
    const candidates = o.steerLayers ?? o.probeLayers;
    checkAlphas(o.alphas, candidates, await residualNorms(model, candidates, o.threads), 'alphas');
    for (const s of SCENARIOS.filter((x) => o.scenarios.includes(x.id))) {
      const text = o.chat ? model.applyChatTemplate([{ role: 'user', content: steeringPrompt(s) }]) : steeringPrompt(s);
      checkContextFit(model.tokenize(text, { addSpecial: true, parseSpecial: !!o.chat }).length, o.maxTokens, o.ctxSize, model.info.nCtxTrain);
    }
  } finally {
    model.free();
  }
}

/** 1. probes per layer + validation (skipped when done with the same parameters and data). */
/**
 * What the probe stage will do, decided without writing: skip it (done with the same parameters and
 * data), or run it replacing `earlier` (results of other parameters; E_CONFLICT unless force).
 */
function probePlan(p: Protocol): { skip: true; params: object } | { skip: false; params: object; replaced: readonly string[]; earlier: string[] } {
  const { o, out, state, inputs } = p;
  // the keys are part of the stage hash of existing RUNs: keep them as they are
  const params = {
    model: p.sha, train: inputs.sha.train, test: inputs.sha.test, ablated: inputs.sha.ablated,
    layers: o.probeLayers, randomBaseline: o.randomBaseline, permutations: o.permutations, bootstrap: o.bootstrap, seed: o.seed, maxTokens: o.truncate,
  };
  if (state.stages.probe?.hash === hashOf(params) && existsSync(join(out, RUN_FILES.validation))) return { skip: true, params };
  // probes of other parameters (or of unknown ones) and everything made from them stay unless asked
  const replaced = p.replacesRun ? [...PROBE_OUTPUTS, RUN_FILES.run] : PROBE_OUTPUTS;
  const earlier = existing(out, replaced);
  if (earlier.length > 0 && !o.force) {
    throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds results made with other probe parameters (${earlier.join(', ')}); ` +
      `use another RUN folder, the original parameters, or ${n('force')} to replace them`);
  }
  return { skip: false, params, replaced, earlier };
}

async function probeStage(p: Protocol): Promise<ProbeReport> {
  const { o, out, state, log, inputs } = p;
  const probesDir = join(out, RUN_FILES.probes);
  const validationPath = join(out, RUN_FILES.validation);
  const plan = probePlan(p);
  const params = plan.params;
  if (plan.skip) {
    p.skipped.push('probe');
    log(`probe: done earlier (${validationPath})`);
    return readValidation(validationPath);
  }
  const { replaced, earlier } = plan;
  const { train, test, ablated } = inputs;
  const total = new Set([...train, ...test, ...(ablated ?? [])].flatMap((x) => [x.empathicText, x.nonEmpathicText])).size;
  const bar = createProgress({ label: 'probe: capture', total, unit: 'items' });
  const t0 = Date.now();
  const run = await runProbe({
    modelPath: o.modelPath, trainPairs: train, testPairs: test, ablatedPairs: ablated, ablationSource: o.ablated,
    layers: o.probeLayers, randomBaseline: o.randomBaseline, permutations: o.permutations, bootstrap: o.bootstrap,
    seed: o.seed, truncate: o.truncate, threads: o.threads, gpuLayers: o.gpuLayers, ctxSize: o.ctxSize,
    onProgress: (done, _t, tok) => bar.update(done, `${tok} tokens, ${(tok / Math.max(0.001, (Date.now() - t0) / 1000)).toFixed(0)} tok/s`),
  });
  bar.done();
  // ---- writes from here on
  if (earlier.length > 0) {
    p.alert(`--force: ${moveAside(out, replaced)} (made with other ${p.replacesRun ? 'model' : 'probe parameters'})`);
    delete state.stages.steer; delete state.stages.score; delete state.stages.report;
  }
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
    out, chat: o.chat, monitor: true, threads: o.threads, gpuLayers: o.gpuLayers, signal: o.signal, log: p.log, ctxSize: o.ctxSize, force: o.force,
    shard: o.shard,
  });
  finishStage(out, state, 'steer', hashOf({ steerLayers, a: o.alphas, s: o.scenarios, n: o.samples }), {
    kept: sweep.kept, total: sweep.total, ...(sweep.shard ? { shard: formatShard(sweep.shard) } : {}),
  });
  if (sweep.interrupted) throw new EiaError('E_ABORTED', `interrupted: ${sweep.kept}/${sweep.total} samples kept; resume with the same command`);
  return sweep;
}

/** 4. Table 2 + dose-response from samples.jsonl, read as `score RUN` reads it (a shard's is partial). */
function scoreStage(p: Protocol, sweep: SweepResult): ScoreResult {
  const { o, out, state } = p;
  const merged = readSweepRuns([out]);
  for (const n of merged.notes) p.log(n);
  for (const w of merged.warnings) p.alert(w);
  const { result: score, notScored } = scoreSweep(merged, { bootstrap: o.bootstrap, seed: o.seed });
  writeJsonAtomic(join(out, RUN_FILES.score), { ...score, dose_response_series: doseResponseSeriesByScenario(score), ...sweepFacts(merged, notScored) });
  writeFileAtomic(join(out, RUN_FILES.scoreMarkdown), partialBanner(merged, notScored) + renderTable2Markdown(score));
  // the probes' cards gain what the sweep showed at their blocks (probes/vector-card.ts)
  recordDoseResponse(join(out, RUN_FILES.probes), score, out);
  finishStage(out, state, 'score', hashOf(sweep.kept), { headline: score.headline });
  return score;
}
