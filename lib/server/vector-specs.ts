// The request extensions that name vectors — `steering.vectors[]`, `monitor[]`, `gate` — turned into
// the engine's steering terms, monitors and gate, with every check done here (width, finite values,
// layers in range, gate rules) so that a bad vector is a 400 naming the field before the request
// queues. EasySteer's field names are accepted where they map onto ours: target_layers -> layers,
// prefill/generate_trigger_tokens [-1] -> apply, steer_vector_local_path -> name, algorithm 'direct'.
//
// The project's one rule for probe norms holds here as in `generate`, `steer` and `cvec`
// (lib/probes/direction.ts): every direction — a folder probe, a control vector's block, inline
// data — is used as its unit vector, so `scale` is the L2 norm of what is added at each position
// (a norm other than 1 is reported in the response's `warnings`); and |scale| is bounded by 100 x
// the steered block's residual norm (lib/probes/residual-norm.ts), measured once when the server
// starts: beyond it a 400 `alpha_out_of_range` naming the field.
import type { Gate, Monitor, SteerPositions, SteerTerm } from '../engine/generate.js';
import { normNote, unitDirection } from '../probes/direction.js';
import { checkAlphaBound } from '../probes/residual-norm.js';
import { isEiaError } from '../util/errors.js';
import { badRequest } from './api-error.js';
import { decodeVectorData } from './vector-data.js';
import type { StoredVector, VectorStore } from './vector-store.js';

export interface ModelShape { nEmbd: number; nLayer: number }

/** What resolving a request's vectors needs and what it reports besides the engine terms. */
export interface ResolveContext {
  store: VectorStore;
  shape: ModelShape;
  /** Residual norm of every block (probes/residual-norm.ts): the alpha bound. */
  residualNorms: ReadonlyMap<number, number>;
  /** Notes for the response (a direction's norm other than 1), each once. */
  warnings: string[];
  /** The stored vectors the request uses (their sidecars' model records are checked by the caller). */
  used: Set<StoredVector>;
}

export function newResolveContext(store: VectorStore, shape: ModelShape, residualNorms: ReadonlyMap<number, number>): ResolveContext {
  return { store, shape, residualNorms, warnings: [], used: new Set() };
}

function addWarning(rc: ResolveContext, w: string | null): void {
  if (w && !rc.warnings.includes(w)) rc.warnings.push(w);
}

/** One entry of `steering.vectors` (ours and EasySteer's names; the JSON schema checked the types). */
export interface VectorSpec {
  name?: string;
  data?: string | number[];
  scale?: number | 'tuned';
  layers?: number | number[];
  apply?: SteerPositions;
  normalize?: boolean;
  target_layers?: number[];
  prefill_trigger_tokens?: number[] | null;
  generate_trigger_tokens?: number[] | null;
  steer_vector_local_path?: string;
  algorithm?: string;
  steer_vector_name?: string;
  steer_vector_int_id?: number;
  steer_vector_id?: number;
}

export interface MonitorSpec { name?: string; data?: string | number[]; layer?: number }

export interface GateSpec {
  name?: string;
  data?: string | number[];
  layer?: number;
  on: number;
  off: number;
  min_hold?: number;
  budget?: number;
  positions?: 'all' | 'generated';
  vectors: VectorSpec[];
}

interface Source { stored: StoredVector | null; direction: Float32Array | null; label: string }

function sourceOf(spec: { name?: string; data?: string | number[]; steer_vector_local_path?: string }, rc: ResolveContext, param: string): Source {
  const { store, shape } = rc;
  const given = (['name', 'data', 'steer_vector_local_path'] as const).filter((k) => spec[k] !== undefined);
  if (given.length !== 1) {
    throw badRequest('invalid_vector_source', param, `${param} needs exactly one of name or data${given.length > 1 ? ` (got ${given.join(' and ')})` : ''}`);
  }
  if (spec.data !== undefined) {
    const raw = decodeVectorData(spec.data, shape.nEmbd, `${param}.data`);
    let u;
    try {
      u = unitDirection(raw, `${param}.data`);
    } catch (e) {
      if (isEiaError(e, 'E_BAD_ARG')) throw badRequest('invalid_vector_data', `${param}.data`, e.message);
      throw e;
    }
    addWarning(rc, normNote(u.norm, `${param}.data`));
    return { stored: null, direction: u.direction, label: 'inline' };
  }
  const field = spec.name !== undefined ? 'name' : 'steer_vector_local_path';
  const stored = store.get(spec[field], `${param}.${field}`, { pathAllowed: field === 'steer_vector_local_path' });
  if (stored.dimensions !== shape.nEmbd) {
    throw badRequest('vector_length', `${param}.${field}`, `vector '${stored.name}' has ${stored.dimensions} values; the model's width (n_embd) is ${shape.nEmbd}`);
  }
  rc.used.add(stored);
  for (const [l, n] of stored.fileNorms) addWarning(rc, normNote(n, `vector '${stored.name}'${stored.kind === 'control-vector' ? ` block ${l}` : ''}`));
  return { stored, direction: stored.kind === 'probe' ? stored.directions.get(stored.layer!)! : null, label: stored.name };
}

function checkLayer(l: number, shape: ModelShape, param: string): number {
  if (!Number.isInteger(l) || l < 0 || l >= shape.nLayer) {
    throw badRequest('layer_out_of_range', param, `${param}: layer ${l} is out of range [0, ${shape.nLayer - 1}] for this model`);
  }
  return l;
}

/** `layers` (n or [a, b]) or EasySteer's `target_layers` (a list) -> inclusive ranges, or null when neither is given. */
function layerRanges(spec: VectorSpec, shape: ModelShape, param: string): [number, number][] | null {
  if (spec.layers !== undefined && spec.target_layers !== undefined) throw badRequest('invalid_value', `${param}.target_layers`, `${param}: give layers or target_layers, not both`);
  if (spec.layers !== undefined) {
    const p = `${param}.layers`;
    if (typeof spec.layers === 'number') return [[checkLayer(spec.layers, shape, p), spec.layers]];
    if (spec.layers.length !== 2) throw badRequest('invalid_value', p, `${p} must be a layer or [first, last]`);
    const [a, b] = [checkLayer(spec.layers[0], shape, p), checkLayer(spec.layers[1], shape, p)];
    if (b < a) throw badRequest('invalid_value', p, `${p}: last (${b}) is before first (${a})`);
    return [[a, b]];
  }
  if (spec.target_layers !== undefined) {
    const p = `${param}.target_layers`;
    if (spec.target_layers.length === 0) throw badRequest('invalid_value', p, `${p} is empty`);
    const ls = [...new Set(spec.target_layers.map((l) => checkLayer(l, shape, p)))].sort((x, y) => x - y);
    // consecutive blocks become one range (one engine term)
    const runs: [number, number][] = [];
    for (const l of ls) {
      const last = runs[runs.length - 1];
      if (last && last[1] === l - 1) last[1] = l; else runs.push([l, l]);
    }
    return runs;
  }
  return null;
}

/** `apply`, or EasySteer's trigger lists where [-1] means every position of that phase. */
function positionsOf(spec: VectorSpec, param: string): SteerPositions | undefined {
  const pre = spec.prefill_trigger_tokens, gen = spec.generate_trigger_tokens;
  if (pre === undefined && gen === undefined) return spec.apply;
  if (spec.apply !== undefined) throw badRequest('invalid_value', `${param}.apply`, `${param}: give apply or the trigger lists, not both`);
  const all = (v: number[] | null | undefined, field: string): boolean => {
    if (v === undefined || v === null || v.length === 0) return false;
    if (v.length === 1 && v[0] === -1) return true;
    throw badRequest('unsupported_field', `${param}.${field}`, `${param}.${field}: token-triggered steering is not supported; use [-1] (every position) or leave it out`);
  };
  const p = all(pre, 'prefill_trigger_tokens'), g = all(gen, 'generate_trigger_tokens');
  if (p && g) return 'all';
  if (p) return 'prompt';
  if (g) return 'generated';
  throw badRequest('invalid_value', `${param}.prefill_trigger_tokens`, `${param}: the trigger lists steer no position`);
}

/** One `steering.vectors[]` entry -> engine terms (a control vector gives one per block it covers). */
/** 400 `alpha_out_of_range` when |alpha| is beyond the bound at any of the blocks (a range: its smallest residual norm). */
function checkScale(alpha: number, blocks: number[], rc: ResolveContext, param: string): void {
  try {
    checkAlphaBound([alpha], blocks, rc.residualNorms, param);
  } catch (e) {
    if (isEiaError(e, 'E_BAD_ARG')) throw badRequest('alpha_out_of_range', param, e.message);
    throw e;
  }
}

/**
 * `scale: "tuned"`: the alpha `eia-native tune` recorded in a stored probe's sidecar (probes/tuned-alpha.ts);
 * a 400 `no_tuned_scale` for inline data, a control vector, or a probe without one. Steering another
 * block than the one it was tuned at is allowed and said in the response's warnings (an alpha tuned
 * on another model is said by model-check.ts, as for the probe's own model record).
 */
function tunedScale(spec: VectorSpec, src: Source, rc: ResolveContext, param: string): number {
  const t = src.stored?.tuned;
  if (!t) {
    const what = !src.stored ? 'inline data carries' : src.stored.kind !== 'probe' ? `control vector '${src.stored.name}' carries` : `vector '${src.stored.name}' carries`;
    throw badRequest('no_tuned_scale', `${param}.scale`, `${param}.scale "tuned": ${what} no tuned alpha (eia-native tune --probes DIR records one in a probe's sidecar)`);
  }
  const layers = spec.layers ?? spec.target_layers;
  if (layers !== undefined && !(typeof layers === 'number' ? layers === t.layer : layers.length > 0 && layers.every((l) => l === t.layer))) {
    addWarning(rc, `${param}.scale "tuned": the alpha ${t.alpha} was tuned at block ${t.layer}; this request steers other blocks`);
  }
  return t.alpha;
}

export function resolveVector(spec: VectorSpec, rc: ResolveContext, param: string): SteerTerm[] {
  const { shape } = rc;
  if (spec.algorithm !== undefined && spec.algorithm !== 'direct') {
    throw badRequest('unsupported_field', `${param}.algorithm`, `${param}.algorithm '${spec.algorithm}' is not supported (only 'direct': add scale * vector)`);
  }
  const src = sourceOf(spec, rc, param);
  const alpha = spec.scale === 'tuned' ? tunedScale(spec, src, rc, param) : spec.scale ?? 1;
  const positions = positionsOf(spec, param);
  const normalize = spec.normalize ?? false;
  const ranges = layerRanges(spec, shape, param);
  const term = (direction: Float32Array, r: [number, number]): SteerTerm => {
    checkScale(alpha, Array.from({ length: r[1] - r[0] + 1 }, (_, i) => r[0] + i), rc, `${param}.scale`);
    return r[0] === r[1]
      ? { layer: r[0], direction, alpha, normalize, positions }
      : { layers: r, direction, alpha, normalize, positions };
  };
  if (src.direction) {
    const rs = ranges ?? (src.stored?.layer !== null && src.stored?.layer !== undefined ? [[checkLayer(src.stored.layer, shape, `${param}.name`), src.stored.layer] as [number, number]] : null);
    if (!rs) throw badRequest('missing_layers', `${param}.layers`, `${param}.layers is required with inline data (the block(s) to steer)`);
    return rs.map((r) => term(src.direction!, r));
  }
  // a control vector: its own direction at every block it holds, within `layers` when given
  const cv = src.stored!;
  const inRange = (l: number) => ranges === null || ranges.some(([a, b]) => l >= a && l <= b);
  const terms: SteerTerm[] = [];
  for (const [l, d] of cv.directions) {
    if (!inRange(l)) continue;
    checkLayer(l, shape, `${param}.name`);
    terms.push(term(d, [l, l]));
  }
  if (terms.length === 0) throw badRequest('invalid_value', `${param}.layers`, `control vector '${cv.name}' has no direction in the requested layers (it has blocks ${[...cv.directions.keys()].join(', ')})`);
  return terms;
}

export function resolveSteering(specs: VectorSpec[], rc: ResolveContext, param: string): SteerTerm[] {
  return specs.flatMap((s, i) => resolveVector(s, rc, `${param}[${i}]`));
}

/** The direction read at `layer` (a monitor or a gate): a probe's own block by default; a control vector's block must be given. */
function readout(spec: { name?: string; data?: string | number[]; layer?: number }, rc: ResolveContext, param: string): { layer: number; direction: Float32Array; label: string } {
  const { shape } = rc;
  const src = sourceOf(spec, rc, param);
  if (src.direction) {
    const layer = spec.layer ?? src.stored?.layer;
    if (layer === undefined || layer === null) throw badRequest('missing_layers', `${param}.layer`, `${param}.layer is required with inline data`);
    return { layer: checkLayer(layer, shape, `${param}.layer`), direction: src.direction, label: src.label };
  }
  const cv = src.stored!;
  if (spec.layer === undefined) throw badRequest('missing_layers', `${param}.layer`, `${param}.layer is required for control vector '${cv.name}' (blocks ${[...cv.directions.keys()].join(', ')})`);
  const d = cv.directions.get(checkLayer(spec.layer, shape, `${param}.layer`));
  if (!d) throw badRequest('invalid_value', `${param}.layer`, `control vector '${cv.name}' has no direction for block ${spec.layer}`);
  return { layer: spec.layer, direction: d, label: cv.name };
}

/** `monitor[]` -> the sequence's own engine monitors (in request order: probe_scores follow it). */
export function resolveMonitors(specs: MonitorSpec[], rc: ResolveContext, param: string): Monitor[] {
  return specs.map((s, i) => {
    const r = readout(s, rc, `${param}[${i}]`);
    return { layer: r.layer, direction: r.direction, name: r.label };
  });
}

export function resolveGate(spec: GateSpec, rc: ResolveContext, param: string): Gate {
  const { shape } = rc;
  const r = readout(spec, rc, param);
  if (r.layer > shape.nLayer - 2) throw badRequest('layer_out_of_range', `${param}.layer`, `${param}.layer ${r.layer} is out of range [0, ${shape.nLayer - 2}] (the gate reads a block below the last)`);
  if (!(spec.on < spec.off)) throw badRequest('invalid_value', `${param}.on`, `${param}: on (${spec.on}) must be below off (${spec.off})`);
  if (spec.vectors.length === 0) throw badRequest('invalid_value', `${param}.vectors`, `${param}.vectors: a gate needs at least one steering vector`);
  const steer = resolveSteering(spec.vectors, rc, `${param}.vectors`);
  steer.forEach((t) => {
    const first = t.layer ?? t.layers![0];
    if (first < r.layer) throw badRequest('invalid_value', `${param}.vectors`, `${param}.vectors: steering at block ${first} is below the gate's block ${r.layer} (the gate switches blocks at or after the one it reads)`);
  });
  return { layer: r.layer, direction: r.direction, on: spec.on, off: spec.off, minHold: spec.min_hold, budget: spec.budget, positions: spec.positions, steer };
}
