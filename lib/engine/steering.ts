// Steering terms and gates as a sequence of a generation carries them, and their conversion to the
// binding's fully explicit form. The native SteerPlan (native/core/steer_plan.h) validates them
// against the model; this file only fills defaults and rejects what has the wrong shape.
import { GENERATION_DEFAULTS } from './defaults.js';
import type { RawGate, RawSteerTerm } from './native.js';
import { EiaError } from '../util/errors.js';

export type SteerPositions = 'all' | 'prompt' | 'generated';

interface SteerTermBase {
  /** Added as alpha * direction (n_embd floats). */
  direction: Float32Array;
  alpha: number;
  /** Rescale each steered row to its norm before the add (norm-preserving steering; default false). */
  normalize?: boolean;
  /** Positions this term steers (default: the sequence's `positions`). */
  positions?: SteerPositions;
}

/**
 * One steering term: alpha * direction added to the output of decoder block `layer`, or of every
 * block in `layers: [a, b]` (inclusive; llama.cpp's --control-vector-layer-range). Terms apply in
 * the order given.
 */
export type SteerTerm = SteerTermBase & ({ layer: number; layers?: undefined } | { layers: readonly [number, number]; layer?: undefined });

/**
 * Probe-gated steering. The gate reads `direction` at block `layer` before any steering there and
 * switches its terms (at blocks >= layer) on when the projection falls below `on`, off when it
 * rises above `off` (on < off); once on it holds for at least `minHold` positions, and it steers
 * at most `budget` positions in all. When every term sits above the gate's block, a decision applies
 * to the same forward pass; when a term sits at the gate's block, from the next position on.
 */
export interface Gate {
  layer: number;
  direction: Float32Array;
  on: number;
  off: number;
  /** Default 1. */
  minHold?: number;
  /** Steered positions at most (default: unlimited). */
  budget?: number;
  /** 'all' (default): prompt positions move the gate too; 'generated': only generated tokens do. */
  positions?: 'all' | 'generated';
  steer: SteerTerm[];
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EiaError('E_BAD_ARG', `${what} must be a finite number`);
  return v;
}

function int(v: unknown, what: string): number {
  if (!Number.isInteger(v)) throw new EiaError('E_BAD_ARG', `${what} must be an integer`);
  return v as number;
}

export function rawTerm(t: SteerTerm, positions: SteerPositions, who: string): RawSteerTerm {
  if (!t || typeof t !== 'object') throw new EiaError('E_BAD_ARG', `${who} must be an object {layer | layers, direction, alpha}`);
  if (!(t.direction instanceof Float32Array)) throw new EiaError('E_BAD_ARG', `${who}.direction must be a Float32Array`);
  let a: number;
  let b: number;
  if (t.layers !== undefined) {
    if (t.layer !== undefined) throw new EiaError('E_BAD_ARG', `${who}: give layer or layers, not both`);
    if (!Array.isArray(t.layers) || t.layers.length !== 2) throw new EiaError('E_BAD_ARG', `${who}.layers must be [first, last]`);
    a = int(t.layers[0], `${who}.layers[0]`);
    b = int(t.layers[1], `${who}.layers[1]`);
    if (b < a) throw new EiaError('E_BAD_ARG', `${who}.layers: last (${b}) is before first (${a})`);
  } else {
    a = b = int(t.layer, `${who}.layer`);
  }
  const pos = t.positions ?? positions;
  if (!['all', 'prompt', 'generated'].includes(pos)) throw new EiaError('E_BAD_ARG', `${who}.positions must be all, prompt or generated`);
  return { layer: a, layerEnd: b, direction: t.direction, alpha: num(t.alpha, `${who}.alpha`), normalize: !!t.normalize, positions: pos };
}

export function rawGate(g: Gate | undefined, positions: SteerPositions, who: string): RawGate | null {
  if (g === undefined || g === null) return null;
  if (typeof g !== 'object') throw new EiaError('E_BAD_ARG', `${who} must be an object`);
  if (!(g.direction instanceof Float32Array)) throw new EiaError('E_BAD_ARG', `${who}.direction must be a Float32Array`);
  if (!Array.isArray(g.steer)) throw new EiaError('E_BAD_ARG', `${who}.steer must be an array of steering terms`);
  const minHold = int(g.minHold ?? GENERATION_DEFAULTS.gateMinHold, `${who}.minHold`);
  if (minHold < 1) throw new EiaError('E_BAD_ARG', `${who}.minHold must be >= 1`);
  const budget = g.budget === undefined ? -1 : int(g.budget, `${who}.budget`);
  if (g.budget !== undefined && budget < 0) throw new EiaError('E_BAD_ARG', `${who}.budget must be >= 0 (leave it out for no limit)`);
  const gp = g.positions ?? 'all';
  if (gp !== 'all' && gp !== 'generated') throw new EiaError('E_BAD_ARG', `${who}.positions must be all or generated`);
  return {
    layer: int(g.layer, `${who}.layer`), direction: g.direction, on: num(g.on, `${who}.on`), off: num(g.off, `${who}.off`),
    minHold, budget, generatedOnly: gp === 'generated',
    steer: g.steer.map((t, k) => rawTerm(t, positions, `${who}.steer[${k}]`)),
  };
}
