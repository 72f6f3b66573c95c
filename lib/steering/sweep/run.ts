// Steering sweeps: layers x alphas x scenarios x samples, generated in as few batched native
// generations as the context allows, every finished sample appended (write + fsync) to
// RUN/samples.jsonl as soon as it finishes, next to RUN/manifest.json (written atomically before
// any sample). The same call on the same RUN resumes: finished samples are skipped, a torn last
// line (a kill during a write) is cut off and regenerated, and a RUN made with other parameters is
// refused with the list of differing fields. With a shard (shard.ts) only that part of the grid is
// run. The stages: plan.ts (inputs, grid, seeds, units), shard.ts (the split), manifest.ts
// (parameters), this file (generation and records), probe-score.ts (probe scores).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generationContextOptions, type Context } from '../../engine/context.js';
import { Model } from '../../engine/model.js';
import { JsonlAppender } from '../../io/jsonl.js';
import { moveAside, RUN_FILES, SWEEP_OUTPUTS } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { captureContextOptions } from '../../probes/capture-context.js';
import { normNote } from '../../probes/direction.js';
import { vectorUseMessages } from '../../probes/vector-card.js';
import { residualNorms } from '../../probes/residual-norm.js';
import { checkAlphas, checkContextFit, checkLayer } from '../../engine/validate.js';
import { GENERATION_DEFAULTS } from '../../engine/defaults.js';
import { note, warn } from '../../util/note.js';
import { EiaError, isEiaError } from '../../util/errors.js';
import { createProgress, type Progress } from '../../util/progress.js';
import { sequencesPerContext } from '../context-fit.js';
import { duplicatesNote, readSamplesFile, type SweepRecord } from '../samples.js';
import { promptTokensById } from '../prompt-tokens.js';
import { checkRunFolder, openManifest, shardRecord, sweepParameters, type ShardRecord } from './manifest.js';
import type { SweepOptions, SweepResult } from './options.js';
import { cellKey, checkSweepInput, planUnits, sorted, sweepGrid, type GridCell, type SweepInput, type Unit } from './plan.js';
import { captureScores, monitorScores, steerOffset, type Finished } from './probe-score.js';
import { checkShard, partitionGrid, type GridPartition, type ShardSpec } from './shard.js';

const r6 = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(7)) : x);

/**
 * The cells already in samples.jsonl, read without changing the file: `torn` says a torn last line
 * was met (repairTornTail cuts it off once every check has passed); `duplicates` counts lines of a
 * cell met again (two writers before the lock existed, a line copied by hand), which count once.
 */
export function loadFinished(path: string): { keys: Set<string>; torn: boolean; records: number; duplicates: number } {
  if (!existsSync(path)) return { keys: new Set(), torn: false, records: 0, duplicates: 0 };
  try {
    const { records, torn, duplicates } = readSamplesFile(path, 'drop');
    return { keys: new Set(records.map((r) => cellKey(r))), torn, records: records.length, duplicates };
  } catch (e) {
    if (!isEiaError(e, 'E_BAD_ARG')) throw e;
    throw new EiaError('E_BAD_ARG', `${e.message} (the file is damaged beyond a torn last line; fix or remove that line)`, { cause: e });
  }
}

/**
 * Runs (or resumes) a sweep. Bad input: E_BAD_ARG; a RUN of other parameters: E_CONFLICT (unless
 * `force`); a RUN another process writes: E_LOCKED; an abort resolves with interrupted = true.
 * Every check runs before the first write into the RUN folder (a failed call leaves it as it was).
 */
export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const t0 = performance.now();
  const log = opts.log ?? note;
  // warnings (data dropped or replaced, probes of another model) print even under EIA_NATIVE_QUIET
  const alert = opts.log ?? warn;
  const input = checkSweepInput(opts);
  const spec = opts.shard ? checkShard(opts.shard) : null;
  // the split is checked (the shard count against the grid) before the lock creates the RUN folder
  const part = spec && spec.count > 1  // 1 shard is the whole grid
    ? partitionGrid({ layers: input.layers, alphas: input.alphas, scenarios: input.scenarioIds, samples: opts.samples, maxTokens: opts.maxTokens }, spec.count)
    : null;
  return withRunLock(input.out, 'steer', () => sweepLocked(input, spec && part ? { spec, part } : null, opts, t0, log, alert), alert);
}

async function sweepLocked(input: SweepInput, split: { spec: ShardSpec; part: GridPartition } | null, opts: SweepOptions, t0: number,
  log: (msg: string) => void, alert: (msg: string) => void): Promise<SweepResult> {
  const { params, probeFiles } = await sweepParameters(input, opts);
  let grid = sweepGrid(input.layers, input.alphas, input.scenarioIds, opts.samples);
  let shard: ShardRecord | null = null;
  if (split) {
    shard = shardRecord(split.spec, split.part);
    grid = grid.filter((c) => split.part.shardOf(c) === split.spec.index);
  }
  const replace = checkRunFolder(input.out, params, !!opts.force, shard);
  const model = await Model.load(input.modelPath, { gpuLayers: opts.gpuLayers });
  let genCtx: Context | null = null;
  let capCtx: Context | null = null;
  try {
    checkAgainstModel(input, model);
    // each probe's card against this use (another model; alphas beyond its coherent ones), or a note that it has none
    for (const l of input.layers) {
      const p = input.probes.get(l)!;
      const said = vectorUseMessages({ what: probeFiles[String(l)], card: p.card ?? null, modelSha256: params.model_sha256, alphas: input.alphas, recorded: p.model });
      for (const w of said.warnings) alert(w);
      for (const n of said.notes) log(n);
      // the one norm rule (direction.ts): a probe file of norm 7 steers as its unit direction, and says so
      const n = p.fileNorm !== undefined ? normNote(p.fileNorm, probeFiles[String(l)]) : null;
      if (n) alert(n);
    }
    checkAlphas(input.alphas, input.layers, await residualNorms(model, input.layers, opts.threads), 'alphas');
    const prompts = promptTokensById(model, input.scenarios, !!opts.chat);
    const maxPrompt = Math.max(...[...prompts.values()].map((t) => t.length));
    checkContextFit(maxPrompt, opts.maxTokens, opts.ctxSize, model.info.nCtxTrain);
    const samplesPath = join(input.out, RUN_FILES.samples);
    const fin = replace ? { keys: new Set<string>(), torn: false, records: 0, duplicates: 0 } : loadFinished(samplesPath);
    const pending = grid.filter((c) => !fin.keys.has(cellKey(c)));
    const todo = planUnits(pending, input.scenarioIds, opts.seed, opts.shareBaseline !== false);
    const skipped = grid.length - pending.length;
    const result: SweepResult = {
      out: input.out, manifestPath: join(input.out, RUN_FILES.manifest), samplesPath, total: grid.length, shard, kept: skipped, skipped, written: 0,
      interrupted: false, repairedTornLine: fin.torn, batches: 0, sequences: 0, tokens: 0,
      promptMs: 0, decodeMs: 0, captureMs: 0, writeMs: 0, loopMs: 0, wallMs: 0, setupMs: 0,
    };
    const run: SweepRun = { model, input, opts, modelKey: '', result, t0, prompts, log };
    const work = todo.length > 0 && !opts.signal?.aborted;
    // contexts are created before the first write: their sizes are the last check
    let chunkSize = 0;
    if (work) {
      const perSeq = maxPrompt + opts.maxTokens + 1;
      const nChunks = Math.ceil(todo.length / Math.min(input.maxBatch, sequencesPerContext(perSeq)));
      chunkSize = Math.ceil(todo.length / nChunks);
      genCtx = await model.createContext(generationContextOptions(chunkSize, perSeq, opts.threads));
      if (input.scoreMode === 'capture') capCtx = await model.createContext(captureContextOptions(model, opts.threads));
    }
    // ---- writes from here on
    if (replace) alert(`--force: ${moveAside(input.out, SWEEP_OUTPUTS)} (a sweep of other parameters)`);
    run.modelKey = openManifest(input, model, params, probeFiles, opts.modelKey, log, shard).modelKey;
    if (fin.torn) {
      readSamplesFile(samplesPath, 'repair');
      log(`dropped a torn last line of ${samplesPath} (an interrupted write); it will be regenerated`);
    }
    const dup = duplicatesNote(samplesPath, fin.duplicates);
    if (dup) alert(dup);
    if (work) {
      await generateUnits(run, todo, genCtx!, capCtx, chunkSize);
    } else {
      result.interrupted = todo.length > 0;
      result.setupMs = performance.now() - t0;
    }
    result.wallMs = performance.now() - t0;
    return result;
  } finally {
    capCtx?.free();
    genCtx?.free();
    model.free();
  }
}

/** What generateCells did. */
export interface CellsResult { written: number; tokens: number; batches: number; sequences: number; interrupted: boolean }

/**
 * Generates any set of grid cells (tune's search points, say) exactly as a sweep generates them:
 * the same seed per (scenario, sample), prompts, sampling and probe scores, the alpha = 0 cells of
 * several layers from one generation, and one record per cell appended to `samplesPath`. The
 * caller has checked `input` against the model (checkAgainstModel, the alpha bound) and holds the
 * folder's lock.
 */
export async function generateCells(model: Model, input: SweepInput, opts: SweepOptions, modelKey: string, samplesPath: string,
  cells: readonly GridCell[], log: (msg: string) => void): Promise<CellsResult> {
  const t0 = performance.now();
  const prompts = promptTokensById(model, input.scenarios, !!opts.chat);
  const maxPrompt = Math.max(...[...prompts.values()].map((t) => t.length));
  checkContextFit(maxPrompt, opts.maxTokens, opts.ctxSize, model.info.nCtxTrain);
  const todo = planUnits(cells, input.scenarioIds, opts.seed, opts.shareBaseline !== false);
  const result: SweepResult = {
    out: input.out, manifestPath: '', samplesPath, total: cells.length, shard: null, kept: 0, skipped: 0, written: 0,
    interrupted: false, repairedTornLine: false, batches: 0, sequences: 0, tokens: 0,
    promptMs: 0, decodeMs: 0, captureMs: 0, writeMs: 0, loopMs: 0, wallMs: 0, setupMs: 0,
  };
  if (todo.length === 0 || opts.signal?.aborted) return { written: 0, tokens: 0, batches: 0, sequences: 0, interrupted: todo.length > 0 };
  const perSeq = maxPrompt + opts.maxTokens + 1;
  const nChunks = Math.ceil(todo.length / Math.min(input.maxBatch, sequencesPerContext(perSeq)));
  const chunkSize = Math.ceil(todo.length / nChunks);
  let genCtx: Context | null = null;
  let capCtx: Context | null = null;
  try {
    genCtx = await model.createContext(generationContextOptions(chunkSize, perSeq, opts.threads));
    if (input.scoreMode === 'capture') capCtx = await model.createContext(captureContextOptions(model, opts.threads));
    await generateUnits({ model, input, opts, modelKey, result, t0, prompts, log }, todo, genCtx, capCtx, chunkSize);
  } finally {
    capCtx?.free();
    genCtx?.free();
  }
  return { written: result.written, tokens: result.tokens, batches: result.batches, sequences: result.sequences, interrupted: result.interrupted };
}

/** The checks that need the model: blocks in range, probe widths equal to d_model. */
export function checkAgainstModel(input: SweepInput, model: Model): void {
  for (const l of input.layers) {
    checkLayer(l, model, 'layers');
    const w = input.probes.get(l)!.direction.length;
    if (w !== model.nEmbd) {
      throw new EiaError('E_BAD_ARG', `probe for layer ${l} (${join(input.probesDir, `layer${l}.npy`)}) has width ${w}, the model's d_model is ${model.nEmbd}: a probe of another model?`);
    }
  }
}

/** One sweep call's state while it generates. */
interface SweepRun {
  model: Model;
  input: SweepInput;
  opts: SweepOptions;
  modelKey: string;
  result: SweepResult;
  t0: number;
  /** prompt tokens per scenario */
  prompts: Map<string, Int32Array>;
  log: (msg: string) => void;
}

/** Generates every unit in chunks of `chunkSize` sequences, appending records as samples finish. */
async function generateUnits(run: SweepRun, todo: Unit[], genCtx: Context, capCtx: Context | null, chunkSize: number): Promise<void> {
  const { input, opts, result } = run;
  let appender: JsonlAppender | null = null;
  try {
    appender = new JsonlAppender(result.samplesPath);
    const monitorLayers = opts.monitor || input.scoreMode === 'monitor' ? sorted(input.layers) : [];
    const bar = opts.progress !== false ? createProgress({ label: 'steer', total: todo.length * opts.maxTokens, unit: 'tokens' }) : null;
    const writer = new RecordWriter(run, appender, capCtx, monitorLayers);
    const tokens = { seen: 0, budget: todo.length * opts.maxTokens };
    bar?.update(0, writer.barText());
    result.setupMs = performance.now() - run.t0;
    const loopStart = performance.now();
    for (let c0 = 0; c0 < todo.length && !opts.signal?.aborted; c0 += chunkSize) {
      await generateChunk(run, genCtx, todo.slice(c0, c0 + chunkSize), run.prompts, monitorLayers, writer, bar, tokens);
    }
    result.loopMs = performance.now() - loopStart;
    result.interrupted = !!opts.signal?.aborted && result.kept < result.total;
    bar?.done(writer.barText());
    if (writer.nonFinite > 0) run.log(`note: ${writer.nonFinite} samples had a non-finite probe score (activations overflowed); their probe_score is left out`);
  } finally {
    appender?.close();
  }
}

/** One batched generation over `chunk`; finish events of one step arrive together and are written as one batch. */
async function generateChunk(run: SweepRun, ctx: Context, chunk: Unit[], prompts: Map<string, Int32Array>, monitorLayers: number[],
  writer: RecordWriter, bar: Progress | null, tokens: { seen: number; budget: number }): Promise<void> {
  const { opts, input, result } = run;
  const { temperature, topK, topP, minP } = input.sampling;
  // one signal per chunk, relayed from the sweep's: the engine keeps a generation's abort listener,
  // and hundreds of chunks on one signal would pile them up (Node's MaxListenersExceededWarning)
  const chunkSignal = new AbortController();
  const relay = () => chunkSignal.abort();
  opts.signal?.addEventListener('abort', relay, { once: true });
  if (opts.signal?.aborted) chunkSignal.abort();
  try {
    const gen = ctx.generate({
      sequences: chunk.map((u) => ({
        prompt: prompts.get(u.scenario)!,
        steer: u.steerLayer >= 0 && u.alpha !== 0 ? [{ layer: u.steerLayer, direction: input.probes.get(u.steerLayer)!.direction, alpha: u.alpha }] : [],
        temperature, topK, topP, minP, seed: u.seed, maxTokens: opts.maxTokens,
      })),
      monitors: monitorLayers.map((l) => ({ layer: l, direction: input.probes.get(l)!.direction })),
      signal: chunkSignal.signal, stepsPerCall: opts.stepsPerCall ?? GENERATION_DEFAULTS.stepsPerCallSweep,
    });
    result.batches++;
    result.sequences += chunk.length;
    let finished: Finished[] = [];
    const flush = async () => {
      if (finished.length === 0) return;
      const done = finished;
      finished = [];
      await writer.write(done);
      bar?.update(tokens.seen, writer.barText());
    };
    for await (const ev of gen) {
      if (ev.type === 'token') {
        await flush();
        if (++tokens.seen % 64 === 0) bar?.update(tokens.seen, writer.barText());
        continue;
      }
      if (ev.result.finishReason === 'abort') continue;
      if (ev.result.tokens.length < opts.maxTokens) {
        tokens.budget -= opts.maxTokens - ev.result.tokens.length;
        bar?.setTotal(tokens.budget);
      }
      finished.push({ unit: chunk[ev.seq], res: ev.result });
    }
    await flush();
    const gs = gen.stats();
    result.promptMs += gs.promptMs;
    result.decodeMs += gs.decodeMs;
    result.tokens += gs.decodeTokens;
  } finally {
    opts.signal?.removeEventListener('abort', relay);
  }
}

/** Scores finished samples and appends one record per grid cell they fill. */
class RecordWriter {
  /** Samples whose probe score came out NaN or infinite (left out: nothing non-finite is written). */
  nonFinite = 0;

  constructor(private run: SweepRun, private appender: JsonlAppender, private capCtx: Context | null, private monitorLayers: number[]) {}

  barText(): string {
    return `samples ${this.run.result.kept}/${this.run.result.total}`;
  }

  async write(done: Finished[]): Promise<void> {
    const { result, opts, input, model } = this.run;
    let scores = new Map<string, number>();
    if (this.capCtx) {
      const tc = performance.now();
      scores = await captureScores(this.capCtx, model, done, input.probes);
      result.captureMs += performance.now() - tc;
    } else if (input.scoreMode === 'monitor') {
      scores = monitorScores(done, this.monitorLayers, input.probes);
    }
    const tw = performance.now();
    for (const { unit, res } of done) {
      for (const c of unit.cells) {
        const rec = this.record(unit, c, res);
        const ps = scores.get(cellKey(c));
        if (ps !== undefined && Number.isFinite(ps)) rec.probe_score = ps;
        else if (ps !== undefined) this.nonFinite++;
        this.appender.append(rec);
        result.written++;
        result.kept++;
        opts.onSample?.(rec);
      }
    }
    result.writeMs += performance.now() - tw;
  }

  private record(unit: Unit, c: GridCell, res: Finished['res']): SweepRecord {
    const { opts, input, modelKey } = this.run;
    const rec: SweepRecord = {
      model: modelKey, layer: c.layer, scenario: c.scenario, alpha: c.alpha, sample: c.sample, seed: unit.seed,
      text: res.text, tokens: res.tokens.length,
      ...(opts.tokenIds ? { token_ids: Array.from(res.tokens) } : {}),
      finish_reason: res.finishReason, n_prompt: res.nPrompt,
      timings: { prompt_ms: r6(res.promptMs), gen_ms: r6(res.genMs) },
    };
    if (opts.monitor) {
      const sc = res.scores![this.monitorLayers.indexOf(c.layer)];
      const n = sc.length;
      const s: number[] = new Array(n);
      let sum = 0;
      for (let t = 0; t < n; t++) { s[t] = r6(sc[t]); sum += sc[t]; }
      rec.monitor = { layer: c.layer, mean: n > 0 ? r6(sum / n) : null, steer_offset: r6(steerOffset(unit, c, input.probes)), scores: s };
    }
    return rec;
  }
}
