// eia-native study [FILE] --models a,b,c --out STUDY: the paper's whole study in one command. Each
// model runs `run`'s protocol into STUDY/<model>/ (a normal RUN folder: resumable, shardable), then
// the cross-model stages and the study report STUDY/report.html + .md (lib/pipeline/study.ts,
// lib/report/study.ts). The grid flags are run's; a study file (JSON or YAML) may give them too
// (a flag given on the command line wins).
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { fetchPaperDataset } from '../../data/paper-dataset.js';
import { MAX_TOKENS_DEFAULTS, SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { checkMaxTokens } from '../../engine/validate.js';
import { Model } from '../../engine/model.js';
import { inputExists } from '../../io/input.js';
import { readStudyFile, type StudyFileModel } from '../../io/study-file.js';
import { findModel } from '../../models/registry.js';
import { runStudy, type StudyModel } from '../../pipeline/study.js';
import { MAX_PERMUTATIONS, MAX_RANDOM_DIRECTIONS, PAPER_MAX_TOKENS, PROBE_DEFAULTS } from '../../probes/defaults.js';
import { SYNTH_NAME_PREFIX } from '../../report/data.js';
import { writeStudyReport, type StudyReportResult } from '../../report/study.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { note } from '../../util/note.js';
import { addHint, modelPathArg, parseIntList, parseNumberList, parseStringList, printJsonAsIs, UsageError } from '../common.js';
import { checkModelFlags, checkSamplingFlags, FLAGS, inFlagWords, inFlagWordsOf, intFlag, optIntFlag, SAMPLING_FLAGS } from '../flags.js';
import { renderRunReport } from './report-hook.js';
import { RUN_FLAG_NAMES, spreadLayers } from './run.js';
import { shardArg } from './steer.js';

interface Args {
  file?: string; models?: string; out?: string; train?: string; test?: string; ablated?: string; texts?: string; layers?: string; 'steer-layers'?: string;
  alphas?: string; scenarios?: string; samples?: number; 'max-tokens'?: number; truncate?: number; temp?: number; 'top-k'?: number; seed?: number;
  'random-baseline'?: number; permutations?: number; k?: number; chat?: boolean; threads?: number; 'gpu-layers': number; 'ctx-size'?: number;
  force: boolean; json: boolean; shard?: string;
}

const DEFAULT_ALPHAS = [-10, -5, -3, 0, 3, 5, 10];

/** Library option names as this command's flags (flags.ts inFlagWords): run's, and the study's own. */
const STUDY_FLAG_NAMES = {
  ...RUN_FLAG_NAMES, ...SAMPLING_FLAGS, k: '--k', texts: '--texts', models: '--models', train: '--train', test: '--test', ablated: '--ablated',
};

/** "name=path", a models.json name, or a GGUF path -> the model's name and file. */
function modelSpec(m: StudyFileModel): { name: string; path: string; entry: ReturnType<typeof findModel> } {
  let spec = m.model, name = m.name;
  const eq = spec.indexOf('=');
  if (name === undefined && eq > 0) { name = spec.slice(0, eq); spec = spec.slice(eq + 1); }
  const path = modelPathArg(spec);
  const entry = findModel(spec);
  return { name: name ?? entry?.name ?? basename(path).replace(/\.gguf$/i, ''), path, entry };
}

export const studyCommand: CommandModule<object, Args> = {
  command: 'study [file]',
  describe: 'The paper\'s study for several models: run\'s protocol per model, then Tables 1 and 2 side by side, agreement, transfer, drift, findings',
  builder: (y) =>
    y.positional('file', { type: 'string', describe: 'a study file (JSON or YAML: models, datasets, layers, alphas, scenarios, samples, ...; docs/study.md)' })
      .option('models', { type: 'string', describe: 'models, comma-separated: names from models.json, GGUF paths, or name=path (the name is the folder STUDY/<name>)' })
      .option('out', { type: 'string', describe: 'the STUDY folder (STUDY/<model>/ RUN folders, study.json, results.json, report.html, report.md)' })
      .option('train', { type: 'string', describe: 'train pairs JSONL (default: the paper\'s dataset, fetched and checksum-verified)' })
      .option('test', { type: 'string', describe: 'test pairs JSONL (default: the paper\'s)' })
      .option('ablated', { type: 'string', describe: 'lexically ablated test pairs (default: the paper\'s, with the paper\'s data)' })
      .option('texts', { type: 'string', describe: 'rubric-scored texts JSONL ({text, score 0|1|2}) for the behavioural correlation of each model\'s best probe (as correlate)' })
      .option('layers', { type: 'string', describe: 'blocks to probe in every model (default: models.json, else 5 spread layers per model)' })
      .option('steer-layers', { type: 'string', describe: 'blocks to steer (default: models.json, else the 3 best detection layers; a quantization: its reference\'s)' })
      .option('alphas', { type: 'string', describe: `steering strengths (default: models.json, else ${DEFAULT_ALPHAS.join(',')})` })
      .option('scenarios', { type: 'string', describe: `EIA scenarios to steer (default ${STEERING_SCENARIO_IDS.join(',')})` })
      .option('samples', { type: 'number', describe: 'samples per (layer, scenario, alpha) (default 5)' })
      .option('max-tokens', { ...FLAGS['max-tokens'], describe: `${FLAGS['max-tokens'].describe} (default ${MAX_TOKENS_DEFAULTS.sweep})` })
      .option('truncate', { ...FLAGS.truncate, describe: `${FLAGS.truncate.describe}, for probing and the cross-model capture (paper: ${PAPER_MAX_TOKENS})` })
      .option('temp', { type: 'number', describe: `sampling temperature (default ${SAMPLING_DEFAULTS.temperature}, the paper's; 0 = greedy)` })
      .option('top-k', { type: 'number', describe: `top-k (default ${SAMPLING_DEFAULTS.topK}; 0 = off)` })
      .option('seed', { type: 'number', describe: 'seed of every random step (default 0)' })
      .option('random-baseline', { type: 'number', describe: `random unit directions for the baseline (default ${PROBE_DEFAULTS.randomBaseline}; at most ${MAX_RANDOM_DIRECTIONS})` })
      .option('permutations', { type: 'number', describe: `label permutations for the AUROC p-value (default ${PROBE_DEFAULTS.permutations}; at most ${MAX_PERMUTATIONS})` })
      .option('k', { type: 'number', describe: 'shared PCA dimension of the Procrustes transfer (align --k; default min(16, nTrain - 1, widths))' })
      .option('chat', { type: 'boolean', describe: 'steer with the chat template (the paper used raw prompts)' })
      .option('threads', FLAGS.threads)
      .option('gpu-layers', FLAGS['gpu-layers'])
      .option('ctx-size', { ...FLAGS['ctx-size'], describe: `${FLAGS['ctx-size'].describe} (default: each model's training context)` })
      .option('force', { ...FLAGS.force, describe: 'study --out with a new plan, and replace results in its RUN folders made with other parameters' })
      .option('json', FLAGS.json)
      .option('shard', { ...FLAGS.shard, describe: 'I/N or auto/N: each model\'s sweep runs only part I of N (into STUDY/<model>.shard-I-of-N); merge, then study again' })
      .example('$0 study --models phi-3-mini,qwen2.5-7b,dolphin-2.9.4-llama-3.1-8b --out studies/paper', 'the paper\'s results section')
      .example('$0 study --models f16=p.f16.gguf,q8=p.q8_0.gguf,q4=p.q4_k_m.gguf --train p.train.jsonl --test p.test.jsonl --out studies/drift', 'quantization drift')
      .example('$0 study study.yaml', 'models, data and grid from a study file')
      .epilog('Each model\'s RUN folder resumes and can be reported as run\'s (eia-native report STUDY/<model>); `eia-native report STUDY` ' +
        're-renders the study report. Models that are quantizations of one model (same architecture and shape, identical unquantized ' +
        'tensors, different file types) get a drift section against the one of highest precision. docs/study.md has the details.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    checkSamplingFlags(a);
    const f = a.file !== undefined ? readStudyFile(a.file) : null;
    const pick = <T>(flag: T | undefined, file: T | undefined): T | undefined => (flag !== undefined ? flag : file);
    if (a.models === undefined && !f) throw new UsageError('give the models: --models a,b,c (names from models.json, GGUF paths, or name=path) or a study file');
    const specs: StudyFileModel[] = a.models !== undefined ? parseStringList(a.models, '--models').map((m) => ({ model: m })) : f!.models;
    if (specs.length === 0) throw new UsageError('--models: the list is empty');
    const out = pick(a.out, f?.out);
    if (!out) throw new UsageError('--out STUDY is required (the study folder; or `out:` in the study file)');
    const samples = intFlag(pick(a.samples, f?.samples) ?? 5, '--samples', 1);
    const maxTokens = inFlagWordsOf(STUDY_FLAG_NAMES, () => checkMaxTokens(pick(a['max-tokens'], f?.max_tokens) ?? MAX_TOKENS_DEFAULTS.sweep, 'maxTokens'));
    const truncate = intFlag(pick(a.truncate, f?.truncate) ?? PAPER_MAX_TOKENS, '--truncate', 0);
    const seed = intFlag(pick(a.seed, f?.seed) ?? 0, '--seed', 0, 2 ** 32 - 1);
    const randomBaseline = intFlag(pick(a['random-baseline'], f?.random_baseline) ?? PROBE_DEFAULTS.randomBaseline, '--random-baseline', 0, MAX_RANDOM_DIRECTIONS);
    const permutations = intFlag(pick(a.permutations, f?.permutations) ?? PROBE_DEFAULTS.permutations, '--permutations', 0, MAX_PERMUTATIONS);
    const k = optIntFlag(pick(a.k, f?.k), '--k', 1);
    const threads = optIntFlag(pick(a.threads, f?.threads), '--threads', 1);
    const temperature = pick(a.temp, f?.temp);
    const topK = pick(a['top-k'], f?.top_k);
    checkSamplingFlags({ temp: temperature, 'top-k': topK });
    const shard = shardArg(a.shard);
    let train = pick(a.train, f?.train), test = pick(a.test, f?.test), ablated = pick(a.ablated, f?.ablated);
    const texts = pick(a.texts, f?.texts);
    if ((train === undefined) !== (test === undefined)) throw new UsageError('give both --train and --test, or neither (the paper\'s dataset)');
    for (const [flag, file] of [['--train', train], ['--test', test], ['--ablated', ablated], ['--texts', texts]] as const) {
      if (file === '-') throw new UsageError(`${flag}: a study reads its inputs once per model; give a file, not stdin`);
      if (file !== undefined && !inputExists(file)) throw new UsageError(`${flag}: ${file} does not exist`);
    }
    const layersAll = a.layers !== undefined ? parseIntList(a.layers, '--layers') : f?.layers;
    const steerAll = a['steer-layers'] !== undefined ? parseIntList(a['steer-layers'], '--steer-layers') : f?.steer_layers;
    const alphasAll = a.alphas !== undefined ? parseNumberList(a.alphas, '--alphas') : f?.alphas;
    const scenarios = a.scenarios !== undefined ? parseStringList(a.scenarios, '--scenarios') : f?.scenarios ?? [...STEERING_SCENARIO_IDS];
    // each model: its name and file, and its own grid (flag > study file's model > study file > models.json > defaults)
    const models: StudyModel[] = [];
    for (const s of specs) {
      const { name, path, entry } = modelSpec(s);
      const m = await Model.load(path);  // mmap: cheap
      const nLayer = m.nLayer;
      const synthetic = (m.info.name ?? '').startsWith(SYNTH_NAME_PREFIX);
      m.free();
      const probeLayers = (a.layers !== undefined ? layersAll : s.layers ?? layersAll) ?? entry?.probeLayers ?? spreadLayers(nLayer);
      for (const l of probeLayers) if (l < 0 || l >= nLayer) throw new UsageError(`--layers: ${l} out of range [0, ${nLayer - 1}] for ${name}`);
      models.push({
        name, path, probeLayers, synthetic,
        steerLayers: (a['steer-layers'] !== undefined ? steerAll : s.steer_layers ?? steerAll) ?? entry?.steerLayers,
        alphas: (a.alphas !== undefined ? alphasAll : s.alphas ?? alphasAll) ?? entry?.alphas ?? DEFAULT_ALPHAS,
      });
    }
    if (!train) {
      note('fetching the paper\'s dataset (pinned commit, sha256-checked, cached)…');
      const d = await fetchPaperDataset().catch((e) => { throw addHint(e, 'E_IO', 'give --train and --test to use local pair files'); });
      train = d.train; test = d.test; ablated ??= d.ablated;
    }
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    let report: StudyReportResult | null = null;
    try {
      const r = await runStudy({
        models, out, train: train!, test: test!, ablated, texts, k, scenarios, samples, maxTokens, temperature, topK, seed, randomBaseline, permutations,
        truncate, chat: pick(a.chat, f?.chat), threads, gpuLayers: a['gpu-layers'], ctxSize: a['ctx-size'], force: a.force, shard,
        signal: ac.signal, runReport: renderRunReport,
        report: async (dir) => {
          report = writeStudyReport(dir);
          return { html: report.html, markdown: report.markdown };
        },
      }).catch((e) => { throw inFlagWords(e, STUDY_FLAG_NAMES); });
      const rep = report as StudyReportResult | null;
      const summary = {
        out: r.out, shard: r.shard,
        models: r.runs.map(({ name, run }) => ({
          name, run: run.out, best_layer: run.probe.best_layer, best_auroc: run.probe.best_auroc, steer_layers: run.steerLayers,
          headline: run.score?.headline[name] ?? null, skipped_stages: run.skipped,
        })),
        report: r.reportPath, markdown: rep?.markdown ?? null, results: rep?.results ?? null, findings: rep?.findings.map((x) => x.text) ?? [],
      };
      if (a.json) return printJsonAsIs(summary);
      const w = (s: string) => process.stdout.write(s + '\n');
      for (const m of summary.models) {
        w(`${m.name}: best block ${m.best_layer} (AUROC ${m.best_auroc.toFixed(3)}); steered ${m.steer_layers.join(', ')}` +
          `${m.headline !== null ? `; steering success ${(100 * m.headline).toFixed(1)}%` : ''}${m.skipped_stages.length ? ` (done earlier: ${m.skipped_stages.join(', ')})` : ''}`);
      }
      for (const x of summary.findings) w(`- ${x}`);
      if (summary.report) w(`report: ${summary.report}`);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
