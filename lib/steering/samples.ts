// samples.jsonl: one record per steered generation. SweepRecord is what `steer` writes;
// SampleRecord is what scoring reads, whoever produced it: eia-native's own samples.jsonl and the
// paper's raw result files both become SampleRecord[], so scoring has a single input. The record
// validator lives here, next to the types, and every reader of samples.jsonl goes through it.

import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseJsonl, readJsonl, type JsonlRead, type TornTail } from '../io/jsonl.js';
import { EiaError } from '../util/errors.js';
import { readTextFile } from '../io/input.js';

/** One steered generation. */
export interface SampleRecord {
  /** Model key as used in the tables (e.g. "qwen2.5-7b"). */
  model: string;
  /** Block whose output was steered (0-based). */
  layer: number;
  /** Scenario id. */
  scenario: string;
  /** Steering strength; 0 is the unsteered baseline. */
  alpha: number;
  /** Index of the sample within its (model, layer, scenario, alpha) condition. */
  sample: number;
  seed?: number;
  /** Generated text (prompt excluded). */
  text: string;
  /** Generated token count, or the generated token ids. */
  tokens?: number | number[];
  /** The generated token ids, when the sweep stored them (`steer --token-ids`): what the fluency measure reads back. */
  token_ids?: number[];
  finish_reason?: string;
  /** Named durations (e.g. milliseconds per phase). */
  timings?: Record<string, number>;
  /** Whatever the online monitor recorded for this generation (opaque here). */
  monitor?: unknown;
  /** Probe score of the generated text, used for the dose-response measure. */
  probe_score?: number;
}

/** One line of samples.jsonl as `steer` writes it. */
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
  /** dot(mean-pooled activation of the generated text at block `layer`, probe direction), unsteered. */
  probe_score?: number;
}

/** Input formats accepted by readSamples(). */
export type SampleFormat = 'eia-native' | 'empathy-probes';

/**
 * Parses eia-native's samples.jsonl text: one record per line, blank lines ignored. An invalid
 * line (a torn last line too, unless tornTail is 'drop') raises an error naming the line.
 */
export function parseSamplesJsonl(text: string, source = 'samples.jsonl', tornTail: 'error' | 'drop' = 'error'): SampleRecord[] {
  return parseJsonl(text, source, { tornTail, each: validateRecord }).records;
}

/** A samples file as read: the records (each key once), whether a torn last line was met, and the duplicate lines dropped. */
export interface SamplesRead extends JsonlRead<SampleRecord> {
  /** Lines whose sample key (sampleKey) an earlier line already had: left out, the first is kept. */
  duplicates: number;
}

/**
 * Reads a samples.jsonl file with the given torn-tail policy (io/jsonl.ts): 'error' for a file
 * that must be whole, 'drop' for a reader of a RUN another process may have been killed writing,
 * 'repair' for the sweep resuming its own file. `torn` says whether a torn last line was met.
 * A sample key met again (two writers, a line copied by hand) counts once: the first line is kept
 * and `duplicates` says how many were dropped, so that no reader counts a sample twice.
 */
export function readSamplesFile(path: string, tornTail: TornTail = 'error'): SamplesRead {
  let read: JsonlRead<SampleRecord>;
  try {
    read = readJsonl(path, { tornTail, each: validateRecord });
  } catch (e) {
    if ((e as EiaError).code === 'E_IO') throw new EiaError('E_IO', `Cannot read samples file ${path}: ${(e as Error).message}`, { cause: e });
    throw e;
  }
  const { records, duplicates } = dropDuplicateSamples(read.records);
  return { records, torn: read.torn, duplicates };
}

/** Reads eia-native's samples.jsonl (every line must be whole; each sample key once). */
export function readSamplesJsonl(path: string): SampleRecord[] {
  return readSamplesFile(path).records;
}

/** The identity of a sample: (model, layer, scenario, alpha, sample); -0 and 0 are one alpha. */
export function sampleKey(r: Pick<SampleRecord, 'model' | 'layer' | 'scenario' | 'alpha' | 'sample'>): string {
  return JSON.stringify([r.model, r.layer, r.scenario, r.alpha === 0 ? 0 : r.alpha, r.sample]);
}

/** The records with each sample key once (the first is kept) and the number left out. */
export function dropDuplicateSamples<T extends SampleRecord>(records: readonly T[]): { records: T[]; duplicates: number } {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const r of records) {
    const k = sampleKey(r);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return { records: out, duplicates: records.length - out.length };
}

/** The note for people about dropped duplicates (null when none). */
export function duplicatesNote(file: string, duplicates: number): string | null {
  if (duplicates === 0) return null;
  return `warning: ${file}: ${duplicates} duplicate sample ${duplicates === 1 ? 'line' : 'lines'} ignored (a sample key ` +
    `(model, layer, scenario, alpha, sample) counts once; the first line of each is kept)`;
}

/** Check one decoded record and copy its known fields; throws naming `where` and the field. */
export function validateRecord(data: unknown, where: string): SampleRecord {
  if (!isObject(data)) throw new EiaError('E_BAD_ARG', `${where}: expected a JSON object`);
  const fail = (msg: string): never => {
    throw new EiaError('E_BAD_ARG', `${where}: ${msg}`);
  };
  const nonEmpty = (k: string): string => {
    const v = data[k];
    return typeof v === 'string' && v !== '' ? v : fail(`"${k}" must be a non-empty string, got ${JSON.stringify(v)}`);
  };
  const index = (k: string): number => {
    const v = data[k];
    return Number.isInteger(v) && (v as number) >= 0 ? (v as number) : fail(`"${k}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  };
  const alpha = data.alpha;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail(`"alpha" must be a finite number, got ${JSON.stringify(alpha)}`);
  if (typeof data.text !== 'string') fail(`"text" must be a string, got ${JSON.stringify(data.text)}`);
  const rec: SampleRecord = {
    model: nonEmpty('model'),
    layer: index('layer'),
    scenario: nonEmpty('scenario'),
    alpha: alpha as number,
    sample: index('sample'),
    text: data.text as string,
  };
  if (data.seed !== undefined && data.seed !== null) {
    if (typeof data.seed !== 'number' || !Number.isFinite(data.seed)) fail(`"seed" must be a number`);
    rec.seed = data.seed as number;
  }
  if (data.tokens !== undefined && data.tokens !== null) {
    const t = data.tokens;
    const ok = (typeof t === 'number' && Number.isInteger(t) && t >= 0) || (Array.isArray(t) && t.every((x) => Number.isInteger(x)));
    if (!ok) fail(`"tokens" must be a token count or an array of token ids`);
    rec.tokens = t as number | number[];
  }
  if (data.token_ids !== undefined && data.token_ids !== null) {
    const t = data.token_ids;
    if (!Array.isArray(t) || !t.every((x) => Number.isInteger(x) && x >= 0)) fail(`"token_ids" must be an array of token ids`);
    rec.token_ids = [...(t as number[])];
  }
  if (data.finish_reason !== undefined && data.finish_reason !== null) {
    if (typeof data.finish_reason !== 'string') fail(`"finish_reason" must be a string`);
    rec.finish_reason = data.finish_reason as string;
  }
  if (data.timings !== undefined && data.timings !== null) {
    const t = data.timings;
    if (!isObject(t) || !Object.values(t).every((v) => typeof v === 'number')) fail(`"timings" must be an object of numbers`);
    rec.timings = { ...(t as Record<string, number>) };
  }
  if (data.monitor !== undefined) rec.monitor = data.monitor;
  if (data.probe_score !== undefined && data.probe_score !== null) {
    if (typeof data.probe_score !== 'number' || !Number.isFinite(data.probe_score)) {
      fail(`"probe_score" must be a finite number, got ${JSON.stringify(data.probe_score)}`);
    }
    rec.probe_score = data.probe_score as number;
  }
  return rec;
}

// The paper's file for Phi-3 carries no model_key; its CSV uses these keys for the Hugging Face ids.
const EMPATHY_PROBES_MODEL_KEYS: Record<string, string> = {
  'Qwen/Qwen2.5-7B-Instruct': 'qwen2.5-7b',
  'cognitivecomputations/dolphin-2.9.4-llama3.1-8b': 'dolphin-llama-3.1-8b',
  'microsoft/Phi-3-mini-4k-instruct': 'phi-3-mini-4k',
};

const STEERING_FILE_SUFFIX = '_steering_multilayer.json';

/**
 * The model key the paper's steering_success_summary.csv uses for one raw file: its `model_key`
 * when present, else the file-name stem before `_steering_multilayer.json`, else a known
 * Hugging Face id, else the id's last path segment lower-cased.
 */
export function empathyProbesModelKey(data: Record<string, unknown>, fileName?: string): string {
  if (typeof data.model_key === 'string' && data.model_key !== '') return data.model_key;
  const base = fileName ? basename(fileName) : '';
  if (base.endsWith(STEERING_FILE_SUFFIX) && base.length > STEERING_FILE_SUFFIX.length) {
    return base.slice(0, -STEERING_FILE_SUFFIX.length);
  }
  if (typeof data.model === 'string' && data.model !== '') {
    return EMPATHY_PROBES_MODEL_KEYS[data.model] ?? data.model.split('/').pop()!.toLowerCase();
  }
  throw new EiaError('E_BAD_ARG', `${fileName ?? 'steering results'}: cannot tell the model (no "model_key", "model" or recognisable file name)`);
}

/**
 * Convert one of the paper's `*_steering_multilayer.json` objects:
 * `layer_results[].experiments[]` (one per scenario) `.conditions[]` (`alpha`, `samples`: texts).
 */
export function parseEmpathyProbesSteering(data: unknown, fileName = 'steering results'): SampleRecord[] {
  if (!isObject(data)) throw new EiaError('E_BAD_ARG', `${fileName}: expected a JSON object`);
  const model = empathyProbesModelKey(data, fileName);
  if (!Array.isArray(data.layer_results)) throw new EiaError('E_BAD_ARG', `${fileName}: missing array "layer_results"`);
  const out: SampleRecord[] = [];
  data.layer_results.forEach((lr: unknown, li: number) => {
    const lw = `${fileName}: layer_results[${li}]`;
    if (!isObject(lr)) throw new EiaError('E_BAD_ARG', `${lw}: expected an object`);
    if (!Number.isInteger(lr.layer) || (lr.layer as number) < 0) throw new EiaError('E_BAD_ARG', `${lw}: "layer" must be a non-negative integer, got ${JSON.stringify(lr.layer)}`);
    if (!Array.isArray(lr.experiments)) throw new EiaError('E_BAD_ARG', `${lw}: missing array "experiments"`);
    lr.experiments.forEach((ex: unknown, ei: number) => {
      const ew = `${lw}.experiments[${ei}]`;
      if (!isObject(ex)) throw new EiaError('E_BAD_ARG', `${ew}: expected an object`);
      if (typeof ex.scenario !== 'string' || ex.scenario === '') throw new EiaError('E_BAD_ARG', `${ew}: "scenario" must be a non-empty string`);
      if (!Array.isArray(ex.conditions)) throw new EiaError('E_BAD_ARG', `${ew}: missing array "conditions"`);
      ex.conditions.forEach((c: unknown, ci: number) => {
        const cw = `${ew}.conditions[${ci}]`;
        if (!isObject(c)) throw new EiaError('E_BAD_ARG', `${cw}: expected an object`);
        if (typeof c.alpha !== 'number' || !Number.isFinite(c.alpha)) throw new EiaError('E_BAD_ARG', `${cw}: "alpha" must be a finite number, got ${JSON.stringify(c.alpha)}`);
        if (!Array.isArray(c.samples)) throw new EiaError('E_BAD_ARG', `${cw}: missing array "samples"`);
        c.samples.forEach((text: unknown, si: number) => {
          if (typeof text !== 'string') throw new EiaError('E_BAD_ARG', `${cw}.samples[${si}]: expected a string`);
          out.push({ model, layer: lr.layer as number, scenario: ex.scenario as string, alpha: c.alpha as number, sample: si, text });
        });
      });
    });
  });
  return out;
}

/**
 * Read samples from a file in either format. For `empathy-probes` the path may also be a
 * directory: every `*_steering_multilayer.json` in it is read, in name order.
 */
export function readSamples(path: string, format: SampleFormat = 'eia-native'): SampleRecord[] {
  if (format === 'eia-native') return readSamplesJsonl(path);
  if (format !== 'empathy-probes') throw new EiaError('E_BAD_ARG', `Unknown samples format "${String(format)}" (expected eia-native or empathy-probes)`);
  let files = [path];
  if (isDirectory(path)) {
    files = readdirSync(path).filter((f) => f.endsWith(STEERING_FILE_SUFFIX)).sort().map((f) => join(path, f));
    if (files.length === 0) throw new EiaError('E_BAD_ARG', `${path}: no *${STEERING_FILE_SUFFIX} files`);
  }
  return files.flatMap((f) => {
    const text = readText(f);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new EiaError('E_BAD_ARG', `${f}: invalid JSON: ${(err as Error).message}`);
    }
    return parseEmpathyProbesSteering(data, f);
  });
}

function readText(path: string): string {
  try {
    return readTextFile(path);
  } catch (err) {
    if (err instanceof EiaError && err.code !== 'E_IO') throw err;
    throw new EiaError('E_IO', `Cannot read samples file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    throw new EiaError('E_IO', `Cannot read samples path ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
