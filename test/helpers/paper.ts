// The paper's own data (../shared/reference/empathy-probes, MIT; never copied into this repository).
// Tests that need it use itWithPaper: where the data is absent they are reported as skipped with
// the reason, never passed without testing.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it, type TestContext } from 'vitest';

export const PAPER_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared', 'reference', 'empathy-probes');
export const paperPresent = existsSync(PAPER_DIR);
export const PAPER_ABSENT = `the paper's data is absent (expected at ${PAPER_DIR})`;

/** `it` for a test that reads the paper's data: skipped with PAPER_ABSENT as its reason when the data is not there. */
export function itWithPaper(name: string, fn: (ctx: TestContext) => unknown, timeout?: number): void {
  it(name, (ctx) => {
    ctx.skip(!paperPresent, PAPER_ABSENT);
    return fn(ctx);
  }, timeout);
}
