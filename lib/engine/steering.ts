// Steering terms and gates as a sequence of a generation carries them. Their rules (blocks, widths,
// strengths, positions, the gate's thresholds) and their conversion to the binding's explicit form
// are the validator's (validate.ts).

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
