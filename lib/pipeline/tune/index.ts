// eia-native tune: which block and which alpha. It searches blocks x alphas on train prompts within
// a token budget (search.ts: a coarse grid on every candidate block, a finer grid around the best,
// blocks stopped early when clearly worse), maximising the keyword share subject to a fluency limit
// (perplexity ratio to the unsteered text <= 1.5 by default), or the AxBench harmonic mean when a
// judge is given; validates the choice on held-out prompts with bootstrap CIs (validate.ts); and
// writes OUT/tune.json, OUT/score.json (Table 2 and the offline metrics of every sample it made),
// and the chosen alpha into the chosen probe's vector card (its sidecar's `card.tuned`,
// probes/vector-card.ts). OUT holds the
// samples (samples.jsonl), their measures (metrics.jsonl) and the judge's answers (judge.jsonl): the
// same command resumes where a kill left it, and a call with other parameters is refused (E_CONFLICT)
// unless forced. Every check runs before the first write.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MAX_TOKENS_DEFAULTS } from '../../engine/defaults.js';
import { Model } from '../../engine/model.js';
import { fileSha256 } from '../../io/file-hash.js';
import { moveAside, RUN_FILES, TUNE_OUTPUTS } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { ensureProbeSidecar, loadProbes } from '../../probes/probe-file.js';
import { probeModelMismatch } from '../../probes/probe-model.js';
import { residualNorms } from '../../probes/residual-norm.js';
import { checkAlphas, checkContextFit } from '../../engine/validate.js';
import { promptTokensById } from '../../steering/prompt-tokens.js';
import { probeRunCardFields, readValidation, VALIDATION_FILE } from '../../probes/validation.js';
import { readVectorCards, updateVectorCard, type TunedAlpha } from '../../probes/vector-card.js';
import type { JudgeClient } from '../../steering/judge/client.js';
import { computeSampleMetrics } from '../../steering/metrics/compute.js';
import { summarizeMetrics, type OfflineMetrics } from '../../steering/metrics/summary.js';
import { readSamplesFile } from '../../steering/samples.js';
import { SCENARIO_IDS, STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { checkAgainstModel } from '../../steering/sweep/run.js';
import { checkSweepInput, sorted } from '../../steering/sweep/plan.js';
import type { SweepOptions } from '../../steering/sweep/options.js';
import { scoreSamples } from '../../steering/tables.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import { badField, EiaError, FieldError, type FieldNamer } from '../../util/errors.js';
import { note, warn } from '../../util/note.js';
import { packageVersion } from '../../util/package.js';
import { evaluatePoints, type EvalContext } from './evaluate.js';
import { FINE_BLOCKS, FINE_UP, search, type Objective, type SearchResult } from './search.js';
import { validateChoice, type Validation } from './validate.js';

export const TUNE_DEFAULTS = {
  samples: 4,
  maxTokens: MAX_TOKENS_DEFAULTS.tune,
  maxPplRatio: 1.5,
  /** The coarse grid: these fractions of the candidates' median residual norm (probes/residual-norm.ts). */
  coarseFractions: [0.125, 0.25, 0.5, 1] as readonly number[],
  resamples: 1000,
} as const;

export interface TuneOptions {
  modelPath: string;
  modelKey?: string;
  probesDir: string;
  out: string;
  /** Candidate blocks (default: every block the probes folder has a probe for). */
  layers?: number[];
  /** The coarse alpha grid, positive (default: TUNE_DEFAULTS.coarseFractions x the median residual norm). */
  alphas?: number[];
  /** Prompts searched on, and prompts the choice is validated on (scenario ids; disjoint). */
  train?: string[];
  heldOut?: string[];
  samples?: number;
  maxTokens?: number;
  /** Perplexity-ratio limit (ignored as the objective's constraint with a judge, still reported). */
  maxPplRatio?: number;
  /** Generated tokens the search and the validation may spend (default: enough for the whole coarse grid, the fine points and the validation). */
  budgetTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed?: number;
  chat?: boolean;
  /** Context tokens per sequence (prompt + new tokens; default: the model's training context). */
  ctxSize?: number;
  judge?: { client: JudgeClient; concurrency: number };
  resamples?: number;
  /** Write the chosen alpha into the chosen probe's vector card, its sidecar's `card.tuned` (default true). */
  card?: boolean;
  force?: boolean;
  threads?: number;
  gpuLayers?: number;
  signal?: AbortSignal;
  progress?: boolean;
  log?: (msg: string) => void;
}

/** The parameters that define a tune folder: a resume must ask for the same. */
export interface TuneParameters {
  model_sha256: string;
  probes: Record<string, string>;
  layers: number[];
  alphas: Record<string, number[]>;
  train: string[];
  held_out: string[];
  samples: number;
  max_tokens: number;
  temperature: number;
  top_k: number;
  top_p: number;
  min_p: number;
  seed: number;
  chat: boolean;
  objective: Objective;
  max_ppl_ratio: number | null;
}

export interface TuneResult {
  format: 'eia-native-tune';
  version: 1;
  created_at: string;
  package_version: string;
  model: { path: string; sha256: string; key: string; n_layer: number; n_embd: number };
  probes_dir: string;
  /** The choice: block and alpha (null when no point met the fluency limit). */
  layer: number | null;
  alpha: number | null;
  objective: Objective;
  max_ppl_ratio: number | null;
  reason: string;
  parameters: TuneParameters;
  detection_auroc: Record<string, number>;
  residual_norms: Record<string, number>;
  budget_tokens: number;
  search: Omit<SearchResult, 'choice' | 'reason'>;
  choice: SearchResult['choice'];
  validation: Validation | null;
  tokens: { search: number; validation: number; total: number; budget: number };
  /** The probe sidecar whose card now carries the chosen alpha (`card.tuned`; null: not written). */
  card: string | null;
  wall_ms: number;
}

const bad = (msg: string): never => { throw new EiaError('E_BAD_ARG', msg); };
/** An E_BAD_ARG about the option `field` (a FieldError: front ends name it in their own words). */
const badOption = (field: string, text: (n: FieldNamer) => string): never => { throw badField(field, 'invalid_value', text); };

function checkScenarios(xs: readonly string[], what: string): void {
  if (xs.length === 0) badOption(what, (n) => `${n(what)}: the list is empty`);
  for (const x of xs) if (!(SCENARIO_IDS as readonly string[]).includes(x)) badOption(what, (n) => `${n(what)}: unknown scenario '${x}' (known: ${SCENARIO_IDS.join(', ')})`);
  if (new Set(xs).size !== xs.length) badOption(what, (n) => `${n(what)}: a scenario is listed twice`);
}

function diff(have: Record<string, unknown>, want: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(have), ...Object.keys(want)]);
  return [...keys].filter((k) => JSON.stringify(have[k] ?? null) !== JSON.stringify(want[k] ?? null))
    .map((k) => `${k}: the folder has ${JSON.stringify(have[k] ?? null)}, this call ${JSON.stringify(want[k] ?? null)}`);
}

export async function runTune(o: TuneOptions): Promise<TuneResult> {
  const t0 = performance.now();
  const log = o.log ?? note;
  const out = resolve(o.out);
  const train = [...(o.train ?? STEERING_SCENARIO_IDS)];
  const heldOut = [...(o.heldOut ?? SCENARIO_IDS.filter((s) => !train.includes(s)))];
  checkScenarios(train, 'train');
  checkScenarios(heldOut, 'heldOut');
  if (train.some((s) => heldOut.includes(s))) badOption('heldOut', (n) => `${n('heldOut')}: ${train.filter((s) => heldOut.includes(s)).join(', ')} is also a train prompt (the two sets must not overlap)`);
  const samples = o.samples ?? TUNE_DEFAULTS.samples;
  const maxTokens = o.maxTokens ?? TUNE_DEFAULTS.maxTokens;
  const objective: Objective = o.judge ? 'judge_harmonic' : 'keyword_share';
  const limit = o.maxPplRatio ?? TUNE_DEFAULTS.maxPplRatio;
  if (!(Number.isFinite(limit) && limit > 1)) badOption('maxPplRatio', (n) => `${n('maxPplRatio')} must be a number above 1, got ${limit}`);
  const maxPplRatio = objective === 'keyword_share' ? limit : null;
  if (o.alphas) {
    // finite is the validator's rule (the bound is checked against the model below); positive is tune's own
    checkAlphas(o.alphas, [], undefined, 'alphas');
    for (const a of o.alphas) if (!(a > 0)) badOption('alphas', (n) => `${n('alphas')}: ${a} is not a positive number (tune searches positive strengths: toward the concept)`);
  }
  if (o.budgetTokens !== undefined && !(Number.isInteger(o.budgetTokens) && o.budgetTokens >= 1)) badOption('budgetTokens', (n) => `${n('budgetTokens')}: ${o.budgetTokens} is not a positive number of tokens`);
  const resamples = o.resamples ?? TUNE_DEFAULTS.resamples;
  let layers = o.layers;
  if (!layers) {
    if (!existsSync(o.probesDir)) bad(`probes folder ${o.probesDir} does not exist`);
    layers = [...loadProbes(o.probesDir).keys()];
    if (layers.length === 0) bad(`probes folder ${o.probesDir} holds no layer<L>.npy probes`);
  }
  const sweep: SweepOptions = {
    modelPath: o.modelPath, modelKey: o.modelKey, probesDir: o.probesDir, layers, alphas: [0], scenarios: [...train, ...heldOut], samples, maxTokens,
    temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP, seed: o.seed ?? 0, out, chat: o.chat, monitor: false, tokenIds: true,
    probeScore: 'monitor', ctxSize: o.ctxSize, threads: o.threads, gpuLayers: o.gpuLayers, signal: o.signal, progress: o.progress, log,
  };
  const input = checkSweepInput(sweep);
  return withRunLock(out, 'tune', () => tuneLocked(o, input, sweep, { train, heldOut, samples, maxTokens, objective, maxPplRatio, resamples, t0, log, out }));
}

interface Resolved {
  train: string[]; heldOut: string[]; samples: number; maxTokens: number; objective: Objective; maxPplRatio: number | null;
  resamples: number; t0: number; log: (msg: string) => void; out: string;
}

async function tuneLocked(o: TuneOptions, input: ReturnType<typeof checkSweepInput>, sweep: SweepOptions, r: Resolved): Promise<TuneResult> {
  const { out, log } = r;
  const sha = await fileSha256(input.modelPath);
  const probeHashes: Record<string, string> = {};
  for (const l of sorted(input.layers)) probeHashes[String(l)] = await fileSha256(join(input.probesDir, `layer${l}.npy`));
  const model = await Model.load(input.modelPath, { gpuLayers: o.gpuLayers });
  try {
    checkAgainstModel(input, model);
    for (const l of input.layers) {
      const w = probeModelMismatch(input.probes.get(l)!, sha, join(input.probesDir, `layer${l}.npy`));
      if (w) warn(w);
    }
    const norms = await residualNorms(model, input.layers, o.threads);
    const normList = sorted(input.layers.map((l) => norms.get(l)!));
    const median = normList.length % 2 ? normList[normList.length >> 1] : (normList[normList.length / 2 - 1] + normList[normList.length / 2]) / 2;
    const grid = o.alphas ? sorted([...new Set(o.alphas)]) : TUNE_DEFAULTS.coarseFractions.map((f) => Number((f * median).toPrecision(3)));
    checkAlphas(grid, input.layers, norms, 'alphas');
    // every prompt (train and held-out) with its new tokens fits the context: checked before the first write
    const prompts = promptTokensById(model, input.scenarios, !!o.chat);
    checkContextFit(Math.max(...[...prompts.values()].map((t) => t.length)), r.maxTokens, o.ctxSize, model.info.nCtxTrain);
    const coarse = new Map(input.layers.map((l) => [l, grid]));
    const auroc = new Map<number, number>();
    const vpath = join(input.probesDir, VALIDATION_FILE);
    const validationReport = existsSync(vpath) ? readValidation(vpath) : null;
    if (validationReport) for (const l of validationReport.layers) auroc.set(l.layer, l.auroc);
    else log(`note: ${vpath} is absent: blocks that steer alike are told apart by their index, not by detection AUROC`);
    const params: TuneParameters = {
      model_sha256: sha, probes: probeHashes, layers: sorted(input.layers), alphas: Object.fromEntries([...coarse].map(([l, a]) => [String(l), a])),
      train: r.train, held_out: r.heldOut, samples: r.samples, max_tokens: r.maxTokens, temperature: input.sampling.temperature, top_k: input.sampling.topK,
      top_p: input.sampling.topP, min_p: input.sampling.minP, seed: sweep.seed, chat: !!o.chat, objective: r.objective, max_ppl_ratio: r.maxPplRatio,
    };
    const pointCost = r.samples * r.train.length * r.maxTokens;
    const reserve = 2 * r.samples * r.heldOut.length * r.maxTokens;
    // the default pays for the baseline, the whole coarse grid, every fine point and the validation
    const everything = pointCost * (1 + input.layers.length * grid.length + FINE_BLOCKS * (FINE_UP + 1)) + reserve;
    const budget = o.budgetTokens ?? everything;
    // the folder: same parameters resume; others are refused unless forced (checked before any write)
    const paramsPath = join(out, RUN_FILES.tuneParameters);
    let replace = false;
    if (existsSync(paramsPath)) {
      let have: Record<string, unknown> = {};
      try { have = JSON.parse(readFileSync(paramsPath, 'utf8')); } catch { have = {}; }
      const d = diff(have, params as unknown as Record<string, unknown>);
      if (d.length > 0) {
        if (!o.force) throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds a tune with other parameters; use another folder, the original parameters, or ${n('force')} to replace it. Differing:\n  ${d.join('\n  ')}`);
        replace = true;
      }
    } else if (existsSync(join(out, RUN_FILES.samples))) {
      if (!o.force) throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${join(out, RUN_FILES.samples)} exists without ${RUN_FILES.tuneParameters}: not a tune folder; use another folder (or ${n('force')} to replace it)`);
      replace = true;
    }
    // ---- writes from here on
    if (replace) warn(`--force: ${moveAside(out, TUNE_OUTPUTS)} (a tune of other parameters)`);
    mkdirSync(out, { recursive: true });
    if (!existsSync(paramsPath)) writeJsonAtomic(paramsPath, params);
    const modelKey = o.modelKey ?? input.modelPath.replace(/^.*[\\/]/, '').replace(/\.gguf$/i, '');
    const ctx: EvalContext = {
      model, input, sweep, modelKey, scorer: sha, samplesPath: join(out, RUN_FILES.samples), metricsPath: join(out, RUN_FILES.metrics),
      judgePath: join(out, RUN_FILES.judge), judge: o.judge, objective: r.objective, log, signal: o.signal, progress: o.progress !== false,
    };
    let judgeUnparseable = 0;
    const res = await search({ candidates: input.layers, auroc, coarse, objective: r.objective, maxPplRatio: r.maxPplRatio, budgetTokens: budget, pointCost, reserve },
      async (points) => {
        const e = await evaluatePoints(ctx, points, r.train, r.samples);
        judgeUnparseable += e.unparseable;
        return e.stats;
      });
    for (const s of res.points) log(`tune: ${s.stage} block ${s.layer} alpha ${s.alpha}: keyword share ${s.keyword_share.toFixed(3)}, ` +
      `perplexity ratio ${s.ppl_ratio === null ? '-' : s.ppl_ratio.toFixed(3)}${s.judge_harmonic !== null ? `, judge ${s.judge_harmonic.toFixed(3)}` : ''}${s.alpha !== 0 && !s.feasible ? ' (over the limit)' : ''}`);
    let validation: Validation | null = null;
    let valTokens = 0;
    if (res.choice) {
      const v = await evaluatePoints(ctx, [{ layer: res.choice.layer, alpha: res.choice.alpha }, { layer: res.choice.layer, alpha: 0 }], r.heldOut, r.samples);
      valTokens = v.stats.reduce((s, p) => s + p.tokens, 0);
      validation = validateChoice(v.rows, res.choice.layer, res.choice.alpha, r.heldOut, r.maxPplRatio, { resamples: r.resamples, seed: sweep.seed });
    }
    // Table 2 and the offline metrics of every sample of the folder (all measures are cached by now)
    const records = readSamplesFile(ctx.samplesPath, 'drop').records;
    const all = await computeSampleMetrics(records, { model, scorer: sha, chat: !!o.chat, probes: input.probes, cachePath: ctx.metricsPath, threads: o.threads, progress: false });
    const offline: OfflineMetrics = summarizeMetrics(all.metrics);
    try {
      writeJsonAtomic(join(out, RUN_FILES.score), { ...scoreSamples(records), offline_metrics: offline, source: out, format: 'eia-native', duplicates_dropped: 0 });
    } catch (e) {
      // Table 2 needs an alpha = 0 row for every (block, scenario); without one the folder has no score.json (tune.json has everything tune decided)
      if (!(e instanceof EiaError && e.code === 'E_BAD_ARG')) throw e;
      warn(`note: ${RUN_FILES.score} not written: ${e.message}`);
    }
    let card: string | null = null;
    const created = new Date().toISOString();
    if (res.choice && o.card !== false) {
      const tuned: TunedAlpha = {
        alpha: res.choice.alpha, layer: res.choice.layer, objective: r.objective, max_ppl_ratio: r.maxPplRatio, model_sha256: sha,
        tune_json: join(out, RUN_FILES.tune), created_at: created,
      };
      // into the probe's card; a probe without a sidecar (the paper's .npy) gets one first, and a sidecar
      // without a card a card of the folder's validation.json (else of what the sidecar records)
      const npy = join(input.probesDir, `layer${res.choice.layer}.npy`);
      card = ensureProbeSidecar(npy);
      const fresh = readVectorCards(npy).has(res.choice.layer) ? {} : probeRunCardFields(validationReport, res.choice.layer);
      updateVectorCard(npy, res.choice.layer, { ...fresh, tuned });
    }
    const { choice, reason, ...searchRest } = res;
    const result: TuneResult = {
      format: 'eia-native-tune', version: 1, created_at: created, package_version: packageVersion(),
      model: { path: input.modelPath, sha256: sha, key: modelKey, n_layer: model.nLayer, n_embd: model.nEmbd }, probes_dir: input.probesDir,
      layer: choice?.layer ?? null, alpha: choice?.alpha ?? null, objective: r.objective, max_ppl_ratio: r.maxPplRatio, reason,
      parameters: params, detection_auroc: Object.fromEntries([...auroc].map(([l, a]) => [String(l), a])),
      residual_norms: Object.fromEntries([...norms].map(([l, n]) => [String(l), n])), budget_tokens: budget,
      search: searchRest, choice, validation,
      tokens: { search: res.tokens, validation: valTokens, total: res.tokens + valTokens, budget },
      card, wall_ms: performance.now() - r.t0,
    };
    if (judgeUnparseable > 0) warn(`judge: ${judgeUnparseable} unparseable answers while tuning (counted, never guessed; see tune.json)`);
    writeJsonAtomic(join(out, RUN_FILES.tune), result);
    return result;
  } finally {
    model.free();
  }
}
