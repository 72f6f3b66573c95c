// The paper's detection analysis end to end: ONE capture pass over every text (train, test and
// ablated test texts, all layers at once), then per layer a probe trained on the train split,
// validated on the test split (Table 1 figures + a bootstrap CI), and the controls the paper ran
// or lacked (random-direction baseline, label-permutation test, lexical ablation).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../engine/model.js';
import { writeFileAtomic } from '../io/npy.js';
import { probeReportMarkdown } from './report-table.js';
import { rows as captureRows, type CaptureResult } from '../engine/capture.js';
import { fileSha256 } from '../io/file-hash.js';
import { bootstrapAuroc } from '../stats/bootstrap.js';
import { evaluateScores } from '../stats/auroc.js';
import { randomDirectionBaseline, type BaselineSummary } from '../stats/baseline.js';
import { permutationTestAuroc } from '../stats/permutation.js';
import { datasetHash, type ContrastivePair } from './dataset.js';
import { saveProbe, scoreWithProbe, trainProbe, type Probe, type ProbeMethod } from './probe.js';

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
  maxTokens?: number;
  /** L2 penalty of the logistic probe (default 1) */
  l2?: number;
  threads?: number;
  gpuLayers?: number;
  onProgress?: (textsDone: number, textsTotal: number, tokensDone: number) => void;
  /** an already loaded model for modelPath (not freed by runProbe) */
  model?: Model;
}

/** Validation figures of one layer (the paper's Table 1 columns plus what it lacked). */
export interface LayerReport {
  layer: number;
  auroc: number;
  /** stratified percentile bootstrap of the test AUROC */
  aurocCI: { lower: number; upper: number; confidence: number; resamples: number; se: number };
  /** threshold = median of all test scores, score >= t predicts empathic */
  accuracyMedian: number;
  thresholdMedian: number;
  /** threshold = midpoint of the class means, score > t predicts empathic */
  accuracyMidpoint: number;
  thresholdMidpoint: number;
  meanEmp: number;
  meanNon: number;
  /** population std (ddof 0) */
  stdEmp: number;
  stdNon: number;
  /** meanEmp - meanNon */
  separation: number;
  nEmp: number;
  nNon: number;
  /** AUROC of the probe on its own training texts */
  trainAuroc: number;
  /** summary + every random direction's AUROC (for the histogram) */
  randomBaseline?: BaselineSummary & { seed: number; aurocs: number[] };
  permutation?: { p: number; permutations: number; nullMean: number; seed: number };
  ablation?: { auroc: number; accuracyMedian: number; separation: number; meanEmp: number; meanNon: number };
  /** test scores in test-pair order */
  scores: { emp: number[]; non: number[] };
}

/** JSON-ready result of {@link runProbe}. */
export interface ProbeReport {
  format: 'eia-probe-validation';
  version: 1;
  model: { path: string; sha256: string; arch: string; nLayer: number; nEmbd: number };
  method: ProbeMethod;
  pooling: 'mean';
  seed: number;
  maxTokens: number;
  train: { nPairs: number; hash: string };
  test: { nPairs: number; hash: string };
  ablation: { source: string; nPairs: number } | null;
  /** calls to ctx.capture (the whole analysis needs exactly one) */
  capturePasses: number;
  /** texts handed to capture (distinct texts; duplicates are captured once) */
  textsCaptured: number;
  /** texts the analysis uses, duplicates counted */
  textsTotal: number;
  tokens: number;
  decodeCalls: number;
  captureMs: number;
  tokensPerSecond: number;
  layers: LayerReport[];
  /** highest test AUROC; ties broken by the larger standardised separation, then the lower layer */
  bestLayer: number;
  bestAuroc: number;
}

export interface ProbeRun {
  report: ProbeReport;
  /** one trained probe per layer (same order as report.layers) */
  probes: Probe[];
}

function checkPairs(pairs: readonly ContrastivePair[] | undefined, what: string): void {
  if (!pairs || pairs.length === 0) throw new Error(`${what}: no pairs (both classes would be empty)`);
}

/**
 * Lexical ablation of one text: every whole-word, case-insensitive occurrence of a listed word is
 * replaced by its replacement ("word=replacement"; a bare "word" is deleted). A capitalised
 * match keeps a capitalised replacement. Returns the text and the number of replacements.
 */
export function ablateText(text: string, words: readonly string[]): { text: string; replacements: number } {
  let count = 0;
  let out = text;
  for (const spec of words) {
    const eq = spec.indexOf('=');
    const word = (eq >= 0 ? spec.slice(0, eq) : spec).trim();
    const repl = eq >= 0 ? spec.slice(eq + 1).trim() : '';
    if (!word) continue;
    const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(?<![\\p{L}\\p{N}_])${esc}(?![\\p{L}\\p{N}_])`, 'giu');
    out = out.replace(re, (m) => {
      count++;
      if (repl && m[0] !== m[0].toLowerCase()) return repl[0].toUpperCase() + repl.slice(1);
      return repl;
    });
  }
  if (count > 0) out = out.replace(/[ \t]{2,}/g, ' ').replace(/ +([.,;:!?])/g, '$1');
  return { text: out, replacements: count };
}

/** Applies {@link ablateText} to both texts of every pair; returns the pairs and the mean replacements per pair. */
export function ablatePairs(pairs: readonly ContrastivePair[], words: readonly string[]): { pairs: ContrastivePair[]; meanReplacements: number } {
  if (words.length === 0) throw new Error('lexical ablation needs at least one word');
  let total = 0;
  const out = pairs.map((p) => {
    const e = ablateText(p.empathicText, words), n = ablateText(p.nonEmpathicText, words);
    total += e.replacements + n.replacements;
    return { ...p, empathicText: e.text, nonEmpathicText: n.text };
  });
  return { pairs: out, meanReplacements: pairs.length ? total / pairs.length : 0 };
}

function dPrime(r: { separation: number; stdEmp: number; stdNon: number }): number {
  const s = Math.sqrt((r.stdEmp ** 2 + r.stdNon ** 2) / 2);
  return s > 0 ? r.separation / s : r.separation > 0 ? Infinity : r.separation < 0 ? -Infinity : 0;
}

/**
 * Runs the detection analysis (see the module comment). Texts are captured once, all layers in
 * one ctx.capture call; duplicate texts are captured once and shared.
 */
export async function runProbe(opts: RunProbeOptions): Promise<ProbeRun> {
  checkPairs(opts.trainPairs, 'train set');
  checkPairs(opts.testPairs, 'test set');
  if (opts.ablatedPairs !== undefined) checkPairs(opts.ablatedPairs, 'ablated set');
  const layers = [...opts.layers];
  if (layers.length === 0) throw new Error('runProbe needs at least one layer');
  if (new Set(layers).size !== layers.length) throw new Error(`layers must be distinct, got ${layers.join(',')}`);
  const method = opts.method ?? 'mean-diff';
  const nBaseline = opts.randomBaseline ?? 100;
  const nPerm = opts.permutations ?? 1000;
  const nBoot = opts.bootstrap ?? 1000;
  const seed = opts.seed ?? 0;
  const maxTokens = opts.maxTokens ?? 512;
  for (const [v, what] of [[nBaseline, 'randomBaseline'], [nPerm, 'permutations'], [maxTokens, 'maxTokens']] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${what} must be a non-negative integer, got ${v}`);
  }
  if (!Number.isInteger(nBoot) || nBoot < 1) throw new Error(`bootstrap must be a positive integer, got ${nBoot}`);

  // Texts, grouped: train emp, train non, test emp, test non, ablated emp, ablated non.
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
  const textsTotal = groups.reduce((s, g) => s + g.length, 0);

  const model = opts.model ?? await Model.load(opts.modelPath, { gpuLayers: opts.gpuLayers ?? 0 });
  let capturePasses = 0;
  let res: CaptureResult;
  const shaPromise = fileSha256(opts.modelPath); // hashed while the capture runs
  shaPromise.catch(() => {}); // awaited below; avoid an unhandled rejection if capture fails first
  try {
    for (const l of layers) {
      if (!Number.isInteger(l) || l < 0 || l >= model.nLayer) throw new Error(`layer ${l} out of range [0, ${model.nLayer - 1}] for ${opts.modelPath}`);
    }
    const ctx = await model.createContext({
      nThreads: opts.threads, nCtx: Math.max(2048, Math.min(model.info.nCtxTrain, 8192)), nBatch: 512, nSeqMax: 32,
    });
    try {
      capturePasses++;
      res = await ctx.capture(unique, { layers, pool: 'mean', maxTokens, onProgress: opts.onProgress });
    } finally {
      ctx.free();
    }
  } finally {
    if (!opts.model) model.free();
  }
  const info = model.info;
  const sha256 = await shaPromise;

  const trainHash = datasetHash(opts.trainPairs as ContrastivePair[]);
  const layerReports: LayerReport[] = [];
  const probes: Probe[] = [];
  for (const layer of layers) {
    const all = captureRows(res, layer);
    const [trE, trN, teE, teN, abE, abN] = index.map((g) => g.map((k) => all[k]));
    const probe = trainProbe(trE, trN, {
      layer, method, pooling: 'mean', l2: opts.l2,
      model: { path: opts.modelPath, sha256 }, trainHash,
    });
    probes.push(probe);
    const labelsOf = (nE: number, nN: number) => Array.from({ length: nE + nN }, (_, i) => (i < nE ? 1 : 0));
    const testRows = [...teE, ...teN];
    const testLabels = labelsOf(teE.length, teN.length);
    const scores = scoreWithProbe(probe, testRows);
    const ev = evaluateScores(scores, testLabels);
    const ci = bootstrapAuroc(scores, testLabels, { resamples: nBoot, seed });
    const trainScores = scoreWithProbe(probe, [...trE, ...trN]);
    const rep: LayerReport = {
      layer,
      auroc: ev.auroc,
      aurocCI: { lower: ci.lower, upper: ci.upper, confidence: ci.confidence, resamples: ci.resamples, se: ci.se },
      accuracyMedian: ev.accuracyMedian.accuracy, thresholdMedian: ev.accuracyMedian.threshold,
      accuracyMidpoint: ev.accuracyMidpoint.accuracy, thresholdMidpoint: ev.accuracyMidpoint.threshold,
      meanEmp: ev.meanPos, meanNon: ev.meanNeg, stdEmp: ev.stdPos, stdNon: ev.stdNeg, separation: ev.separation,
      nEmp: ev.nPos, nNon: ev.nNeg,
      trainAuroc: evaluateScores(trainScores, labelsOf(trE.length, trN.length)).auroc,
      scores: { emp: Array.from(scores.subarray(0, teE.length)), non: Array.from(scores.subarray(teE.length)) },
    };
    if (nBaseline > 0) {
      const { summary, aurocs } = randomDirectionBaseline(testRows, testLabels, ev.auroc, { n: nBaseline, seed });
      rep.randomBaseline = { ...summary, seed, aurocs: Array.from(aurocs) };
    }
    if (nPerm > 0) {
      const pt = permutationTestAuroc(scores, testLabels, { permutations: nPerm, seed });
      rep.permutation = { p: pt.p, permutations: pt.permutations, nullMean: pt.nullMean, seed };
    }
    if (abE && abN) {
      const ab = evaluateScores(scoreWithProbe(probe, [...abE, ...abN]), labelsOf(abE.length, abN.length));
      rep.ablation = { auroc: ab.auroc, accuracyMedian: ab.accuracyMedian.accuracy, separation: ab.separation, meanEmp: ab.meanPos, meanNon: ab.meanNeg };
    }
    layerReports.push(rep);
  }

  let best = layerReports[0];
  for (const r of layerReports.slice(1)) {
    if (r.auroc > best.auroc || (r.auroc === best.auroc && dPrime(r) > dPrime(best))) best = r;
  }
  const seconds = res.ms / 1000;
  const report: ProbeReport = {
    format: 'eia-probe-validation', version: 1,
    model: { path: opts.modelPath, sha256, arch: info.arch, nLayer: info.nLayer, nEmbd: info.nEmbd },
    method, pooling: 'mean', seed, maxTokens,
    train: { nPairs: opts.trainPairs.length, hash: trainHash },
    test: { nPairs: opts.testPairs.length, hash: datasetHash(opts.testPairs as ContrastivePair[]) },
    ablation: opts.ablatedPairs ? { source: opts.ablationSource ?? 'pairs', nPairs: opts.ablatedPairs.length } : null,
    capturePasses, textsCaptured: unique.length, textsTotal,
    tokens: res.tokensTotal, decodeCalls: res.decodeCalls, captureMs: Math.round(res.ms),
    tokensPerSecond: seconds > 0 ? res.tokensTotal / seconds : 0,
    layers: layerReports, bestLayer: best.layer, bestAuroc: best.auroc,
  };
  return { report, probes };
}

/** Writes a probe run: DIR/layer<L>.npy + .json per probe, DIR/validation.json, DIR/validation.md. */
export function writeProbeRun(dir: string, run: ProbeRun): { files: string[]; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const files = run.probes.map((p) => saveProbe(dir, p).npyPath);
  writeFileAtomic(join(dir, 'validation.json'), JSON.stringify(run.report, null, 2) + '\n');
  const markdown = probeReportMarkdown(run.report);
  writeFileAtomic(join(dir, 'validation.md'), markdown);
  return { files, markdown };
}
