// A study's numbers (STUDY/results.json), computed from the STUDY folder alone (study.json, its RUN
// folders and its captured activations, so that `report STUDY` recomputes them): each model's Table 1 headline row and Table 2 headline with a CI, AUROC by relative
// depth, behavioural correlation (probes/behaviour.ts, as `correlate`), cross-model agreement and
// Procrustes transfer between every two models (probes/align.ts, as `align`: the same function on the
// same rows), and for quantizations of one model the drift per block. Nothing here runs a model.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../io/npy.js';
import { RUN_FILES } from '../io/run-folder.js';
import { activationsDir, readStudyState, type StudyModelFacts } from '../io/study-folder.js';
import { alignmentIndex, alignmentReport, type AlignmentReport } from '../probes/align.js';
import { PROBE_DEFAULTS } from '../probes/defaults.js';
import { loadProbe } from '../probes/probe-file.js';
import { readValidation, type LayerReport, type ProbeReport } from '../probes/validation.js';
import { auroc } from '../stats/auroc.js';
import { dot } from '../stats/rows.js';
import { headlineCi, type HeadlineCi } from '../steering/headline-ci.js';
import { readSweepRuns } from '../steering/merge/read.js';
import type { ScoreResult } from '../steering/tables.js';
import { EiaError } from '../util/errors.js';

/** One model of a study as the results need it. */
interface StudyResultModel {
  name: string;
  facts: StudyModelFacts;
  /** the blocks captured (its probed blocks) */
  layers: number[];
}

/** Table 1's headline row of one model (its best block) with the controls. */
export interface ModelSummary {
  name: string;
  path: string;
  sha256: string;
  arch: string;
  n_layer: number;
  n_embd: number;
  file_type: string | null;
  /** the RUN folder, relative to the study */
  run: string;
  best_layer: number | null;
  /** best_layer / n_layer */
  depth: number | null;
  best: {
    auroc: number; ci: [number, number]; accuracy_median: number; accuracy_midpoint: number;
    random_baseline_p: number | null; random_p95: number | null; permutation_p: number | null; ablation_auroc: number | null;
  } | null;
  layers: { layer: number; depth: number; auroc: number; ci: [number, number] }[];
  steer_layers: number[];
  headline: (Omit<HeadlineCi, 'model'>) | null;
  /** correlate's report of the best block's probe on the scored texts (snake_case, as `correlate --json`), or null */
  behaviour: Record<string, unknown> | null;
  notes: string[];
}

export interface DriftBlock {
  block: number;
  depth: number;
  rows: {
    model: string; file_type: string | null;
    /** cosine of this model's probe direction with the reference's at this block */
    cosine: number;
    auroc: number; auroc_ci: [number, number];
    /** the reference's probe scored on this model's test activations */
    transfer_auroc: number;
    /** auroc - the reference's own AUROC; transfer_auroc - the reference's own AUROC */
    d_auroc: number; d_transfer: number;
  }[];
}

export interface DriftSteering {
  block: number;
  alphas: number[];
  rows: {
    model: string;
    /** empathetic-language share per alpha, all scenarios pooled */
    keyword_share: number[];
    /** mean probe score of the generated text per alpha (null where not recorded) */
    probe_score: (number | null)[];
    d_keyword_share: number[];
    d_probe_score: (number | null)[];
  }[];
}

export interface DriftResult {
  reference: string;
  members: string[];
  blocks: DriftBlock[];
  steering: DriftSteering[];
  headline: { model: string; headline: number; lower: number; upper: number; delta: number }[];
  notes: string[];
}

export interface StudyResults {
  format: 'eia-native-study-results';
  version: 1;
  generated_at: string;
  models: ModelSummary[];
  /** the paper's cross-model check: two models' own best-block probes scored on the same test texts (one entry per unordered pair) */
  agreement: { a: string; b: string; layer_a: number; layer_b: number; n: number; pearson: { r: number; p: number } | null; spearman: { rho: number; p: number } | null; note?: string }[];
  /** A's best-block probe carried into B by Procrustes (one entry per ordered pair) */
  transfer: { a: string; b: string; layer_a: number; layer_b: number; k: number; residual: number; auroc_source_a: number; auroc_native_b: number; auroc_carried: number; recovered: number | null; cosine_carried_native: number }[];
  /** align's full report of each ordered pair (what `align --json` prints for the same models, blocks and texts) */
  pairs: (AlignmentReport & { a: string; b: string; model_a: { path: string; layer: number; width: number }; model_b: { path: string; layer: number; width: number } })[];
  drift: DriftResult[];
  behaviour_texts: { path: string; n: number } | null;
  notes: string[];
}

const readJson = <T>(path: string): T | null => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as T : null);

/** The rows of one model's captured block (STUDY/activations/<model>/layer<L>.npy). */
export function readBlockRows(study: string, model: string, layer: number): Float32Array[] {
  const a = readNpy(join(activationsDir(study, model), `layer${layer}.npy`));
  if (a.shape.length !== 2) throw new EiaError('E_BAD_ARG', `${model} layer ${layer}: activations must be 2-D`);
  const [n, d] = a.shape;
  return Array.from({ length: n }, (_, i) => a.data.subarray(i * d, (i + 1) * d));
}

function summary(study: string, m: StudyResultModel, bootstrap: { resamples: number; seed: number }, behaviour: Record<string, unknown> | null): { s: ModelSummary; v: ProbeReport | null; score: ScoreResult | null } {
  const run = join(study, m.name);
  const notes: string[] = [];
  const vPath = join(run, RUN_FILES.validation);
  const v = existsSync(vPath) ? readValidation(vPath) : null;
  const score = readJson<ScoreResult>(join(run, RUN_FILES.score));
  const best = v ? v.layers.find((l) => l.layer === v.best_layer) ?? null : null;
  const n = m.facts.nLayer;
  let headline: ModelSummary['headline'] = null;
  if (existsSync(join(run, RUN_FILES.samples))) {
    const records = readSweepRuns([run]).records;
    const h = records.length ? headlineCi(records, bootstrap) : [];
    if (h[0]) {
      const { model: _m, ...rest } = h[0];
      headline = rest;
    }
  } else notes.push('steering not run');
  const l2 = (l: LayerReport): [number, number] => [l.auroc_ci.lower, l.auroc_ci.upper];
  const s: ModelSummary = {
    name: m.name, path: m.facts.path, sha256: m.facts.sha256, arch: m.facts.arch, n_layer: n, n_embd: m.facts.nEmbd, file_type: m.facts.fileTypeName,
    run: m.name, best_layer: v ? v.best_layer : null, depth: v ? v.best_layer / n : null,
    best: best ? {
      auroc: best.auroc, ci: l2(best), accuracy_median: best.accuracy_median, accuracy_midpoint: best.accuracy_midpoint,
      random_baseline_p: best.random_baseline?.empirical_p ?? null, random_p95: best.random_baseline?.p95 ?? null,
      permutation_p: best.permutation?.p ?? null, ablation_auroc: best.ablation?.auroc ?? null,
    } : null,
    layers: v ? v.layers.map((l) => ({ layer: l.layer, depth: l.layer / n, auroc: l.auroc, ci: l2(l) })) : [],
    steer_layers: score ? [...new Set(score.rows.map((r) => r.layer))].sort((a, b) => a - b) : [],
    headline, behaviour, notes,
  };
  return { s, v, score };
}

/** Empathetic-language share and mean probe score per alpha at one block, all scenarios pooled. */
function blockSteering(score: ScoreResult, block: number, alphas: number[]): { keyword: number[]; probe: (number | null)[] } {
  const rows = score.rows.filter((r) => r.layer === block);
  const keyword: number[] = [], probe: (number | null)[] = [];
  for (const a of alphas) {
    let n = 0, k = 0, pn = 0, ps = 0;
    for (const r of rows) {
      const c = r.conditions.find((x) => x.alpha === a);
      if (c) { n += c.n; k += c.empathy_rate * c.n; }
      const p = r.dose_response?.series.find((x) => x.alpha === a);
      if (p) { pn += p.n; ps += p.mean * p.n; }
    }
    keyword.push(n ? k / n : NaN);
    probe.push(pn ? ps / pn : null);
  }
  return { keyword, probe };
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

/**
 * The study's numbers from the folder `study`. Pairs use each model's best block; drift uses every
 * block all members of a group probed. The headline CIs use the study's bootstrap resamples and seed.
 */
export function studyResults(study: string): StudyResults {
  const state = readStudyState(study);
  const models: StudyResultModel[] = state.plan.models.map((m) => ({ name: m.name, facts: state.models[m.name], layers: m.probe_layers }));
  const index = new Map(models.map((m, i) => [m.name, i]));
  const groups = state.drift_groups.map((g) => ({ reference: index.get(g.reference)!, members: g.members.map((n) => index.get(n)!) }));
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
  const args = {
    nTrainPairs: state.data.n_train_pairs, nTestPairs: state.data.n_test_pairs, k: typeof state.plan.grid.k === 'number' ? state.plan.grid.k : undefined,
    bootstrap: { resamples: num(state.plan.grid.bootstrap, PROBE_DEFAULTS.bootstrap), seed: num(state.plan.grid.seed, 0) },
  };
  const behaviourOf = (name: string): Record<string, unknown> | null => {
    const f = join(activationsDir(study, name), 'behaviour.json');
    return state.data.texts ? (readJson<{ report: Record<string, unknown> }>(f)?.report ?? null) : null;
  };
  const parts = models.map((m) => summary(study, m, args.bootstrap, behaviourOf(m.name)));
  const notes: string[] = [];
  // a model joins the cross-model numbers once its capture stage is done (capture.json is written last)
  const captured = (m: StudyResultModel) => existsSync(join(activationsDir(study, m.name), 'capture.json'));
  for (const m of models) if (!captured(m)) notes.push(`${m.name}: its activations are not captured yet (the study has not reached its capture stage); it is left out of agreement, transfer and drift.`);
  const rowsOf = new Map<string, Float32Array[]>();
  const rows = (name: string, layer: number) => {
    const key = `${name}\u0000${layer}`;
    if (!rowsOf.has(key)) rowsOf.set(key, readBlockRows(study, name, layer));
    return rowsOf.get(key)!;
  };
  // ---- every two models at their best blocks: align's report
  const pairs: StudyResults['pairs'] = [];
  const agreement: StudyResults['agreement'] = [];
  const transfer: StudyResults['transfer'] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = 0; j < models.length; j++) {
      if (i === j) continue;
      const A = parts[i].s, B = parts[j].s;
      if (A.best_layer === null || B.best_layer === null || !captured(models[i]) || !captured(models[j])) continue;
      let rep: AlignmentReport;
      try {
        rep = alignmentReport(rows(A.name, A.best_layer), rows(B.name, B.best_layer), args.nTrainPairs, args.nTestPairs, { k: args.k });
      } catch (e) {
        notes.push(`${A.name} -> ${B.name}: no alignment (${(e as Error).message})`);
        continue;
      }
      const { width_a: wa, width_b: wb, ...r } = rep;
      pairs.push({ a: A.name, b: B.name, model_a: { path: A.path, layer: A.best_layer, width: wa }, model_b: { path: B.path, layer: B.best_layer, width: wb }, width_a: wa, width_b: wb, ...r });
      transfer.push({
        a: A.name, b: B.name, layer_a: A.best_layer, layer_b: B.best_layer, k: r.procrustes.k, residual: r.procrustes.residual,
        auroc_source_a: r.auroc.source_a, auroc_native_b: r.auroc.native_b, auroc_carried: r.auroc.carried_a_to_b, recovered: r.auroc.recovered,
        cosine_carried_native: r.cosine_carried_native,
      });
      if (i < j) {
        agreement.push(r.agreement
          ? { a: A.name, b: B.name, layer_a: A.best_layer, layer_b: B.best_layer, n: r.agreement.n, pearson: r.agreement.pearson, spearman: r.agreement.spearman }
          : { a: A.name, b: B.name, layer_a: A.best_layer, layer_b: B.best_layer, n: 2 * args.nTestPairs, pearson: null, spearman: null, note: r.agreement_note });
      }
    }
  }
  // ---- drift: quantizations of one model, per block
  const { labels, testIdx } = alignmentIndex(args.nTrainPairs, args.nTestPairs);
  const testLabels = testIdx.map((i) => labels[i]);
  const drift: DriftResult[] = [];
  for (const g of groups) {
    if (!g.members.every((i) => captured(models[i]))) continue;
    const ref = parts[g.reference];
    const members = g.members.map((i) => parts[i]);
    const dnotes: string[] = [];
    const blocks: DriftBlock[] = [];
    const common = models[g.reference].layers.filter((l) => g.members.every((i) => models[i].layers.includes(l)));
    for (const block of common) {
      const refV = ref.v?.layers.find((l) => l.layer === block);
      if (!refV) continue;
      const refDir = loadProbe(join(study, ref.s.name, RUN_FILES.probes, `layer${block}.npy`)).direction;
      const out: DriftBlock['rows'] = [];
      for (const m of members) {
        const mv = m.v?.layers.find((l) => l.layer === block);
        if (!mv) continue;
        const dir = loadProbe(join(study, m.s.name, RUN_FILES.probes, `layer${block}.npy`)).direction;
        const test = testIdx.map((i) => rows(m.s.name, block)[i]);
        const t = auroc(test.map((r) => dot(r, refDir)), testLabels);
        out.push({
          model: m.s.name, file_type: m.s.file_type, cosine: cosine(dir, refDir), auroc: mv.auroc, auroc_ci: [mv.auroc_ci.lower, mv.auroc_ci.upper],
          transfer_auroc: t, d_auroc: mv.auroc - refV.auroc, d_transfer: t - refV.auroc,
        });
      }
      blocks.push({ block, depth: block / ref.s.n_layer, rows: out });
    }
    const steering: DriftSteering[] = [];
    if (ref.score) {
      const blocksSteered = [...new Set(ref.score.rows.map((r) => r.layer))].filter((b) => members.every((m) => m.score?.rows.some((r) => r.layer === b))).sort((a, b) => a - b);
      for (const block of blocksSteered) {
        const alphaSets = members.map((m) => new Set(m.score!.rows.filter((r) => r.layer === block).flatMap((r) => r.conditions.map((c) => c.alpha))));
        const alphas = [...alphaSets[0]].filter((a) => alphaSets.every((s) => s.has(a))).sort((a, b) => a - b);
        const refS = blockSteering(ref.score, block, alphas);
        steering.push({
          block, alphas,
          rows: members.map((m) => {
            const s = blockSteering(m.score!, block, alphas);
            return {
              model: m.s.name, keyword_share: s.keyword, probe_score: s.probe,
              d_keyword_share: s.keyword.map((x, i) => x - refS.keyword[i]),
              d_probe_score: s.probe.map((x, i) => (x === null || refS.probe[i] === null ? null : x - refS.probe[i]!)),
            };
          }),
        });
      }
      if (blocksSteered.length === 0) dnotes.push('no block was steered in every member: steering is not compared');
    } else dnotes.push(`the reference ${ref.s.name} has no steering score`);
    const headline = ref.s.headline
      ? members.filter((m) => m.s.headline).map((m) => ({ model: m.s.name, headline: m.s.headline!.headline, lower: m.s.headline!.lower, upper: m.s.headline!.upper, delta: m.s.headline!.headline - ref.s.headline!.headline }))
      : [];
    drift.push({ reference: ref.s.name, members: members.map((m) => m.s.name), blocks, steering, headline, notes: dnotes });
  }
  return {
    format: 'eia-native-study-results', version: 1, generated_at: new Date().toISOString(),
    models: parts.map((p) => p.s), agreement, transfer, pairs, drift, behaviour_texts: state.data.texts, notes,
  };
}
