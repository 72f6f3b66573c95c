// eia-native run --model <file|name> [--out RUN]: the paper's full protocol for one model.
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { PROBE_DEFAULTS } from '../../probes/defaults.js';
import { fetchPaperDataset } from '../../data/paper-dataset.js';
import { MAX_TOKENS_DEFAULTS, SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { findModel } from '../../models/registry.js';
import { Model } from '../../engine/model.js';
import { runProtocol, type RunResult } from '../../pipeline/run.js';
import { SYNTH_NAME_PREFIX } from '../../report/data.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { addHint, modelPathArg, parseIntList, parseNumberList, parseStringList, printJsonAsIs, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, checkSamplingFlags, FLAGS, inFlagWords, inFlagWordsOf, intFlag, SAMPLING_FLAGS } from '../flags.js';
import { checkMaxTokens } from '../../engine/validate.js';
import { inputExists } from '../../io/input.js';
import { note } from '../../util/note.js';
import { MAX_PERMUTATIONS, MAX_RANDOM_DIRECTIONS, PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import { renderRunReport } from './report-hook.js';
import { shardArg } from './steer.js';

interface Args {
  model: string; out?: string; train?: string; test?: string; ablated?: string; layers?: string; 'steer-layers'?: string; alphas?: string;
  scenarios: string; samples: number; 'max-tokens': number; temp?: number; 'top-k'?: number; seed: number; 'random-baseline': number;
  permutations: number; chat: boolean; threads?: number; 'gpu-layers': number; 'ctx-size'?: number; truncate: number; force: boolean; json: boolean;
  shard?: string;
}

/** Library option names as this command's flags (flags.ts inFlagWords); `layers` is the sweep's, run's steered blocks. */
export const RUN_FLAG_NAMES = {
  alphas: '--alphas', maxTokens: '--max-tokens', ctxSize: '--ctx-size', probeLayers: '--layers', steerLayers: '--steer-layers',
  samples: '--samples', scenarios: '--scenarios', force: '--force', shard: '--shard', layers: '--steer-layers', truncate: '--truncate', ...SAMPLING_FLAGS,
};

/** Evenly spread blocks (e.g. 5 layers of a 28-block model: 4, 9, 14, 18, 23). */
export function spreadLayers(nLayer: number, n = 5): number[] {
  const out = new Set<number>();
  for (let k = 1; k <= n; k++) out.add(Math.min(nLayer - 1, Math.round((k * nLayer) / (n + 1))));
  return [...out].sort((a, b) => a - b);
}

export function printRunSummary(r: RunResult, json: boolean): void {
  const summary = {
    out: r.out, best_layer: r.probe.best_layer, best_auroc: r.probe.best_auroc, steer_layers: r.steerLayers,
    table1: r.probe.layers.map((l) => ({ layer: l.layer, auroc: l.auroc, ci: [l.auroc_ci.lower, l.auroc_ci.upper] })),
    headline: r.score?.headline ?? null, samples: r.sweep?.kept ?? 0, report: r.reportPath, skipped_stages: r.skipped,
  };
  if (json) return printJsonAsIs(summary);  // headline is keyed by model names
  const w = (s: string) => process.stdout.write(s + '\n');
  w(`best detection layer ${summary.best_layer} (AUROC ${summary.best_auroc.toFixed(3)}); steered layers ${summary.steer_layers.join(', ')}`);
  for (const [m, v] of Object.entries(summary.headline ?? {})) w(`steering success (${m}): ${(100 * (v as number)).toFixed(1)}%`);
  if (summary.report) w(`report: ${summary.report}`);
  if (r.sweep?.shard) note(`the sweep ran shard ${r.sweep.shard.index}/${r.sweep.shard.count} only (its score is partial): merge, score or report all ${r.sweep.shard.count} RUNs together`);
}

export const runCommand: CommandModule<object, Args> = {
  command: 'run',
  describe: 'The whole protocol for one model: probe -> choose layers -> steering sweep -> score -> report (resumable)',
  builder: (y) =>
    withModelOptions(y, 'default: the model\'s training context for generation; the training context within 2048..8192 for capture')
      .option('out', { type: 'string', describe: 'RUN folder (default runs/<model>)' })
      .option('train', { type: 'string', describe: 'train pairs JSONL (default: the paper\'s dataset, fetched and checksum-verified; - = stdin)' })
      .option('test', { type: 'string', describe: 'test pairs JSONL (default: the paper\'s)' })
      .option('ablated', { type: 'string', describe: 'lexically ablated test pairs (default: the paper\'s, with the paper\'s data)' })
      .option('layers', { type: 'string', describe: 'blocks to probe (default: models.json, else 5 spread layers)' })
      .option('steer-layers', { type: 'string', describe: 'blocks to steer (default: models.json, else the 3 best detection layers)' })
      .option('alphas', { type: 'string', describe: 'steering strengths (default: models.json, else -10,-5,-3,0,3,5,10)' })
      .option('scenarios', { type: 'string', default: STEERING_SCENARIO_IDS.join(','), describe: 'EIA scenarios to steer' })
      .option('samples', { type: 'number', default: 5, describe: 'samples per (layer, scenario, alpha)' })
      .option('max-tokens', { ...FLAGS['max-tokens'], default: MAX_TOKENS_DEFAULTS.sweep })
      .option('truncate', { ...FLAGS.truncate, default: PAPER_MAX_TOKENS, describe: `${FLAGS.truncate.describe}, for probing (paper: ${PAPER_MAX_TOKENS})` })
      .option('temp', { type: 'number', describe: `sampling temperature (default ${SAMPLING_DEFAULTS.temperature}, the paper's; 0 = greedy)` })
      .option('top-k', { type: 'number', describe: `top-k (default ${SAMPLING_DEFAULTS.topK}; 0 = off)` })
      .option('seed', { type: 'number', default: 0, describe: 'seed of every random step (sampling, baseline, permutations, bootstrap)' })
      .option('random-baseline', { type: 'number', default: PROBE_DEFAULTS.randomBaseline, describe: `random unit directions for the baseline (0 = off; at most ${MAX_RANDOM_DIRECTIONS})` })
      .option('permutations', { type: 'number', default: PROBE_DEFAULTS.permutations, describe: `label permutations for the AUROC p-value (0 = off; at most ${MAX_PERMUTATIONS})` })
      .option('chat', { type: 'boolean', default: false, describe: 'steer with the chat template (the paper used raw prompts)' })
      .option('force', { ...FLAGS.force, describe: 'replace results in --out made with other parameters (moved to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json)
      .option('shard', { ...FLAGS.shard, describe: 'I/N or auto/N: the sweep stage runs only part I of N of the grid (as steer --shard; default --out runs/<model>.shard-I-of-N)' })
      .example('$0 run --model qwen2.5-7b', 'the paper\'s protocol on a pulled model (runs/qwen2.5-7b)')
      .example('$0 run --model m.gguf --train t.jsonl --test s.jsonl --out runs/m', 'own data') as never,
  handler: async (a) => {
    checkModelFlags(a);
    checkSamplingFlags(a);
    intFlag(a.samples, '--samples', 1);
    inFlagWordsOf({ maxTokens: '--max-tokens' }, () => checkMaxTokens(a['max-tokens'], 'maxTokens'));
    intFlag(a.truncate, '--truncate', 0);
    intFlag(a['random-baseline'], '--random-baseline', 0, MAX_RANDOM_DIRECTIONS);
    intFlag(a.permutations, '--permutations', 0, MAX_PERMUTATIONS);
    const shard = shardArg(a.shard);
    if ((a.train === undefined) !== (a.test === undefined)) throw new UsageError('give both --train and --test, or neither (the paper\'s dataset)');
    for (const [flag, f] of [['--train', a.train], ['--test', a.test], ['--ablated', a.ablated]] as const) {
      if (f !== undefined && !inputExists(f)) throw new UsageError(`${flag}: ${f} does not exist`);
    }
    // every list is read before anything is loaded; an empty value (--layers=) is refused as everywhere
    const layersArg = a.layers !== undefined ? parseIntList(a.layers, '--layers') : undefined;
    const steerLayersArg = a['steer-layers'] !== undefined ? parseIntList(a['steer-layers'], '--steer-layers') : undefined;
    const alphasArg = a.alphas !== undefined ? parseNumberList(a.alphas, '--alphas') : undefined;
    const scenarios = parseStringList(a.scenarios, '--scenarios');
    if (scenarios.length === 0) throw new UsageError('--scenarios: expected a comma-separated list of scenario ids');
    const path = modelPathArg(a.model);
    const entry = findModel(a.model);
    const m = await Model.load(path);  // mmap: cheap, and vocab-only loads report no layers
    const nLayer = m.nLayer;
    const synthetic = (m.info.name ?? '').startsWith(SYNTH_NAME_PREFIX);
    m.free();
    let train = a.train, test = a.test, ablated = a.ablated;
    if (!train) {
      note('fetching the paper\'s dataset (pinned commit, sha256-checked, cached)…');
      const d = await fetchPaperDataset().catch((e) => { throw addHint(e, 'E_IO', 'give --train and --test to use local pair files'); });
      train = d.train; test = d.test; ablated ??= d.ablated;
    }
    const probeLayers = layersArg ?? entry?.probeLayers ?? spreadLayers(nLayer);
    for (const l of probeLayers) if (l < 0 || l >= nLayer) throw new UsageError(`--layers: ${l} out of range [0, ${nLayer - 1}]`);
    const steerLayers = steerLayersArg ?? entry?.steerLayers;
    const alphas = alphasArg ?? entry?.alphas ?? [-10, -5, -3, 0, 3, 5, 10];
    const name = entry?.name ?? basename(path).replace(/\.gguf$/, '');
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const r = await runProtocol({
        modelPath: path, modelKey: name, out: a.out ?? `runs/${name}${shard && shard.count > 1 ? `.shard-${shard.index}-of-${shard.count}` : ''}`, shard,
        train: train!, test: test!, ablated, probeLayers, steerLayers, alphas, scenarios,
        samples: a.samples, maxTokens: a['max-tokens'], temperature: a.temp, topK: a['top-k'],
        seed: a.seed, randomBaseline: a['random-baseline'], permutations: a.permutations, truncate: a.truncate,
        chat: a.chat, synthetic, threads: a.threads, gpuLayers: a['gpu-layers'], ctxSize: a['ctx-size'], force: a.force,
        signal: ac.signal, report: renderRunReport,
      }).catch((e) => { throw inFlagWords(e, RUN_FLAG_NAMES); });
      printRunSummary(r, a.json);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
