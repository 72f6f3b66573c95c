// probes/validation.json: the detection analysis of one probe run (the paper's Table 1 per layer,
// plus the controls it ran or lacked). The types below are the file's format (snake_case keys, as
// every eia-native file; docs/formats.md). Files written before that rule used camelCase keys;
// readValidation accepts both.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineSummary } from '../stats/baseline.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';
import { snakeCaseKeys } from '../util/snake-case.js';
import { saveProbe } from './probe-file.js';
import type { Probe, ProbeMethod } from './probe.js';
import { probeReportMarkdown } from './report-table.js';
import { readTextFile } from '../io/input.js';
import { makeCard, type VectorCard } from './vector-card.js';

export const VALIDATION_FILE = 'validation.json';
export const VALIDATION_MARKDOWN = 'validation.md';

/** The random-direction baseline of one layer (stats/baseline.ts's summary, snake_case) and every direction's AUROC (for the histogram). */
export type LayerBaseline = Omit<BaselineSummary, 'probeAuroc' | 'empiricalP'> & { probe_auroc: number; empirical_p: number; seed: number; aurocs: number[] };

/** A baseline summary in the file's key style. */
export function layerBaseline(s: BaselineSummary, seed: number, aurocs: ArrayLike<number>): LayerBaseline {
  return {
    n: s.n, mean: s.mean, median: s.median, std: s.std, min: s.min, max: s.max, p95: s.p95,
    probe_auroc: s.probeAuroc, z: s.z, empirical_p: s.empiricalP, seed, aurocs: Array.from(aurocs),
  };
}

/** Validation figures of one layer (the paper's Table 1 columns plus what it lacked). */
export interface LayerReport {
  layer: number;
  auroc: number;
  /** stratified percentile bootstrap of the test AUROC */
  auroc_ci: { lower: number; upper: number; confidence: number; resamples: number; se: number };
  /** threshold = median of all test scores, score >= t predicts empathic */
  accuracy_median: number;
  threshold_median: number;
  /** threshold = midpoint of the class means, score > t predicts empathic */
  accuracy_midpoint: number;
  threshold_midpoint: number;
  mean_emp: number;
  mean_non: number;
  /** population std (ddof 0) */
  std_emp: number;
  std_non: number;
  /** mean_emp - mean_non */
  separation: number;
  n_emp: number;
  n_non: number;
  /** AUROC of the probe on its own training texts */
  train_auroc: number;
  random_baseline?: LayerBaseline;
  permutation?: { p: number; permutations: number; null_mean: number; seed: number };
  ablation?: { auroc: number; accuracy_median: number; separation: number; mean_emp: number; mean_non: number };
  /** test scores in test-pair order */
  scores: { emp: number[]; non: number[] };
}

/** The result of runProbe, as written to validation.json. */
export interface ProbeReport {
  format: 'eia-probe-validation';
  version: 1;
  /** name: GGUF general.name (reports written before it was recorded lack it) */
  model: { path: string; sha256: string; arch: string; n_layer: number; n_embd: number; name?: string };
  method: ProbeMethod;
  pooling: 'mean';
  seed: number;
  max_tokens: number;
  train: { n_pairs: number; hash: string };
  test: { n_pairs: number; hash: string };
  ablation: { source: string; n_pairs: number } | null;
  /** calls to ctx.capture (the whole analysis needs exactly one) */
  capture_passes: number;
  /** texts handed to capture (distinct texts; duplicates are captured once) */
  texts_captured: number;
  /** texts the analysis uses, duplicates counted */
  texts_total: number;
  tokens: number;
  decode_calls: number;
  capture_ms: number;
  tokens_per_second: number;
  layers: LayerReport[];
  /** the first layer of rankLayers (best-layer.ts): highest test AUROC, then the larger d', then the lower layer */
  best_layer: number;
  best_auroc: number;
}

export interface ProbeRun {
  report: ProbeReport;
  /** one trained probe per layer (same order as report.layers) */
  probes: Probe[];
}

/** Reads a validation.json (either key style); E_BAD_ARG when it is not one. */
export function readValidation(path: string): ProbeReport {
  const text = readTextFile(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EiaError('E_BAD_ARG', `${path}: invalid JSON (${(e as Error).message})`);
  }
  const report = snakeCaseKeys<ProbeReport>(value);
  if (!report || typeof report !== 'object' || !Array.isArray(report.layers)) {
    throw new EiaError('E_BAD_ARG', `${path}: not a probe validation report (no layers array)`);
  }
  return report;
}

/** The card of the probe of `layer` in a probe run: the model, the method, the sets and the layer's validation (no dose-response yet). */
export function probeRunCard(report: ProbeReport, layer: number): VectorCard {
  const l = report.layers.find((x) => x.layer === layer) ?? null;
  return makeCard(layer, {
    model: { name: report.model.name ?? null, arch: report.model.arch, sha256: report.model.sha256, n_layer: report.model.n_layer, n_embd: report.model.n_embd },
    method: report.method, pooling: report.pooling,
    train: { hash: report.train.hash, n_pairs: report.train.n_pairs }, test: { hash: report.test.hash, n_pairs: report.test.n_pairs },
    layer: l,
  });
}

/**
 * The fields a probe of this run whose sidecar has no card yet gets as its card (updateVectorCard's
 * patch): probeRunCard without its empty `tuned`, so that a tuned alpha an older sidecar holds is
 * kept. Empty when there is no report or it lacks the block (updateVectorCard then makes a card of
 * what the sidecar records).
 */
export function probeRunCardFields(report: ProbeReport | null, layer: number): Partial<VectorCard> {
  if (!report || !report.layers.some((l) => l.layer === layer)) return {};
  const { tuned: _none, ...fields } = probeRunCard(report, layer);
  return fields;
}

/** Writes a probe run: DIR/layer<L>.npy + .json (with its vector card) per probe, DIR/validation.json, DIR/validation.md. */
export function writeProbeRun(dir: string, run: ProbeRun): { files: string[]; markdown: string } {
  io(() => mkdirSync(dir, { recursive: true }));
  const files = run.probes.map((p) => saveProbe(dir, { ...p, card: p.card ?? probeRunCard(run.report, p.layer) }).npyPath);
  writeJsonAtomic(join(dir, VALIDATION_FILE), run.report);
  const markdown = probeReportMarkdown(run.report);
  writeFileAtomic(join(dir, VALIDATION_MARKDOWN), markdown);
  return { files, markdown };
}
