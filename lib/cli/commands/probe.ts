// eia-native probe: train and validate per-layer probes from contrastive pairs (the paper's
// Table 1, plus bootstrap CIs, random baseline, permutation test and lexical ablation).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { moveAside } from '../../io/run-folder.js';
import { MAX_PERMUTATIONS, MAX_RANDOM_DIRECTIONS, MAX_RESAMPLES, PAPER_MAX_TOKENS, PROBE_DEFAULTS } from '../../probes/defaults.js';
import { createProgress } from '../../util/progress.js';
import type { ContrastivePair } from '../../probes/dataset.js';
import { runProbe } from '../../probes/pipeline.js';
import { VALIDATION_FILE, VALIDATION_MARKDOWN, writeProbeRun } from '../../probes/validation.js';
import { ablatePairs } from '../../probes/ablation.js';
import type { ProbeMethod } from '../../probes/probe.js';
import { modelPathArg, parseIntList, parseStringList, printJson, UsageError, withModelOptions, pairsArg } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag } from '../flags.js';
import { EiaError } from '../../util/errors.js';
import { note, warn } from '../../util/note.js';

interface Args {
  model: string; train: string; test: string; layers: string; method: string; 'random-baseline': number; permutations: number;
  bootstrap: number; ablated?: string; 'ablate-words'?: string; seed: number; truncate: number; out: string; json: boolean;
  threads?: number; 'gpu-layers': number; 'ctx-size'?: number; force: boolean;
}

export const PROBE_METHODS = ['mean-diff', 'pca', 'logistic'] as const;

/** Files of an earlier probe run in `dir` (what a new run would overwrite). */
export function probeFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /^layer\d+\.(npy|json)$/.test(f) || f === VALIDATION_FILE || f === VALIDATION_MARKDOWN).sort();
}

export const probeCommand: CommandModule<object, Args> = {
  command: 'probe',
  describe: 'Train and validate per-layer empathy probes from contrastive pairs (Table 1 + controls)',
  builder: (y) =>
    withModelOptions(y, 'room for one text; default: the model\'s training context within 2048..8192')
      .option('train', { type: 'string', demandOption: true, describe: 'train pairs JSONL (scenario_id, empathic_text, non_empathic_text; - = stdin)' })
      .option('test', { type: 'string', demandOption: true, describe: 'test pairs JSONL (same format; - = stdin)' })
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks to probe, e.g. 8,12,16,20,24 (0-based)' })
      .option('method', { choices: PROBE_METHODS, default: PROBE_DEFAULTS.method, describe: 'mean-diff (paper), PCA of paired differences, L2 logistic' })
      .option('random-baseline', { type: 'number', default: PROBE_DEFAULTS.randomBaseline, describe: `random unit directions for the baseline (0 = off; at most ${MAX_RANDOM_DIRECTIONS})` })
      .option('permutations', { type: 'number', default: PROBE_DEFAULTS.permutations, describe: `label permutations for the AUROC p-value (0 = off; at most ${MAX_PERMUTATIONS})` })
      .option('bootstrap', { type: 'number', default: PROBE_DEFAULTS.bootstrap, describe: `bootstrap resamples for the AUROC 95% CI (at most ${MAX_RESAMPLES})` })
      .option('ablated', { type: 'string', describe: 'lexically ablated test pairs JSONL, scored by the same probes' })
      .option('ablate-words', { type: 'string', describe: 'comma-separated words (word or word=replacement) ablated from the test texts' })
      .option('seed', { type: 'number', default: PROBE_DEFAULTS.seed, describe: 'seed of the baseline, permutations and bootstrap' })
      .option('truncate', { ...FLAGS.truncate, default: PROBE_DEFAULTS.truncate, describe: `${FLAGS.truncate.describe} (paper: ${PAPER_MAX_TOKENS})` })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('force', { ...FLAGS.force, describe: 'replace the probes of an earlier run in --out (moved to OUT/replaced-<time>/)' })
      .option('json', { ...FLAGS.json, describe: 'print validation.json on stdout' })
      .example('$0 probe --model phi3.gguf --train train_pairs.jsonl --test test_pairs.jsonl --layers 8,12,16,20,24 --out probes', 'the paper\'s Table 1')
      .example('$0 probe ... --ablated test_pairs_ablated.jsonl --out probes', 'with the lexical-ablation control')
      .epilog('One capture pass over all texts (train, test, ablated) and all layers. Writes DIR/layer<L>.npy (float32, unit norm) + ' +
        'DIR/layer<L>.json (model path + sha256, layer, pooling, method, train-set hash, nTrain), DIR/validation.json and ' +
        'DIR/validation.md (Table 1 layout). Progress on stderr. A folder holding probes already is refused unless --force.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    const layers = parseIntList(a.layers, '--layers');
    const truncate = intFlag(a.truncate, '--truncate', 0);
    const nBase = intFlag(a['random-baseline'], '--random-baseline', 0, MAX_RANDOM_DIRECTIONS);
    const nPerm = intFlag(a.permutations, '--permutations', 0, MAX_PERMUTATIONS);
    const nBoot = intFlag(a.bootstrap, '--bootstrap', 1, MAX_RESAMPLES);
    intFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
    const dir = resolve(a.out);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    const earlier = probeFilesIn(dir);
    if (earlier.length > 0 && !a.force) {
      throw new EiaError('E_CONFLICT', `--out ${a.out} already holds probes (${earlier.length} files: ${earlier.slice(0, 4).join(', ')}${earlier.length > 4 ? ', …' : ''}); use another folder or --force to replace them`);
    }
    if (a.ablated !== undefined && a['ablate-words'] !== undefined) throw new UsageError('give --ablated or --ablate-words, not both');
    const modelPath = modelPathArg(a.model);
    const train = pairsArg(a.train, '--train');
    const test = pairsArg(a.test, '--test');
    let ablated: ContrastivePair[] | undefined;
    let ablationSource: string | undefined;
    if (a.ablated !== undefined) {
      ablated = pairsArg(a.ablated, '--ablated');
      ablationSource = `file ${a.ablated}`;
    } else if (a['ablate-words'] !== undefined) {
      const words = parseStringList(a['ablate-words'], '--ablate-words');
      if (words.length === 0) throw new UsageError('--ablate-words: expected a comma-separated list of words');
      const ab = ablatePairs(test, words);
      ablated = ab.pairs;
      ablationSource = `${words.length} words, ${ab.meanReplacements.toFixed(1)} replacements per pair`;
    }
    const total = new Set([...train, ...test, ...(ablated ?? [])].flatMap((p) => [p.empathicText, p.nonEmpathicText])).size;
    const bar = createProgress({ label: 'probe: capture', total, unit: 'items' });
    const t0 = Date.now();
    const { report, probes } = await runProbe({
      modelPath, trainPairs: train, testPairs: test, layers, method: a.method as ProbeMethod,
      randomBaseline: nBase, permutations: nPerm, bootstrap: nBoot, ablatedPairs: ablated, ablationSource,
      seed: a.seed, truncate, threads: a.threads, gpuLayers: a['gpu-layers'], ctxSize: a['ctx-size'],
      onProgress: (done, _t, tok) => {
        const s = (Date.now() - t0) / 1000;
        bar.update(done, `${tok} tokens, ${s > 0 ? (tok / s).toFixed(0) : '-'} tok/s`);
      },
    }).catch((e) => { throw inFlagWords(e, { truncate: '--truncate', ctxSize: '--ctx-size' }); });
    bar.done(`${report.tokens} tokens, ${report.tokens_per_second.toFixed(0)} tok/s`);
    // ---- writes from here on
    if (earlier.length > 0) warn(`--force: ${moveAside(dir, earlier)} (probes of an earlier run)`);
    const { files, markdown: md } = writeProbeRun(dir, { report, probes });
    if (a.json) printJson({ ...report, files, out: dir });
    else {
      process.stdout.write(md);
      note(`wrote ${files.length} probes, validation.json and validation.md to ${dir}`);
    }
  },
};
