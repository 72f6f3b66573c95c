// eia-native demo [--out RUN]: the whole protocol on the planted synthetic model (known answer),
// with its own contrastive data. The README's embedded default main job: no download, minutes on 2 cores.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { MAX_TOKENS_DEFAULTS } from '../../engine/defaults.js';
import { synth, SYNTH_ARCHES, type SynthArch, type SynthResult } from '../../engine/synth.js';
import { fileSha256 } from '../../io/file-hash.js';
import { moveAside } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { loadState } from '../../pipeline/run-state.js';
import { EiaError } from '../../util/errors.js';
import { asIoError, io } from '../../util/io-error.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { MAX_BINARY_INPUT_BYTES, readBounded } from '../../io/input.js';
import { UsageError } from '../common.js';
import { FLAGS, inFlagWords, intFlag, MAX_THREADS, optIntFlag } from '../flags.js';
import { checkProtocol, runProtocol, type RunOptions } from '../../pipeline/run.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { note, warn } from '../../util/note.js';
import { printRunSummary } from './run.js';
import { renderRunReport } from './report-hook.js';

interface Args { out: string; seed: number; arch: SynthArch; threads?: number; force: boolean; json: boolean }

/**
 * The planted model of this RUN, written into a temporary folder outside the RUN. Nothing enters the
 * RUN before every check has passed (demoChecks); then the files move into RUN/model/.
 */
async function plantedModelOutside(seed: number, arch: SynthArch): Promise<{ m: SynthResult; tmp: string }> {
  const tmp = io(() => mkdtempSync(join(tmpdir(), 'eia-demo-model-')));
  note(`demo: writing the planted-concept model (synthetic, ${arch} architecture, word vocabulary)…`);
  try {
    // the realistic planted profile: its controls (random directions, permutations, the lexically
    // ablated test pairs it wrote) behave as on real models, and the report states them
    return { m: await synth({ planted: true, plantedProfile: 'realistic', arch, seed, out: join(tmp, 'planted.gguf') }), tmp };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** `m`'s files moved into `dir` (a rename, or a copy across file systems); the result with their new paths. */
function moveModel(m: SynthResult, dir: string): SynthResult {
  io(() => mkdirSync(dir, { recursive: true }));
  const at = (p: string | undefined): string | undefined => {
    if (!p) return p;
    const to = join(dir, basename(p));
    try {
      renameSync(p, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw asIoError(e, to);
      writeFileAtomic(to, readBounded(p, MAX_BINARY_INPUT_BYTES));
    }
    return to;
  };
  return { ...m, path: at(m.path)!, plantedNpy: at(m.plantedNpy), trainJsonl: at(m.trainJsonl), testJsonl: at(m.testJsonl), ablatedJsonl: at(m.ablatedJsonl) };
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
      .option('arch', { choices: SYNTH_ARCHES, default: 'llama' as SynthArch, describe: 'architecture of the planted model (each in its own tensor layout)' })
      .option('threads', { ...FLAGS.threads, describe: 'CPU threads (default: 1; the planted model is tiny)' })
      .option('force', { ...FLAGS.force, describe: 'replace a demo of another --seed or --arch in --out (moved to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json)
      .example('$0 demo --out runs/demo', 'then open runs/demo/report.html')
      .example('$0 demo --arch phi3 --out runs/demo-phi3', 'the same protocol on the planted model in phi3\'s layout (fused QKV)')
      .epilog('The planted model is synthetic: its numbers demonstrate the method (the answer is known), not a real LLM.') as never,
  handler: async (a) => {
    optIntFlag(a.threads, '--threads', 1, MAX_THREADS);
    intFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
    const out = resolve(a.out);
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    const t0 = Date.now();
    const { m: staged, tmp } = await plantedModelOutside(a.seed, a.arch);
    try {
      await withRunLock(out, 'demo', async () => {
        const protocol = (m: SynthResult): RunOptions => ({
          modelPath: m.path, modelKey: 'planted-synthetic', out, train: m.trainJsonl!, test: m.testJsonl!, ablated: m.ablatedJsonl,
          probeLayers: Array.from({ length: m.nLayer }, (_, i) => i), nBest: DEMO_SETTINGS.nBest,
          alphas: [...DEMO_SETTINGS.alphas], scenarios: [...STEERING_SCENARIO_IDS], samples: DEMO_SETTINGS.samples,
          maxTokens: DEMO_SETTINGS.maxTokens, seed: a.seed, synthetic: true, report: renderRunReport,
          // one thread: the model is tiny (d_model 64), and on a busy machine more threads only spin in
          // ggml's pool (measured on the 2-core VM under load: 7 s with one thread, 48 s with two)
          threads: a.threads ?? 1, force: a.force,
        });
        // every check before the first write into the RUN: a demo of another --seed, then all the protocol's own
        const state = loadState(out);
        const other = !!state && state.model.sha256 !== await fileSha256(staged.path);
        if (other && !a.force) {
          throw new EiaError('E_CONFLICT', `${out} holds a demo of another planted model (another --seed or --arch); use another --out, the original --seed and --arch, or add --force`);
        }
        await checkProtocol(protocol(staged)).catch((e) => { throw inFlagWords(e, { force: '--force' }); });
        // ---- writes from here on
        if (other) warn(`--force: ${moveAside(out, ['model'])} (the planted model of another --seed)`);
        const m = moveModel(staged, join(out, 'model'));
        const ac = new AbortController();
        const onSigint = () => ac.abort();
        process.once('SIGINT', onSigint);
        try {
          const r = await runProtocol({ ...protocol(m), signal: ac.signal }).catch((e) => { throw inFlagWords(e, { force: '--force' }); });
          printRunSummary(r, a.json);
          note(`demo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s (synthetic model: the figures show the method works, not how real LLMs behave)`);
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};
