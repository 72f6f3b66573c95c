// eia-native align: cross-model comparison of empathy probes. The paper correlated two models'
// probe scores on the same texts; this also fits an orthogonal Procrustes map between the two
// models' activations (in a shared k-dim PCA space, fitted on the train texts) and reports how
// well model A's probe, carried into model B, recovers AUROC on the test texts.
import type { CommandModule } from 'yargs';
import { captureContextOptions, captureCtxSize, checkTextsFit } from '../../probes/capture-context.js';
import { PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import { Model } from '../../engine/model.js';
import { rows as captureRows } from '../../engine/capture.js';
import { dot } from '../../stats/rows.js';
import { meanDiffDirection } from '../../probes/probe.js';
import { crossModelTransfer, scoreAgreement } from '../../probes/crossmodel.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, printJson, UsageError, pairsArg } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag } from '../flags.js';

interface Args {
  'model-a': string; 'model-b': string; train: string; test: string; 'layer-a': number; 'layer-b': number; k?: number;
  truncate: number; json: boolean; threads?: number; 'gpu-layers': number; 'ctx-size'?: number;
}

/** Mean-pooled activations of `texts` at one block of one model (one capture pass). */
async function activations(path: string, layer: number, texts: string[], label: string, a: Args): Promise<Float32Array[]> {
  const model = await Model.load(path, { gpuLayers: a['gpu-layers'] });
  try {
    if (!Number.isInteger(layer) || layer < 0 || layer >= model.nLayer) {
      throw new UsageError(`--layer-${label}: ${layer} out of range [0, ${model.nLayer - 1}] for ${path}`);
    }
    const ctxSize = a['ctx-size'] ?? captureCtxSize(model);
    try {
      checkTextsFit(model, texts, a.truncate, ctxSize);
    } catch (e) {
      throw inFlagWords(e, { truncate: '--truncate', ctxSize: '--ctx-size' });
    }
    const ctx = await model.createContext(captureContextOptions(model, a.threads, ctxSize));
    const bar = createProgress({ label: `align: capture ${label}`, total: texts.length, unit: 'items' });
    try {
      const res = await ctx.capture(texts, { layers: [layer], pool: 'mean', truncate: a.truncate, onProgress: (d, _t, tok) => bar.update(d, `${tok} tokens`) });
      bar.done();
      return captureRows(res, layer);
    } finally {
      ctx.free();
    }
  } finally {
    model.free();
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
    // Rows: train emp, train non, test emp, test non.
    const texts = [...train.map((p) => p.empathicText), ...train.map((p) => p.nonEmpathicText),
      ...test.map((p) => p.empathicText), ...test.map((p) => p.nonEmpathicText)];
    const nTr = 2 * train.length, nTe = 2 * test.length;
    const labels = [...Array(train.length).fill(1), ...Array(train.length).fill(0), ...Array(test.length).fill(1), ...Array(test.length).fill(0)];
    const trainIdx = Array.from({ length: nTr }, (_, i) => i);
    const testIdx = Array.from({ length: nTe }, (_, i) => nTr + i);
    const rowsA = await activations(pathA, a['layer-a'], texts, 'a', a);
    const rowsB = await activations(pathB, a['layer-b'], texts, 'b', a);
    const t = crossModelTransfer({ a: rowsA, b: rowsB, labels, trainIdx, testIdx, k: a.k });
    // The paper's cross-model agreement: each model's own mean-diff probe, scored on the same test texts.
    const dirA = meanDiffDirection(trainIdx.filter((i) => labels[i] === 1).map((i) => rowsA[i]), trainIdx.filter((i) => labels[i] === 0).map((i) => rowsA[i]));
    const scoresA = testIdx.map((i) => dot(rowsA[i], dirA));
    const scoresB = testIdx.map((i) => dot(rowsB[i], t.nativeDirection));
    let agreement: ReturnType<typeof scoreAgreement> | null = null, agreementNote: string | undefined;
    try { agreement = scoreAgreement(scoresA, scoresB); } catch (e) { agreementNote = (e as Error).message; }
    const cos = dot(t.carriedDirection, t.nativeDirection);
    const al = t.alignment;
    const out = {
      model_a: { path: pathA, layer: a['layer-a'], width: al.dA },
      model_b: { path: pathB, layer: a['layer-b'], width: al.dB },
      n_train_pairs: train.length, n_test_pairs: test.length,
      agreement: agreement
        ? { n: agreement.n, pearson: { r: agreement.pearson.r, p: agreement.pearson.p }, spearman: { rho: agreement.spearman.r, p: agreement.spearman.p } }
        : null,
      ...(agreementNote ? { agreement_note: agreementNote } : {}),
      procrustes: { k: al.k, residual: al.residual, singular_values: Array.from(al.singularValues) },
      auroc: {
        source_a: t.aurocSource, native_b: t.aurocNative, carried_a_to_b: t.aurocCarried,
        /** share of B's native AUROC above chance recovered by the carried probe */
        recovered: t.aurocNative !== 0.5 ? (t.aurocCarried - 0.5) / (t.aurocNative - 0.5) : null,
      },
      cosine_carried_native: cos,
      carried_native_agreement: t.agreement ? { pearson: t.agreement.pearson.r, spearman: t.agreement.spearman.r } : null,
    };
    if (a.json) return printJson(out);
    const f = (x: number) => x.toFixed(4);
    process.stdout.write(`A ${pathA} L${a['layer-a']} (d ${al.dA})  vs  B ${pathB} L${a['layer-b']} (d ${al.dB}); ${train.length} train / ${test.length} test pairs\n`);
    if (agreement) process.stdout.write(`score agreement on test texts: Pearson r = ${f(agreement.pearson.r)} (p ${agreement.pearson.p.toPrecision(4)}), Spearman rho = ${f(agreement.spearman.r)} (p ${agreement.spearman.p.toPrecision(4)})\n`);
    else process.stdout.write(`score agreement: ${agreementNote}\n`);
    process.stdout.write(`Procrustes (k = ${al.k}): train residual ${f(al.residual)}\n`);
    process.stdout.write(`AUROC on test: A native ${f(t.aurocSource)}, B native ${f(t.aurocNative)}, A carried into B ${f(t.aurocCarried)}; cosine(carried, native) ${f(cos)}\n`);
  },
};
