// The paper's detection analysis end to end: ONE capture pass over every text (train, test and
// ablated test texts, all layers at once), then per layer a probe trained on the train split,
// validated on the test split (Table 1 figures + a bootstrap CI), and the controls the paper ran
// or lacked (random-direction baseline, label-permutation test, lexical ablation). The result is
// validation.json's format (validation.ts).
import { rows as captureRows, type CaptureResult } from '../engine/capture.js';
import { Model } from '../engine/model.js';
import { fileSha256 } from '../io/file-hash.js';
import { evaluateScores } from '../stats/auroc.js';
import { randomDirectionBaseline } from '../stats/baseline.js';
import { bootstrapAuroc } from '../stats/bootstrap.js';
import { permutationTestAuroc } from '../stats/permutation.js';
import type { Rows } from '../stats/rows.js';
import { EiaError } from '../util/errors.js';
import { rankLayers } from './best-layer.js';
import { requireModelResidual } from '../engine/residual-support.js';
import { captureContextOptions, captureCtxSize, checkCaptureFinite, checkTextsFit } from './capture-context.js';
import { PROBE_DEFAULTS } from './defaults.js';
import { datasetHash, type ContrastivePair } from './dataset.js';
import { scoreWithProbe, trainProbe, type Probe, type ProbeMethod } from './probe.js';
import { layerBaseline, type LayerReport, type ProbeReport, type ProbeRun } from './validation.js';

/** Options of {@link runProbe}. */
export interface RunProbeOptions {
  modelPath: string;
  trainPairs: readonly ContrastivePair[];
  testPairs: readonly ContrastivePair[];
  /** decoder blocks to probe (0-based) */
  layers: number[];
  /** probe estimator (default 'mean-diff', the paper's) */
  method?: ProbeMethod;
  /** number of random unit directions for the baseline (0 = skip; default 100) */
  randomBaseline?: number;
  /** label permutations for the AUROC permutation test (0 = skip; default 1000) */
  permutations?: number;
  /** bootstrap resamples for the AUROC CI (default 1000) */
  bootstrap?: number;
  /** ablated versions of the test pairs (lexical ablation), scored by the same probes */
  ablatedPairs?: readonly ContrastivePair[];
  /** describes where the ablated pairs came from (a file path or "words: ...") */
  ablationSource?: string;
  /** seed of every random step (default 0) */
  seed?: number;
  /** truncate each text to this many tokens (default 512, the paper's; 0 = off) */
  truncate?: number;
  /** L2 penalty of the logistic probe (default 1) */
  l2?: number;
  threads?: number;
  gpuLayers?: number;
  /** context tokens per text (default captureCtxSize: the training context within 2048..8192); texts longer after truncation are an error */
  ctxSize?: number;
  onProgress?: (textsDone: number, textsTotal: number, tokensDone: number) => void;
  /** an already loaded model for modelPath (not freed by runProbe) */
  model?: Model;
}

/** The options with their defaults, checked. */
interface Settings { method: ProbeMethod; nBaseline: number; nPerm: number; nBoot: number; seed: number; truncate: number }

const bad = (msg: string): never => { throw new EiaError('E_BAD_ARG', msg); };

function checkPairs(pairs: readonly ContrastivePair[] | undefined, what: string): void {
  if (!pairs || pairs.length === 0) bad(`${what}: no pairs (both classes would be empty)`);
}

function settings(opts: RunProbeOptions): Settings {
  // maxTokens is the number of NEW tokens everywhere; truncating the texts is `truncate`
  if ((opts as { maxTokens?: unknown }).maxTokens !== undefined) bad('runProbe takes truncate (keep the first N tokens of each text); maxTokens is the number of new tokens a generation makes');
  checkPairs(opts.trainPairs, 'train set');
  checkPairs(opts.testPairs, 'test set');
  if (opts.ablatedPairs !== undefined) checkPairs(opts.ablatedPairs, 'ablated set');
  if (opts.layers.length === 0) bad('runProbe needs at least one layer');
  if (new Set(opts.layers).size !== opts.layers.length) bad(`layers must be distinct, got ${opts.layers.join(',')}`);
  const s: Settings = {
    method: opts.method ?? PROBE_DEFAULTS.method, nBaseline: opts.randomBaseline ?? PROBE_DEFAULTS.randomBaseline,
    nPerm: opts.permutations ?? PROBE_DEFAULTS.permutations, nBoot: opts.bootstrap ?? PROBE_DEFAULTS.bootstrap,
    seed: opts.seed ?? PROBE_DEFAULTS.seed, truncate: opts.truncate ?? PROBE_DEFAULTS.truncate,
  };
  for (const [v, what] of [[s.nBaseline, 'randomBaseline'], [s.nPerm, 'permutations'], [s.truncate, 'truncate']] as const) {
    if (!Number.isInteger(v) || v < 0) bad(`${what} must be a non-negative integer, got ${v}`);
  }
  if (!Number.isInteger(s.nBoot) || s.nBoot < 1) bad(`bootstrap must be a positive integer, got ${s.nBoot}`);
  return s;
}

/**
 * The texts in groups (train emp, train non, test emp, test non, ablated emp, ablated non), each
 * captured once: `unique` holds the distinct texts, `index` each group's positions in it.
 */
function textGroups(opts: RunProbeOptions): { unique: string[]; index: number[][]; total: number } {
  const groups: string[][] = [
    opts.trainPairs.map((p) => p.empathicText), opts.trainPairs.map((p) => p.nonEmpathicText),
    opts.testPairs.map((p) => p.empathicText), opts.testPairs.map((p) => p.nonEmpathicText),
  ];
  if (opts.ablatedPairs) groups.push(opts.ablatedPairs.map((p) => p.empathicText), opts.ablatedPairs.map((p) => p.nonEmpathicText));
  const unique: string[] = [];
  const slot = new Map<string, number>();
  const index = groups.map((g) => g.map((t) => {
    let k = slot.get(t);
    if (k === undefined) { k = unique.length; slot.set(t, k); unique.push(t); }
    return k;
  }));
  return { unique, index, total: groups.reduce((n, g) => n + g.length, 0) };
}

/** One capture pass over `texts` at every layer; the model is loaded here unless given. */
async function captureTexts(opts: RunProbeOptions, texts: string[], truncate: number): Promise<{ res: CaptureResult; model: Model; passes: number }> {
  const model = opts.model ?? await Model.load(opts.modelPath, { gpuLayers: opts.gpuLayers ?? 0 });
  try {
    for (const l of opts.layers) {
      if (!Number.isInteger(l) || l < 0 || l >= model.nLayer) bad(`layer ${l} out of range [0, ${model.nLayer - 1}] for ${opts.modelPath}`);
    }
    await requireModelResidual(model, 'probing (capture)', opts.threads);
    const ctxSize = opts.ctxSize ?? captureCtxSize(model);
    checkTextsFit(model, texts, truncate, ctxSize);
    const ctx = await model.createContext(captureContextOptions(model, opts.threads, ctxSize));
    let passes = 0;
    try {
      passes++;
      const res = await ctx.capture(texts, { layers: opts.layers, pool: 'mean', truncate, onProgress: opts.onProgress });
      checkCaptureFinite(res, opts.modelPath);
      return { res, model, passes };
    } finally {
      ctx.free();
    }
  } finally {
    if (!opts.model) model.free();
  }
}

const labelsOf = (nE: number, nN: number): number[] => Array.from({ length: nE + nN }, (_, i) => (i < nE ? 1 : 0));

/** Table 1 figures and controls of one layer's probe. */
function layerReport(probe: Probe, test: { emp: Rows; non: Rows }, train: { emp: Rows; non: Rows }, ablated: { emp: Rows; non: Rows } | null, s: Settings): LayerReport {
  const testRows = [...test.emp, ...test.non];
  const testLabels = labelsOf(test.emp.length, test.non.length);
  const scores = scoreWithProbe(probe, testRows);
  const ev = evaluateScores(scores, testLabels);
  const ci = bootstrapAuroc(scores, testLabels, { resamples: s.nBoot, seed: s.seed });
  const trainScores = scoreWithProbe(probe, [...train.emp, ...train.non]);
  const rep: LayerReport = {
    layer: probe.layer,
    auroc: ev.auroc,
    auroc_ci: { lower: ci.lower, upper: ci.upper, confidence: ci.confidence, resamples: ci.resamples, se: ci.se },
    accuracy_median: ev.accuracyMedian.accuracy, threshold_median: ev.accuracyMedian.threshold,
    accuracy_midpoint: ev.accuracyMidpoint.accuracy, threshold_midpoint: ev.accuracyMidpoint.threshold,
    mean_emp: ev.meanPos, mean_non: ev.meanNeg, std_emp: ev.stdPos, std_non: ev.stdNeg, separation: ev.separation,
    n_emp: ev.nPos, n_non: ev.nNeg,
    train_auroc: evaluateScores(trainScores, labelsOf(train.emp.length, train.non.length)).auroc,
    scores: { emp: Array.from(scores.subarray(0, test.emp.length)), non: Array.from(scores.subarray(test.emp.length)) },
  };
  if (s.nBaseline > 0) {
    const { summary, aurocs } = randomDirectionBaseline(testRows, testLabels, ev.auroc, { n: s.nBaseline, seed: s.seed });
    rep.random_baseline = layerBaseline(summary, s.seed, aurocs);
  }
  if (s.nPerm > 0) {
    const pt = permutationTestAuroc(scores, testLabels, { permutations: s.nPerm, seed: s.seed });
    rep.permutation = { p: pt.p, permutations: pt.permutations, null_mean: pt.nullMean, seed: s.seed };
  }
  if (ablated) {
    const ab = evaluateScores(scoreWithProbe(probe, [...ablated.emp, ...ablated.non]), labelsOf(ablated.emp.length, ablated.non.length));
    rep.ablation = { auroc: ab.auroc, accuracy_median: ab.accuracyMedian.accuracy, separation: ab.separation, mean_emp: ab.meanPos, mean_non: ab.meanNeg };
  }
  return rep;
}

/**
 * Runs the detection analysis (see the module comment). Texts are captured once, all layers in
 * one ctx.capture call; duplicate texts are captured once and shared.
 */
export async function runProbe(opts: RunProbeOptions): Promise<ProbeRun> {
  const s = settings(opts);
  const { unique, index, total } = textGroups(opts);
  const shaPromise = fileSha256(opts.modelPath); // hashed while the capture runs
  shaPromise.catch(() => {}); // awaited below; avoid an unhandled rejection if capture fails first
  const { res, model, passes } = await captureTexts(opts, unique, s.truncate);
  const info = model.info;
  const sha256 = await shaPromise;
  const trainHash = datasetHash(opts.trainPairs);
  const layers: LayerReport[] = [];
  const probes: Probe[] = [];
  for (const layer of opts.layers) {
    const all = captureRows(res, layer);
    const [trE, trN, teE, teN, abE, abN] = index.map((g) => g.map((k) => all[k]));
    const probe = trainProbe(trE, trN, { layer, method: s.method, pooling: 'mean', l2: opts.l2, model: { path: opts.modelPath, sha256 }, trainHash });
    probes.push(probe);
    layers.push(layerReport(probe, { emp: teE, non: teN }, { emp: trE, non: trN }, abE && abN ? { emp: abE, non: abN } : null, s));
  }
  const best = rankLayers(layers)[0];
  const seconds = res.ms / 1000;
  const report: ProbeReport = {
    format: 'eia-probe-validation', version: 1,
    model: { path: opts.modelPath, sha256, arch: info.arch, n_layer: info.nLayer, n_embd: info.nEmbd, name: info.name },
    // (the file's key stays max_tokens: validation.json's format, read by reports of older RUNs)
    method: s.method, pooling: 'mean', seed: s.seed, max_tokens: s.truncate,
    train: { n_pairs: opts.trainPairs.length, hash: trainHash },
    test: { n_pairs: opts.testPairs.length, hash: datasetHash(opts.testPairs) },
    ablation: opts.ablatedPairs ? { source: opts.ablationSource ?? 'pairs', n_pairs: opts.ablatedPairs.length } : null,
    capture_passes: passes, texts_captured: unique.length, texts_total: total,
    tokens: res.tokensTotal, decode_calls: res.decodeCalls, capture_ms: Math.round(res.ms),
    tokens_per_second: seconds > 0 ? res.tokensTotal / seconds : 0,
    layers, best_layer: best.layer, best_auroc: best.auroc,
  };
  return { report, probes };
}
