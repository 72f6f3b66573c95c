// Behavioural correlation as `eia-native correlate` reports it and `study` tabulates it (one
// computation for both): a probe's scores on rubric-scored texts (the paper's 12 EIA texts, 0/1/2)
// against the rubric, with Pearson, Spearman and both binary-accuracy conventions.
import { rows as captureRows } from '../engine/capture.js';
import { Model } from '../engine/model.js';
import { correlationReport, type CorrelationReport } from '../stats/correlation-report.js';
import { badField, EiaError } from '../util/errors.js';
import { captureContextOptions, checkCaptureFinite } from './capture-context.js';
import type { ScoredText } from './dataset.js';
import { scoreWithProbe } from './probe.js';

export interface ProbeScoresOptions {
  /** keep the first N tokens of each text (0 = off) */
  truncate: number;
  threads?: number;
  gpuLayers?: number;
  /** tokens per text (default: the capture context's) */
  ctxSize?: number;
  onProgress?: (done: number, total: number, tokens: number) => void;
  /** the probe's name in messages (its file) */
  what?: string;
}

/**
 * The probe's score (dot with its unit direction) of each text's mean-pooled activation at its
 * block. E_BAD_ARG when the probe's width is not the model's, a FieldError (`layer`) when its block
 * is out of range.
 */
export async function probeScoresOfTexts(modelPath: string, probe: { direction: Float32Array; layer: number }, texts: readonly string[], o: ProbeScoresOptions): Promise<Float64Array> {
  const model = await Model.load(modelPath, { gpuLayers: o.gpuLayers ?? 0 });
  try {
    if (probe.direction.length !== model.nEmbd) {
      throw new EiaError('E_BAD_ARG', `probe/model width mismatch: ${o.what ?? 'the probe'} has width ${probe.direction.length} but the model's d_model is ${model.nEmbd} (a probe of another model?)`);
    }
    if (!Number.isInteger(probe.layer) || probe.layer < 0 || probe.layer >= model.nLayer) {
      throw badField('layer', 'layer_out_of_range', (n) => `${n('layer')}: ${probe.layer} out of range [0, ${model.nLayer - 1}]`);
    }
    const ctx = await model.createContext(captureContextOptions(model, o.threads, o.ctxSize));
    try {
      const res = await ctx.capture([...texts], { layers: [probe.layer], pool: 'mean', truncate: o.truncate, onProgress: o.onProgress });
      checkCaptureFinite(res, model.info.path);
      return scoreWithProbe(probe, captureRows(res, probe.layer));
    } finally {
      ctx.free();
    }
  } finally {
    model.free();
  }
}

/** The correlation report of probe scores against the texts' rubric scores, with each text's score. */
export function behaviouralCorrelation(scores: ArrayLike<number>, texts: readonly ScoredText[]): CorrelationReport & { texts: { score: number; scenario?: string; probe_score: number }[] } {
  if (scores.length !== texts.length) throw new EiaError('E_BAD_ARG', `${scores.length} probe scores for ${texts.length} texts`);
  const rep = correlationReport(Float64Array.from(scores), texts.map((t) => t.score));
  return { ...rep, texts: texts.map((t, i) => ({ score: t.score, scenario: t.scenario, probe_score: scores[i] })) };
}
