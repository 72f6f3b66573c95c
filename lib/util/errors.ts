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

/** Names an option path (`maxTokens`, `steer[1].alpha`) in a front end's own words: a flag, a JSON field. */
export type FieldNamer = (field: string) => string;

/** Which rule a FieldError broke (the server uses them as its error codes). */
export type FieldRule =
  | 'invalid_value'            // a value of the wrong kind or outside its allowed set
  | 'layer_out_of_range'       // a block outside the model
  | 'alpha_out_of_range'       // a steering strength beyond its bound
  | 'vector_length'            // a direction of the wrong width
  | 'vector_not_finite'        // a direction holding NaN or infinity
  | 'context_length_exceeded'  // prompt and new tokens do not fit the context
  | 'results_exist';           // a RUN folder holds other results (E_CONFLICT; `force` replaces them)

/**
 * An error about one option of a call. `field` is the option's path in the library's names
 * (`maxTokens`, `steer[1].alpha`, `gate.on`) and `rule` the rule it broke. The message is written
 * by `text` from a namer: the library's message names library options; a front end calls
 * `render(namer)` to name them in its own words (docs/architecture.md: library messages never name
 * a CLI flag), so no message is ever rewritten word by word.
 */
export class FieldError extends EiaError {
  readonly field: string;
  readonly rule: FieldRule;
  private readonly text: (name: FieldNamer) => string;
  constructor(code: ErrorCode, field: string, rule: FieldRule, text: (name: FieldNamer) => string, options?: { cause?: unknown }) {
    super(code, text((f) => f), options);
    this.name = 'FieldError';
    this.field = field;
    this.rule = rule;
    this.text = text;
  }

  /** The message with every option named by `name`. */
  render(name: FieldNamer): string {
    return this.text(name);
  }
}

/** An E_BAD_ARG FieldError (the common case). */
export function badField(field: string, rule: FieldRule, text: (name: FieldNamer) => string): FieldError {
  return new FieldError('E_BAD_ARG', field, rule, text);
}

export function isFieldError(e: unknown): e is FieldError {
  return e instanceof FieldError;
}
