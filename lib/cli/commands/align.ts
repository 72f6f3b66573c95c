// eia-native align: cross-model comparison of empathy probes. The paper correlated two models'
// probe scores on the same texts; this also fits an orthogonal Procrustes map between the two
// models' activations (in a shared k-dim PCA space, fitted on the train texts) and reports how
// well model A's probe, carried into model B, recovers AUROC on the test texts.
import type { CommandModule } from 'yargs';
import { PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import { alignmentReport, alignmentTexts, captureBlocks } from '../../probes/align.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, printJson, UsageError, pairsArg } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag } from '../flags.js';

interface Args {
  'model-a': string; 'model-b': string; train: string; test: string; 'layer-a': number; 'layer-b': number; k?: number;
  truncate: number; json: boolean; threads?: number; 'gpu-layers': number; 'ctx-size'?: number;
}

/** Mean-pooled activations of `texts` at one block of one model (one capture pass; probes/align.ts). */
async function activations(path: string, layer: number, texts: string[], label: string, a: Args): Promise<Float32Array[]> {
  if (!Number.isInteger(layer) || layer < 0) throw new UsageError(`--layer-${label}: ${layer} is not a block index`);
  const bar = createProgress({ label: `align: capture ${label}`, total: texts.length, unit: 'items' });
  try {
    const rows = await captureBlocks(path, [layer], texts, {
      truncate: a.truncate, threads: a.threads, gpuLayers: a['gpu-layers'], ctxSize: a['ctx-size'], onProgress: (d, _t, tok) => bar.update(d, `${tok} tokens`),
    });
    bar.done();
    return rows.get(layer)!;
  } catch (e) {
    throw inFlagWords(e, { truncate: '--truncate', ctxSize: '--ctx-size', layer: `--layer-${label}` });
  }
}

export const alignCommand: CommandModule<object, Args> = {
  command: 'align',
  describe: 'Cross-model probes: score agreement, Procrustes alignment, AUROC of a probe carried from model A to B',
  builder: (y) =>
    y.option('model-a', { type: 'string', demandOption: true, describe: 'model A (GGUF file or pulled name)' })
      .option('model-b', { type: 'string', demandOption: true, describe: 'model B (GGUF file or pulled name)' })
      .option('train', { type: 'string', demandOption: true, describe: 'train pairs JSONL: probes and the alignment are fitted on these (- = stdin)' })
      .option('test', { type: 'string', demandOption: true, describe: 'test pairs JSONL: agreement and AUROCs are measured on these (- = stdin)' })
      .option('layer-a', { type: 'number', demandOption: true, describe: 'block of model A' })
      .option('layer-b', { type: 'number', demandOption: true, describe: 'block of model B' })
      .option('k', { type: 'number', describe: 'shared PCA dimension (default min(16, nTrain - 1, widths))' })
      .option('truncate', { ...FLAGS.truncate, default: PAPER_MAX_TOKENS, describe: `${FLAGS.truncate.describe} (paper: ${PAPER_MAX_TOKENS})` })
      .option('threads', FLAGS.threads)
      .option('gpu-layers', FLAGS['gpu-layers'])
      .option('ctx-size', { ...FLAGS['ctx-size'], describe: `${FLAGS['ctx-size'].describe} (room for one text; default: the model's training context within 2048..8192)` })
      .option('json', FLAGS.json)
      .example('$0 align --model-a phi3.gguf --model-b qwen.gguf --train train.jsonl --test test.jsonl --layer-a 12 --layer-b 16', '')
      .epilog('Each model\'s mean-diff probe is trained on its own train activations. Agreement = Pearson/Spearman of the two ' +
        'probes\' scores on the test texts (the paper\'s cross-model check). Alignment: both models\' train activations are ' +
        'centred and projected on their own top-k principal axes; R = argmin ||A_k R - B_k|| over orthogonal R (SVD). ' +
        'Model A\'s probe carried through R into B is scored on B\'s test texts and compared with B\'s native probe.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    intFlag(a.truncate, '--truncate', 0);
    if (a.k !== undefined && (!Number.isInteger(a.k) || a.k < 1)) throw new UsageError(`--k must be a positive integer, got ${a.k}`);
    const train = pairsArg(a.train, '--train'), test = pairsArg(a.test, '--test');
    const pathA = modelPathArg(a['model-a']), pathB = modelPathArg(a['model-b']);
    const texts = alignmentTexts(train, test);
    const rowsA = await activations(pathA, a['layer-a'], texts, 'a', a);
    const rowsB = await activations(pathB, a['layer-b'], texts, 'b', a);
    const { width_a: widthA, width_b: widthB, ...rep } = alignmentReport(rowsA, rowsB, train.length, test.length, { k: a.k });
    const out = {
      model_a: { path: pathA, layer: a['layer-a'], width: widthA },
      model_b: { path: pathB, layer: a['layer-b'], width: widthB },
      ...rep,
    };
    const agreement = rep.agreement;
    const cos = rep.cosine_carried_native;
    if (a.json) return printJson(out);
    const f = (x: number) => x.toFixed(4);
    process.stdout.write(`A ${pathA} L${a['layer-a']} (d ${widthA})  vs  B ${pathB} L${a['layer-b']} (d ${widthB}); ${train.length} train / ${test.length} test pairs\n`);
    if (agreement) process.stdout.write(`score agreement on test texts: Pearson r = ${f(agreement.pearson.r)} (p ${agreement.pearson.p.toPrecision(4)}), Spearman rho = ${f(agreement.spearman.rho)} (p ${agreement.spearman.p.toPrecision(4)})\n`);
    else process.stdout.write(`score agreement: ${rep.agreement_note}\n`);
    process.stdout.write(`Procrustes (k = ${rep.procrustes.k}): train residual ${f(rep.procrustes.residual)}\n`);
    process.stdout.write(`AUROC on test: A native ${f(rep.auroc.source_a)}, B native ${f(rep.auroc.native_b)}, A carried into B ${f(rep.auroc.carried_a_to_b)}; cosine(carried, native) ${f(cos)}\n`);
  },
};
