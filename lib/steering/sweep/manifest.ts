// RUN/manifest.json of a sweep: the parameters that define the RUN, written atomically before any
// sample. A later call on the same RUN must ask for the same parameters (it resumes); a RUN made
// with other parameters is refused with the list of differing fields. A shard (shard.ts) records
// its part of the grid and the grid's identity (grid-id.ts); a RUN of one shard resumes only as
// that shard.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Model } from '../../engine/model.js';
import { runtimeInfo } from '../../engine/runtime-info.js';
import { fileSha256 } from '../../io/file-hash.js';
import { RUN_FILES } from '../../io/run-folder.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError, FieldError } from '../../util/errors.js';
import { packageVersion } from '../../util/package.js';
import { steeringPrompt } from '../scenarios.js';
import { gridId } from './grid-id.js';
import type { ProbeScoreMode, SweepOptions } from './options.js';
import { MAX_SWEEP_SAMPLES, sorted, type SweepInput } from './plan.js';
import { checkShardCount, formatShard, type GridPartition, type ShardSpec } from './shard.js';

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
  /** gridId(parameters): the same for every shard of this grid (absent in RUNs written before shards). */
  grid_id?: string;
  /** The part of the grid this RUN holds (absent: the whole grid). */
  shard?: ShardRecord;
  /** A RUN written by merge: the RUNs it was merged from. */
  merged_from?: { path: string; shard: string | null; samples: number }[];
}

/** A shard as its manifest records it: which part, and its load (shard.ts). */
export interface ShardRecord extends ShardSpec {
  generations: number;
  cells: number;
  token_cost: number;
  grid_cells: number;
  grid_token_cost: number;
}

/** The shard of a manifest as "I/N", or null for a RUN of the whole grid. */
export const manifestShard = (m: Pick<SweepManifest, 'shard'>): string | null => (m.shard ? formatShard(m.shard) : null);

/** The record of shard `spec` of a grid split by `part`. */
export function shardRecord(spec: ShardSpec, part: GridPartition): ShardRecord {
  const own = part.load(spec.index);
  return {
    index: spec.index, count: spec.count, generations: own.generations, cells: own.cells, token_cost: own.token_cost,
    grid_cells: part.total.cells, grid_token_cost: part.total.token_cost,
  };
}

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

/** The parameters of this call (hashes the model, the probe files and the prompts). */
export async function sweepParameters(input: SweepInput, opts: SweepOptions): Promise<{ params: SweepParameters; probeFiles: Record<string, string> }> {
  const probeFiles: Record<string, string> = {};
  const probeHashes: Record<string, string> = {};
  for (const l of sorted(input.layers)) {
    const f = join(input.probesDir, `layer${l}.npy`);
    probeFiles[String(l)] = f;
    probeHashes[String(l)] = await fileSha256(f);
  }
  const prompts = sorted(input.scenarioIds).map((id) => [id, steeringPrompt(input.scenarios.find((s) => s.id === id)!)]);
  const { temperature, topK, topP, minP } = input.sampling;
  const params: SweepParameters = {
    model_sha256: await fileSha256(input.modelPath), layers: input.layers, alphas: input.alphas, scenarios: input.scenarioIds,
    samples: opts.samples, max_tokens: opts.maxTokens, temperature, top_k: topK, top_p: topP, min_p: minP, seed: opts.seed,
    chat: !!opts.chat, monitor: !!opts.monitor, probe_score: input.scoreMode, positions: 'all', probes: probeHashes,
    prompts_sha256: createHash('sha256').update(JSON.stringify(prompts)).digest('hex'),
  };
  return { params, probeFiles };
}

/** Reads a sweep manifest (E_CONFLICT when it is not one). */
export function readManifest(path: string): SweepManifest {
  let m: SweepManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new EiaError('E_CONFLICT', `${path} is not valid JSON (${(e as Error).message}); use another RUN folder`);
  }
  if (m?.format !== 'eia-native-sweep' || typeof m.parameters !== 'object' || m.parameters === null) {
    throw new EiaError('E_CONFLICT', `${path} is not an eia-native sweep manifest; use another RUN folder`);
  }
  checkManifestGrid(path, m);
  return m;
}

/**
 * The grid and the shard a manifest describes, bounded as a sweep's own are (plan.ts, shard.ts):
 * readers build the grid and its split from them, so a damaged or hand-edited manifest (samples
 * 10^9, a shard count 10^9) is refused by name instead of being allocated.
 */
function checkManifestGrid(path: string, m: SweepManifest): void {
  const p = m.parameters;
  const bad = (what: string): never => { throw new EiaError('E_CONFLICT', `${path}: ${what}; not a sweep eia-native wrote (use another RUN folder)`); };
  const ints = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);
  if (!ints(p.layers)) bad('parameters.layers is not a list of blocks');
  if (!Array.isArray(p.alphas) || p.alphas.length === 0 || !p.alphas.every((x) => typeof x === 'number' && Number.isFinite(x))) bad('parameters.alphas is not a list of numbers');
  if (!Array.isArray(p.scenarios) || p.scenarios.length === 0 || !p.scenarios.every((x) => typeof x === 'string')) bad('parameters.scenarios is not a list of scenario ids');
  if (!Number.isInteger(p.samples) || p.samples < 1) bad('parameters.samples is not a positive integer');
  if (!Number.isInteger(p.max_tokens) || p.max_tokens < 1) bad('parameters.max_tokens is not a positive integer');
  const cells = p.layers.length * p.alphas.length * p.scenarios.length * p.samples;
  if (cells > MAX_SWEEP_SAMPLES) bad(`its grid holds ${cells} samples, more than a RUN holds (${MAX_SWEEP_SAMPLES})`);
  const s = m.shard;
  if (s === undefined || s === null) return;
  if (!(Number.isInteger(s.count) && s.count >= 1 && Number.isInteger(s.index) && s.index >= 0 && s.index < s.count)) {
    bad(`its shard ${JSON.stringify({ index: s.index, count: s.count })} is not a part I/N with 0 <= I < N`);
  }
  try {
    checkShardCount({ layers: p.layers, alphas: p.alphas, scenarios: p.scenarios, samples: p.samples, maxTokens: p.max_tokens }, s.count);
  } catch (e) {
    bad(`its shard ${formatShard(s)}: ${(e as Error).message.replace(/^shard: /, '')}`);
  }
}

/**
 * Checks, before the model loads and before anything is written, that the RUN folder can hold this
 * sweep: no samples.jsonl without its manifest, no manifest of other parameters or of another
 * shard (a RUN of one shard resumes only as that shard). Each is
 * E_CONFLICT naming the differences, unless `force`: then the answer is true, "replace it" (the
 * caller moves the old sweep aside once every other check has passed).
 */
export function checkRunFolder(out: string, params: SweepParameters, force: boolean, shard: ShardSpec | null = null): boolean {
  const manifestPath = join(out, RUN_FILES.manifest);
  const samplesPath = join(out, RUN_FILES.samples);
  if (!existsSync(manifestPath)) {
    if (!existsSync(samplesPath)) return false;
    if (force) return true;
    throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${samplesPath} exists without ${RUN_FILES.manifest}: cannot tell its parameters; use another RUN folder (or ${n('force')} to replace it)`);
  }
  let m: SweepManifest;
  try {
    m = readManifest(manifestPath);
  } catch (e) {
    if (force) return true;
    throw e;
  }
  const diff = diffParameters(m.parameters, params);
  if (diff.length > 0) {
    if (force) return true;
    throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds a sweep with other parameters; use another RUN folder, the original parameters, or ${n('force')} to replace it. Differing:\n  ${diff.join('\n  ')}`);
  }
  const have = manifestShard(m), want = shard ? formatShard(shard) : null;
  if (have === want) return false;
  if (force) return true;
  throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${out} holds ${shardWords(have)} of this sweep, this call asks for ${shardWords(want)}; give each shard its own RUN folder (or ${n('force')} to replace it)`);
}

const shardWords = (s: string | null): string => (s ? `shard ${s}` : 'the whole grid (no shard)');

/**
 * Opens the RUN's manifest: an existing one must hold the same parameters (else E_CONFLICT naming
 * the differing fields) and the same shard (or none); otherwise the folder and a new manifest are
 * written. Returns the model key in use (an existing RUN keeps its own).
 */
export function openManifest(input: SweepInput, model: Model, params: SweepParameters, probeFiles: Record<string, string>,
  modelKey: string | undefined, log: (msg: string) => void, shard: ShardRecord | null = null): { modelKey: string } {
  const manifestPath = join(input.out, RUN_FILES.manifest);
  const llamaCommit = runtimeInfo().llamaCommit;
  const version = packageVersion();
  const key = modelKey ?? basename(input.modelPath).replace(/\.gguf$/i, '');
  if (existsSync(manifestPath)) {
    const m = readManifest(manifestPath);
    const diff = diffParameters(m.parameters, params);
    if (diff.length > 0) {
      throw new EiaError('E_CONFLICT', `${input.out} holds a sweep with other parameters; use another RUN folder or the original parameters. Differing:\n  ${diff.join('\n  ')}`);
    }
    const have = manifestShard(m), want = shard ? formatShard(shard) : null;
    if (have !== want) {
      throw new EiaError('E_CONFLICT', `${input.out} holds ${shardWords(have)} of this sweep, this call asks for ${shardWords(want)}; give each shard its own RUN folder`);
    }
    if (m.llama_commit !== llamaCommit) log(`note: RUN was started with llama.cpp ${m.llama_commit}, this build is ${llamaCommit}`);
    if (m.package_version !== version) log(`note: RUN was started with eia-native ${m.package_version}, this is ${version}`);
    return { modelKey: m.model?.key ?? key };
  }
  mkdirSync(input.out, { recursive: true });
  const manifest: SweepManifest = {
    format: 'eia-native-sweep', version: 1, created_at: new Date().toISOString(),
    model: { path: input.modelPath, sha256: params.model_sha256, key, arch: model.info.arch, n_layer: model.nLayer, n_embd: model.nEmbd },
    llama_commit: llamaCommit, package_version: version, probes_dir: input.probesDir, probe_files: probeFiles, parameters: params,
    grid_id: gridId(params), ...(shard ? { shard } : {}),
  };
  writeJsonAtomic(manifestPath, manifest);
  return { modelKey: key };
}
