// Cross-model comparison of two models' probes as `eia-native align` prints it and `study` tabulates
// it (one computation for both, so the study's numbers are align's): each model's mean-diff probe
// on its own train activations; score agreement of the two probes on the test texts (the paper's
// cross-model check); and Procrustes transfer of model A's probe into model B (crossmodel.ts).
// Also the capture both use: mean-pooled activations of the same texts at given blocks of one model.
import { rows as captureRows } from '../engine/capture.js';
import { Model } from '../engine/model.js';
import { dot, type Rows } from '../stats/rows.js';
import { badField } from '../util/errors.js';
import { captureContextOptions, captureCtxSize, checkCaptureFinite, checkTextsFit } from './capture-context.js';
import { crossModelTransfer, scoreAgreement, type ScoreAgreement } from './crossmodel.js';
import type { ContrastivePair } from './dataset.js';
import { meanDiffDirection } from './probe.js';

/** Options of {@link captureBlocks}. */
export interface CaptureBlocksOptions {
  /** keep the first N tokens of each text (0 = off) */
  truncate: number;
  threads?: number;
  gpuLayers?: number;
  /** tokens per text (default captureCtxSize) */
  ctxSize?: number;
  onProgress?: (done: number, total: number, tokens: number) => void;
}

/**
 * Mean-pooled activations of `texts` at each of `layers` of one model, in one capture pass: the
 * capture of `align` (one block) and of `study` (all probed blocks); a block's rows do not depend
 * on which other blocks are captured with it. A FieldError for a block out of range (`layer`) or a
 * text that does not fit (naming truncate and ctxSize).
 */
export async function captureBlocks(path: string, layers: readonly number[], texts: readonly string[], o: CaptureBlocksOptions): Promise<Map<number, Float32Array[]>> {
  const model = await Model.load(path, { gpuLayers: o.gpuLayers ?? 0 });
  try {
    for (const layer of layers) {
      if (!Number.isInteger(layer) || layer < 0 || layer >= model.nLayer) {
        throw badField('layer', 'layer_out_of_range', (n) => `${n('layer')}: ${layer} out of range [0, ${model.nLayer - 1}] for ${path}`);
      }
    }
    const ctxSize = o.ctxSize ?? captureCtxSize(model);
    checkTextsFit(model, texts, o.truncate, ctxSize);
    const ctx = await model.createContext(captureContextOptions(model, o.threads, ctxSize));
    try {
      const res = await ctx.capture([...texts], { layers: [...layers], pool: 'mean', truncate: o.truncate, onProgress: o.onProgress });
      checkCaptureFinite(res, path);
      return new Map(layers.map((l) => [l, captureRows(res, l)]));
    } finally {
      ctx.free();
    }
  } finally {
    model.free();
  }
}

/** Rows of an alignment, in align's order: train empathic, train non-empathic, test empathic, test non-empathic; labels 1 = empathic. */
export function alignmentIndex(nTrainPairs: number, nTestPairs: number): { labels: number[]; trainIdx: number[]; testIdx: number[] } {
  const nTr = 2 * nTrainPairs, nTe = 2 * nTestPairs;
  const labels = [...Array(nTrainPairs).fill(1), ...Array(nTrainPairs).fill(0), ...Array(nTestPairs).fill(1), ...Array(nTestPairs).fill(0)];
  return { labels, trainIdx: Array.from({ length: nTr }, (_, i) => i), testIdx: Array.from({ length: nTe }, (_, i) => nTr + i) };
}

/** The texts of an alignment in alignmentIndex's order. */
export function alignmentTexts(train: readonly ContrastivePair[], test: readonly ContrastivePair[]): string[] {
  return [...train.map((p) => p.empathicText), ...train.map((p) => p.nonEmpathicText), ...test.map((p) => p.empathicText), ...test.map((p) => p.nonEmpathicText)];
}

/** What `align` reports about two models' rows of the same texts (snake_case: it is printed and written as it is). */
export interface AlignmentReport {
  width_a: number;
  width_b: number;
  n_train_pairs: number;
  n_test_pairs: number;
  /** the two models' own probes scored on the same test texts (null, with agreement_note, when undefined: a constant score) */
  agreement: { n: number; pearson: { r: number; p: number }; spearman: { rho: number; p: number } } | null;
  agreement_note?: string;
  procrustes: { k: number; residual: number; singular_values: number[] };
  auroc: { source_a: number; native_b: number; carried_a_to_b: number; recovered: number | null };
  cosine_carried_native: number;
  carried_native_agreement: { pearson: number; spearman: number } | null;
}

/** Agreement and Procrustes transfer of model A's rows with model B's (same texts, alignmentTexts order). */
export function alignmentReport(rowsA: Rows, rowsB: Rows, nTrainPairs: number, nTestPairs: number, opts: { k?: number } = {}): AlignmentReport {
  const { labels, trainIdx, testIdx } = alignmentIndex(nTrainPairs, nTestPairs);
  const t = crossModelTransfer({ a: rowsA, b: rowsB, labels, trainIdx, testIdx, k: opts.k });
  // the paper's cross-model agreement: each model's own mean-diff probe, scored on the same test texts
  const dirA = meanDiffDirection(trainIdx.filter((i) => labels[i] === 1).map((i) => rowsA[i]), trainIdx.filter((i) => labels[i] === 0).map((i) => rowsA[i]));
  const scoresA = testIdx.map((i) => dot(rowsA[i], dirA));
  const scoresB = testIdx.map((i) => dot(rowsB[i], t.nativeDirection));
  let agreement: ScoreAgreement | null = null, agreementNote: string | undefined;
  try { agreement = scoreAgreement(scoresA, scoresB); } catch (e) { agreementNote = (e as Error).message; }
  const al = t.alignment;
  return {
    width_a: al.dA, width_b: al.dB, n_train_pairs: nTrainPairs, n_test_pairs: nTestPairs,
    agreement: agreement
      ? { n: agreement.n, pearson: { r: agreement.pearson.r, p: agreement.pearson.p }, spearman: { rho: agreement.spearman.r, p: agreement.spearman.p } }
      : null,
    ...(agreementNote ? { agreement_note: agreementNote } : {}),
    procrustes: { k: al.k, residual: al.residual, singular_values: Array.from(al.singularValues) },
    auroc: {
      source_a: t.aurocSource, native_b: t.aurocNative, carried_a_to_b: t.aurocCarried,
      // share of B's native AUROC above chance recovered by the carried probe
      recovered: t.aurocNative !== 0.5 ? (t.aurocCarried - 0.5) / (t.aurocNative - 0.5) : null,
    },
    cosine_carried_native: dot(t.carriedDirection, t.nativeDirection),
    carried_native_agreement: t.agreement ? { pearson: t.agreement.pearson.r, spearman: t.agreement.spearman.r } : null,
  };
}
