// eia-native demo [--out RUN]: the whole protocol on the planted synthetic model (known answer),
// with its own contrastive data. The README's embedded default main job: no download, minutes on 2 cores.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { MAX_TOKENS_DEFAULTS } from '../../engine/defaults.js';
import { synth, type SynthResult } from '../../engine/synth.js';
import { fileSha256 } from '../../io/file-hash.js';
import { moveAside } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { loadState } from '../../pipeline/run-state.js';
import { EiaError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { UsageError } from '../common.js';
import { FLAGS, inFlagWords, intFlag, MAX_THREADS, optIntFlag } from '../flags.js';
import { runProtocol } from '../../pipeline/run.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { note, warn } from '../../util/note.js';
import { printRunSummary } from './run.js';
import { renderRunReport } from './report-hook.js';

interface Args { out: string; seed: number; threads?: number; force: boolean; json: boolean }

/**
 * The planted model of this RUN: written into a temporary folder first and moved into RUN/model/
 * only when the RUN holds no run of another model (a different --seed) or --force says to replace it,
 * so that a refused demo leaves the RUN as it was.
 */
async function plantedModel(out: string, modelDir: string, seed: number, force: boolean): Promise<SynthResult> {
  const tmp = join(out, `.demo-model-${process.pid}`);
  try {
    io(() => mkdirSync(tmp, { recursive: true }));
    note('demo: writing the planted-concept model (synthetic, llama architecture, word vocabulary)…');
    // the realistic planted profile: its controls (random directions, permutations, the lexically
    // ablated test pairs it wrote) behave as on real models, and the report states them
    const m = await synth({ planted: true, plantedProfile: 'realistic', seed, out: join(tmp, 'planted.gguf') });
    const state = loadState(out);
    const other = !!state && state.model.sha256 !== await fileSha256(m.path);
    if (other && !force) {
      throw new EiaError('E_CONFLICT', `${out} holds a demo of another planted model (another --seed); use another --out, the original --seed, or add --force`);
    }
    // ---- writes from here on
    if (other) warn(`--force: ${moveAside(out, ['model'])} (the planted model of another --seed)`);
    const files = readdirSync(tmp);
    io(() => mkdirSync(modelDir, { recursive: true }));
    for (const f of files) io(() => renameSync(join(tmp, f), join(modelDir, f)));
    const at = (p: string | undefined) => (p ? join(modelDir, basename(p)) : p);
    return {
      ...m, path: join(modelDir, basename(m.path)), plantedNpy: at(m.plantedNpy), trainJsonl: at(m.trainJsonl), testJsonl: at(m.testJsonl),
      ablatedJsonl: at(m.ablatedJsonl),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const DEMO_SETTINGS = {
  alphas: [-10, -5, -2, 0, 2, 5, 10],
  samples: 3,
  maxTokens: MAX_TOKENS_DEFAULTS.demo,
  nBest: 2,
} as const;

export const demoCommand: CommandModule<object, Args> = {
  command: 'demo',
  describe: 'Run the whole protocol on the planted synthetic model (known answer; no download)',
  builder: (y) =>
    y.option('out', { type: 'string', default: 'runs/demo', describe: 'RUN folder' })
      .option('seed', { type: 'number', default: 1 })
      .option('threads', { ...FLAGS.threads, describe: 'CPU threads (default: 1; the planted model is tiny)' })
      .option('force', { ...FLAGS.force, describe: 'replace a demo of another --seed in --out (moved to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json)
      .example('$0 demo --out runs/demo', 'then open runs/demo/report.html')
      .epilog('The planted model is synthetic: its numbers demonstrate the method (the answer is known), not a real LLM.') as never,
  handler: async (a) => {
    optIntFlag(a.threads, '--threads', 1, MAX_THREADS);
    intFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
    const out = resolve(a.out);
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    const t0 = Date.now();
    await withRunLock(out, 'demo', async () => {
      const modelDir = join(out, 'model');
      const m = await plantedModel(out, modelDir, a.seed, a.force);
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await runProtocol({
          modelPath: m.path, modelKey: 'planted-synthetic', out, train: m.trainJsonl!, test: m.testJsonl!, ablated: m.ablatedJsonl,
          probeLayers: Array.from({ length: m.nLayer }, (_, i) => i), nBest: DEMO_SETTINGS.nBest,
          alphas: [...DEMO_SETTINGS.alphas], scenarios: [...STEERING_SCENARIO_IDS], samples: DEMO_SETTINGS.samples,
          maxTokens: DEMO_SETTINGS.maxTokens, seed: a.seed, synthetic: true, signal: ac.signal, report: renderRunReport,
          // one thread: the model is tiny (d_model 64), and on a busy machine more threads only spin in
          // ggml's pool (measured on the 2-core VM under load: 7 s with one thread, 48 s with two)
          threads: a.threads ?? 1, force: a.force,
        }).catch((e) => { throw inFlagWords(e, { force: '--force' }); });
        printRunSummary(r, a.json);
        note(`demo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s (synthetic model: the figures show the method works, not how real LLMs behave)`);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
  },
};
