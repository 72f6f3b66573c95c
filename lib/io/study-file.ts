// A study file (`eia-native study FILE`): the study's models and grid in JSON or YAML (the `yaml`
// package reads YAML 1.2, of which JSON is a subset). Keys are snake_case; relative paths are taken
// relative to the file's folder. Every key and type is checked here; what the values mean (model
// names, blocks in range) is checked where they are used.
//
//   out: studies/paper                 # the STUDY folder
//   models:                            # names from models.json, GGUF paths, name=path, or objects
//     - phi-3-mini
//     - q8=planted.q8_0.gguf
//     - { name: dolphin, model: dolphin.gguf, layers: [8, 12, 16], steer_layers: [8, 12], alphas: [-10, 0, 10] }
//   datasets: { train: train.jsonl, test: test.jsonl, ablated: ablated.jsonl, texts: eia_texts.jsonl }
//   layers: [8, 12, 16]                # every model's (a model's own list wins)
//   steer_layers: [12]
//   alphas: [-10, -5, 0, 5, 10]
//   scenarios: [food_delivery, the_listener]
//   samples: 5
//   max_tokens: 200
//   seed: 0
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';

export interface StudyFileModel {
  /** a models.json name, a GGUF path (resolved against the file's folder when it names an existing file), or name=path */
  model: string;
  name?: string;
  layers?: number[];
  steer_layers?: number[];
  alphas?: number[];
}

export interface StudyFile {
  out?: string;
  models: StudyFileModel[];
  train?: string;
  test?: string;
  ablated?: string;
  texts?: string;
  layers?: number[];
  steer_layers?: number[];
  alphas?: number[];
  scenarios?: string[];
  samples?: number;
  max_tokens?: number;
  seed?: number;
  threads?: number;
  truncate?: number;
  random_baseline?: number;
  permutations?: number;
  k?: number;
  temp?: number;
  top_k?: number;
  chat?: boolean;
}

const TOP_KEYS = ['out', 'models', 'datasets', 'train', 'test', 'ablated', 'texts', 'layers', 'steer_layers', 'alphas', 'scenarios', 'samples', 'max_tokens',
  'seed', 'threads', 'truncate', 'random_baseline', 'permutations', 'k', 'temp', 'top_k', 'chat'];
const MODEL_KEYS = ['name', 'model', 'layers', 'steer_layers', 'alphas'];
const DATASET_KEYS = ['train', 'test', 'ablated', 'texts'];

/** Reads and checks a study file (JSON or YAML). E_BAD_ARG naming the file and the key. */
export function readStudyFile(path: string): StudyFile {
  const text = io(() => readFileSync(path, 'utf8'));
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new EiaError('E_BAD_ARG', `${path}: not valid JSON or YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const base = dirname(resolve(path));
  const bad = (key: string, want: string): never => { throw new EiaError('E_BAD_ARG', `${path}: "${key}" must be ${want}`); };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(raw)) bad('the file', 'a mapping (models, datasets, layers, alphas, ...)');
  const r = raw as Record<string, unknown>;
  const unknown = (o: Record<string, unknown>, keys: string[], where: string) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) throw new EiaError('E_BAD_ARG', `${path}: unknown key "${where}${k}" (known: ${keys.join(', ')})`);
  };
  unknown(r, TOP_KEYS, '');
  const ints = (v: unknown, key: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x))) bad(key, 'a non-empty list of integers');
    return v as number[];
  };
  const nums = (v: unknown, key: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(key, 'a non-empty list of numbers');
    return v as number[];
  };
  const int = (v: unknown, key: string) => {
    if (v === undefined) return undefined;
    if (!Number.isInteger(v)) bad(key, 'an integer');
    return v as number;
  };
  const file = (v: unknown, key: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) bad(key, 'a file path');
    return isAbsolute(v as string) ? (v as string) : resolve(base, v as string);
  };
  if (!Array.isArray(r.models) || r.models.length === 0) bad('models', 'a non-empty list');
  // a path (it has a folder or ends in .gguf) is taken relative to the file; a models.json name stays as it is
  const modelRef = (v: string) => (/[\\/]/.test(v) || /\.gguf$/i.test(v) ? (isAbsolute(v) ? v : resolve(base, v)) : v);
  const models = (r.models as unknown[]).map((m, i): StudyFileModel => {
    const key = `models[${i}]`;
    if (typeof m === 'string') {
      if (m.length === 0) bad(key, 'a model name or path');
      const eq = m.indexOf('=');
      return eq > 0 ? { name: m.slice(0, eq), model: modelRef(m.slice(eq + 1)) } : { model: modelRef(m) };
    }
    if (!isObj(m)) bad(key, 'a model name, a path, or {name, model, layers, steer_layers, alphas}');
    const o = m as Record<string, unknown>;
    unknown(o, MODEL_KEYS, `${key}.`);
    if (typeof o.model !== 'string' || o.model.length === 0) bad(`${key}.model`, 'a model name or path');
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) bad(`${key}.name`, 'a non-empty string');
    return {
      model: modelRef(o.model as string), ...(o.name !== undefined ? { name: o.name as string } : {}),
      layers: ints(o.layers, `${key}.layers`), steer_layers: ints(o.steer_layers, `${key}.steer_layers`), alphas: nums(o.alphas, `${key}.alphas`),
    };
  });
  const ds = r.datasets === undefined ? {} : isObj(r.datasets) ? r.datasets : bad('datasets', 'a mapping {train, test, ablated, texts}');
  unknown(ds as Record<string, unknown>, DATASET_KEYS, 'datasets.');
  const d = ds as Record<string, unknown>;
  for (const k of DATASET_KEYS) if (d[k] !== undefined && r[k] !== undefined) bad(k, 'given once (at the top or under datasets)');
  if (r.scenarios !== undefined && (!Array.isArray(r.scenarios) || r.scenarios.length === 0 || !r.scenarios.every((x) => typeof x === 'string'))) bad('scenarios', 'a non-empty list of scenario ids');
  if (r.chat !== undefined && typeof r.chat !== 'boolean') bad('chat', 'true or false');
  if (r.temp !== undefined && !(typeof r.temp === 'number' && Number.isFinite(r.temp))) bad('temp', 'a number');
  if (r.out !== undefined && (typeof r.out !== 'string' || r.out.length === 0)) bad('out', 'a folder path');
  return {
    out: r.out !== undefined ? file(r.out, 'out') : undefined, models,
    train: file(d.train ?? r.train, 'train'), test: file(d.test ?? r.test, 'test'), ablated: file(d.ablated ?? r.ablated, 'ablated'), texts: file(d.texts ?? r.texts, 'texts'),
    layers: ints(r.layers, 'layers'), steer_layers: ints(r.steer_layers, 'steer_layers'), alphas: nums(r.alphas, 'alphas'),
    scenarios: r.scenarios as string[] | undefined, samples: int(r.samples, 'samples'), max_tokens: int(r.max_tokens, 'max_tokens'), seed: int(r.seed, 'seed'),
    threads: int(r.threads, 'threads'), truncate: int(r.truncate, 'truncate'), random_baseline: int(r.random_baseline, 'random_baseline'),
    permutations: int(r.permutations, 'permutations'), k: int(r.k, 'k'), temp: r.temp as number | undefined, top_k: int(r.top_k, 'top_k'),
    chat: r.chat as boolean | undefined,
  };
}
