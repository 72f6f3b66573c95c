// eia-native correlate: behavioural correlation of a probe's scores with rubric scores (0/1/2)
// of texts (the paper's EIA correlation: Pearson, Spearman, 0-vs-2 binary accuracy); the
// computation is probes/behaviour.ts (study uses the same).
import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { behaviouralCorrelation, probeScoresOfTexts } from '../../probes/behaviour.js';
import { unitDirection } from '../../probes/direction.js';
import { parseScoredTexts } from '../../probes/dataset.js';
import { inputExists, inputName, readInputText } from '../../io/input.js';
import type { Probe } from '../../probes/probe.js';
import { loadProbe } from '../../probes/probe-file.js';
import { readNpy } from '../../io/npy.js';
import { correlationReportLines } from '../../stats/correlation-report.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, printJson, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag } from '../flags.js';
import { EiaError } from '../../util/errors.js';

interface Args { model: string; probe: string; layer?: number; texts: string; truncate: number; json: boolean; threads?: number; 'gpu-layers': number; 'ctx-size'?: number }

/** A probe file; with an explicit layer, any 1-D .npy direction will do (no sidecar or layer<L> name needed). */
function readProbe(path: string, layer: number | undefined): Pick<Probe, 'direction' | 'layer'> {
  const sidecar = path.replace(/\.npy$/, '') + '.json';
  if (layer === undefined || existsSync(sidecar) || /layer\d+\.npy$/.test(path)) return loadProbe(path);
  const arr = readNpy(path);
  if (arr.shape.length !== 1 && !(arr.shape.length === 2 && arr.shape[0] === 1)) {
    throw new EiaError('E_BAD_ARG', `${path}: a probe direction must be 1-D, got shape (${arr.shape.join(', ')})`);
  }
  return { direction: unitDirection(arr.data, path).direction, layer };
}

export const correlateCommand: CommandModule<object, Args> = {
  command: 'correlate',
  describe: 'Behavioural correlation: a probe\'s scores vs rubric scores (Pearson, Spearman, 0-vs-2 accuracy)',
  builder: (y) =>
    withModelOptions(y, 'room for one text; default: the model\'s training context within 2048..8192')
      .option('probe', { type: 'string', demandOption: true, describe: 'probe .npy (float32 or the paper\'s float16), unit direction' })
      .option('layer', { type: 'number', describe: 'block the probe reads (default: from its sidecar / file name layer<L>.npy)' })
      .option('texts', { type: 'string', demandOption: true, describe: 'scored texts JSONL: {"text": ..., "score": 0|1|2, "scenario": ...} per line (- = stdin)' })
      .option('truncate', { ...FLAGS.truncate, default: 512, describe: `${FLAGS.truncate.describe} (paper: 512)` })
      .option('json', FLAGS.json)
      .example('$0 correlate --model phi3.gguf --probe probes/layer8.npy --layer 8 --texts eia_texts.jsonl', 'the paper\'s r = .709')
      .epilog('Probe score = dot(mean-pooled activation of block L, direction). Pearson and Spearman (average ranks) with two-sided ' +
        't-test p-values; the binary accuracy under both of the paper\'s conventions, each labelled: [0-vs-2] the score-0 vs score-2 ' +
        'texts at the median of their probe scores (>= predicts 2; its eia_correlation.json), [all-items] every text, score 2 = high, ' +
        '0 and 1 = low, at the median of all probe scores (its cross_model_correlation.json). ' +
        'Constant probe or rubric scores make the correlation undefined: reported as an error, never NaN.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    if (!existsSync(a.probe)) throw new UsageError(`--probe: ${a.probe} does not exist`);
    if (!inputExists(a.texts)) throw new UsageError(`--texts: ${a.texts} does not exist`);
    intFlag(a.truncate, '--truncate', 0);
    const probe = readProbe(a.probe, a.layer);
    const layer = a.layer ?? probe.layer;
    if (!Number.isInteger(layer) || layer < 0) throw new UsageError(`--layer must be a non-negative integer, got ${layer}`);
    const texts = parseScoredTexts(readInputText(a.texts, '--texts'), inputName(a.texts));
    if (texts.length < 3) throw new EiaError('E_BAD_ARG', `${a.texts}: ${texts.length} texts; correlation needs at least 3`);
    const bar = createProgress({ label: 'correlate: capture', total: texts.length, unit: 'items' });
    let scores: Float64Array;
    try {
      scores = await probeScoresOfTexts(modelPathArg(a.model), { direction: probe.direction, layer }, texts.map((t) => t.text), {
        truncate: a.truncate, threads: a.threads, gpuLayers: a['gpu-layers'], ctxSize: a['ctx-size'], what: a.probe, onProgress: (d, _t, tok) => bar.update(d, `${tok} tokens`),
      });
    } catch (e) {
      throw inFlagWords(e, { layer: '--layer' });
    }
    bar.done();
    const { texts: perText, ...rep } = behaviouralCorrelation(scores, texts);
    const out = { model: a.model, probe: a.probe, layer, ...rep, texts: perText };
    if (a.json) return printJson(out);
    process.stdout.write(`n = ${out.n} texts, probe ${a.probe} at layer ${layer}\n`);
    process.stdout.write(correlationReportLines(rep).map((l) => `${l}\n`).join(''));
  },
};
