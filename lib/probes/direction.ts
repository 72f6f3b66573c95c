// The one rule for probe norms, used by every command and by the server: a direction read from a
// file (a probe .npy, a control-vector layer) is used as its UNIT vector. Steering adds
// alpha * unit(d), so alpha is always the L2 norm of what is added to the residual stream at each
// position, whatever the file's norm; monitors and gates project on unit(d). The file's norm is
// not lost: it is the direction's `scale` (a control vector exported with --scale 4 imports as a
// unit direction with scale 4, and exports again as the same vectors). A norm other than 1 is
// reported (normNote), never silently applied; a norm whose square float32 cannot hold is refused.
import { EiaError } from '../util/errors.js';

/** Norms within this of 1 count as unit (float16/float32 rounding of a unit vector); such a vector is used as stored. */
export const UNIT_NORM_TOLERANCE = 1e-3;
/** Below this distance from 1 the stored values are used as they are (normalising would only round them). */
const EXACT_UNIT = 1e-6;

/**
 * The norms a direction may have: those whose square is a normal 32-bit float (float32's smallest
 * normal number, 2^-126, and its largest, ~3.4e38), i.e. about 1.08e-19 to 1.84e19. The engine
 * works in float32; outside this range the squared norm (normalising, norm-preserving steering, a
 * monitor's projection) underflows to subnormals or 0, or overflows to infinity: such a file is
 * refused, never silently normalised.
 */
export const MIN_NORM = Math.sqrt(2 ** -126);
export const MAX_NORM = Math.sqrt(3.4028234663852886e38);

export interface UnitDirection {
  /** unit-norm direction */
  direction: Float32Array;
  /** the L2 norm of the stored vector */
  norm: number;
}

/** The unit direction of `v` and its norm; E_BAD_ARG (naming `what`) for NaN/infinity or the zero vector. */
export function unitDirection(v: Float32Array, what: string): UnitDirection {
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new EiaError('E_BAD_ARG', `${what}: the direction holds NaN or infinity (value ${i})`);
    s += v[i] * v[i];
  }
  const norm = Math.sqrt(s);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new EiaError('E_BAD_ARG', `${what}: the direction is the zero vector or overflows`);
  if (norm < MIN_NORM || norm > MAX_NORM) {
    throw new EiaError('E_BAD_ARG', `${what}: the direction's norm ${norm.toPrecision(4)} ${norm < MIN_NORM ? 'underflows' : 'overflows'} 32-bit floats ` +
      `(its square must be a normal float32: norm within [${MIN_NORM.toPrecision(4)}, ${MAX_NORM.toPrecision(4)}]); rescale the file`);
  }
  if (Math.abs(norm - 1) <= EXACT_UNIT) return { direction: v, norm };
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return { direction: out, norm };
}

/** A message for people when a direction's norm is not 1 (null when it is, to float rounding). */
export function normNote(norm: number, what: string): string | null {
  if (Math.abs(norm - 1) <= UNIT_NORM_TOLERANCE) return null;
  return `note: ${what} has norm ${norm.toPrecision(4)}: it is used as a unit direction (alpha is the size of what is added; the norm is kept as its scale)`;
}
