// File-system failures as EiaError 'E_IO'. Node's own error (ENOENT, EACCES, ENOSPC, …) stays
// available as `cause`; the message names the path: Node's message names it for most calls, but
// not for a write or fsync on an open file ("ENOSPC: no space left on device, write"), so the path
// the caller was writing is added where Node's message lacks it.
import { EiaError } from './errors.js';

/** True for Node's system errors (they carry an errno code such as 'ENOENT' and a syscall). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** The errno code (ENOENT, EEXIST, …) of a system error or of the system error an E_IO EiaError wraps. */
export function errnoOf(e: unknown): string | undefined {
  if (isSystemError(e)) return e.code;
  if (e instanceof EiaError && isSystemError(e.cause)) return e.cause.code;
  return undefined;
}

/**
 * `e` as an EiaError: a system error becomes 'E_IO' (naming `path` when Node's message does not); an
 * EiaError passes through; anything else is 'E_INTERNAL'.
 */
export function asIoError(e: unknown, path?: string): EiaError {
  if (e instanceof EiaError) return e;
  if (isSystemError(e)) {
    const named = path === undefined || e.message.includes(path) || (e.path !== undefined && e.message.includes(e.path));
    return new EiaError('E_IO', named ? e.message : `cannot write ${path}: ${e.message}`, { cause: e });
  }
  return new EiaError('E_INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
}

/** Runs a file-system operation, turning its system errors into 'E_IO' EiaErrors (naming `path` where Node does not). */
export function io<T>(fn: () => T, path?: string): T {
  try {
    return fn();
  } catch (e) {
    throw asIoError(e, path);
  }
}
