// llama.cpp's random-weight models of every architecture (scripts/arch-models.mjs writes them; it
// compiles llama.cpp, so no test does). Tests that need them use itWithArchModels: where they are
// absent the test is reported as skipped with ARCH_MODELS_ABSENT as its reason.
import { join } from 'node:path';
import { it, type TestContext } from 'vitest';
import { archModelsDir, archModelsManifest } from '../../scripts/arch-models.mjs';

export const ARCH_MODELS = archModelsManifest();
export const ARCH_MODELS_DIR = archModelsDir();
export const ARCH_MODELS_ABSENT = `llama.cpp's random-weight models of every architecture are not written (expected ${ARCH_MODELS_DIR}; ` +
  'node scripts/arch-models.mjs builds them: it compiles llama.cpp, minutes; .ci/run does it first)';

/** The path of architecture `arch`'s model (dense unless `moe`), or null when it was not written. */
export function archModel(arch: string, moe = false): string | null {
  const m = ARCH_MODELS?.models.find((x) => x.arch === arch && (x.kind === 'moe') === moe);
  return m ? join(ARCH_MODELS_DIR, m.file) : null;
}

/** `it` for a test that needs the models: skipped with ARCH_MODELS_ABSENT as its reason where they are absent. */
export function itWithArchModels(name: string, fn: (ctx: TestContext) => unknown, timeout?: number): void {
  it(name, (ctx) => {
    ctx.skip(!ARCH_MODELS, ARCH_MODELS_ABSENT);
    return fn(ctx);
  }, timeout);
}
