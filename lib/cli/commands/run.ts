// eia-native run --model <file|name> [--out RUN]: the paper's full protocol for one model.
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { PROBE_DEFAULTS } from '../../probes/defaults.js';
import { fetchPaperDataset } from '../../data/paper-dataset.js';
import { SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { findModel } from '../../models/registry.js';
import { Model } from '../../engine/model.js';
import { runProtocol, type RunResult } from '../../pipeline/run.js';
import { SYNTH_NAME_PREFIX } from '../../report/data.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { addHint, modelPathArg, parseIntList, parseNumberList, parseStringList, printJsonAsIs, UsageError, withModelOptions } from '../common.js';
import { note } from '../../util/note.js';
import { renderRunReport } from './report-hook.js';
import { shardArg } from './steer.js';

interface Args {
  model: string; out?: string; train?: string; test?: string; ablated?: string; layers?: string; 'steer-layers'?: string; alphas?: string;
  scenarios: string; samples: number; 'max-tokens': number; temp?: number; 'top-k'?: number; seed: number; 'random-baseline': number;
  permutations: number; chat: boolean; threads?: number; 'gpu-layers': number; json: boolean; shard?: string;
}

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
  note(`\nbest detection layer ${summary.best_layer} (AUROC ${summary.best_auroc.toFixed(3)}); steered layers ${summary.steer_layers.join(', ')}`);
  for (const [m, v] of Object.entries(summary.headline ?? {})) note(`steering success (${m}): ${(100 * (v as number)).toFixed(1)}%`);
  if (summary.report) note(`report: ${summary.report}`);
  if (r.sweep?.shard) note(`the sweep ran shard ${r.sweep.shard.index}/${r.sweep.shard.count} only (its score is partial): merge, score or report all ${r.sweep.shard.count} RUNs together`);
}

export const runCommand: CommandModule<object, Args> = {
  command: 'run',
  describe: 'The whole protocol for one model: probe -> choose layers -> steering sweep -> score -> report (resumable)',
  builder: (y) =>
    withModelOptions(y)
      .option('out', { type: 'string', describe: 'RUN folder (default runs/<model>)' })
      .option('train', { type: 'string', describe: 'train pairs JSONL (default: the paper\'s dataset, fetched and checksum-verified)' })
      .option('test', { type: 'string', describe: 'test pairs JSONL (default: the paper\'s)' })
      .option('ablated', { type: 'string', describe: 'lexically ablated test pairs (default: the paper\'s, with the paper\'s data)' })
      .option('layers', { type: 'string', describe: 'blocks to probe (default: models.json, else 5 spread layers)' })
      .option('steer-layers', { type: 'string', describe: 'blocks to steer (default: models.json, else the 3 best detection layers)' })
      .option('alphas', { type: 'string', describe: 'steering strengths (default: models.json, else -10,-5,-3,0,3,5,10)' })
      .option('scenarios', { type: 'string', default: STEERING_SCENARIO_IDS.join(','), describe: 'EIA scenarios to steer' })
      .option('samples', { type: 'number', default: 5 })
      .option('max-tokens', { type: 'number', default: 200 })
      .option('temp', { type: 'number', describe: `sampling temperature (default ${SAMPLING_DEFAULTS.temperature}, the paper's)` })
      .option('top-k', { type: 'number', describe: `top-k (default ${SAMPLING_DEFAULTS.topK})` })
      .option('seed', { type: 'number', default: 0 })
      .option('random-baseline', { type: 'number', default: PROBE_DEFAULTS.randomBaseline })
      .option('permutations', { type: 'number', default: PROBE_DEFAULTS.permutations })
      .option('chat', { type: 'boolean', default: false, describe: 'steer with the chat template (the paper used raw prompts)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout' })
      .option('shard', { type: 'string', describe: 'I/N or auto/N: the sweep stage runs only part I of N of the grid (as steer --shard; default --out runs/<model>.shard-I-of-N)' })
      .example('$0 run --model qwen2.5-7b', 'the paper\'s protocol on a pulled model (runs/qwen2.5-7b)')
      .example('$0 run --model m.gguf --train t.jsonl --test s.jsonl --out runs/m', 'own data') as never,
  handler: async (a) => {
    const shard = shardArg(a.shard);
    const path = modelPathArg(a.model);
    const entry = findModel(a.model);
    const m = await Model.load(path);  // mmap: cheap, and vocab-only loads report no layers
    const nLayer = m.nLayer;
    const synthetic = (m.info.name ?? '').startsWith(SYNTH_NAME_PREFIX);
    m.free();
    if ((a.train === undefined) !== (a.test === undefined)) throw new UsageError('give both --train and --test, or neither (the paper\'s dataset)');
    let train = a.train, test = a.test, ablated = a.ablated;
    if (!train) {
      note('fetching the paper\'s dataset (pinned commit, sha256-checked, cached)…');
      const d = await fetchPaperDataset().catch((e) => { throw addHint(e, 'E_IO', 'give --train and --test to use local pair files'); });
      train = d.train; test = d.test; ablated ??= d.ablated;
    }
    const probeLayers = a.layers ? parseIntList(a.layers, '--layers') : entry?.probeLayers ?? spreadLayers(nLayer);
    for (const l of probeLayers) if (l < 0 || l >= nLayer) throw new UsageError(`--layers: ${l} out of range [0, ${nLayer - 1}]`);
    const steerLayers = a['steer-layers'] ? parseIntList(a['steer-layers'], '--steer-layers') : entry?.steerLayers;
    const alphas = a.alphas ? parseNumberList(a.alphas, '--alphas') : entry?.alphas ?? [-10, -5, -3, 0, 3, 5, 10];
    const name = entry?.name ?? basename(path).replace(/\.gguf$/, '');
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const r = await runProtocol({
        modelPath: path, modelKey: name, out: a.out ?? `runs/${name}${shard && shard.count > 1 ? `.shard-${shard.index}-of-${shard.count}` : ''}`, shard,
        train: train!, test: test!, ablated, probeLayers, steerLayers, alphas, scenarios: parseStringList(a.scenarios),
        samples: a.samples, maxTokens: a['max-tokens'], temperature: a.temp, topK: a['top-k'],
        seed: a.seed, randomBaseline: a['random-baseline'], permutations: a.permutations,
        chat: a.chat, synthetic, threads: a.threads, gpuLayers: a['gpu-layers'], signal: ac.signal, report: renderRunReport,
      });
      printRunSummary(r, a.json);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
