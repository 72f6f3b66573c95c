// Probe files: `layer<L>.npy` (float32 unit direction, what numpy and llama.cpp tools read) and
// its JSON sidecar `layer<L>.json` (layer, pooling, method, model, training-set hash). The
// sidecar's keys are snake_case (docs/formats.md); sidecars written before that rule (camelCase)
// and the paper's probes (no sidecar at all) load too.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readNpy, writeNpy } from '../io/npy.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';
import { snakeCaseKeys } from '../util/snake-case.js';
import type { Probe, ProbeMethod } from './probe.js';

const METHODS: readonly ProbeMethod[] = ['mean-diff', 'pca', 'logistic', 'imported'];

/** Writes `layer<L>.npy` (float32) and its sidecar `layer<L>.json` into dir (atomic writes). */
export function saveProbe(dir: string, probe: Probe): { npyPath: string; jsonPath: string } {
  io(() => mkdirSync(dir, { recursive: true }));
  const npyPath = join(dir, `layer${probe.layer}.npy`);
  const jsonPath = join(dir, `layer${probe.layer}.json`);
  writeNpy(npyPath, probe.direction, [probe.direction.length]);
  writeJsonAtomic(jsonPath, {
    format: 'eia-probe', version: 1, width: probe.direction.length,
    layer: probe.layer, pooling: probe.pooling, method: probe.method, model: probe.model,
    train_hash: probe.trainHash, n_train: probe.nTrain, created_at: probe.createdAt,
  });
  return { npyPath, jsonPath };
}

/**
 * Loads a probe from `layer<L>.npy`. With a sidecar `layer<L>.json` its metadata is used (and
 * its width checked); without one (the paper's float16 probes) the layer comes from the file
 * name and the rest defaults to the paper's recipe: mean-diff, mean pooling, unknown training set.
 */
export function loadProbe(npyPath: string): Probe {
  const arr = readNpy(npyPath);
  const width = arr.shape.length === 1 ? arr.shape[0] : arr.shape[0] === 1 ? arr.shape[1] : -1;
  if (width < 0) throw new EiaError('E_BAD_ARG', `${npyPath}: a probe direction must be 1-D, got shape (${arr.shape.join(', ')})`);
  let nrm = 0;
  for (const v of arr.data) {
    if (!Number.isFinite(v)) throw new EiaError('E_BAD_ARG', `${npyPath}: direction holds a non-finite value`);
    nrm += v * v;
  }
  if (nrm === 0) throw new EiaError('E_BAD_ARG', `${npyPath}: direction is the zero vector`);
  const jsonPath = join(dirname(npyPath), basename(npyPath).replace(/\.npy$/, '') + '.json');
  if (!existsSync(jsonPath)) {
    const m = /layer(\d+)\.npy$/.exec(basename(npyPath));
    if (!m) throw new EiaError('E_BAD_ARG', `${npyPath}: no sidecar ${jsonPath} and no layer number in the file name (expected layer<L>.npy)`);
    return { direction: arr.data, layer: Number(m[1]), pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0 };
  }
  let side: Record<string, unknown>;
  try { side = snakeCaseKeys(JSON.parse(io(() => readFileSync(jsonPath, 'utf8')))); } catch (e) {
    if (e instanceof EiaError) throw e;
    throw new EiaError('E_BAD_ARG', `${jsonPath}: invalid JSON (${(e as Error).message})`);
  }
  const need = (field: string, ok: (v: unknown) => boolean, what: string): unknown => {
    if (!ok(side[field])) throw new EiaError('E_BAD_ARG', `${jsonPath}: field "${field}" must be ${what}, got ${JSON.stringify(side[field])}`);
    return side[field];
  };
  const layer = need('layer', (v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer') as number;
  const method = need('method', (v) => METHODS.includes(v as ProbeMethod), METHODS.join(' | ')) as ProbeMethod;
  const pooling = need('pooling', (v) => typeof v === 'string', 'a string') as string;
  const trainHash = need('train_hash', (v) => typeof v === 'string', 'a string') as string;
  const nTrain = need('n_train', (v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer') as number;
  const model = (side.model ?? {}) as Probe['model'];
  if (side.width !== undefined && side.width !== arr.data.length) {
    throw new EiaError('E_BAD_ARG', `${jsonPath}: sidecar says width ${String(side.width)} but ${npyPath} holds ${arr.data.length} values`);
  }
  const probe: Probe = { direction: arr.data, layer, pooling, method, model, trainHash, nTrain };
  if (typeof side.created_at === 'string') probe.createdAt = side.created_at;
  return probe;
}

/** Loads every `layer<L>.npy` in dir, keyed by layer, ascending. */
export function loadProbes(dir: string): Map<number, Probe> {
  const files = io(() => readdirSync(dir)).filter((f) => /^layer\d+\.npy$/.test(f));
  const probes = files.map((f) => loadProbe(join(dir, f))).sort((a, b) => a.layer - b.layer);
  return new Map(probes.map((p) => [p.layer, p]));
}
