// Messages for people go to stderr, one line each, so stdout stays machine-readable. note():
// information, which EIA_NATIVE_QUIET=1 silences (with the progress displays); warn(): what a
// person must see even then (data dropped or replaced, a probe of another model, a rescaled
// direction), printed always.
import { isQuiet } from './env.js';

export function note(msg: string): void {
  if (!isQuiet()) process.stderr.write(msg + '\n');
}

export function warn(msg: string): void {
  process.stderr.write(msg + '\n');
}
