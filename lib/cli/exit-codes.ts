// The CLI's exit codes, chosen by error code: 2 when the input is wrong (a flag value, an input
// file's contents, a RUN folder holding other work, a model that cannot do what was asked) and
// running again unchanged cannot help; 130
// when stopped (Ctrl-C); 1 for every other failure (a file that cannot be read or written, a model
// that does not load, a missing runtime, a bug).
import type { EiaError, ErrorCode } from '../util/errors.js';

export const EXIT_CODES: Record<ErrorCode, number> = {
  E_BAD_ARG: 2,
  E_CONFLICT: 2,
  E_UNSUPPORTED_MODEL: 2,
  E_ABORTED: 130,
  E_MODEL_LOAD: 1,
  E_BUSY: 1,
  E_IO: 1,
  E_RUNTIME: 1,
  E_FULL: 1,
  E_STATE: 1,
  E_LOCKED: 1,
  E_INTERNAL: 1,
};

export const EXIT_CODES_HELP = 'Exit codes: 0 ok, 1 failure, 2 bad input (flag value, input file, RUN folder of other work, a model that cannot do what was asked), 130 interrupted.';

export function exitCodeOf(e: EiaError): number {
  return EXIT_CODES[e.code] ?? 1;
}
