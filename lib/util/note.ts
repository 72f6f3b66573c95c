// Messages for people go to stderr, one line each, so stdout stays machine-readable; EIA_NATIVE_QUIET=1
// silences them (the default log of the library's long operations and the CLI's notes).
import { isQuiet } from './env.js';

export function note(msg: string): void {
  if (!isQuiet()) process.stderr.write(msg + '\n');
}
