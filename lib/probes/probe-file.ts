// Probe files: `layer<L>.npy` (float32 unit direction, what numpy and llama.cpp tools read) and
// its JSON sidecar `layer<L>.json` (layer, pooling, method, model, training-set hash, scale, and the
// vector card: vector-card.ts). The
// sidecar's keys are snake_case (docs/formats.md); sidecars written before that rule (camelCase)
// and the paper's probes (no sidecar at all) load too. Loading applies the one norm rule
// (direction.ts): the direction is the stored vector's unit vector, its norm goes into `scale`.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readNpy, writeNpy } from '../io/npy.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';
import { snakeCaseKeys } from '../util/snake-case.js';
import { unitDirection } from './direction.js';
import type { Probe, ProbeMethod } from './probe.js';
import { sidecarCard } from './vector-card.js';

const METHODS: readonly ProbeMethod[] = ['mean-diff', 'pca', 'logistic', 'imported'];

/** Writes `layer<L>.npy` (float32) and its sidecar `layer<L>.json` into dir (atomic writes); NaN/infinity is refused before anything is written. */
export function saveProbe(dir: string, probe: Probe): { npyPath: string; jsonPath: string } {
  // the file holds the unit direction; a magnitude goes into the sidecar's scale (direction.ts)
  const { direction, norm } = unitDirection(probe.direction, `probe for layer ${probe.layer}`);
  const scale = probe.scale ?? (direction === probe.direction ? 1 : norm);
  if (!(Number.isFinite(scale) && scale > 0)) throw new EiaError('E_BAD_ARG', `probe for layer ${probe.layer}: scale must be a positive finite number, got ${scale}`);
  if (probe.card && probe.card.block !== probe.layer) throw new EiaError('E_BAD_ARG', `probe for layer ${probe.layer}: its card is for block ${probe.card.block}`);
  io(() => mkdirSync(dir, { recursive: true }));
  const npyPath = join(dir, `layer${probe.layer}.npy`);
  const jsonPath = join(dir, `layer${probe.layer}.json`);
  writeNpy(npyPath, direction, [direction.length]);
  writeJsonAtomic(jsonPath, {
    format: 'eia-probe', version: 1, width: probe.direction.length,
    layer: probe.layer, pooling: probe.pooling, method: probe.method, model: probe.model,
    train_hash: probe.trainHash, n_train: probe.nTrain, created_at: probe.createdAt, scale,
    ...(probe.card ? { card: probe.card } : {}),
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
  const { direction, norm } = unitDirection(arr.data, npyPath);
  const stored = direction === arr.data ? 1 : norm;  // a unit vector stored as is has magnitude 1
  const jsonPath = join(dirname(npyPath), basename(npyPath).replace(/\.npy$/, '') + '.json');
  if (!existsSync(jsonPath)) {
    const m = /layer(\d+)\.npy$/.exec(basename(npyPath));
    if (!m) throw new EiaError('E_BAD_ARG', `${npyPath}: no sidecar ${jsonPath} and no layer number in the file name (expected layer<L>.npy)`);
    return { direction, layer: Number(m[1]), pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0, scale: stored, fileNorm: norm };
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
  const sideScale = side.scale === undefined ? 1 : need('scale', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number') as number;
  if (side.width !== undefined && side.width !== arr.data.length) {
    throw new EiaError('E_BAD_ARG', `${jsonPath}: sidecar says width ${String(side.width)} but ${npyPath} holds ${arr.data.length} values`);
  }
  const probe: Probe = { direction, layer, pooling, method, model, trainHash, nTrain, scale: stored * sideScale, fileNorm: norm };
  if (typeof side.created_at === 'string') probe.createdAt = side.created_at;
  // the card, and the tuned alpha (the card's, or a top-level `tuned` of a sidecar written before cards)
  const { card, tuned } = sidecarCard(side, jsonPath);
  if (card) {
    if (card.block !== layer) throw new EiaError('E_BAD_ARG', `${jsonPath}: the card is for block ${card.block}, the sidecar says layer ${layer}`);
    probe.card = card;
  }
  if (tuned) probe.tuned = tuned;
  return probe;
}

/**
 * Gives the probe file `npyPath` a sidecar when it has none (the paper's .npy files), so that a
 * command can record evidence in its card (updateVectorCard, which makes the card): the sidecar holds
 * what loadProbe assumed of the bare file (its block from the file name, mean-diff, mean pooling).
 * The file's own norm stays its magnitude (scale 1 on top of it). Returns the sidecar's path; an
 * existing sidecar is left as it is.
 */
export function ensureProbeSidecar(npyPath: string): string {
  const jsonPath = join(dirname(npyPath), basename(npyPath).replace(/\.npy$/, '') + '.json');
  if (existsSync(jsonPath)) return jsonPath;
  const p = loadProbe(npyPath);
  writeJsonAtomic(jsonPath, {
    format: 'eia-probe', version: 1, width: p.direction.length, layer: p.layer, pooling: p.pooling, method: p.method, model: p.model,
    train_hash: p.trainHash, n_train: p.nTrain, scale: 1,
  });
  return jsonPath;
}

/** Loads every `layer<L>.npy` in dir, keyed by layer, ascending. */
export function loadProbes(dir: string): Map<number, Probe> {
  const files = io(() => readdirSync(dir)).filter((f) => /^layer\d+\.npy$/.test(f));
  const probes = files.map((f) => loadProbe(join(dir, f))).sort((a, b) => a.layer - b.layer);
  return new Map(probes.map((p) => [p.layer, p]));
}
