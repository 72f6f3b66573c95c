// eia-native pairs: contrastive pairs (the paper's JSONL format) from a local instruct model, plus a seeded split.
import type { CommandModule } from 'yargs';
import { SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { resolve } from 'node:path';
import { generatePairs, MAX_PAIRS_PER_SCENARIO, PAIRS_DEFAULTS, splitPaths } from '../../steering/pairs.js';
import { checkOutputFiles, modelKeyArg, modelPathArg, parseStringList, printJson, stringArg, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, checkSamplingFlags, FLAGS, inFlagWords, inFlagWordsOf, intFlag, SAMPLING_FLAGS } from '../flags.js';
import { checkMaxTokens } from '../../engine/validate.js';
import { note } from '../../util/note.js';

interface Args {
  model: string; scenarios: string; 'per-scenario': number; seed: number; out: string; 'test-fraction': number;
  'max-tokens': number; temp: number; 'top-k': number; 'top-p': number; 'source-model'?: string; json: boolean;
  threads?: number; 'gpu-layers': number; 'ctx-size'?: number; force: boolean;
}

export const pairsCommand: CommandModule<object, Args> = {
  command: 'pairs',
  describe: 'Generate contrastive pairs (empathic vs task-first system prompt) with a local instruct model',
  builder: (y) =>
    withModelOptions(y, 'default: the model\'s training context; the KV cache holds prompt + --max-tokens')
      .option('scenarios', { type: 'string', default: STEERING_SCENARIO_IDS.join(','), describe: 'scenario ids' })
      .option('per-scenario', { type: 'number', default: 10, describe: `pairs per scenario (at most ${MAX_PAIRS_PER_SCENARIO})` })
      .option('seed', { type: 'number', default: 0, describe: 'sampling seeds and the train/test split derive from it' })
      .option('out', { type: 'string', demandOption: true, describe: 'pairs JSONL; the split goes to <stem>.train.jsonl and <stem>.test.jsonl' })
      .option('test-fraction', { type: 'number', default: PAIRS_DEFAULTS.testFraction, describe: 'share of pairs in the test split (paper: 15 of 50)' })
      .option('max-tokens', { ...FLAGS['max-tokens'], default: PAIRS_DEFAULTS.maxTokens })
      .option('temp', { type: 'number', default: SAMPLING_DEFAULTS.temperature, describe: 'sampling temperature (0 = greedy)' })
      .option('top-k', { type: 'number', default: SAMPLING_DEFAULTS.topK, describe: 'top-k (0 = off)' })
      .option('top-p', { type: 'number', default: SAMPLING_DEFAULTS.topP, describe: 'top-p in (0, 1] (1 = off)' })
      .option('source-model', { type: 'string', describe: 'source_model field (default: the model file name)' })
      .option('force', { ...FLAGS.force, describe: 'replace existing pair files (--out and its .train/.test.jsonl)' })
      .option('json', FLAGS.json)
      .example('$0 pairs --model qwen.gguf --scenarios food_delivery,the_listener,the_maze,the_protector,the_duel --per-scenario 10 --seed 1 --out pairs.jsonl',
        'the paper\'s 50 pairs, 35/15 split') as never,
  handler: async (a) => {
    checkModelFlags(a);
    checkSamplingFlags(a);
    const scenarios = parseStringList(a.scenarios, '--scenarios');
    if (scenarios.length === 0) throw new UsageError('--scenarios: expected a comma-separated list of scenario ids');
    intFlag(a['per-scenario'], '--per-scenario', 1, MAX_PAIRS_PER_SCENARIO);
    inFlagWordsOf({ maxTokens: '--max-tokens' }, () => checkMaxTokens(a['max-tokens'], 'maxTokens'));
    if (!(a['test-fraction'] >= 0 && a['test-fraction'] <= 1)) throw new UsageError(`--test-fraction must lie in [0, 1], got ${a['test-fraction']}`);
    const out = stringArg(a.out, '--out');
    const split = splitPaths(resolve(out));
    checkOutputFiles([resolve(out), split.train, split.test], a.force);
    const modelPath = modelPathArg(a.model);
    const r = await generatePairs({
      modelPath, sourceModel: a['source-model'] ?? modelKeyArg(a.model),
      scenarios, perScenario: a['per-scenario'], seed: a.seed, out, testFraction: a['test-fraction'],
      maxTokens: a['max-tokens'], temperature: a.temp, topK: a['top-k'], topP: a['top-p'], threads: a.threads, gpuLayers: a['gpu-layers'],
      ctxSize: a['ctx-size'],
    }).catch((e) => { throw inFlagWords(e, { maxTokens: '--max-tokens', ctxSize: '--ctx-size', perScenario: '--per-scenario', scenarios: '--scenarios', ...SAMPLING_FLAGS }); });
    if (r.empty > 0) note(`warning: ${r.empty} generated texts are empty (the model ended at once); strict pair readers reject them`);
    if (r.truncated > 0) note(`note: ${r.truncated} texts reached --max-tokens ${a['max-tokens']} and were cut there`);
    const summary = {
      pairs: r.pairs.length, train: r.train.length, test: r.test.length, paths: r.paths, tokens: r.tokens,
      decode_ms: r.decodeMs, truncated: r.truncated, empty: r.empty,
    };
    if (a.json) printJson(summary);
    else process.stdout.write(`wrote ${r.pairs.length} pairs to ${r.paths.pairs} (train ${r.train.length}: ${r.paths.train}; test ${r.test.length}: ${r.paths.test})\n`);
  },
};
