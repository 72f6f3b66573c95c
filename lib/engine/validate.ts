// The one validator of what a request asks of the engine: steering terms, gates, monitors, positions,
// layer ranges, the steering-strength bound, max tokens and context fit. The engine API
// (ctx.generate, gen.add, ctx.evalLogits), the command line and the server all check through these
// functions, so each rule is written once; test/unit/one-validator.test.ts fails when a second copy
// of the gate, positions or alpha rule appears anywhere else in lib/ or native/.
//
// Errors are FieldErrors (lib/util/errors.ts): the path of the bad option in the library's names
// (`sequences[0].steer[1].alpha`, `gate.on`, `maxTokens`), the rule it broke, and a message each
// front end renders in its own words (a flag for the CLI, a JSON field for the server).
//
// The native core keeps only the checks that protect memory or the sampler (block indices, vector
// widths, non-finite values; native/core/steer_plan.cpp says which): a call that reaches the addon
// has passed here first.
import { badField, EiaError, type FieldNamer } from '../util/errors.js';
import { GENERATION_DEFAULTS, MAX_CONTEXT_TOKENS } from './defaults.js';
import type { RawGate, RawSteerTerm } from './native.js';
import type { Monitor } from './generate.js';
import type { Gate, SteerPositions, SteerTerm } from './steering.js';

/** Where a steering term acts: every position (the paper), the prompt only, or generated tokens only. */
export const STEER_POSITIONS: readonly SteerPositions[] = ['all', 'prompt', 'generated'];
/** Which positions move a gate: all of them, or generated tokens only. */
export const GATE_POSITIONS: readonly NonNullable<Gate['positions']>[] = ['all', 'generated'];

/**
 * The steering-strength bound: |alpha| <= ALPHA_BOUND_FACTOR x the steered block's residual norm
 * (measured by lib/probes/residual-norm.ts; a block range is bounded by its smallest norm). Far
 * beyond the residual stream's own size the activations overflow and the model emits control
 * characters; the paper's |alpha| <= 20 on 7-8B models and the demo's <= 10 sit well inside.
 */
export const ALPHA_BOUND_FACTOR = 100;

/** The largest |alpha| allowed at a block of residual norm `norm`. */
export function alphaBound(norm: number): number {
  return ALPHA_BOUND_FACTOR * norm;
}

export interface ModelShape { nLayer: number; nEmbd: number }

/** What a request is checked against. */
export interface RequestLimits {
  shape: ModelShape;
  /** Residual norm of the steered blocks: with them, |alpha| is bounded; without (the bare engine API), only finite. */
  residualNorms?: ReadonlyMap<number, number>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function integer(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badField(field, 'invalid_value', (n) => `${n(field)} must be an integer`);
  return v;
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badField(field, 'invalid_value', (n) => `${n(field)} must be a finite number`);
  return v;
}

/** A steering term's positions. */
export function checkPositions(v: unknown, field: string): SteerPositions {
  if (!STEER_POSITIONS.includes(v as SteerPositions)) {
    throw badField(field, 'invalid_value', (n) => `${n(field)} must be ${STEER_POSITIONS.slice(0, -1).join(', ')} or ${STEER_POSITIONS[STEER_POSITIONS.length - 1]}`);
  }
  return v as SteerPositions;
}

/** One block: an integer in [0, max] (default: the last block). */
export function checkLayer(v: unknown, shape: ModelShape, field: string, max = shape.nLayer - 1, why = ''): number {
  const l = integer(v, field);
  if (l < 0 || l > max) throw badField(field, 'layer_out_of_range', (n) => `${n(field)} ${l} out of range [0, ${max}]${why}`);
  return l;
}

/** A block range [first, last] (inclusive), within the model. */
export function checkBlockRange(v: unknown, shape: ModelShape, field: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw badField(field, 'invalid_value', (n) => `${n(field)} must be [first, last]`);
  const a = integer(v[0], `${field}[0]`), b = integer(v[1], `${field}[1]`);
  if (b < a) throw badField(field, 'invalid_value', (n) => `${n(field)}: last (${b}) is before first (${a})`);
  if (a < 0 || b > shape.nLayer - 1) throw badField(field, 'layer_out_of_range', (n) => `${n(field)} ${a}-${b} out of range [0, ${shape.nLayer - 1}]`);
  return [a, b];
}

/** A direction of the model's width with finite values. */
export function checkDirection(v: unknown, nEmbd: number, field: string): Float32Array {
  if (!(v instanceof Float32Array)) throw badField(field, 'invalid_value', (n) => `${n(field)} must be a Float32Array`);
  if (v.length !== nEmbd) throw badField(field, 'vector_length', (n) => `${n(field)} has length ${v.length}, the model's nEmbd is ${nEmbd}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw badField(field, 'vector_not_finite', (n) => `${n(field)} contains NaN or infinity (value ${i})`);
  }
  return v;
}

/**
 * Steering strengths at `blocks`: finite, and with residual norms, within the bound at every block
 * (the largest |alpha| is the one reported, at the first block it exceeds).
 */
export function checkAlphas(alphas: readonly unknown[], blocks: readonly number[], norms: ReadonlyMap<number, number> | undefined, field: string): number[] {
  const xs = alphas.map((a) => finite(a, field));
  const worst = Math.max(0, ...xs.map(Math.abs));
  if (!norms || !(worst > 0)) return xs;
  for (const l of blocks) {
    const r = norms.get(l);
    if (r === undefined) throw new EiaError('E_INTERNAL', `no residual norm measured for block ${l}`);
    if (worst > alphaBound(r)) {
      const a = xs.find((x) => Math.abs(x) === worst)!;
      throw badField(field, 'alpha_out_of_range', (n) => `${n(field)}: ${a} is beyond the bound at block ${l}: |alpha| <= ${ALPHA_BOUND_FACTOR} x the block's ` +
        `residual norm (${r.toPrecision(4)}) = ${alphaBound(r).toPrecision(4)}`);
    }
  }
  return xs;
}

const blocksOf = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** One steering term in the binding's explicit form (`positions`: the sequence's default when the term has none). */
export function checkSteerTerm(t: SteerTerm, limits: RequestLimits, field: string, positions: SteerPositions): RawSteerTerm {
  const { shape } = limits;
  if (!isObject(t)) throw badField(field, 'invalid_value', (n) => `${n(field)} must be an object {layer | layers, direction, alpha}`);
  let a: number, b: number;
  if (t.layers !== undefined) {
    if (t.layer !== undefined) throw badField(`${field}.layers`, 'invalid_value', (n) => `${n(field)}: give layer or layers, not both`);
    [a, b] = checkBlockRange(t.layers, shape, `${field}.layers`);
  } else {
    a = b = checkLayer(t.layer, shape, `${field}.layer`);
  }
  const direction = checkDirection(t.direction, shape.nEmbd, `${field}.direction`);
  const [alpha] = checkAlphas([t.alpha], blocksOf(a, b), limits.residualNorms, `${field}.alpha`);
  const pos = checkPositions(t.positions ?? positions, `${field}.positions`);
  return { layer: a, layerEnd: b, direction, alpha, normalize: !!t.normalize, positions: pos };
}

/**
 * Probe-gated steering in the binding's form, or null without a gate. The gate reads a block below
 * the last, switches on below `on` and off above `off` (on < off), holds >= 1 position, steers at
 * most `budget` (>= 0; none: no limit), and switches only terms at or above its own block.
 */
export function checkGate(g: Gate | undefined | null, limits: RequestLimits, field: string, positions: SteerPositions): RawGate | null {
  if (g === undefined || g === null) return null;
  const { shape } = limits;
  if (!isObject(g)) throw badField(field, 'invalid_value', (n) => `${n(field)} must be an object`);
  const layer = checkLayer(g.layer, shape, `${field}.layer`, shape.nLayer - 2, ' (the gate reads a block below the last)');
  const direction = checkDirection(g.direction, shape.nEmbd, `${field}.direction`);
  const on = finite(g.on, `${field}.on`), off = finite(g.off, `${field}.off`);
  if (!(on < off)) throw badField(`${field}.on`, 'invalid_value', (n) => `${n(field)}: on (${on}) must be below off (${off})`);
  const minHold = integer(g.minHold ?? GENERATION_DEFAULTS.gateMinHold, `${field}.minHold`);
  if (minHold < 1) throw badField(`${field}.minHold`, 'invalid_value', (n) => `${n(`${field}.minHold`)} must be >= 1`);
  const budget = g.budget === undefined ? -1 : integer(g.budget, `${field}.budget`);
  if (g.budget !== undefined && budget < 0) throw badField(`${field}.budget`, 'invalid_value', (n) => `${n(`${field}.budget`)} must be >= 0 (leave it out for no limit)`);
  const gp = g.positions ?? 'all';
  if (!GATE_POSITIONS.includes(gp)) throw badField(`${field}.positions`, 'invalid_value', (n) => `${n(`${field}.positions`)} must be ${GATE_POSITIONS.join(' or ')}`);
  if (!Array.isArray(g.steer)) throw badField(`${field}.steer`, 'invalid_value', (n) => `${n(`${field}.steer`)} must be an array of steering terms`);
  if (g.steer.length === 0) throw badField(`${field}.steer`, 'invalid_value', (n) => `${n(`${field}.steer`)}: a gate needs at least one steering term`);
  const steer = g.steer.map((t, k) => {
    const raw = checkSteerTerm(t, limits, `${field}.steer[${k}]`, positions);
    const at = `${field}.steer[${k}].${t.layers !== undefined ? 'layers' : 'layer'}`;
    if (raw.layer < layer) {
      throw badField(at, 'invalid_value', (n) => `${n(at)} ${raw.layer} is below the ${n(`${field}.layer`)} ${layer} (a gate switches blocks at or after the one it reads)`);
    }
    return raw;
  });
  return { layer, direction, on, off, minHold, budget, generatedOnly: gp === 'generated', steer };
}

/** A monitor probe: a block of the model and a direction of its width. */
export function checkMonitor(m: Monitor, limits: RequestLimits, field: string): { layer: number; direction: Float32Array } {
  if (!isObject(m)) throw badField(field, 'invalid_value', (n) => `${n(field)} must be {layer, direction: Float32Array}`);
  return { layer: checkLayer(m.layer, limits.shape, `${field}.layer`), direction: checkDirection(m.direction, limits.shape.nEmbd, `${field}.direction`) };
}

/** New tokens per sequence: an integer >= 1. */
export function checkMaxTokens(v: unknown, field: string): number {
  const x = integer(v, field);
  if (x < 1) throw badField(field, 'invalid_value', (n) => `${n(field)} must be >= 1, got ${x}`);
  return x;
}

/**
 * Whether a generation fits its context: the prompt plus `maxTokens` new tokens must fit `ctxSize`
 * tokens per sequence (when not given: the model's training context, since generating past it is
 * outside what the model was trained for) and the engine's largest context. The last sampled token
 * is never decoded, so prompt + maxTokens cells are what a sequence needs at most (the engine's own
 * room check, native/core/generate.cpp, counts the same).
 */
export function checkContextFit(promptTokens: number, maxTokens: number, ctxSize: number | undefined, nCtxTrain: number,
  fields: { maxTokens: string; ctxSize: string } = { maxTokens: 'maxTokens', ctxSize: 'ctxSize' }): void {
  const limit = ctxSize ?? nCtxTrain;
  const need = promptTokens + maxTokens;
  const lead = (n: FieldNamer) => `${n(fields.maxTokens)}: the prompt (${promptTokens} tokens) + ${maxTokens} new tokens exceed`;
  if (need > limit) {
    throw badField(fields.maxTokens, 'context_length_exceeded', (n) => `${lead(n)} the context of ${limit} tokens per sequence ` +
      `(${ctxSize === undefined ? `the model's training context; a larger ${n(fields.ctxSize)} allows more` : n(fields.ctxSize)})`);
  }
  if (need > MAX_CONTEXT_TOKENS) {
    throw badField(fields.maxTokens, 'context_length_exceeded', (n) => `${lead(n)} the engine's largest context (${MAX_CONTEXT_TOKENS} tokens)`);
  }
}
