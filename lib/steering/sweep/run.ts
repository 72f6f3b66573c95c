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
import { RUN_FILES } from '../../io/run-folder.js';
import { captureContextOptions } from '../../probes/capture-context.js';
import { note } from '../../util/note.js';
import { EiaError, isEiaError } from '../../util/errors.js';
import { createProgress, type Progress } from '../../util/progress.js';
import { readSamplesFile, type SweepRecord } from '../samples.js';
import { steeringPrompt } from '../scenarios.js';
import { checkRunFolder, openManifest, shardRecord, sweepParameters, type ShardRecord } from './manifest.js';
import type { SweepOptions, SweepResult } from './options.js';
import { cellKey, checkSweepInput, planUnits, sorted, sweepGrid, type GridCell, type SweepInput, type Unit } from './plan.js';
import { captureScores, monitorScores, steerOffset, type Finished } from './probe-score.js';
import { checkShard, formatShard, partitionGrid } from './shard.js';

/** Decode steps per native call in a sweep (measured: fewer thread hops without delaying the appends). */
const SWEEP_STEPS_PER_CALL = 8;

const r6 = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(7)) : x);

/** The cells already in samples.jsonl (a torn last line is cut off the file: it is regenerated). */
export function loadFinished(path: string): { keys: Set<string>; repaired: boolean; records: number } {
  if (!existsSync(path)) return { keys: new Set(), repaired: false, records: 0 };
  try {
    const { records, torn } = readSamplesFile(path, 'repair');
    return { keys: new Set(records.map((r) => cellKey(r))), repaired: torn, records: records.length };
  } catch (e) {
    if (!isEiaError(e, 'E_BAD_ARG')) throw e;
    throw new EiaError('E_BAD_ARG', `${e.message} (the file is damaged beyond a torn last line; fix or remove that line)`, { cause: e });
  }
}

/** Runs (or resumes) a sweep. Bad input: E_BAD_ARG; a RUN of other parameters: E_CONFLICT; an abort resolves with interrupted = true. */
export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const t0 = performance.now();
  const log = opts.log ?? note;
  const input = checkSweepInput(opts);
  const spec = opts.shard ? checkShard(opts.shard) : null;
  checkRunFolder(input.out);
  const model = await Model.load(input.modelPath, { gpuLayers: opts.gpuLayers });
  try {
    checkAgainstModel(input, model);
    const { params, probeFiles } = await sweepParameters(input, opts);
    let grid = sweepGrid(input.layers, input.alphas, input.scenarioIds, opts.samples);
    let shard: ShardRecord | null = null;
    if (spec && spec.count > 1) {  // 1 shard is the whole grid
      const part = partitionGrid({ layers: input.layers, alphas: input.alphas, scenarios: input.scenarioIds, samples: opts.samples, maxTokens: opts.maxTokens }, spec.count);
      shard = shardRecord(spec, part.shards);
      grid = grid.filter((c) => part.shardOf(c) === spec.index);
      if (grid.length === 0) log(`note: shard ${formatShard(spec)} holds no cells: the grid has only ${part.shards.reduce((n, x) => n + x.generations, 0)} generations for ${spec.count} shards`);
    }
    const { modelKey } = openManifest(input, model, params, probeFiles, opts.modelKey, log, shard);
    const samplesPath = join(input.out, RUN_FILES.samples);
    const fin = loadFinished(samplesPath);
    if (fin.repaired) log(`dropped a torn last line of ${samplesPath} (an interrupted write); it will be regenerated`);
    const pending = grid.filter((c) => !fin.keys.has(cellKey(c)));
    const todo = planUnits(pending, input.scenarioIds, opts.seed, opts.shareBaseline !== false);
    const skipped = grid.length - pending.length;
    const result: SweepResult = {
      out: input.out, manifestPath: join(input.out, RUN_FILES.manifest), samplesPath, total: grid.length, shard, kept: skipped, skipped, written: 0,
      interrupted: false, repairedTornLine: fin.repaired, batches: 0, sequences: 0, tokens: 0,
      promptMs: 0, decodeMs: 0, captureMs: 0, writeMs: 0, loopMs: 0, wallMs: 0, setupMs: 0,
    };
    if (todo.length > 0 && !opts.signal?.aborted) {
      await generateUnits({ model, input, opts, modelKey, result, t0 }, todo);
    } else {
      result.interrupted = todo.length > 0;
      result.setupMs = performance.now() - t0;
    }
    result.wallMs = performance.now() - t0;
    return result;
  } finally {
    model.free();
  }
}

/** The checks that need the model: blocks in range, probe widths equal to d_model. */
function checkAgainstModel(input: SweepInput, model: Model): void {
  for (const l of input.layers) {
    if (l >= model.nLayer) throw new EiaError('E_BAD_ARG', `layer ${l} out of range: the model has blocks 0..${model.nLayer - 1}`);
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
}

/** The prompt tokens of each scenario (raw, or wrapped in the chat template as a user turn). */
function promptTokens(run: SweepRun): Map<string, Int32Array> {
  const chat = !!run.opts.chat;
  return new Map(run.input.scenarios.map((s) => {
    const text = steeringPrompt(s);
    const full = chat ? run.model.applyChatTemplate([{ role: 'user', content: text }]) : text;
    return [s.id, run.model.tokenize(full, { addSpecial: true, parseSpecial: chat })];
  }));
}

/** Generates every unit in chunks of at most maxBatch sequences, appending records as samples finish. */
async function generateUnits(run: SweepRun, todo: Unit[]): Promise<void> {
  const { model, input, opts, result } = run;
  const nChunks = Math.ceil(todo.length / input.maxBatch);
  const chunkSize = Math.ceil(todo.length / nChunks);
  const prompts = promptTokens(run);
  const maxPrompt = Math.max(...[...prompts.values()].map((t) => t.length));
  let genCtx: Context | null = null;
  let capCtx: Context | null = null;
  let appender: JsonlAppender | null = null;
  try {
    genCtx = await model.createContext(generationContextOptions(chunkSize, maxPrompt + opts.maxTokens + 1, opts.threads));
    if (input.scoreMode === 'capture') capCtx = await model.createContext(captureContextOptions(model, opts.threads));
    appender = new JsonlAppender(result.samplesPath);
    const monitorLayers = opts.monitor || input.scoreMode === 'monitor' ? sorted(input.layers) : [];
    const bar = opts.progress !== false ? createProgress({ label: 'steer', total: todo.length * opts.maxTokens, unit: 'tokens' }) : null;
    const writer = new RecordWriter(run, appender, capCtx, monitorLayers);
    const tokens = { seen: 0, budget: todo.length * opts.maxTokens };
    bar?.update(0, writer.barText());
    result.setupMs = performance.now() - run.t0;
    const loopStart = performance.now();
    for (let c0 = 0; c0 < todo.length && !opts.signal?.aborted; c0 += chunkSize) {
      await generateChunk(run, genCtx, todo.slice(c0, c0 + chunkSize), prompts, monitorLayers, writer, bar, tokens);
    }
    result.loopMs = performance.now() - loopStart;
    result.interrupted = !!opts.signal?.aborted && result.kept < result.total;
    bar?.done(writer.barText());
  } finally {
    appender?.close();
    capCtx?.free();
    genCtx?.free();
  }
}

/** One batched generation over `chunk`; finish events of one step arrive together and are written as one batch. */
async function generateChunk(run: SweepRun, ctx: Context, chunk: Unit[], prompts: Map<string, Int32Array>, monitorLayers: number[],
  writer: RecordWriter, bar: Progress | null, tokens: { seen: number; budget: number }): Promise<void> {
  const { opts, input, result } = run;
  const { temperature, topK, topP, minP } = input.sampling;
  const gen = ctx.generate({
    sequences: chunk.map((u) => ({
      prompt: prompts.get(u.scenario)!,
      steer: u.steerLayer >= 0 && u.alpha !== 0 ? [{ layer: u.steerLayer, direction: input.probes.get(u.steerLayer)!.direction, alpha: u.alpha }] : [],
      temperature, topK, topP, minP, seed: u.seed, maxTokens: opts.maxTokens,
    })),
    monitors: monitorLayers.map((l) => ({ layer: l, direction: input.probes.get(l)!.direction })),
    signal: opts.signal, stepsPerCall: opts.stepsPerCall ?? SWEEP_STEPS_PER_CALL,
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
}

/** Scores finished samples and appends one record per grid cell they fill. */
class RecordWriter {
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
        if (ps !== undefined) rec.probe_score = ps;
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
