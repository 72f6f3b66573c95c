// The model registry: models.json (package root) loaded, validated and looked up by short name.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EiaError } from '../util/errors.js';

/** Default generation settings of a model, as its publisher ships them (null = not set upstream). */
export interface SamplingDefaults {
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  repeatPenalty: number | null;
  /** Where the values come from. */
  source: string;
}

/** One downloadable GGUF model and the layers/alphas to use with it. */
export interface ModelEntry {
  /** Short id used on the command line and as the cache folder name. */
  name: string;
  description?: string;
  /** True for the paper's three models. */
  paper?: boolean;
  /** Hugging Face repository, "owner/name". */
  repo: string;
  /** File inside the repository (may contain "/" for sub-folders). */
  file: string;
  revision: string;
  /** Lower-case hex sha256 of the file, or null when not known. */
  sha256: string | null;
  sizeBytes: number | null;
  quant?: string;
  /** llama.cpp architecture name (general.architecture). */
  arch: string;
  /** Number of decoder blocks. */
  nLayer: number;
  /** Residual width (d_model). */
  nEmbd: number;
  probeLayers: number[];
  steerLayers: number[];
  alphas: number[];
  /** Context length to create contexts with. */
  nCtx: number;
  sampling: SamplingDefaults;
  /** Folder under the paper's results/probes, or null for models the paper did not use. */
  paperProbeDir: string | null;
  /** Chat template family hint: "chatml", "llama3", "phi3", ... */
  chatTemplate: string;
  notes?: string;
}

export interface ModelsFile {
  version: 1;
  models: ModelEntry[];
}

/** Location of models.json: the package root, from both lib/models/*.ts and dist/models/*.js. */
export const MODELS_JSON_URL = new URL('../../models.json', import.meta.url);

const NAME_RE = /^[a-z0-9][a-z0-9._-]*$/;
const REPO_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9._-]+$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Throws unless `name` can be used as one path component inside the cache: lower-case letters,
 * digits, ".", "_" and "-", starting with a letter or digit, no "..", no separators, no NUL.
 */
export function assertSafeName(name: unknown, what = 'model name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new EiaError('E_BAD_ARG', `Invalid ${what}: must be a non-empty string`);
  if (name.includes('\0')) throw new EiaError('E_BAD_ARG', `Invalid ${what} ${JSON.stringify(name)}: contains a NUL character`);
  if (name.includes('/') || name.includes('\\')) {
    throw new EiaError('E_BAD_ARG', `Invalid ${what} ${JSON.stringify(name)}: path separators are not allowed (it would escape the model cache)`);
  }
  if (name.includes('..')) throw new EiaError('E_BAD_ARG', `Invalid ${what} ${JSON.stringify(name)}: ".." is not allowed (it would escape the model cache)`);
  if (name.length > 100 || !NAME_RE.test(name)) {
    throw new EiaError('E_BAD_ARG', `Invalid ${what} ${JSON.stringify(name)}: use lower-case letters, digits, ".", "_" and "-" (at most 100 characters)`);
  }
}

/**
 * Throws unless `file` is a safe relative path inside a repository/cache folder: "/"-separated
 * segments, none empty, "." or "..", no backslash, no drive letter, not absolute, no NUL.
 */
export function assertSafeRelativeFile(file: unknown, what = 'model file'): asserts file is string {
  if (typeof file !== 'string' || file.length === 0) throw new EiaError('E_BAD_ARG', `Invalid ${what}: must be a non-empty string`);
  const show = JSON.stringify(file);
  if (file.includes('\0')) throw new EiaError('E_BAD_ARG', `Invalid ${what} ${show}: contains a NUL character`);
  if (file.startsWith('/') || /^[A-Za-z]:/.test(file)) {
    throw new EiaError('E_BAD_ARG', `Invalid ${what} ${show}: absolute paths are not allowed (it would escape the model cache)`);
  }
  if (file.includes('\\')) throw new EiaError('E_BAD_ARG', `Invalid ${what} ${show}: backslashes are not allowed`);
  for (const seg of file.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') {
      throw new EiaError('E_BAD_ARG', `Invalid ${what} ${show}: empty, "." and ".." path segments are not allowed (it would escape the model cache)`);
    }
  }
  if (file.endsWith('.part') || file.endsWith('.lock') || file.endsWith('.verified.json')) {
    throw new EiaError('E_BAD_ARG', `Invalid ${what} ${show}: this suffix is reserved for download bookkeeping`);
  }
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function numOrNull(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isFinite(v));
}

/** Validates one entry (throws with the entry's name and the offending field); returns it typed. */
export function validateModelEntry(raw: unknown, where = 'model entry'): ModelEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new EiaError('E_BAD_ARG', `${where}: must be an object`);
  const e = raw as Record<string, unknown>;
  assertSafeName(e.name, `${where} name`);
  const at = `model "${e.name}"`;
  const fail = (msg: string): never => {
    throw new EiaError('E_BAD_ARG', `${at}: ${msg}`);
  };
  if (typeof e.repo !== 'string' || !REPO_RE.test(e.repo) || e.repo.includes('..')) fail(`repo must look like "owner/name" (got ${JSON.stringify(e.repo)})`);
  assertSafeRelativeFile(e.file, `${at} file`);
  if (typeof e.revision !== 'string' || e.revision.length === 0 || e.revision.includes('..') || !/^[A-Za-z0-9._/-]+$/.test(e.revision)) {
    fail(`revision must be a branch, tag or commit (got ${JSON.stringify(e.revision)})`);
  }
  if (e.sha256 !== null && (typeof e.sha256 !== 'string' || !SHA256_RE.test(e.sha256))) fail('sha256 must be 64 lower-case hex digits or null');
  if (e.sizeBytes !== null && (!isInt(e.sizeBytes) || e.sizeBytes <= 0)) fail('sizeBytes must be a positive integer or null');
  if (typeof e.arch !== 'string' || e.arch.length === 0) fail('arch must be a non-empty string');
  if (!isInt(e.nLayer) || e.nLayer <= 0) fail('nLayer must be a positive integer');
  if (!isInt(e.nEmbd) || e.nEmbd <= 0) fail('nEmbd must be a positive integer');
  const nLayer = e.nLayer as number;
  const layers = (key: 'probeLayers' | 'steerLayers'): number[] => {
    const v = e[key];
    if (!Array.isArray(v) || v.length === 0) fail(`${key} must be a non-empty array`);
    const arr = v as unknown[];
    for (const l of arr) if (!isInt(l) || l < 0 || l >= nLayer) fail(`${key} holds ${JSON.stringify(l)}: layers must be integers in [0, ${nLayer - 1}]`);
    if (new Set(arr).size !== arr.length) fail(`${key} has duplicates`);
    return arr as number[];
  };
  const probe = layers('probeLayers');
  const steer = layers('steerLayers');
  for (const l of steer) if (!probe.includes(l)) fail(`steer layer ${l} is not among probeLayers (steering needs that layer's probe)`);
  if (!Array.isArray(e.alphas) || e.alphas.length === 0) fail('alphas must be a non-empty array');
  const alphas = e.alphas as unknown[];
  for (const a of alphas) if (typeof a !== 'number' || !Number.isFinite(a)) fail(`alphas holds ${JSON.stringify(a)}: must be finite numbers`);
  if (new Set(alphas).size !== alphas.length) fail('alphas has duplicates');
  if (!alphas.includes(0)) fail('alphas must include 0 (the unsteered baseline)');
  if (!isInt(e.nCtx) || e.nCtx < 64) fail('nCtx must be an integer >= 64');
  const s = e.sampling as Record<string, unknown> | undefined;
  if (!s || typeof s !== 'object' || Array.isArray(s)) fail('sampling must be an object');
  const samp = s as Record<string, unknown>;
  for (const k of ['temperature', 'topP', 'topK', 'repeatPenalty']) {
    if (!numOrNull(samp[k])) fail(`sampling.${k} must be a number or null`);
  }
  if (typeof samp.source !== 'string' || samp.source.length === 0) fail('sampling.source must say where the values come from');
  if (e.paperProbeDir !== null) assertSafeName(e.paperProbeDir, `${at} paperProbeDir`);
  if (typeof e.chatTemplate !== 'string' || e.chatTemplate.length === 0) fail('chatTemplate must be a non-empty string');
  for (const k of ['description', 'notes', 'quant'] as const) {
    if (e[k] !== undefined && typeof e[k] !== 'string') fail(`${k} must be a string when present`);
  }
  if (e.paper !== undefined && typeof e.paper !== 'boolean') fail('paper must be a boolean when present');
  return e as unknown as ModelEntry;
}

/** Validates a parsed models.json; throws a message naming the first problem. */
export function validateModelsFile(raw: unknown): ModelsFile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new EiaError('E_BAD_ARG', 'models.json: top level must be an object');
  const o = raw as Record<string, unknown>;
  if (o.version !== 1) throw new EiaError('E_BAD_ARG', `models.json: unsupported version ${JSON.stringify(o.version)} (expected 1)`);
  if (!Array.isArray(o.models) || o.models.length === 0) throw new EiaError('E_BAD_ARG', 'models.json: "models" must be a non-empty array');
  const models = o.models.map((m, i) => validateModelEntry(m, `models.json models[${i}]`));
  const seen = new Set<string>();
  for (const m of models) {
    if (seen.has(m.name)) throw new EiaError('E_BAD_ARG', `models.json: duplicate model name "${m.name}"`);
    seen.add(m.name);
  }
  return { version: 1, models };
}

let cached: ModelsFile | undefined;

/** Reads and validates models.json (default: the package's own, cached after the first read). */
export function loadModels(path?: string | URL): ModelsFile {
  if (path === undefined && cached) return cached;
  const src = path ?? MODELS_JSON_URL;
  const shown = src instanceof URL ? fileURLToPath(src) : src;
  let text: string;
  try {
    text = readFileSync(src, 'utf8');
  } catch (err) {
    throw new EiaError('E_BAD_ARG', `Cannot read the model registry ${shown}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EiaError('E_BAD_ARG', `Model registry ${shown} is not valid JSON: ${(err as Error).message}`);
  }
  const file = validateModelsFile(parsed);
  if (path === undefined) cached = file;
  return file;
}

/** All registered models, in file order. */
export function listModels(): ModelEntry[] {
  return loadModels().models.slice();
}

/** The paper's three models. */
export function paperModels(): ModelEntry[] {
  return listModels().filter((m) => m.paper === true);
}

/** The entry with this name, or undefined. */
export function findModel(name: string): ModelEntry | undefined {
  return loadModels().models.find((m) => m.name === name);
}

/** The entry with this name; an unknown name throws an error listing the known names. */
export function getModel(name: string): ModelEntry {
  const m = findModel(name);
  if (!m) {
    const known = loadModels().models.map((x) => x.name).join(', ');
    throw new EiaError('E_BAD_ARG', `Unknown model "${name}". Known models: ${known}`);
  }
  return m;
}
