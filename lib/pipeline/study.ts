// The paper's whole study in one call: several models, each through the protocol of run.ts into
// its own normal RUN folder STUDY/<model>/ (resumable and shardable exactly as `run`'s), then the
// cross-model stages:
//   capture   (STUDY/activations/<model>/layer<L>.npy: the train and test texts at every probed
//              block, in align's order; one pass per model, skipped when done with the same inputs)
//   behaviour (activations/<model>/behaviour.json: the best block's probe on rubric-scored texts,
//              as `correlate`; only with scored texts)
//   report    (STUDY/results.json, report.html, report.md: injected, lib/report/study.ts; the numbers
//              come from the folder alone, so `report STUDY` recomputes and re-renders them)
// STUDY/study.json records the plan (models with their sha256, grid, inputs): a study resumes only
// with the same plan (E_CONFLICT otherwise, unless force). Every check (every model's, the inputs')
// runs before the first write. Quantizations of one model (study-models.ts) are steered at the
// blocks their reference was steered at, so that the drift section compares like with like.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileSha256 } from '../io/file-hash.js';
import { readInputBytes } from '../io/input.js';
import { writeNpy } from '../io/npy.js';
import { RUN_FILES } from '../io/run-folder.js';
import { withRunLock } from '../io/run-lock.js';
import { activationsDir, readStudyState, RESERVED_STUDY_NAMES, STUDY_FILES, type StudyState } from '../io/study-folder.js';
import { alignmentTexts, captureBlocks } from '../probes/align.js';
import { behaviouralCorrelation, probeScoresOfTexts } from '../probes/behaviour.js';
import { parsePairs, parseScoredTexts, type ScoredText } from '../probes/dataset.js';
import { PROBE_DEFAULTS } from '../probes/defaults.js';
import { loadProbe } from '../probes/probe-file.js';
import { formatShard } from '../steering/sweep/shard.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { badField, EiaError, FieldError, isFieldError, type FieldNamer } from '../util/errors.js';
import { io } from '../util/io-error.js';
import { note, warn } from '../util/note.js';
import { createProgress } from '../util/progress.js';
import { snakeCaseKeys } from '../util/snake-case.js';
import { checkRun, runProtocol, type RunOptions, type RunResult } from './run.js';
import { hashOf } from './run-state.js';
import { driftGroups, modelFacts, type ModelFacts } from '../probes/model-family.js';

/** One model of a study: its folder name and its own grid (blocks and alphas differ between models). */
export interface StudyModel {
  /** folder and table name: letters, digits, '.', '_', '-' */
  name: string;
  path: string;
  probeLayers: number[];
  /** default: the nBest best detection blocks (a quantization: its reference's steered blocks) */
  steerLayers?: number[];
  alphas: number[];
  synthetic?: boolean;
}

/** The study's options: run's shared grid and inputs, the models, and the cross-model extras. */
export interface StudyOptions extends Pick<RunOptions, 'scenarios' | 'samples' | 'maxTokens' | 'temperature' | 'topK' | 'topP' | 'seed' | 'chat' | 'threads'
  | 'gpuLayers' | 'signal' | 'log' | 'ctxSize' | 'shard' | 'train' | 'test' | 'ablated' | 'nBest' | 'randomBaseline' | 'permutations' | 'bootstrap'
  | 'truncate' | 'force'> {
  models: StudyModel[];
  out: string;
  /** rubric-scored texts (JSONL: text, score 0/1/2) for the behavioural correlation; absent: not measured */
  texts?: string;
  /** Procrustes dimension (align's k; default min(16, nTrain - 1, widths)) */
  k?: number;
  /** renders each model's RUN report (run.ts's report) */
  runReport?: RunOptions['report'];
  /** computes the cross-model numbers (results.json) and renders the study report (injected: lib/report sits beside the pipeline) */
  report?: (studyDir: string) => Promise<{ html: string; markdown?: string | null }>;
}

export interface StudyResult {
  out: string;
  runs: { name: string; run: RunResult }[];
  /** the study report (it also writes results.json); null when none was asked or only a shard of the sweeps ran */
  reportPath: string | null;
  /** the shard that ran ("I/N"), null for the whole grid */
  shard: string | null;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** An E_BAD_ARG about the option `field` (a FieldError: front ends name it in their own words). */
const badOption = (field: string, text: (n: FieldNamer) => string): never => { throw badField(field, 'invalid_value', text); };
const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** A study model's run options (its RUN folder under the study; a shard has its own folder, as `run --shard`'s default). */
function runOptionsOf(o: StudyOptions, m: StudyModel, steerLayers: number[] | undefined): RunOptions {
  const shardSuffix = o.shard && o.shard.count > 1 ? `.shard-${o.shard.index}-of-${o.shard.count}` : '';
  return {
    modelPath: m.path, modelKey: m.name, out: join(resolve(o.out), m.name + shardSuffix), train: o.train, test: o.test, ablated: o.ablated,
    probeLayers: m.probeLayers, steerLayers, nBest: o.nBest, alphas: m.alphas, scenarios: o.scenarios, samples: o.samples, maxTokens: o.maxTokens,
    temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed, chat: o.chat, threads: o.threads, gpuLayers: o.gpuLayers, ctxSize: o.ctxSize,
    randomBaseline: o.randomBaseline, permutations: o.permutations, bootstrap: o.bootstrap, truncate: o.truncate,
    force: o.force, shard: o.shard, synthetic: m.synthetic, signal: o.signal, log: o.log, report: o.runReport,
  };
}

/** The checks that need no model: names, inputs (read once; stdin cannot be read once per model). */
function checkPlan(o: StudyOptions): { texts: ScoredText[] | null; nTrain: number; nTest: number; inputSha: StudyState['plan']['inputs'] } {
  if (!Array.isArray(o.models) || o.models.length === 0) badOption('models', (n) => `${n('models')}: the list is empty`);
  const seen = new Set<string>();
  for (const m of o.models) {
    if (typeof m.name !== 'string' || !NAME.test(m.name) || RESERVED_STUDY_NAMES.includes(m.name) || m.name.startsWith(RUN_FILES.replacedPrefix)) {
      badOption('models', (n) => `${n('models')}: '${m.name}' cannot name a model's folder (letters, digits, '.', '_', '-'; not ${RESERVED_STUDY_NAMES.join(', ')})`);
    }
    if (seen.has(m.name)) badOption('models', (n) => `${n('models')}: the name '${m.name}' is given twice (give each model its own name: name=path)`);
    seen.add(m.name);
  }
  for (const [what, f] of [['train', o.train], ['test', o.test], ['ablated', o.ablated], ['texts', o.texts]] as const) {
    if (f === '-') badOption(what, (n) => `${n(what)}: a study reads its inputs once per model; give a file, not stdin`);
  }
  const bytes = (f: string) => readInputBytes(f, f);
  const train = parsePairs(Buffer.from(bytes(o.train)).toString('utf8'), o.train);
  const test = parsePairs(Buffer.from(bytes(o.test)).toString('utf8'), o.test);
  let texts: ScoredText[] | null = null;
  if (o.texts !== undefined) {
    texts = parseScoredTexts(Buffer.from(bytes(o.texts)).toString('utf8'), o.texts);
    const n = texts.length;
    if (n < 3) badOption('texts', (name) => `${name('texts')}: ${o.texts} holds ${n} texts; the correlation needs at least 3`);
  }
  if (o.k !== undefined && (!Number.isInteger(o.k) || o.k < 1)) badOption('k', (n) => `${n('k')} must be a positive integer, got ${o.k}`);
  return {
    texts, nTrain: train.length, nTest: test.length,
    inputSha: { train: sha(bytes(o.train)), test: sha(bytes(o.test)), ablated: o.ablated ? sha(bytes(o.ablated)) : null, texts: o.texts ? sha(bytes(o.texts)) : null },
  };
}

/**
 * Runs (or resumes) a study; see the module comment. Stopped by `signal`: E_ABORTED (finished
 * stages and samples are kept; the same call resumes).
 */
export async function runStudy(o: StudyOptions): Promise<StudyResult> {
  const out = resolve(o.out);
  const log = o.log ?? note;
  const alert = o.log ?? warn;
  const plan0 = checkPlan(o);
  // ---- every model's checks, and their facts, before anything is written
  const facts: ModelFacts[] = [];
  for (const m of o.models) {
    facts.push(await modelFacts(m.path));
    await checkRun(runOptionsOf(o, m, m.steerLayers)).catch((e) => { throw prefixed(e, m.name); });
  }
  const groups = driftGroups(facts);
  const follows = new Map<number, number>();  // member -> its reference
  for (const g of groups) for (const i of g.members) if (i !== g.reference) follows.set(i, g.reference);
  const grid = {
    scenarios: o.scenarios, samples: o.samples, max_tokens: o.maxTokens, temperature: o.temperature ?? null, top_k: o.topK ?? null, top_p: o.topP ?? null,
    seed: o.seed, chat: !!o.chat, n_best: o.nBest ?? null, random_baseline: o.randomBaseline ?? null, permutations: o.permutations ?? null,
    bootstrap: o.bootstrap ?? null, truncate: o.truncate ?? null, ctx_size: o.ctxSize ?? null, k: o.k ?? null,
  };
  const plan: StudyState['plan'] = {
    models: o.models.map((m, i) => ({ name: m.name, path: resolve(m.path), sha256: facts[i].sha256, probe_layers: m.probeLayers, steer_layers: m.steerLayers ?? null, alphas: m.alphas })),
    grid, inputs: plan0.inputSha,
  };
  // a model's identity is its name and sha256: a moved file is the same study
  const planHash = hashOf({ ...plan, models: plan.models.map(({ path: _p, ...m }) => m) });
  return withRunLock(out, 'study', async () => {
    const statePath = join(out, STUDY_FILES.study);
    let state = existsSync(statePath) ? readStudyState(out) : null;
    if (state && state.plan_hash !== planHash && !o.force) {
      throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds a study of another plan (${describePlanChange(state!.plan, plan)}); use a new STUDY folder, the original plan, or ${n('force')} to replace it`);
    }
    // ---- writes from here on
    if (!state || state.plan_hash !== planHash) {
      if (state) alert(`force: ${out} is studied with a new plan (${describePlanChange(state.plan, plan)}); each model's RUN folder replaces what it must`);
      state = {
        format: 'eia-native-study', version: 1, plan, plan_hash: planHash, created_at: new Date().toISOString(),
        data: { n_train_pairs: plan0.nTrain, n_test_pairs: plan0.nTest, texts: o.texts && plan0.texts ? { path: resolve(o.texts), n: plan0.texts.length } : null },
        models: Object.fromEntries(o.models.map((m, i) => [m.name, { ...facts[i], path: resolve(m.path) }])),
        drift_groups: groups.map((g) => ({ reference: o.models[g.reference].name, members: g.members.map((i) => o.models[i].name) })),
        stages: {},
      };
    }
    io(() => mkdirSync(out, { recursive: true }));
    writeJsonAtomic(statePath, state);
    const st = state;
    const finish = (stage: string, extra: Record<string, unknown> = {}) => {
      st.stages[stage] = { done_at: new Date().toISOString(), ...extra };
      writeJsonAtomic(statePath, st);
    };
    for (const g of groups) {
      log(`study: ${g.members.map((i) => o.models[i].name).join(', ')} are quantizations of one model (reference ${o.models[g.reference].name}, ${facts[g.reference].fileTypeName ?? 'unknown type'}): the report adds a drift section`);
    }

    // ---- each model's protocol, references before their quantizations
    const order = o.models.map((_, i) => i).sort((a, b) => Number(follows.has(a)) - Number(follows.has(b)));
    const runs = new Map<number, RunResult>();
    for (const i of order) {
      const m = o.models[i];
      if (o.signal?.aborted) throw new EiaError('E_ABORTED', `interrupted before ${m.name}; resume with the same command`);
      let steer = m.steerLayers;
      const ref = follows.get(i);
      if (steer === undefined && ref !== undefined) {
        const refSteer = runs.get(ref)!.steerLayers;
        if (refSteer.every((l) => m.probeLayers.includes(l))) steer = refSteer;
        else log(`study: ${m.name} does not probe every block ${o.models[ref].name} was steered at (${refSteer.join(', ')}); it is steered at its own best blocks`);
      }
      log(`study: ${m.name} (${i + 1}/${o.models.length}): ${m.path}`);
      const r = await runProtocol(runOptionsOf(o, m, steer)).catch((e) => { throw prefixed(e, m.name); });
      runs.set(i, r);
      finish(`run:${m.name}`, { best_layer: r.probe.best_layer, steer_layers: r.steerLayers, headline: r.score?.headline ?? null, skipped: r.skipped });
    }
    const runList = o.models.map((m, i) => ({ name: m.name, run: runs.get(i)! }));
    if (o.shard && o.shard.count > 1) {
      log(`study: the sweeps ran shard ${formatShard(o.shard)} only; merge each model's shards into STUDY/<model> (eia-native merge STUDY/<model>.shard-*-of-${o.shard.count} --out STUDY/<model>) and run the study again for its cross-model stages`);
      return { out, runs: runList, reportPath: null, shard: formatShard(o.shard) };
    }

    // ---- capture: the alignment texts at every probed block of each model
    const train = parsePairs(Buffer.from(readInputBytes(o.train, o.train)).toString('utf8'), o.train);
    const test = parsePairs(Buffer.from(readInputBytes(o.test, o.test)).toString('utf8'), o.test);
    const texts = alignmentTexts(train, test);
    const truncate = o.truncate ?? PROBE_DEFAULTS.truncate;
    for (const [i, m] of o.models.entries()) {
      if (o.signal?.aborted) throw new EiaError('E_ABORTED', 'interrupted in the capture stage; resume with the same command');
      const dir = activationsDir(out, m.name);
      const params = { model: facts[i].sha256, train: plan0.inputSha.train, test: plan0.inputSha.test, layers: m.probeLayers, truncate, ctx: o.ctxSize ?? null };
      const marker = join(dir, 'capture.json');
      if (existsSync(marker) && readJsonFile(marker)?.hash === hashOf(params) && m.probeLayers.every((l) => existsSync(join(dir, `layer${l}.npy`)))) {
        log(`study: capture ${m.name}: done earlier`);
        continue;
      }
      const bar = createProgress({ label: `study: capture ${m.name}`, total: texts.length, unit: 'items' });
      const rows = await captureBlocks(m.path, m.probeLayers, texts, {
        truncate, threads: o.threads, gpuLayers: o.gpuLayers, ctxSize: o.ctxSize, onProgress: (d, _t, tok) => bar.update(d, `${tok} tokens`),
      }).catch((e) => { throw prefixed(e, m.name); });
      bar.done();
      io(() => mkdirSync(dir, { recursive: true }));
      for (const [layer, r] of rows) {
        const flat = new Float32Array(r.length * facts[i].nEmbd);
        r.forEach((row, k) => flat.set(row, k * facts[i].nEmbd));
        writeNpy(join(dir, `layer${layer}.npy`), flat, [r.length, facts[i].nEmbd]);
      }
      writeJsonAtomic(marker, { hash: hashOf(params), params, n_texts: texts.length, order: 'train empathic, train non-empathic, test empathic, test non-empathic' });
    }
    finish('capture');

    // ---- behaviour: each model's best-block probe on the scored texts (as `correlate`)
    const behaviour = new Map<string, Record<string, unknown>>();
    if (plan0.texts) {
      for (const [i, m] of o.models.entries()) {
        const best = runs.get(i)!.probe.best_layer;
        const probePath = join(out, m.name, RUN_FILES.probes, `layer${best}.npy`);
        const dir = activationsDir(out, m.name);
        const file = join(dir, 'behaviour.json');
        const params = { model: facts[i].sha256, probe: await fileSha256(probePath), texts: plan0.inputSha.texts, truncate, ctx: o.ctxSize ?? null };
        const earlier = existsSync(file) ? readJsonFile(file) : null;
        if (earlier && earlier.hash === hashOf(params)) {
          behaviour.set(m.name, earlier.report as Record<string, unknown>);
          continue;
        }
        const probe = loadProbe(probePath);
        const scores = await probeScoresOfTexts(m.path, { direction: probe.direction, layer: best }, plan0.texts.map((t) => t.text), {
          truncate, threads: o.threads, gpuLayers: o.gpuLayers, ctxSize: o.ctxSize,
        }).catch((e) => { throw prefixed(e, m.name); });
        let report: Record<string, unknown>;
        try {
          const { texts: perText, ...rep } = behaviouralCorrelation(scores, plan0.texts);
          // correlate --json's shape: model, probe, layer, the report, per-text scores
          report = snakeCaseKeys({ model: m.path, probe: probePath, layer: best, ...rep, texts: perText });
        } catch (e) {
          report = { model: m.path, probe: probePath, layer: best, error: (e as Error).message };
        }
        io(() => mkdirSync(dir, { recursive: true }));
        writeJsonAtomic(file, { hash: hashOf(params), params, report });
        behaviour.set(m.name, report);
      }
      finish('behaviour');
    }

    // ---- the numbers and the report
    let reportPath: string | null = null;
    if (o.report) {
      reportPath = (await o.report(out)).html;
      finish('report', { html: reportPath });
    }
    return { out, runs: runList, reportPath, shard: null };
  }, log);
}

/** An error of one model's part, naming the model (its code kept). */
function prefixed(e: unknown, name: string): unknown {
  if (!(e instanceof EiaError) || e.message.startsWith(`${name}: `)) return e;
  // an error about an option stays one (a front end still names the option in its own words)
  if (isFieldError(e)) return new FieldError(e.code, e.field, e.rule, (n) => `${name}: ${e.render(n)}`, { cause: e });
  return new EiaError(e.code, `${name}: ${e.message}`, { cause: e });
}

function readJsonFile(path: string): Record<string, unknown> | null {
  try { return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>; } catch { return null; }
}

/** What differs between two plans, in words. */
function describePlanChange(a: StudyState['plan'], b: StudyState['plan']): string {
  const diffs: string[] = [];
  const names = (p: StudyState['plan']) => p.models.map((m) => m.name).join(', ');
  if (names(a) !== names(b)) diffs.push(`models ${names(a)} -> ${names(b)}`);
  for (const m of b.models) {
    const was = a.models.find((x) => x.name === m.name);
    if (was && was.sha256 !== m.sha256) diffs.push(`${m.name} is another file`);
    else if (was && JSON.stringify([was.probe_layers, was.steer_layers, was.alphas]) !== JSON.stringify([m.probe_layers, m.steer_layers, m.alphas])) diffs.push(`${m.name}'s layers or alphas`);
  }
  for (const k of Object.keys(b.grid)) if (JSON.stringify(a.grid[k]) !== JSON.stringify(b.grid[k])) diffs.push(k);
  for (const k of Object.keys(b.inputs) as (keyof StudyState['plan']['inputs'])[]) if (a.inputs[k] !== b.inputs[k]) diffs.push(`the ${k} file`);
  return diffs.length ? diffs.join('; ') : 'another plan';
}
