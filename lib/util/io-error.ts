// File-system failures as EiaError 'E_IO'. Node's own error (ENOENT, EACCES, ENOSPC, …) stays
// available as `cause`, and its message, which names the path, becomes the EiaError's message.
import { EiaError } from './errors.js';

/** True for Node's system errors (they carry an errno code such as 'ENOENT' and a syscall). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** `e` as an EiaError: a system error becomes 'E_IO'; an EiaError passes through; anything else is 'E_INTERNAL'. */
export function asIoError(e: unknown): EiaError {
  if (e instanceof EiaError) return e;
  if (isSystemError(e)) return new EiaError('E_IO', e.message, { cause: e });
  return new EiaError('E_INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
}

/** Runs a file-system operation, turning its system errors into 'E_IO' EiaErrors. */
export function io<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asIoError(e);
  }
}
