// EiaError: the one error class of eia-native, from the native binding up. `code` is stable and meant
// for programs (switch on it); `message` is for people. The addon creates EiaError instances itself
// (lib/engine/native.ts hands it this class), so native failures carry the same codes.
export type ErrorCode =
  | 'E_BAD_ARG'     // invalid input (arguments, options, file contents)
  | 'E_MODEL_LOAD'  // a model file cannot be loaded
  | 'E_BUSY'        // the context already runs an operation
  | 'E_ABORTED'     // stopped on request (AbortSignal, abort(), Ctrl-C)
  | 'E_IO'          // a file or folder cannot be read or written
  | 'E_RUNTIME'     // the llama.cpp runtime or a backend is missing or failed to load
  | 'E_FULL'        // no free sequence slot (open generation, whenFull: 'reject')
  | 'E_STATE'       // the object is closed, freed or finished
  | 'E_LOCKED'      // a RUN folder is in use by another process
  | 'E_CONFLICT'    // existing results differ from what was asked (another grid, other parameters)
  | 'E_UNSUPPORTED_MODEL' // the model's graph lacks what the operation reads (the residual stream at every block), or its tokenizer
  | 'E_INTERNAL';   // a bug: please report it

export const ERROR_CODES: readonly ErrorCode[] = [
  'E_BAD_ARG', 'E_MODEL_LOAD', 'E_BUSY', 'E_ABORTED', 'E_IO', 'E_RUNTIME', 'E_FULL', 'E_STATE', 'E_LOCKED', 'E_CONFLICT', 'E_UNSUPPORTED_MODEL', 'E_INTERNAL',
];

export class EiaError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EiaError';
    this.code = ERROR_CODES.includes(code) ? code : 'E_INTERNAL';
  }
}

/** True when `e` is an EiaError (optionally with one of `codes`). */
export function isEiaError(e: unknown, ...codes: ErrorCode[]): e is EiaError {
  return e instanceof EiaError && (codes.length === 0 || codes.includes(e.code));
}
