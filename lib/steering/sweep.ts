// Steering sweeps: layers x alphas x scenarios x samples, generated in as few batched native
// generations as the context allows, every finished sample appended (write + fsync) to
// RUN/samples.jsonl as soon as it finishes, next to RUN/manifest.json (written atomically before
// any sample). The same call on the same RUN resumes: finished samples are skipped, a torn last
// line (a kill during a write) is dropped and regenerated, and a RUN made with other parameters is
// refused with the list of differing fields.
//
// Determinism: each sample's seed comes from (seed, scenario, sample) only, so a resumed or partial
// run draws exactly what an uninterrupted one would (the engine gives the same tokens for the same
// seed and inputs alone or in any batch), and sample i of a scenario uses the same seed at every
// (layer, alpha): common random numbers across the dose-response. The unsteered alpha = 0 condition
// is the same computation for every layer, so it is generated once and written for each layer.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Model } from '../engine/model.js';
import type { Context } from '../engine/context.js';
import { generationContextOptions } from '../engine/context.js';
import type { SequenceResult } from '../engine/generate.js';
import { packageRoot } from '../engine/native.js';
import { runtimeInfo } from '../engine/runtime-info.js';
import { fileSha256 } from '../io/file-hash.js';
import { JsonlAppender } from '../io/jsonl.js';
import { writeFileAtomic } from '../io/npy.js';
import { createProgress, type Progress } from '../models/progress.js';
import { loadProbes, type Probe } from '../probes/probe.js';
import { SCENARIOS, steeringPrompt, type Scenario } from './scenarios.js';

/** Bad input (unknown scenario, missing or mis-sized probe, parameters differing from RUN): exit code 2. */
export class SweepInputError extends Error {
  readonly exitCode = 2;
}

export const MANIFEST_FILE = 'manifest.json';
export const SAMPLES_FILE = 'samples.jsonl';
/** The engine's limit on sequences per context. */
export const MAX_SEQS_PER_CONTEXT = 256;
/** Text truncation of the probe-score capture pass (the paper's detection recipe). */
export const PROBE_SCORE_MAX_TOKENS = 512;

export type ProbeScoreMode = 'capture' | 'monitor' | 'off';
export const PROBE_SCORE_MODES: readonly ProbeScoreMode[] = ['capture', 'monitor', 'off'];

function probeScoreMode(v: SweepOptions['probeScore']): ProbeScoreMode {
  if (v === undefined || v === true) return 'monitor';
  if (v === false) return 'off';
  if (!PROBE_SCORE_MODES.includes(v)) throw new SweepInputError(`probe score must be one of ${PROBE_SCORE_MODES.join(', ')}, got '${String(v)}'`);
  return v;
}

export interface SweepOptions {
  /** GGUF file. */
  modelPath: string;
  /** Name written in every record's `model` field (default: the file name without .gguf). */
  modelKey?: string;
  /** Folder of layer<L>.npy probes (with or without JSON sidecars). */
  probesDir: string;
  layers: number[];
  alphas: number[];
  scenarios: string[];
  /** Samples per (layer, scenario, alpha). */
  samples: number;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP?: number;
  minP?: number;
  seed: number;
  /** RUN folder. */
  out: string;
  /** Wrap the prompt in the model's chat template as a user turn (default false: the paper's raw prompt). */
  chat?: boolean;
  /** Record the steered layer's probe projection of every generated token. */
  monitor?: boolean;
  /** Also store the generated token ids (default false: the count only). */
  tokenIds?: boolean;
  /**
   * How probe_score is computed (default 'monitor'): 'monitor' = free, from the live monitor at the
   * steered layer (mean over the generated positions of the unsteered in-context residual: the
   * steering term is subtracted; the residual at the steered block's output does not depend on that
   * block's steering, only on the tokens); 'capture' = a separate capture pass over each generated
   * text alone (its token ids, BOS first when the tokenizer adds one; mean over positions, unsteered,
   * as the paper scores texts; costs ~25% of the sweep's time on a CPU); 'off' (or false) = none.
   * Both scores correlate at r > 0.9 on the planted model (test/sweep.test.ts).
   */
  probeScore?: ProbeScoreMode | boolean;
  /** Generate alpha = 0 once for all layers (default true; the result is identical). */
  shareBaseline?: boolean;
  /** Sequences per batched generation, at most 256 (default 256). */
  maxBatch?: number;
  /** Decode steps per native call (default 8). */
  stepsPerCall?: number;
  threads?: number;
  gpuLayers?: number;
  signal?: AbortSignal;
  /** Progress bar on stderr (default true; EIA_NATIVE_QUIET=1 silences it). */
  progress?: boolean;
  /** Called with each record right after it is appended. */
  onSample?: (record: SweepRecord) => void;
  /** Messages for people (default: stderr unless EIA_NATIVE_QUIET=1). */
  log?: (msg: string) => void;
}

/** One line of samples.jsonl. */
export interface SweepRecord {
  model: string;
  layer: number;
  scenario: string;
  alpha: number;
  sample: number;
  seed: number;
  text: string;
  /** Generated token count. */
  tokens: number;
  token_ids?: number[];
  finish_reason: string;
  n_prompt: number;
  timings: { prompt_ms: number; gen_ms: number };
  /**
   * Live monitor of the steered layer's probe: one projection per generated token (read at the
   * position that produced it, after the steering vector is added, so it includes steer_offset =
   * alpha * |d|^2 when the steered layer is monitored) and their mean.
   */
  monitor?: { layer: number; mean: number | null; steer_offset: number; scores: number[] };
  /** dot(mean-pooled activation of the generated text at block `layer`, probe direction), unsteered capture. */
  probe_score?: number;
}

/** The parameters that define a RUN: a resume must match them all. */
export interface SweepParameters {
  model_sha256: string;
  layers: number[];
  alphas: number[];
  scenarios: string[];
  samples: number;
  max_tokens: number;
  temperature: number;
  top_k: number;
  top_p: number;
  min_p: number;
  seed: number;
  chat: boolean;
  monitor: boolean;
  probe_score: ProbeScoreMode;
  positions: 'all';
  /** sha256 per probe file, keyed by layer. */
  probes: Record<string, string>;
  /** sha256 of the prompts in use (changes when the built-in scenario texts change). */
  prompts_sha256: string;
}

export interface SweepManifest {
  format: 'eia-native-sweep';
  version: 1;
  created_at: string;
  model: { path: string; sha256: string; key: string; arch: string; n_layer: number; n_embd: number };
  llama_commit: string;
  package_version: string;
  probes_dir: string;
  probe_files: Record<string, string>;
  parameters: SweepParameters;
}

export interface SweepResult {
  out: string;
  manifestPath: string;
  samplesPath: string;
  /** Grid size. */
  total: number;
  /** Grid samples in samples.jsonl now. */
  kept: number;
  /** Grid samples found already finished at the start. */
  skipped: number;
  /** Samples appended by this call. */
  written: number;
  interrupted: boolean;
  /** Torn final line dropped at the start. */
  repairedTornLine: boolean;
  /** Batched generations run and sequences in them. */
  batches: number;
  sequences: number;
  /** Generated tokens (decoded by the engine in this call). */
  tokens: number;
  /** Native time: prompt phase, decode phase; capture pass; appends. */
  promptMs: number;
  decodeMs: number;
  captureMs: number;
  writeMs: number;
  /** Wall time of the generation loops (generation + scoring + writing), and of the whole call. */
  loopMs: number;
  wallMs: number;
  setupMs: number;
}

/** A grid cell: one sample of one condition. */
export interface GridCell {
  layer: number;
  scenario: string;
  alpha: number;
  sample: number;
}

/** The resume key of a cell. */
export function cellKey(c: GridCell): string {
  return JSON.stringify([c.layer, c.scenario, normAlpha(c.alpha), c.sample]);
}

function normAlpha(a: number): number {
  return a === 0 ? 0 : a;  // -0 -> 0
}

/** The seed of sample `sample` of `scenario`: a 32-bit value from sha256(seed, scenario, sample). */
export function sampleSeed(seed: number, scenario: string, sample: number): number {
  const h = createHash('sha256').update(`eia-native/sweep-seed/1\u0000${seed}\u0000${scenario}\u0000${sample}`).digest();
  return h.readUInt32LE(0);
}

/** Every cell of the grid, in layer, alpha, scenario, sample order. */
export function sweepGrid(layers: readonly number[], alphas: readonly number[], scenarios: readonly string[], samples: number): GridCell[] {
  const out: GridCell[] = [];
  for (const layer of layers) for (const alpha of alphas) for (const scenario of scenarios) {
    for (let sample = 0; sample < samples; sample++) out.push({ layer, scenario, alpha: normAlpha(alpha), sample });
  }
  return out;
}

/**
 * Reads the finished cells of a samples.jsonl. A final line without its newline (a write cut by a
 * kill) is cut off the file; any other invalid line is an error (the file was damaged otherwise).
 */
export function loadFinished(path: string): { keys: Set<string>; repaired: boolean; records: number } {
  const keys = new Set<string>();
  if (!existsSync(path)) return { keys, repaired: false, records: 0 };
  let buf = readFileSync(path);
  let repaired = false;
  if (buf.length > 0 && buf[buf.length - 1] !== 0x0a) {
    const cut = buf.lastIndexOf(0x0a) + 1;
    truncateSync(path, cut);
    buf = buf.subarray(0, cut);
    repaired = true;
  }
  const lines = buf.toString('utf8').split('\n');
  let records = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON (the file is damaged beyond a torn last line; fix or remove that line)`);
    }
    if (typeof r !== 'object' || r === null || !Number.isInteger(r.layer) || typeof r.scenario !== 'string' ||
        typeof r.alpha !== 'number' || !Number.isInteger(r.sample)) {
      throw new Error(`${path}:${i + 1}: not a sample record (needs layer, scenario, alpha, sample)`);
    }
    records++;
    keys.add(cellKey(r as unknown as GridCell));
  }
  return { keys, repaired, records };
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

const sorted = <T>(xs: readonly T[]): T[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Fields whose values differ between a RUN's parameters and this call's (lists compared as sets). */
export function diffParameters(have: Partial<SweepParameters>, want: SweepParameters): string[] {
  const out: string[] = [];
  const norm = (k: string, v: unknown): string => {
    // manifests written before probe_score had modes stored a boolean
    if (k === 'probe_score' && typeof v === 'boolean') v = v ? 'capture' : 'off';
    if ((k === 'layers' || k === 'alphas' || k === 'scenarios') && Array.isArray(v)) return JSON.stringify(sorted(v));
    return JSON.stringify(v ?? null);
  };
  const keys = new Set([...Object.keys(want), ...Object.keys(have ?? {})]);
  for (const k of keys) {
    const a = (have as Record<string, unknown>)?.[k];
    const b = (want as unknown as Record<string, unknown>)[k];
    if (norm(k, a) !== norm(k, b)) out.push(`${k}: RUN has ${JSON.stringify(a ?? null)}, this command has ${JSON.stringify(b ?? null)}`);
  }
  return out;
}

function checkList<T>(xs: readonly T[], what: string): void {
  if (xs.length === 0) throw new SweepInputError(`${what}: the list is empty`);
  const seen = new Set<string>();
  for (const x of xs) {
    const k = JSON.stringify(x);
    if (seen.has(k)) throw new SweepInputError(`${what}: ${k} is listed twice`);
    seen.add(k);
  }
}

/** A unit of generation: one sequence whose result fills one or more grid cells. */
interface Unit {
  scenario: string;
  alpha: number;
  /** Steered layer; -1 for the unsteered baseline. */
  steerLayer: number;
  sample: number;
  seed: number;
  cells: GridCell[];
}

const r6 = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(7)) : x);

/** Runs (or resumes) a sweep. Throws SweepInputError for bad input; resolves with interrupted=true on abort. */
export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const t0 = performance.now();
  const log = opts.log ?? ((m: string) => { if (process.env.EIA_NATIVE_QUIET !== '1') process.stderr.write(m + '\n'); });
  // ---- input checks that need no model
  const layers = [...opts.layers];
  const alphas = opts.alphas.map(normAlpha);
  const scenarioIds = [...opts.scenarios];
  checkList(layers, 'layers');
  checkList(alphas, 'alphas');
  checkList(scenarioIds, 'scenarios');
  for (const l of layers) if (!Number.isInteger(l) || l < 0) throw new SweepInputError(`layers: ${l} is not a block index`);
  for (const a of alphas) if (typeof a !== 'number' || !Number.isFinite(a)) throw new SweepInputError(`alphas: ${String(a)} is not a number`);
  if (!Number.isInteger(opts.samples) || opts.samples < 1) throw new SweepInputError(`samples must be a positive integer, got ${opts.samples}`);
  if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1) throw new SweepInputError(`max tokens must be a positive integer, got ${opts.maxTokens}`);
  if (!(opts.temperature >= 0)) throw new SweepInputError(`temperature must be >= 0, got ${opts.temperature}`);
  if (!Number.isInteger(opts.topK) || opts.topK < 0) throw new SweepInputError(`top-k must be a non-negative integer, got ${opts.topK}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new SweepInputError(`seed must be a non-negative integer, got ${opts.seed}`);
  const maxBatch = opts.maxBatch ?? MAX_SEQS_PER_CONTEXT;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_SEQS_PER_CONTEXT) {
    throw new SweepInputError(`batch must be an integer in 1..${MAX_SEQS_PER_CONTEXT}, got ${maxBatch}`);
  }
  const scoreMode = probeScoreMode(opts.probeScore);
  const scenarios: Scenario[] = scenarioIds.map((id) => {
    const s = SCENARIOS.find((x) => x.id === id);
    if (!s) throw new SweepInputError(`unknown scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`);
    return s;
  });
  const probesDir = resolve(opts.probesDir);
  if (!existsSync(probesDir) || !statSync(probesDir).isDirectory()) throw new SweepInputError(`probes folder ${opts.probesDir} does not exist`);
  let probes: Map<number, Probe>;
  try {
    probes = loadProbes(probesDir);
  } catch (e) {
    throw new SweepInputError(`probes folder ${opts.probesDir}: ${(e as Error).message}`);
  }
  for (const l of layers) {
    if (!probes.has(l)) {
      const have = [...probes.keys()];
      throw new SweepInputError(`no probe for layer ${l} in ${opts.probesDir} (expected layer${l}.npy; found ${have.length ? 'layers ' + have.join(', ') : 'no probes'})`);
    }
  }
  const modelPath = resolve(opts.modelPath);
  if (!existsSync(modelPath)) throw new SweepInputError(`model file ${opts.modelPath} does not exist`);
  const out = resolve(opts.out);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new SweepInputError(`--out ${opts.out} exists and is not a folder`);
  const manifestPath = join(out, MANIFEST_FILE);
  const samplesPath = join(out, SAMPLES_FILE);
  if (!existsSync(manifestPath) && existsSync(samplesPath)) {
    throw new SweepInputError(`${samplesPath} exists without ${MANIFEST_FILE}: cannot tell its parameters; use another --out`);
  }
  const signal = opts.signal;
  const model = await Model.load(modelPath, { gpuLayers: opts.gpuLayers });
  let genCtx: Context | null = null;
  let capCtx: Context | null = null;
  let appender: JsonlAppender | null = null;
  try {
    for (const l of layers) {
      if (l >= model.nLayer) throw new SweepInputError(`layer ${l} out of range: the model has blocks 0..${model.nLayer - 1}`);
      const w = probes.get(l)!.direction.length;
      if (w !== model.nEmbd) {
        throw new SweepInputError(`probe for layer ${l} (${join(opts.probesDir, `layer${l}.npy`)}) has width ${w}, the model's d_model is ${model.nEmbd}: a probe of another model?`);
      }
    }
    // ---- parameters and manifest
    const modelSha = await fileSha256(modelPath);
    const probeFiles: Record<string, string> = {};
    const probeHashes: Record<string, string> = {};
    for (const l of sorted(layers)) {
      const f = join(probesDir, `layer${l}.npy`);
      probeFiles[String(l)] = f;
      probeHashes[String(l)] = await fileSha256(f);
    }
    const chat = !!opts.chat;
    const promptText = new Map(scenarios.map((s) => [s.id, steeringPrompt(s)]));
    const promptsSha = createHash('sha256').update(JSON.stringify(sorted(scenarioIds).map((id) => [id, promptText.get(id)]))).digest('hex');
    const params: SweepParameters = {
      model_sha256: modelSha, layers, alphas, scenarios: scenarioIds, samples: opts.samples, max_tokens: opts.maxTokens,
      temperature: opts.temperature, top_k: opts.topK, top_p: opts.topP ?? 1, min_p: opts.minP ?? 0, seed: opts.seed,
      chat, monitor: !!opts.monitor, probe_score: scoreMode, positions: 'all', probes: probeHashes, prompts_sha256: promptsSha,
    };
    const llamaCommit = runtimeInfo().llamaCommit;
    const version = packageVersion();
    let modelKey = opts.modelKey ?? basename(modelPath).replace(/\.gguf$/i, '');
    if (existsSync(manifestPath)) {
      let m: SweepManifest;
      try {
        m = JSON.parse(readFileSync(manifestPath, 'utf8'));
      } catch (e) {
        throw new SweepInputError(`${manifestPath} is not valid JSON (${(e as Error).message}); use another --out`);
      }
      if (m?.format !== 'eia-native-sweep' || typeof m.parameters !== 'object') throw new SweepInputError(`${manifestPath} is not an eia-native sweep manifest; use another --out`);
      const diff = diffParameters(m.parameters, params);
      if (diff.length > 0) {
        throw new SweepInputError(`${out} holds a sweep with other parameters; use another --out or the original command. Differing:\n  ${diff.join('\n  ')}`);
      }
      modelKey = m.model?.key ?? modelKey;
      if (m.llama_commit !== llamaCommit) log(`note: RUN was started with llama.cpp ${m.llama_commit}, this build is ${llamaCommit}`);
      if (m.package_version !== version) log(`note: RUN was started with eia-native ${m.package_version}, this is ${version}`);
    } else {
      mkdirSync(out, { recursive: true });
      const manifest: SweepManifest = {
        format: 'eia-native-sweep', version: 1, created_at: new Date().toISOString(),
        model: { path: modelPath, sha256: modelSha, key: modelKey, arch: model.info.arch, n_layer: model.nLayer, n_embd: model.nEmbd },
        llama_commit: llamaCommit, package_version: version, probes_dir: probesDir, probe_files: probeFiles, parameters: params,
      };
      writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    }

    // ---- what is left to do
    const fin = loadFinished(samplesPath);
    if (fin.repaired) log(`dropped a torn last line of ${samplesPath} (an interrupted write); it will be regenerated`);
    const grid = sweepGrid(layers, alphas, scenarioIds, opts.samples);
    const pendingCells = grid.filter((c) => !fin.keys.has(cellKey(c)));
    const skipped = grid.length - pendingCells.length;
    const shareBaseline = opts.shareBaseline !== false;
    const units = new Map<string, Unit>();
    for (const c of pendingCells) {
      const steerLayer = c.alpha === 0 && shareBaseline ? -1 : c.layer;
      const k = JSON.stringify([c.scenario, steerLayer, c.alpha, c.sample]);
      let u = units.get(k);
      if (!u) {
        u = { scenario: c.scenario, alpha: c.alpha, steerLayer: c.alpha === 0 ? -1 : steerLayer, sample: c.sample, seed: sampleSeed(opts.seed, c.scenario, c.sample), cells: [] };
        units.set(k, u);
      }
      u.cells.push(c);
    }
    // keep conditions together so identical prompts (same scenario and prompt-time steering) share one prefill
    const scenOrder = new Map(scenarioIds.map((s, i) => [s, i]));
    const todo = [...units.values()].sort((a, b) =>
      (scenOrder.get(a.scenario)! - scenOrder.get(b.scenario)!) || (a.steerLayer - b.steerLayer) || (a.alpha - b.alpha) || (a.sample - b.sample));
    const result: SweepResult = {
      out, manifestPath, samplesPath, total: grid.length, kept: skipped, skipped, written: 0, interrupted: false, repairedTornLine: fin.repaired,
      batches: 0, sequences: 0, tokens: 0, promptMs: 0, decodeMs: 0, captureMs: 0, writeMs: 0, loopMs: 0, wallMs: 0, setupMs: 0,
    };
    if (todo.length === 0) {
      result.setupMs = result.wallMs = performance.now() - t0;
      return result;
    }
    if (signal?.aborted) return { ...result, interrupted: true, wallMs: performance.now() - t0, setupMs: performance.now() - t0 };

    // ---- batches, contexts
    const nChunks = Math.ceil(todo.length / maxBatch);
    const chunkSize = Math.ceil(todo.length / nChunks);
    const promptTokens = new Map<string, Int32Array>();
    for (const s of scenarios) {
      const text = promptText.get(s.id)!;
      const full = chat ? model.applyChatTemplate([{ role: 'user', content: text }]) : text;
      promptTokens.set(s.id, model.tokenize(full, { addSpecial: true, parseSpecial: chat }));
    }
    const maxPrompt = Math.max(...[...promptTokens.values()].map((t) => t.length));
    genCtx = await model.createContext(generationContextOptions(chunkSize, maxPrompt + opts.maxTokens + 1, opts.threads));
    if (scoreMode === 'capture') {
      capCtx = await model.createContext({
        nThreads: opts.threads, nCtx: Math.max(2048, Math.min(model.info.nCtxTrain, 8192)), nBatch: 512, nSeqMax: 32,
      });
    }
    const monitorLayers = opts.monitor || scoreMode === 'monitor' ? sorted(layers) : [];
    const monitors = monitorLayers.map((l) => ({ layer: l, direction: probes.get(l)!.direction }));
    const dirDot = (l: number): number => { const d = probes.get(l)!.direction; let s = 0; for (let i = 0; i < d.length; i++) s += d[i] * d[i]; return s; };
    const steerVecs = new Map<number, Float32Array>();
    for (const l of layers) steerVecs.set(l, probes.get(l)!.direction);

    appender = new JsonlAppender(samplesPath);
    const showBar = opts.progress !== false;
    let budget = todo.length * opts.maxTokens;
    const bar: Progress | null = showBar ? createProgress({ label: 'steer', total: budget, unit: 'tokens' }) : null;
    let tokensSeen = 0;
    const barExtra = () => `samples ${result.kept}/${result.total}`;
    bar?.update(0, barExtra());
    result.setupMs = performance.now() - t0;
    const loopStart = performance.now();

    for (let c0 = 0; c0 < todo.length && !signal?.aborted; c0 += chunkSize) {
      const chunk = todo.slice(c0, c0 + chunkSize);
      const gen = genCtx.generate({
        sequences: chunk.map((u) => ({
          prompt: promptTokens.get(u.scenario)!,
          steer: u.steerLayer >= 0 && u.alpha !== 0 ? [{ layer: u.steerLayer, direction: steerVecs.get(u.steerLayer)!, alpha: u.alpha }] : [],
          temperature: opts.temperature, topK: opts.topK, topP: opts.topP ?? 1, minP: opts.minP ?? 0,
          seed: u.seed, maxTokens: opts.maxTokens,
        })),
        monitors, signal, stepsPerCall: opts.stepsPerCall ?? 8,
      });
      result.batches++;
      result.sequences += chunk.length;
      // finish events of one step arrive together (after its tokens): score and write them as one batch
      let finished: { unit: Unit; res: SequenceResult }[] = [];
      const flush = async () => {
        if (finished.length === 0) return;
        const done = finished;
        finished = [];
        await emit(done);
        bar?.update(tokensSeen, barExtra());
      };
      for await (const ev of gen) {
        if (ev.type === 'token') {
          await flush();
          if (++tokensSeen % 64 === 0) bar?.update(tokensSeen, barExtra());
          continue;
        }
        if (ev.result.finishReason === 'abort') continue;
        if (ev.result.tokens.length < opts.maxTokens) { budget -= opts.maxTokens - ev.result.tokens.length; bar?.setTotal(budget); }
        finished.push({ unit: chunk[ev.seq], res: ev.result });
      }
      await flush();
      const gs = gen.stats();
      result.promptMs += gs.promptMs;
      result.decodeMs += gs.decodeMs;
      result.tokens += gs.decodeTokens;
    }
    result.loopMs = performance.now() - loopStart;
    result.interrupted = !!signal?.aborted && result.kept < result.total;
    bar?.done(barExtra());
    result.wallMs = performance.now() - t0;
    return result;

    async function emit(done: { unit: Unit; res: SequenceResult }[]): Promise<void> {
      // probe scores: one capture pass over the finished texts, all needed layers at once
      const scores = new Map<string, number>();
      if (capCtx) {
        const tc = performance.now();
        const needLayers = sorted([...new Set(done.flatMap((d) => d.unit.cells.map((c) => c.layer)))]);
        // the exact generated tokens (re-tokenising the text gives the same ids save for rare non-canonical splits)
        const bos = model.info.addBos && model.info.bos >= 0 ? [model.info.bos] : [];
        const idx = done.map((d, i) => (bos.length + d.res.tokens.length > 0 ? i : -1)).filter((i) => i >= 0);
        const toks = idx.map((i) => Int32Array.from([...bos, ...done[i].res.tokens]));
        const cap = toks.length > 0
          ? await capCtx.capture(toks, { layers: needLayers, pool: 'mean', maxTokens: PROBE_SCORE_MAX_TOKENS, addSpecial: false })
          : null;
        idx.forEach((di, i) => {
          const d = done[di];
          for (const c of d.unit.cells) {
            const m = cap!.data.get(c.layer)!;
            const row = m.subarray(i * cap!.nEmbd, (i + 1) * cap!.nEmbd);
            const dir = probes.get(c.layer)!.direction;
            let s = 0;
            for (let j = 0; j < dir.length; j++) s += row[j] * dir[j];
            scores.set(cellKey(c), s);
          }
        });
        result.captureMs += performance.now() - tc;
      } else if (scoreMode === 'monitor') {
        for (const { unit, res } of done) {
          const n = res.tokens.length;
          if (n === 0 || !res.scores) continue;
          for (const c of unit.cells) {
            const sc = res.scores[monitorLayers.indexOf(c.layer)];
            let sum = 0;
            for (let t = 0; t < n; t++) sum += sc[t];
            const offset = unit.steerLayer === c.layer ? c.alpha * dirDot(c.layer) : 0;
            scores.set(cellKey(c), sum / n - offset);
          }
        }
      }
      const tw = performance.now();
      for (const { unit, res } of done) {
        for (const c of unit.cells) {
          const rec: SweepRecord = {
            model: modelKey, layer: c.layer, scenario: c.scenario, alpha: c.alpha, sample: c.sample, seed: unit.seed,
            text: res.text, tokens: res.tokens.length,
            ...(opts.tokenIds ? { token_ids: Array.from(res.tokens) } : {}),
            finish_reason: res.finishReason, n_prompt: res.nPrompt,
            timings: { prompt_ms: r6(res.promptMs), gen_ms: r6(res.genMs) },
          };
          if (opts.monitor) {
            const sc = res.scores![monitorLayers.indexOf(c.layer)];
            const n = sc.length;
            const s: number[] = new Array(n);
            let sum = 0;
            for (let t = 0; t < n; t++) { s[t] = r6(sc[t]); sum += sc[t]; }
            const offset = unit.steerLayer === c.layer ? c.alpha * dirDot(c.layer) : 0;
            rec.monitor = { layer: c.layer, mean: n > 0 ? r6(sum / n) : null, steer_offset: r6(offset), scores: s };
          }
          const ps = scores.get(cellKey(c));
          if (ps !== undefined) rec.probe_score = ps;
          appender!.append(rec);
          result.written++;
          result.kept++;
          opts.onSample?.(rec);
        }
      }
      result.writeMs += performance.now() - tw;
    }
  } finally {
    appender?.close();
    capCtx?.free();
    genCtx?.free();
    model.free();
  }
}

/** Total samples a sweep grid holds. */
export function gridSize(o: Pick<SweepOptions, 'layers' | 'alphas' | 'scenarios' | 'samples'>): number {
  return o.layers.length * o.alphas.length * o.scenarios.length * o.samples;
}
