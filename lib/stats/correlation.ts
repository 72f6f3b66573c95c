// Pearson and Spearman correlation with exact two-sided p-values from Student's t distribution
// (the same test scipy.stats.pearsonr / spearmanr use), plus the paper's two binary accuracies of
// probe scores against 0/1/2 rubric scores (its result files use two conventions; see below).

import tcdf from '@stdlib/stats-base-dists-t-cdf';
import { assertFinite, median, type Numbers } from './descriptive.js';
import { averageRanks } from './ranks.js';
import { EiaError } from '../util/errors.js';

/** A correlation coefficient with its t-test. */
export interface CorrelationResult {
  r: number;
  /** two-sided p-value, t = r * sqrt(df / (1 - r^2)), df = n - 2 */
  p: number;
  t: number;
  df: number;
  n: number;
}

function checkPair(x: Numbers, y: Numbers, what: string): void {
  if (x.length !== y.length) throw new EiaError('E_BAD_ARG', `${what}: x (${x.length}) and y (${y.length}) differ in length`);
  if (x.length < 3) throw new EiaError('E_BAD_ARG', `${what} correlation is undefined for n < 3 (got n = ${x.length}): the t-test needs n - 2 >= 1 degrees of freedom`);
  assertFinite(x, `${what}: x`);
  assertFinite(y, `${what}: y`);
}

/** t-test of a correlation coefficient r over n pairs (two-sided). */
export function correlationTTest(r: number, n: number): CorrelationResult {
  const df = n - 2;
  const rc = Math.max(-1, Math.min(1, r));
  const den = 1 - rc * rc;
  // |r| = 1: perfect (anti)correlation, t infinite and p exactly 0.
  const t = den <= 0 ? Math.sign(rc) * Infinity : rc * Math.sqrt(df / den);
  // Lower tail at -|t| keeps precision for tiny p (no 1 - cdf cancellation).
  const p = Number.isFinite(t) ? Math.min(1, 2 * tcdf(-Math.abs(t), df)) : 0;
  return { r: rc, p, t, df, n };
}

function pearsonR(x: Numbers, y: Numbers, what: string): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx === 0) throw new EiaError('E_BAD_ARG', `${what} correlation is undefined: x is constant (zero variance)`);
  if (syy === 0) throw new EiaError('E_BAD_ARG', `${what} correlation is undefined: y is constant (zero variance)`);
  return sxy / Math.sqrt(sxx * syy);
}

/** Pearson r with its two-sided t-test p-value. Throws (never NaN) for n < 3 or constant input. */
export function pearson(x: Numbers, y: Numbers): CorrelationResult {
  checkPair(x, y, 'Pearson');
  return correlationTTest(pearsonR(x, y, 'Pearson'), x.length);
}

/**
 * Spearman rho = Pearson r of the average ranks (ties share their mean rank, as in
 * scipy.stats.spearmanr), with the same t-test p-value scipy reports.
 */
export function spearman(x: Numbers, y: Numbers): CorrelationResult {
  checkPair(x, y, 'Spearman');
  return correlationTTest(pearsonR(averageRanks(x), averageRanks(y), 'Spearman'), x.length);
}

/** The two conventions of the paper's binary accuracy (both on the median of the probe scores, >= predicts high). */
export const BINARY_CONVENTIONS = {
  '0-vs-2': 'the items scored 0 or 2 only (score-1 items left out); threshold = median of their probe scores',
  'all-items': 'all items; score 2 = high, scores 0 and 1 = low; threshold = median of all probe scores',
} as const;
export type BinaryConvention = keyof typeof BINARY_CONVENTIONS;

/** Result of {@link binaryAccuracy02} and {@link binaryAccuracyAllItems}. */
export interface BinaryAccuracy {
  convention: BinaryConvention;
  accuracy: number;
  threshold: number;
  /** number of texts used */
  n: number;
  /** sklearn layout: rows = true (low, high), columns = predicted (low, high) */
  confusion: [[number, number], [number, number]];
}

function checkRubric(probeScores: Numbers, rubricScores: Numbers): void {
  if (probeScores.length !== rubricScores.length) {
    throw new EiaError('E_BAD_ARG', `probe scores (${probeScores.length}) and rubric scores (${rubricScores.length}) differ in length`);
  }
  assertFinite(probeScores, 'probe scores');
  for (let i = 0; i < rubricScores.length; i++) {
    const r = rubricScores[i];
    if (r !== 0 && r !== 1 && r !== 2) throw new EiaError('E_BAD_ARG', `rubric score at index ${i} is ${r}; expected 0, 1 or 2`);
  }
}

function accuracyAtMedian(convention: BinaryConvention, s: number[], hi: boolean[]): BinaryAccuracy {
  if (!hi.includes(true)) throw new EiaError('E_BAD_ARG', 'binary accuracy is undefined: no rubric-2 texts');
  if (!hi.includes(false)) throw new EiaError('E_BAD_ARG', `binary accuracy is undefined: no rubric-0${convention === 'all-items' ? ' or rubric-1' : ''} texts`);
  const threshold = median(s);
  const confusion: [[number, number], [number, number]] = [[0, 0], [0, 0]];
  for (let i = 0; i < s.length; i++) confusion[hi[i] ? 1 : 0][s[i] >= threshold ? 1 : 0]++;
  return { convention, accuracy: (confusion[0][0] + confusion[1][1]) / s.length, threshold, n: s.length, confusion };
}

/**
 * Binary accuracy on the rubric-0 vs rubric-2 texts (rubric-1 texts are left out entirely).
 * Threshold = numpy.median of the probe scores of those 0/2 texts only (mean of the two middle
 * values for an even count); score >= threshold predicts rubric 2. On the paper's 12 texts
 * (five 0s, five 2s, two 1s) this gives its 100% and confusion [[5, 0], [0, 5]]; a median over
 * all 12 texts would not (one 0-text would land above it).
 */
export function binaryAccuracy02(probeScores: Numbers, rubricScores: Numbers): BinaryAccuracy {
  checkRubric(probeScores, rubricScores);
  const s: number[] = [], hi: boolean[] = [];
  for (let i = 0; i < rubricScores.length; i++) {
    if (rubricScores[i] === 1) continue;
    s.push(probeScores[i]); hi.push(rubricScores[i] === 2);
  }
  return accuracyAtMedian('0-vs-2', s, hi);
}

/**
 * Binary accuracy on all texts: rubric 2 is the high class, rubrics 0 and 1 the low class; threshold =
 * numpy.median of all probe scores, score >= threshold predicts high. This is the convention of the
 * paper's cross_model_correlation.json: on its 12 texts it gives Qwen 0.4167 and Dolphin 0.5833, and
 * its confusion matrices are ours transposed (that file's rows are the predicted class). Counting the
 * score-1 texts as high instead gives the same two accuracies there (each model has one score-1 text
 * on either side of the median) but not the file's confusion matrices.
 */
export function binaryAccuracyAllItems(probeScores: Numbers, rubricScores: Numbers): BinaryAccuracy {
  checkRubric(probeScores, rubricScores);
  return accuracyAtMedian('all-items', Array.from(probeScores), Array.from(rubricScores, (r) => r === 2));
}
