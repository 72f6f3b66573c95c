// Binary-classification figures of a probe's scores, defined exactly as the paper's scripts
// computed them (scikit-learn's roc_auc_score, a median or class-midpoint threshold, ddof-0 stds).

import { assertFinite, mean, median, stdPop, type Numbers } from './descriptive.js';
import { averageRanks } from './ranks.js';
import { EiaError } from '../util/errors.js';

/** Class labels: 1 / true = positive (empathic), 0 / false = negative. */
export type Labels = ArrayLike<number | boolean>;

/** Scores split by class after validation. */
export interface ClassSplit {
  pos: Float64Array;
  neg: Float64Array;
  /** labels as 0/1 bytes, aligned with the scores */
  y: Uint8Array;
}

/**
 * Validates scores and labels (same length, finite scores, labels 0/1, both classes present)
 * and splits the scores by class. Every function in this module goes through it, so bad
 * input always fails with the same clear messages.
 */
export function splitByClass(scores: Numbers, labels: Labels): ClassSplit {
  if (scores.length !== labels.length) {
    throw new EiaError('E_BAD_ARG', `scores (${scores.length}) and labels (${labels.length}) differ in length`);
  }
  if (scores.length === 0) throw new EiaError('E_BAD_ARG', 'scores are empty');
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new EiaError('E_BAD_ARG', `scores hold NaN at index ${i}`);
  }
  assertFinite(scores, 'scores');
  const y = new Uint8Array(labels.length);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 1 || l === true) { y[i] = 1; nPos++; }
    else if (l === 0 || l === false) y[i] = 0;
    else throw new EiaError('E_BAD_ARG', `label at index ${i} is ${String(l)}; expected 0/1 or false/true`);
  }
  const nNeg = y.length - nPos;
  if (nPos === 0) throw new EiaError('E_BAD_ARG', 'the positive class is empty: AUROC and class statistics are undefined');
  if (nNeg === 0) throw new EiaError('E_BAD_ARG', 'the negative class is empty: AUROC and class statistics are undefined');
  const pos = new Float64Array(nPos), neg = new Float64Array(nNeg);
  let p = 0, q = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i]) pos[p++] = scores[i]; else neg[q++] = scores[i];
  }
  return { pos, neg, y };
}

/**
 * Area under the ROC curve, equal to sklearn.metrics.roc_auc_score for binary labels:
 * the Mann-Whitney U of the positives over the negatives (average ranks, so a tied
 * positive/negative pair counts 1/2), divided by nPos * nNeg. O(n log n).
 */
export function auroc(scores: Numbers, labels: Labels): number {
  const { pos, neg, y } = splitByClass(scores, labels);
  const ranks = averageRanks(scores);
  let rankSum = 0;
  for (let i = 0; i < y.length; i++) if (y[i]) rankSum += ranks[i];
  const nP = pos.length, nN = neg.length;
  return (rankSum - (nP * (nP + 1)) / 2) / (nP * nN);
}

/** AUROC from the two classes' scores given separately (positives first). */
export function aurocFromClasses(pos: Numbers, neg: Numbers): number {
  const scores = new Float64Array(pos.length + neg.length);
  const labels = new Uint8Array(scores.length);
  for (let i = 0; i < pos.length; i++) { scores[i] = pos[i]; labels[i] = 1; }
  for (let i = 0; i < neg.length; i++) scores[pos.length + i] = neg[i];
  return auroc(scores, labels);
}

/** An accuracy together with the threshold that produced it. */
export interface ThresholdAccuracy {
  threshold: number;
  accuracy: number;
}

/**
 * Accuracy with threshold = numpy.median of ALL scores (both classes; mean of the two middle
 * values for even n); score >= threshold predicts positive. The paper's validation script.
 */
export function accuracyAtMedian(scores: Numbers, labels: Labels): ThresholdAccuracy {
  const { y } = splitByClass(scores, labels);
  const threshold = median(scores);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((scores[i] >= threshold ? 1 : 0) === y[i]) correct++;
  return { threshold, accuracy: correct / y.length };
}

/**
 * Accuracy with threshold = (mean of positives + mean of negatives) / 2; score > threshold
 * (strictly) predicts positive. The paper's cross-model script.
 */
export function accuracyAtMidpoint(scores: Numbers, labels: Labels): ThresholdAccuracy {
  const { pos, neg, y } = splitByClass(scores, labels);
  const threshold = (mean(pos) + mean(neg)) / 2;
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((scores[i] > threshold ? 1 : 0) === y[i]) correct++;
  return { threshold, accuracy: correct / y.length };
}

/** Per-class summary of scores. */
export interface ClassStats {
  nPos: number;
  nNeg: number;
  meanPos: number;
  meanNeg: number;
  /** population standard deviations (ddof 0) */
  stdPos: number;
  stdNeg: number;
  /** meanPos - meanNeg */
  separation: number;
}

/** Class means, population stds (ddof 0) and separation = meanPos - meanNeg. */
export function classStats(scores: Numbers, labels: Labels): ClassStats {
  const { pos, neg } = splitByClass(scores, labels);
  const meanPos = mean(pos), meanNeg = mean(neg);
  return {
    nPos: pos.length, nNeg: neg.length, meanPos, meanNeg,
    stdPos: stdPop(pos), stdNeg: stdPop(neg), separation: meanPos - meanNeg,
  };
}

/** Everything the paper's validation table reports for one layer. */
export interface ScoreEvaluation extends ClassStats {
  auroc: number;
  accuracyMedian: ThresholdAccuracy;
  accuracyMidpoint: ThresholdAccuracy;
}

/** AUROC, both accuracies and class statistics of one score vector. */
export function evaluateScores(scores: Numbers, labels: Labels): ScoreEvaluation {
  return {
    auroc: auroc(scores, labels),
    accuracyMedian: accuracyAtMedian(scores, labels),
    accuracyMidpoint: accuracyAtMidpoint(scores, labels),
    ...classStats(scores, labels),
  };
}
