// One correlation report (probe scores vs 0/1/2 rubric scores) as `stats correlate` and `correlate`
// print it: Pearson, Spearman and the binary accuracy under both of the paper's conventions, each
// labelled, and, when the input carries the paper's own figures (its result files do), which
// convention reproduces them.
import {
  BINARY_CONVENTIONS, binaryAccuracy02, binaryAccuracyAllItems, pearson, spearman,
  type BinaryAccuracy, type BinaryConvention,
} from './correlation.js';
import type { Numbers } from './descriptive.js';

/** Figures a result file states about itself (the paper's eia_correlation.json and cross_model_correlation.json). */
export interface PublishedCorrelation {
  pearson?: number;
  spearman?: number;
  binaryAccuracy?: number;
  confusion?: number[][];
}

export interface BinaryReport extends BinaryAccuracy {
  label: string;
}

export interface CorrelationReport {
  n: number;
  pearson: { r: number; p: number; t: number; df: number };
  spearman: { rho: number; p: number; t: number; df: number };
  /** 0-vs-2 convention (kept under this name: the figure of eia_correlation.json) */
  binaryAccuracy: BinaryReport | null;
  /** all-items convention (the figures of cross_model_correlation.json) */
  binaryAccuracyAllItems: BinaryReport | null;
  /** why a binary accuracy is missing (no 0/1/2 rubric, or an empty class) */
  binaryAccuracyNote?: string;
  published?: PublishedCorrelation & {
    /** the conventions whose accuracy equals the published one (to 1e-12) */
    accuracyMatches: BinaryConvention[];
    /** how the published confusion matrix relates to ours, per matching convention */
    confusionLayout?: Partial<Record<BinaryConvention, 'rows = true class (ours)' | 'rows = predicted class (ours transposed)' | 'differs'>>;
  };
}

const sameMatrix = (a: number[][], b: number[][]) => a.length === b.length && a.every((r, i) => r.length === b[i].length && r.every((v, j) => v === b[i][j]));

export function correlationReport(probeScores: Numbers, rubricScores: Numbers, published?: PublishedCorrelation): CorrelationReport {
  const pr = pearson(probeScores, rubricScores), sp = spearman(probeScores, rubricScores);
  const out: CorrelationReport = {
    n: probeScores.length,
    pearson: { r: pr.r, p: pr.p, t: pr.t, df: pr.df },
    spearman: { rho: sp.r, p: sp.p, t: sp.t, df: sp.df },
    binaryAccuracy: null,
    binaryAccuracyAllItems: null,
  };
  const rubric = Array.from(rubricScores).every((v) => v === 0 || v === 1 || v === 2);
  if (!rubric) {
    out.binaryAccuracyNote = 'binary accuracy needs rubric scores 0, 1 or 2';
  } else {
    const notes: string[] = [];
    const label = (b: BinaryAccuracy): BinaryReport => ({ ...b, label: BINARY_CONVENTIONS[b.convention] });
    try { out.binaryAccuracy = label(binaryAccuracy02(probeScores, rubricScores)); } catch (e) { notes.push(`0-vs-2: ${(e as Error).message}`); }
    try { out.binaryAccuracyAllItems = label(binaryAccuracyAllItems(probeScores, rubricScores)); } catch (e) { notes.push(`all-items: ${(e as Error).message}`); }
    if (notes.length) out.binaryAccuracyNote = notes.join('; ');
  }
  if (published && Object.values(published).some((v) => v !== undefined)) {
    const ours = [out.binaryAccuracy, out.binaryAccuracyAllItems].filter((b): b is BinaryReport => b !== null);
    const matches = published.binaryAccuracy === undefined ? [] : ours.filter((b) => Math.abs(b.accuracy - published.binaryAccuracy!) < 1e-12);
    const layout: NonNullable<CorrelationReport['published']>['confusionLayout'] = {};
    if (published.confusion) {
      for (const b of matches) {
        const c = b.confusion, t = [[c[0][0], c[1][0]], [c[0][1], c[1][1]]];
        layout[b.convention] = sameMatrix(published.confusion, c) ? 'rows = true class (ours)'
          : sameMatrix(published.confusion, t) ? 'rows = predicted class (ours transposed)' : 'differs';
      }
    }
    out.published = { ...published, accuracyMatches: matches.map((b) => b.convention), ...(published.confusion ? { confusionLayout: layout } : {}) };
  }
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Plain-text lines of a report (the CLI's non-JSON output). */
export function correlationReportLines(r: CorrelationReport): string[] {
  const lines = [
    `Pearson  r   = ${r.pearson.r.toFixed(6)}  (p = ${r.pearson.p.toPrecision(6)})`,
    `Spearman rho = ${r.spearman.rho.toFixed(6)}  (p = ${r.spearman.p.toPrecision(6)})`,
  ];
  for (const [name, b] of [['0-vs-2', r.binaryAccuracy], ['all-items', r.binaryAccuracyAllItems]] as const) {
    if (b) lines.push(`binary accuracy [${name}] = ${b.accuracy.toFixed(4)} (${pct(b.accuracy)}; n = ${b.n}, threshold ${b.threshold.toPrecision(6)}, confusion ${JSON.stringify(b.confusion)} rows = true low/high): ${b.label}`);
  }
  if (r.binaryAccuracyNote) lines.push(`binary accuracy: ${r.binaryAccuracyNote}`);
  const p = r.published;
  if (p) {
    const parts: string[] = [];
    if (p.pearson !== undefined) parts.push(`Pearson ${p.pearson.toFixed(6)}${Math.abs(p.pearson - r.pearson.r) < 1e-9 ? ' (reproduced)' : ' (differs)'}`);
    if (p.spearman !== undefined) parts.push(`Spearman ${p.spearman.toFixed(6)}${Math.abs(p.spearman - r.spearman.rho) < 1e-9 ? ' (reproduced)' : ' (differs)'}`);
    if (p.binaryAccuracy !== undefined) {
      parts.push(`binary accuracy ${p.binaryAccuracy.toFixed(4)} ${p.accuracyMatches.length ? `(reproduced by ${p.accuracyMatches.join(' and ')})` : '(reproduced by neither convention)'}`);
    }
    if (p.confusion && p.confusionLayout) {
      const l = Object.entries(p.confusionLayout).map(([k, v]) => `${k}: ${v}`).join('; ');
      parts.push(`confusion ${JSON.stringify(p.confusion)}${l ? ` (${l})` : ''}`);
    }
    lines.push(`the file's own figures: ${parts.join(', ')}`);
  }
  return lines;
}
