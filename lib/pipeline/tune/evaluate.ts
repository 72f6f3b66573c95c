// Evaluating tune's points: generate the samples of (block, alpha) on a set of prompts with the
// sweep's own generation (its seeds, prompts, sampling and live-monitor probe scores), measure them
// offline (fluency under the unsteered model, keyword share, probe projection; lib/steering/metrics)
// and, with a judge, ask it; then the statistics of each point. Samples and measures go to the tune
// folder's samples.jsonl, metrics.jsonl and judge.jsonl: a resumed tune finds them there, and
// neither generates nor measures nor asks anything twice.
import { existsSync } from 'node:fs';
import type { Model } from '../../engine/model.js';
import { EiaError } from '../../util/errors.js';
import type { JudgeClient } from '../../steering/judge/client.js';
import { judgeSamples } from '../../steering/judge/judge.js';
import { computeSampleMetrics } from '../../steering/metrics/compute.js';
import { summarizeMetrics, type SampleRow } from '../../steering/metrics/summary.js';
import { readSamplesFile, type SampleRecord } from '../../steering/samples.js';
import type { SweepOptions } from '../../steering/sweep/options.js';
import { cellKey, type GridCell, type SweepInput } from '../../steering/sweep/plan.js';
import { generateCells } from '../../steering/sweep/run.js';
import type { Objective, PointStats } from './search.js';

export interface EvalContext {
  model: Model;
  input: SweepInput;
  sweep: SweepOptions;
  modelKey: string;
  /** sha256 of the model file (the metrics cache's scorer). */
  scorer: string;
  samplesPath: string;
  metricsPath: string;
  judgePath: string;
  judge?: { client: JudgeClient; concurrency: number };
  objective: Objective;
  log: (msg: string) => void;
  signal?: AbortSignal;
  progress: boolean;
}

export interface Evaluated {
  stats: PointStats[];
  /** The samples of every point asked for and of their unsteered partners, with their measures. */
  rows: SampleRow[];
  /** Judge answers that could not be parsed, and failed judge requests, in this evaluation. */
  unparseable: number;
  failed: number;
}

const keyOf = (r: { layer: number; scenario: string; alpha: number; sample: number }) => cellKey(r);

function readRecords(path: string): SampleRecord[] {
  return existsSync(path) ? readSamplesFile(path, 'drop').records : [];
}

/** Generates what is missing of `points` x `scenarios` x samples 0..samples-1 (and the alpha = 0 partners at the same blocks), then measures. */
export async function evaluatePoints(e: EvalContext, points: readonly { layer: number; alpha: number }[], scenarios: readonly string[], samples: number): Promise<Evaluated> {
  const cells: GridCell[] = [];
  const seen = new Set<string>();
  const want = (c: GridCell) => {
    const k = keyOf(c);
    if (!seen.has(k)) { seen.add(k); cells.push(c); }
  };
  for (const p of points) {
    for (const scenario of scenarios) {
      for (let sample = 0; sample < samples; sample++) {
        want({ layer: p.layer, alpha: p.alpha === 0 ? 0 : p.alpha, scenario, sample });
        want({ layer: p.layer, alpha: 0, scenario, sample });
      }
    }
  }
  const have = new Set(readRecords(e.samplesPath).map(keyOf));
  const pending = cells.filter((c) => !have.has(keyOf(c)));
  if (pending.length > 0) {
    const r = await generateCells(e.model, e.input, e.sweep, e.modelKey, e.samplesPath, pending, e.log);
    if (r.interrupted) throw new EiaError('E_ABORTED', 'tune interrupted (the samples generated so far are kept; the same command resumes)');
  }
  const byKey = new Map(readRecords(e.samplesPath).map((r) => [keyOf(r), r]));
  const records = cells.map((c) => {
    const r = byKey.get(keyOf(c));
    if (!r) throw new EiaError('E_INTERNAL', `sample ${keyOf(c)} was not generated`);
    return r;
  });
  const m = await computeSampleMetrics(records, {
    model: e.model, scorer: e.scorer, chat: !!e.sweep.chat, scenarios: e.input.scenarios, probes: e.input.probes,
    cachePath: e.metricsPath, threads: e.sweep.threads, signal: e.signal, progress: e.progress,
  });
  let verdicts;
  let unparseable = 0, failed = 0;
  if (e.judge) {
    const j = await judgeSamples(records, { client: e.judge.client, concurrency: e.judge.concurrency, cachePath: e.judgePath, scenarios: e.input.scenarios, signal: e.signal, progress: e.progress });
    verdicts = j.verdicts;
    unparseable = j.unparseable;
    failed = j.failed;
  }
  const rows = summarizeMetrics(m.metrics, verdicts).samples;
  const firstLayer = points.find((p) => p.alpha === 0)?.layer;
  const stats = points.map((p): PointStats => {
    const mine = rows.filter((r) => r.layer === p.layer && r.alpha === p.alpha && scenarios.includes(r.scenario) && r.sample < samples);
    const recs = records.filter((r) => r.layer === p.layer && r.alpha === p.alpha && scenarios.includes(r.scenario) && r.sample < samples);
    const probes = mine.map((r) => r.probe_score).filter((x): x is number => x !== null);
    const ratios = mine.map((r) => r.ppl_ratio).filter((x): x is number => x !== null && x > 0);
    const hms = mine.map((r) => r.judge?.harmonic ?? null).filter((x): x is number => x !== null);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : null);
    // the unsteered generations are shared by every block: their tokens count once
    const counted = p.alpha !== 0 || p.layer === firstLayer;
    return {
      layer: p.layer, alpha: p.alpha, n: mine.length,
      keyword_share: mean(mine.map((r) => r.keyword_share)) ?? 0,
      keyword_rate: mine.filter((r) => r.empathetic).length / Math.max(1, mine.length),
      probe_mean: mean(probes),
      ppl_ratio: ratios.length ? Math.exp(mean(ratios.map(Math.log))!) : null,
      judge_harmonic: mean(hms),
      judge_unparseable: mine.reduce((s, r) => s + (r.judge?.unparseable.length ?? 0), 0),
      objective_samples: e.objective === 'keyword_share' ? mine.map((r) => r.keyword_share) : hms,
      tokens: counted ? recs.reduce((s, r) => s + (typeof r.tokens === 'number' ? r.tokens : Array.isArray(r.tokens) ? r.tokens.length : 0), 0) : 0,
    };
  });
  return { stats, rows, unparseable, failed };
}
