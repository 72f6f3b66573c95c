// eia-native stats auroc|correlate|baseline: the validation statistics on scores computed
// elsewhere (another tool, the paper's own result files), with the same definitions as `probe`.
import type { CommandModule } from 'yargs';
import { inputExists, inputName, readInputText } from '../../io/input.js';
import { MAX_PERMUTATIONS, MAX_RESAMPLES, PROBE_DEFAULTS } from '../../probes/defaults.js';
import { bootstrapAuroc } from '../../stats/bootstrap.js';
import { evaluateScores } from '../../stats/auroc.js';
import { summariseBaseline } from '../../stats/baseline.js';
import { correlationReport, correlationReportLines, type PublishedCorrelation } from '../../stats/correlation-report.js';
import { permutationTestAuroc } from '../../stats/permutation.js';
import { parseJsonl } from '../../io/jsonl.js';
import { printJson, UsageError } from '../common.js';
import { FLAGS, intFlag } from '../flags.js';
import { EiaError } from '../../util/errors.js';

type Obj = Record<string, unknown>;

interface Args { kind: string; input: string; json: boolean; seed: number; bootstrap: number; permutations: number; 'probe-auroc'?: number }

/** A whole-file JSON value, or (when the file is not one JSON value) JSON Lines as an array; errors name the line. */
function readInput(path: string): { value: unknown; lines: boolean } {
  if (!inputExists(path)) throw new UsageError(`--input: ${path} does not exist`);
  const text = readInputText(path, '--input');
  if (text.trim() === '') throw new EiaError('E_BAD_ARG', `${inputName(path)}: the input is empty`);
  try {
    return { value: JSON.parse(text), lines: false };
  } catch { /* JSON Lines */ }
  return { value: parseJsonl(text, inputName(path), { tornTail: 'error' }).records, lines: true };
}

function where(path: string, lines: boolean, i: number): string {
  return lines ? `${path}:${i + 1}` : `${path}: entry [${i}]`;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new EiaError('E_BAD_ARG', `${what} must be a finite number, got ${v === undefined ? 'nothing (missing field)' : JSON.stringify(v)}`);
  }
  return v;
}

function numArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new EiaError('E_BAD_ARG', `${what} must be an array of numbers`);
  return v.map((x, i) => num(x, `${what}[${i}]`));
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Records (array of objects) -> two aligned number columns. */
function columns(path: string, value: unknown, lines: boolean, a: string, b: string, convB: (v: unknown, w: string) => number = num) {
  if (!Array.isArray(value)) throw new EiaError('E_BAD_ARG', `${path}: expected JSON Lines or a JSON array of {${a}, ${b}} objects`);
  const xs: number[] = [], ys: number[] = [];
  value.forEach((o, i) => {
    const w = where(path, lines, i);
    if (!isObj(o)) throw new EiaError('E_BAD_ARG', `${w}: expected an object with fields "${a}" and "${b}"`);
    if (!(a in o)) throw new EiaError('E_BAD_ARG', `${w}: missing field "${a}"`);
    if (!(b in o)) throw new EiaError('E_BAD_ARG', `${w}: missing field "${b}"`);
    xs.push(num(o[a], `${w}: field "${a}"`));
    ys.push(convB(o[b], `${w}: field "${b}"`));
  });
  return { xs, ys };
}

function label(v: unknown, what: string): number {
  if (v === 1 || v === true) return 1;
  if (v === 0 || v === false) return 0;
  throw new EiaError('E_BAD_ARG', `${what} must be 0/1 or false/true (1 = empathic), got ${JSON.stringify(v)}`);
}

function aurocInput(path: string): { scores: number[]; labels: number[] } {
  const { value, lines } = readInput(path);
  if (isObj(value)) {
    if (!('scores' in value) || !('labels' in value)) throw new EiaError('E_BAD_ARG', `${path}: expected {"scores": [...], "labels": [...]}, JSON Lines of {score, label} or an array of them`);
    const scores = numArray(value.scores, `${path}: scores`);
    if (!Array.isArray(value.labels)) throw new EiaError('E_BAD_ARG', `${path}: labels must be an array`);
    const labels = value.labels.map((l, i) => label(l, `${path}: labels[${i}]`));
    return { scores, labels };
  }
  const { xs, ys } = columns(path, value, lines, 'score', 'label', label);
  return { scores: xs, labels: ys };
}

interface CorrelateSet { model?: string; x: number[]; y: number[]; published?: PublishedCorrelation }

/** The figures a paper result object states about itself. */
function publishedOf(o: Obj, what: string): PublishedCorrelation {
  const opt = (k: string) => (o[k] === undefined ? undefined : num(o[k], `${what}: ${k}`));
  let confusion: number[][] | undefined;
  if (o.confusion_matrix !== undefined) {
    if (!Array.isArray(o.confusion_matrix)) throw new EiaError('E_BAD_ARG', `${what}: confusion_matrix must be an array of rows`);
    confusion = o.confusion_matrix.map((r, i) => numArray(r, `${what}: confusion_matrix[${i}]`));
  }
  return { pearson: opt('pearson_correlation'), spearman: opt('spearman_correlation'), binaryAccuracy: opt('binary_accuracy'), confusion };
}

/** One paper result object (eia_correlation.json, or one model's entry of cross_model_correlation.json). */
function paperSet(o: Obj, what: string, model?: string): CorrelateSet {
  const { xs, ys } = columns(`${what} detailed_results`, o.detailed_results, false, 'probe_score', 'true_score');
  return { model, x: xs, y: ys, published: publishedOf(o, what) };
}

function correlateInput(path: string): { sets: CorrelateSet[]; source: string } {
  const { value, lines } = readInput(path);
  if (isObj(value)) {
    if (Array.isArray(value.detailed_results)) {
      // The paper's eia_correlation.json (or one model's object of cross_model_correlation.json):
      // x = probe score, y = rubric (true) score.
      const model = typeof value.model === 'string' ? value.model : undefined;
      return { sets: [paperSet(value, path, model)], source: 'paper result object (x = detailed_results[].probe_score, y = .true_score)' };
    }
    if ('x' in value && 'y' in value) return { sets: [{ x: numArray(value.x, `${path}: x`), y: numArray(value.y, `${path}: y`) }], source: '{x: [...], y: [...]}' };
    const models = Object.entries(value).filter(([, v]) => isObj(v) && Array.isArray(v.detailed_results));
    if (models.length > 0) {
      // The paper's cross_model_correlation.json: one result object per model.
      return {
        sets: models.map(([k, v]) => paperSet(v as Obj, `${path}: ${k}`, k)),
        source: `per-model result objects (${models.map(([k]) => k).join(', ')}; x = probe_score, y = true_score)`,
      };
    }
    throw new EiaError('E_BAD_ARG', `${path}: expected {"x": [...], "y": [...]}, JSON Lines of {x, y}, the paper's eia_correlation.json (detailed_results) ` +
      'or its cross_model_correlation.json (one such object per model)');
  }
  const { xs, ys } = columns(path, value, lines, 'x', 'y');
  return { sets: [{ x: xs, y: ys }], source: lines ? 'JSON Lines of {x, y}' : 'array of {x, y}' };
}

function baselineInput(path: string, probeAuroc?: number): { aurocs: number[]; probeAuroc: number; source: string } {
  const { value } = readInput(path);
  let aurocs: number[], p: number | undefined, source: string;
  if (isObj(value) && isObj(value.random_baseline) && Array.isArray(value.random_baseline.all_aurocs)) {
    aurocs = numArray(value.random_baseline.all_aurocs, `${path}: random_baseline.all_aurocs`);
    p = isObj(value.empathy_probe) && value.empathy_probe.auroc !== undefined ? num(value.empathy_probe.auroc, `${path}: empathy_probe.auroc`) : undefined;
    source = 'random_baseline_proper.json';
  } else if (isObj(value) && Array.isArray(value.aurocs)) {
    aurocs = numArray(value.aurocs, `${path}: aurocs`);
    p = value.probe_auroc !== undefined ? num(value.probe_auroc, `${path}: probe_auroc`) : undefined;
    source = '{aurocs, probe_auroc}';
  } else if (Array.isArray(value)) {
    aurocs = numArray(value, `${path}`);
    source = 'array of AUROCs';
  } else {
    throw new EiaError('E_BAD_ARG', `${path}: expected {"aurocs": [...], "probe_auroc": x}, the paper's random_baseline_proper.json, or an array of AUROCs`);
  }
  if (aurocs.length === 0) throw new EiaError('E_BAD_ARG', `${path}: no baseline AUROCs`);
  const probe = probeAuroc ?? p;
  if (probe === undefined) throw new UsageError(`${path} has no probe AUROC: give --probe-auroc`);
  return { aurocs, probeAuroc: probe, source };
}

const KINDS = ['auroc', 'correlate', 'baseline'] as const;

export const statsCommand: CommandModule<object, Args> = {
  command: 'stats <kind>',
  describe: 'Statistics on scores computed elsewhere: AUROC (+CI, accuracies), correlation, random baseline',
  builder: (y) =>
    y.positional('kind', { choices: KINDS, demandOption: true, describe: 'auroc | correlate | baseline' })
      .option('input', { type: 'string', demandOption: true, describe: 'input file (JSON or JSON Lines; formats below; - = stdin)' })
      .option('seed', { type: 'number', default: 0, describe: 'auroc: seed of the bootstrap and permutations' })
      .option('bootstrap', { type: 'number', default: PROBE_DEFAULTS.bootstrap, describe: `auroc: bootstrap resamples for the 95% CI (at most ${MAX_RESAMPLES})` })
      .option('permutations', { type: 'number', default: PROBE_DEFAULTS.permutations, describe: `auroc: label permutations for the p-value (0 = off; at most ${MAX_PERMUTATIONS})` })
      .option('probe-auroc', { type: 'number', describe: 'baseline: the probe AUROC to compare (default: from the file)' })
      .option('json', FLAGS.json)
      .example('$0 stats auroc --input scores.jsonl', 'lines {"score": 1.3, "label": 1}')
      .example('$0 stats correlate --input results/eia_correlation.json', 'the paper\'s r = .709')
      .example('$0 stats baseline --input results/random_baseline_proper.json', 'the paper\'s z = 2.09')
      .epilog([
        'Input formats:',
        '  auroc:     JSON Lines {"score": number, "label": 0|1|false|true} (1 = empathic), a JSON array of such objects, or {"scores": [...], "labels": [...]}.',
        '             Prints AUROC (= sklearn roc_auc_score), accuracy at the median (>=) and class-midpoint (>) thresholds, class means,',
        '             stds (ddof 0), separation, stratified bootstrap CI, permutation p.',
        '  correlate: JSON Lines {"x": number, "y": number}, a JSON array of them, {"x": [...], "y": [...]}, the paper\'s',
        '             eia_correlation.json (x = detailed_results[].probe_score, y = .true_score), or its cross_model_correlation.json',
        '             (one such object per model, each reported). Pearson and Spearman with two-sided t-test p; when y holds rubric',
        '             scores 0/1/2, the binary accuracy under both of the paper\'s conventions, each labelled: [0-vs-2] the items',
        '             scored 0 or 2 at the median of their x (eia_correlation.json: 1.0); [all-items] every item, 2 = high, 0 and 1 =',
        '             low, at the median of all x (cross_model_correlation.json: 0.4167, 0.5833). A file\'s own figures are compared.',
        '  baseline:  {"aurocs": [...], "probe_auroc": number}, the paper\'s random_baseline_proper.json',
        '             (random_baseline.all_aurocs, empathy_probe.auroc), or a bare array of AUROCs with --probe-auroc.',
        '             Mean, median, std (ddof 0), min, max, 95th percentile (linear), z = (probe - mean) / std, empirical p.',
        'Constant inputs (correlation undefined), an empty class, or non-finite values are errors, never NaN.',
      ].join('\n')) as never,
  handler: (a) => {
    switch (a.kind) {
      case 'auroc': {
        intFlag(a.bootstrap, '--bootstrap', 1, MAX_RESAMPLES);
        intFlag(a.permutations, '--permutations', 0, MAX_PERMUTATIONS);
        intFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
        const { scores, labels } = aurocInput(a.input);
        const ev = evaluateScores(scores, labels);
        const ci = bootstrapAuroc(scores, labels, { resamples: a.bootstrap, seed: a.seed });
        const perm = a.permutations > 0 ? permutationTestAuroc(scores, labels, { permutations: a.permutations, seed: a.seed }) : null;
        const out = {
          n: scores.length, nPos: ev.nPos, nNeg: ev.nNeg, auroc: ev.auroc,
          aurocCI: { lower: ci.lower, upper: ci.upper, confidence: ci.confidence, resamples: ci.resamples, seed: a.seed },
          accuracyMedian: ev.accuracyMedian, accuracyMidpoint: ev.accuracyMidpoint,
          meanPos: ev.meanPos, meanNeg: ev.meanNeg, stdPos: ev.stdPos, stdNeg: ev.stdNeg, separation: ev.separation,
          permutation: perm ? { p: perm.p, permutations: perm.permutations } : null,
        };
        if (a.json) return printJson(out);
        process.stdout.write(`n = ${out.n} (${ev.nPos} positive, ${ev.nNeg} negative)\nAUROC ${ev.auroc.toFixed(6)}  95% CI [${ci.lower.toFixed(4)}, ${ci.upper.toFixed(4)}]\n`);
        process.stdout.write(`accuracy: median threshold ${ev.accuracyMedian.accuracy.toFixed(4)} (t = ${ev.accuracyMedian.threshold.toPrecision(6)}), midpoint threshold ${ev.accuracyMidpoint.accuracy.toFixed(4)} (t = ${ev.accuracyMidpoint.threshold.toPrecision(6)})\n`);
        process.stdout.write(`mean pos ${ev.meanPos.toPrecision(6)}, mean neg ${ev.meanNeg.toPrecision(6)}, std pos ${ev.stdPos.toPrecision(6)}, std neg ${ev.stdNeg.toPrecision(6)}, separation ${ev.separation.toPrecision(6)}\n`);
        if (perm) process.stdout.write(`permutation p = ${perm.p.toPrecision(4)} (${perm.permutations} shuffles)\n`);
        return;
      }
      case 'correlate': {
        const { sets, source } = correlateInput(a.input);
        const reports = sets.map((d) => ({ model: d.model, ...correlationReport(d.x, d.y, d.published) }));
        if (a.json) return printJson(reports.length === 1 ? { source, ...reports[0] } : { source, models: reports });
        process.stdout.write(`${source}\n`);
        for (const r of reports) {
          process.stdout.write(`${r.model ? `${r.model}: ` : ''}n = ${r.n}\n${correlationReportLines(r).map((l) => `  ${l}\n`).join('')}`);
        }
        return;
      }
      case 'baseline': {
        if (a['probe-auroc'] !== undefined && !Number.isFinite(a['probe-auroc'])) throw new UsageError('--probe-auroc must be a number');
        const { aurocs, probeAuroc, source } = baselineInput(a.input, a['probe-auroc']);
        const s = summariseBaseline(aurocs, probeAuroc);
        if (a.json) return printJson({ source, ...s });
        process.stdout.write(`${s.n} random directions (${source})\nmean ${s.mean.toFixed(6)}  median ${s.median.toFixed(6)}  std ${s.std.toFixed(6)}  min ${s.min.toFixed(6)}  max ${s.max.toFixed(6)}  95th pct ${s.p95.toFixed(6)}\n`);
        process.stdout.write(`probe AUROC ${s.probeAuroc}: z = ${s.z === null ? 'undefined (std 0)' : s.z.toFixed(4)}, empirical p = ${s.empiricalP.toPrecision(4)}\n`);
        return;
      }
      default:
        throw new UsageError(`unknown stats kind '${a.kind}' (expected ${KINDS.join(', ')})`);
    }
  },
};
