// eia-native probe: train and validate per-layer probes from contrastive pairs (the paper's
// Table 1, plus bootstrap CIs, random baseline, permutation test and lexical ablation).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { PAPER_MAX_TOKENS, PROBE_DEFAULTS } from '../../probes/defaults.js';
import { createProgress } from '../../util/progress.js';
import type { ContrastivePair } from '../../probes/dataset.js';
import { runProbe } from '../../probes/pipeline.js';
import { writeProbeRun } from '../../probes/validation.js';
import { ablatePairs } from '../../probes/ablation.js';
import type { ProbeMethod } from '../../probes/probe.js';
import { modelPathArg, parseIntList, parseStringList, printJson, UsageError, withModelOptions, pairsArg } from '../common.js';
import { note } from '../../util/note.js';

interface Args {
  model: string; train: string; test: string; layers: string; method: string; 'random-baseline': number; permutations: number;
  bootstrap: number; ablated?: string; 'ablate-words'?: string; seed: number; 'max-tokens': number; out: string; json: boolean;
  threads?: number; 'gpu-layers': number;
}

export const PROBE_METHODS = ['mean-diff', 'pca', 'logistic'] as const;

function nonNegInt(v: number, flag: string): number {
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`${flag} must be a non-negative integer, got ${v}`);
  return v;
}

export const probeCommand: CommandModule<object, Args> = {
  command: 'probe',
  describe: 'Train and validate per-layer empathy probes from contrastive pairs (Table 1 + controls)',
  builder: (y) =>
    withModelOptions(y)
      .option('train', { type: 'string', demandOption: true, describe: 'train pairs JSONL (scenario_id, empathic_text, non_empathic_text)' })
      .option('test', { type: 'string', demandOption: true, describe: 'test pairs JSONL (same format)' })
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks to probe, e.g. 8,12,16,20,24 (0-based)' })
      .option('method', { choices: PROBE_METHODS, default: PROBE_DEFAULTS.method, describe: 'mean-diff (paper), PCA of paired differences, L2 logistic' })
      .option('random-baseline', { type: 'number', default: PROBE_DEFAULTS.randomBaseline, describe: 'random unit directions for the baseline (0 = off)' })
      .option('permutations', { type: 'number', default: PROBE_DEFAULTS.permutations, describe: 'label permutations for the AUROC p-value (0 = off)' })
      .option('bootstrap', { type: 'number', default: PROBE_DEFAULTS.bootstrap, describe: 'bootstrap resamples for the AUROC 95% CI' })
      .option('ablated', { type: 'string', describe: 'lexically ablated test pairs JSONL, scored by the same probes' })
      .option('ablate-words', { type: 'string', describe: 'comma-separated words (word or word=replacement) ablated from the test texts' })
      .option('seed', { type: 'number', default: PROBE_DEFAULTS.seed, describe: 'seed of the baseline, permutations and bootstrap' })
      .option('max-tokens', { type: 'number', default: PROBE_DEFAULTS.maxTokens, describe: `truncate each text to N tokens (paper: ${PAPER_MAX_TOKENS}; 0 = off)` })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('json', { type: 'boolean', default: false, describe: 'print validation.json on stdout' })
      .example('$0 probe --model phi3.gguf --train train_pairs.jsonl --test test_pairs.jsonl --layers 8,12,16,20,24 --out probes', 'the paper\'s Table 1')
      .example('$0 probe ... --ablated test_pairs_ablated.jsonl --out probes', 'with the lexical-ablation control')
      .epilog('One capture pass over all texts (train, test, ablated) and all layers. Writes DIR/layer<L>.npy (float32, unit norm) + ' +
        'DIR/layer<L>.json (model path + sha256, layer, pooling, method, train-set hash, nTrain), DIR/validation.json and ' +
        'DIR/validation.md (Table 1 layout). Progress on stderr.') as never,
  handler: async (a) => {
    const layers = parseIntList(a.layers, '--layers');
    const maxTokens = nonNegInt(a['max-tokens'], '--max-tokens');
    const nBase = nonNegInt(a['random-baseline'], '--random-baseline');
    const nPerm = nonNegInt(a.permutations, '--permutations');
    const nBoot = nonNegInt(a.bootstrap, '--bootstrap');
    if (nBoot < 1) throw new UsageError('--bootstrap must be at least 1');
    if (!Number.isInteger(a.seed)) throw new UsageError(`--seed must be an integer, got ${a.seed}`);
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
      const words = parseStringList(a['ablate-words']);
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
      seed: a.seed, maxTokens, threads: a.threads, gpuLayers: a['gpu-layers'],
      onProgress: (done, _t, tok) => {
        const s = (Date.now() - t0) / 1000;
        bar.update(done, `${tok} tokens, ${s > 0 ? (tok / s).toFixed(0) : '-'} tok/s`);
      },
    });
    bar.done(`${report.tokens} tokens, ${report.tokens_per_second.toFixed(0)} tok/s`);
    const dir = resolve(a.out);
    mkdirSync(dir, { recursive: true });
    const { files, markdown: md } = writeProbeRun(dir, { report, probes });
    if (a.json) printJson({ ...report, files, out: dir });
    else {
      process.stdout.write(md);
      note(`wrote ${files.length} probes, validation.json and validation.md to ${dir}`);
    }
  },
};
