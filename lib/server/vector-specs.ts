// The request extensions that name vectors — `steering.vectors[]`, `monitor[]`, `gate` — turned into
// the engine's steering terms, monitors and gate. This file translates (names, inline data, control
// vectors, EasySteer's field names) and records which JSON field each part of a term came from; the
// rules (blocks in range, widths, strengths within their bound, the gate's thresholds) are the
// validator's (lib/engine/validate.ts), run by request.ts before the request queues, and its errors
// name the field as the client wrote it. EasySteer's field names are accepted where they map onto
// ours: target_layers -> layers, prefill/generate_trigger_tokens [-1] -> apply,
// steer_vector_local_path -> name, algorithm 'direct'.
//
// The project's one rule for probe norms holds here as in `generate`, `steer` and `cvec`
// (lib/probes/direction.ts): every direction — a folder probe, a control vector's block, inline
// data — is used as its unit vector, so `scale` is the L2 norm of what is added at each position
// (a norm other than 1 is reported in the response's `warnings`).
import type { Gate, Monitor, SteerPositions, SteerTerm } from '../engine/generate.js';
import { normNote, unitDirection } from '../probes/direction.js';
import { chooseTuned } from '../probes/vector-card.js';
import { checkLayer, type ModelShape } from '../engine/validate.js';
import { isEiaError } from '../util/errors.js';
import { badRequest } from './api-error.js';
import { decodeVectorData } from './vector-data.js';
import type { StoredVector, VectorStore } from './vector-store.js';

/** What resolving a request's vectors needs and what it reports besides the engine terms. */
export interface ResolveContext {
  store: VectorStore;
  shape: ModelShape;
  /** The validator's option path of each part of a term, gate or monitor -> the JSON field it came from. */
  paths: Map<string, string>;
  /** Notes for the response (a direction's norm other than 1), each once. */
  warnings: string[];
  /** The stored vectors the request uses (their sidecars' model records are checked by the caller). */
  used: Set<StoredVector>;
}

export function newResolveContext(store: VectorStore, shape: ModelShape): ResolveContext {
  return { store, shape, paths: new Map(), warnings: [], used: new Set() };
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

/**
 * `layers` (n or [a, b]) or EasySteer's `target_layers` (a list) -> inclusive ranges, with the field
 * they came from, or null when neither is given. Whether the blocks exist is the validator's check.
 */
function layerRanges(spec: VectorSpec, param: string): { ranges: [number, number][]; field: string } | null {
  if (spec.layers !== undefined && spec.target_layers !== undefined) throw badRequest('invalid_value', `${param}.target_layers`, `${param}: give layers or target_layers, not both`);
  if (spec.layers !== undefined) {
    const p = `${param}.layers`;
    if (typeof spec.layers === 'number') return { ranges: [[spec.layers, spec.layers]], field: p };
    if (spec.layers.length !== 2) throw badRequest('invalid_value', p, `${p} must be a layer or [first, last]`);
    return { ranges: [[spec.layers[0], spec.layers[1]]], field: p };
  }
  if (spec.target_layers !== undefined) {
    const p = `${param}.target_layers`;
    if (spec.target_layers.length === 0) throw badRequest('invalid_value', p, `${p} is empty`);
    const ls = [...new Set(spec.target_layers)].sort((x, y) => x - y);
    // consecutive blocks become one range (one engine term)
    const runs: [number, number][] = [];
    for (const l of ls) {
      const last = runs[runs.length - 1];
      if (last && last[1] === l - 1) last[1] = l; else runs.push([l, l]);
    }
    return { ranges: runs, field: p };
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

/** A steering term with the JSON fields its parts came from (for the validator's errors). */
export interface ResolvedTerm { term: SteerTerm; param: string; layerField: string; sourceField: string }

/**
 * `scale: "tuned"`: the alpha `eia-native tune` recorded in a stored vector's card (`tuned`; a probe
 * sidecar written before cards: its top-level `tuned`), chosen for the blocks the request steers
 * (chooseTuned, as `generate --alphas tuned`): a probe's own block, or `layers` when given; a
 * control vector without `layers` steers only its tuned block. A 400 `no_tuned_scale` for inline data
 * or a vector whose cards carry none, `ambiguous_tuned_scale` when several blocks of a control vector
 * carry one and `layers` does not single one out. Steering other blocks than the tuned one is allowed
 * and said in the response's warnings (an alpha tuned on another model is said by model-check.ts).
 * Returns the alpha and, for a control vector without `layers`, the block to steer.
 */
function tunedScale(src: Source, given: { ranges: [number, number][]; field: string } | null, rc: ResolveContext, param: string): { alpha: number; block: number | null } {
  const stored = src.stored;
  const tuned = stored?.tuned ?? [];
  // the blocks steered (clamped to the model's: out-of-range blocks are the validator's refusal, later)
  const steered = given
    ? given.ranges.flatMap(([a, b]) => {
      const lo = Math.max(0, a), hi = Math.min(rc.shape.nLayer - 1, b);
      return hi >= lo ? Array.from({ length: hi - lo + 1 }, (_, i) => lo + i) : [a];
    })
    : stored?.kind === 'probe' && stored.layer !== null ? [stored.layer] : null;
  const choice = chooseTuned(tuned, steered);
  if (choice.kind === 'none') {
    const what = !stored ? 'inline data carries' : `${stored.kind === 'probe' ? 'vector' : 'control vector'} '${stored.name}' carries`;
    throw badRequest('no_tuned_scale', `${param}.scale`, `${param}.scale "tuned": ${what} no tuned alpha (eia-native tune --probes DIR records one in a probe's card; cvec export carries it into a control vector)`);
  }
  if (choice.kind === 'ambiguous') {
    const field = given?.field ?? `${param}.layers`;
    throw badRequest('ambiguous_tuned_scale', field,
      `${param}.scale "tuned": control vector '${stored!.name}' carries tuned alphas for blocks ${choice.blocks.join(', ')}${given ? ' (the requested layers do not single one out)' : ''}; give ${field} with one of them`);
  }
  const t = choice.tuned;
  if (choice.otherBlocks) addWarning(rc, `${param}.scale "tuned": the alpha ${t.alpha} was tuned at block ${t.layer}; this request steers other blocks`);
  return { alpha: t.alpha, block: stored?.kind === 'control-vector' && !given ? t.layer : null };
}

/** One `steering.vectors[]` entry -> engine terms (a control vector gives one per block it covers). */
export function resolveVector(spec: VectorSpec, rc: ResolveContext, param: string): ResolvedTerm[] {
  if (spec.algorithm !== undefined && spec.algorithm !== 'direct') {
    throw badRequest('unsupported_field', `${param}.algorithm`, `${param}.algorithm '${spec.algorithm}' is not supported (only 'direct': add scale * vector)`);
  }
  const src = sourceOf(spec, rc, param);
  const sourceField = `${param}.${spec.data !== undefined ? 'data' : spec.name !== undefined ? 'name' : 'steer_vector_local_path'}`;
  let given = layerRanges(spec, param);
  let alpha = typeof spec.scale === 'number' ? spec.scale : 1;
  if (spec.scale === 'tuned') {
    const t = tunedScale(src, given, rc, param);
    alpha = t.alpha;
    // a control vector at its tuned alpha steers the block it was tuned at (the strength was chosen for that block alone)
    if (t.block !== null) given = { ranges: [[t.block, t.block]], field: `${param}.scale` };
  }
  const positions = positionsOf(spec, param);
  const normalize = spec.normalize ?? false;
  const term = (direction: Float32Array, r: [number, number], layerField: string): ResolvedTerm => ({
    term: r[0] === r[1] ? { layer: r[0], direction, alpha, normalize, positions } : { layers: r, direction, alpha, normalize, positions },
    param, layerField, sourceField,
  });
  if (src.direction) {
    if (given) return given.ranges.map((r) => term(src.direction!, r, given!.field));
    const own = src.stored?.layer;
    if (own === null || own === undefined) throw badRequest('missing_layers', `${param}.layers`, `${param}.layers is required with inline data (the block(s) to steer)`);
    return [term(src.direction, [own, own], sourceField)];
  }
  // a control vector: its own direction at every block it holds, within `layers` when given
  const cv = src.stored!;
  const inRange = (l: number) => given === null || given.ranges.some(([a, b]) => l >= a && l <= b);
  const terms = [...cv.directions].filter(([l]) => inRange(l)).map(([l, d]) => term(d, [l, l], sourceField));
  if (terms.length === 0) throw badRequest('invalid_value', `${param}.layers`, `control vector '${cv.name}' has no direction in the requested layers (it has blocks ${[...cv.directions.keys()].join(', ')})`);
  return terms;
}

export function resolveSteering(specs: VectorSpec[], rc: ResolveContext, param: string): ResolvedTerm[] {
  return specs.flatMap((s, i) => resolveVector(s, rc, `${param}[${i}]`));
}

/** The terms as the validator's `prefix[k]` (steer, gate.steer), with the JSON field of each part recorded. */
export function registerTerms(rc: ResolveContext, prefix: string, resolved: ResolvedTerm[]): SteerTerm[] {
  return resolved.map((r, k) => {
    const at = `${prefix}[${k}]`;
    rc.paths.set(at, r.param);
    rc.paths.set(`${at}.alpha`, `${r.param}.scale`);
    rc.paths.set(`${at}.layer`, r.layerField);
    rc.paths.set(`${at}.layers`, r.layerField);
    rc.paths.set(`${at}.direction`, r.sourceField);
    rc.paths.set(`${at}.positions`, `${r.param}.apply`);
    return r.term;
  });
}

/** The direction read at `layer` (a monitor or a gate): a probe's own block by default; a control vector's block must be given. */
function readout(spec: { name?: string; data?: string | number[]; layer?: number }, rc: ResolveContext, param: string): { layer: number; direction: Float32Array; label: string; layerField: string; sourceField: string } {
  const src = sourceOf(spec, rc, param);
  const sourceField = `${param}.${spec.data !== undefined ? 'data' : 'name'}`;
  if (src.direction) {
    const layer = spec.layer ?? src.stored?.layer;
    if (layer === undefined || layer === null) throw badRequest('missing_layers', `${param}.layer`, `${param}.layer is required with inline data`);
    return { layer, direction: src.direction, label: src.label, layerField: spec.layer !== undefined ? `${param}.layer` : sourceField, sourceField };
  }
  const cv = src.stored!;
  if (spec.layer === undefined) throw badRequest('missing_layers', `${param}.layer`, `${param}.layer is required for control vector '${cv.name}' (blocks ${[...cv.directions.keys()].join(', ')})`);
  const d = cv.directions.get(checkLayer(spec.layer, rc.shape, `${param}.layer`));
  if (!d) throw badRequest('invalid_value', `${param}.layer`, `control vector '${cv.name}' has no direction for block ${spec.layer}`);
  return { layer: spec.layer, direction: d, label: cv.name, layerField: `${param}.layer`, sourceField };
}

/** `monitor[]` -> the sequence's own engine monitors (in request order: probe_scores follow it), as the validator's `monitors[k]`. */
export function resolveMonitors(specs: MonitorSpec[], rc: ResolveContext, param: string): Monitor[] {
  return specs.map((s, i) => {
    const r = readout(s, rc, `${param}[${i}]`);
    rc.paths.set(`monitors[${i}]`, `${param}[${i}]`);
    rc.paths.set(`monitors[${i}].layer`, r.layerField);
    rc.paths.set(`monitors[${i}].direction`, r.sourceField);
    return { layer: r.layer, direction: r.direction, name: r.label };
  });
}

/** `gate` -> the engine's gate, as the validator's `gate` (its rules are checked there). */
export function resolveGate(spec: GateSpec, rc: ResolveContext, param: string): Gate {
  const r = readout(spec, rc, param);
  for (const [lib, json] of [['', ''], ['.layer', r.layerField], ['.direction', r.sourceField], ['.on', `${param}.on`], ['.off', `${param}.off`],
    ['.minHold', `${param}.min_hold`], ['.budget', `${param}.budget`], ['.positions', `${param}.positions`], ['.steer', `${param}.vectors`]] as const) {
    rc.paths.set(`gate${lib}`, json || param);
  }
  const steer = registerTerms(rc, 'gate.steer', resolveSteering(spec.vectors, rc, `${param}.vectors`));
  return { layer: r.layer, direction: r.direction, on: spec.on, off: spec.off, minHold: spec.min_hold, budget: spec.budget, positions: spec.positions, steer };
}
