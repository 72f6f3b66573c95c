// eia-native score: the paper's Table 2 (keyword measures, per-condition rates, success rate per
// (model, layer, scenario), per-model headline) from a RUN folder, an eia-native samples.jsonl or
// the paper's raw steering files, plus probe-score dose-response and degeneration flags. Several
// RUN folders (the shards of one sweep) are scored together as one sweep (lib/steering/merge).
import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_BOOTSTRAP } from '../../steering/dose-response.js';
import { inputExists, inputName, isStdin, readInputBytes, readInputText } from '../../io/input.js';
import { sampleSource, sha256Hex, type DerivedFrom } from '../../steering/score-source.js';
import { RUN_FILES } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { MAX_RESAMPLES } from '../../probes/defaults.js';
import { dropDuplicateSamples, duplicatesNote, parseSamplesJsonl, readSamples, readSamplesFile, type SampleFormat, type SampleRecord } from '../../steering/samples.js';
import { isSweepRun, readSweepRuns } from '../../steering/merge/read.js';
import { describeMissing, partialBanner, scoreSweep, sweepFacts } from '../../steering/merge/score.js';
import { doseResponseSeriesByScenario, renderTable2Markdown, scoreSamples, type ScoreResult } from '../../steering/tables.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { modelPathArg, stringArg, UsageError } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag } from '../flags.js';
import { judgeClientArg, withJudgeOptions, type JudgeArgs } from '../judge-flags.js';
import { renderMetricsMarkdown } from '../../steering/metrics/markdown.js';
import { runMetrics } from '../../steering/metrics/run-metrics.js';
import type { SweepManifest } from '../../steering/sweep/manifest.js';
import { note, warn } from '../../util/note.js';

interface Args extends JudgeArgs {
  sources: string[]; format: string; json: boolean; out?: string; bootstrap: number; seed: number;
  metrics: boolean; model?: string; probes?: string; threads?: number; 'gpu-layers': number;
}

/** --metrics / --judge: the offline metrics and the judge of one RUN (lib/steering/metrics/run-metrics.ts), added to score.json and score.md. */
interface Extras { run: string; manifest: SweepManifest | null; judge: ReturnType<typeof judgeClientArg> }

async function extrasOf(x: Extras, records: readonly SampleRecord[], a: Args): Promise<{ json: Record<string, unknown>; md: string }> {
  try {
    // the caches are appended in the RUN: its lock, also when --out writes elsewhere (the lock is re-entrant)
    const { offline, facts } = await withRunLock(x.run, 'score', () => runMetrics(x.run, records, x.manifest, {
      metrics: a.metrics, modelPath: a.model !== undefined ? modelPathArg(a.model) : undefined, probesDir: a.probes, judge: x.judge,
      threads: a.threads, gpuLayers: a['gpu-layers'], warn,
    }));
    if (facts.metrics) note(`offline metrics: ${offline.samples.length} samples (${facts.metrics.measured} measured now, ${facts.metrics.cached} from ${RUN_FILES.metrics}); see score.md`);
    if (facts.judge && (facts.judge.unparseable > 0 || facts.judge.failed > 0)) {
      warn(`judge: ${facts.judge.unparseable} unparseable answers (counted, never guessed), ${facts.judge.failed} failed requests` +
        `${facts.judge.first_failure ? ` (first: ${facts.judge.first_failure})` : ''}`);
    }
    return { json: { offline_metrics: offline, metrics_facts: facts }, md: renderMetricsMarkdown(offline, facts) };
  } catch (e) {
    throw inFlagWords(e, { model: '--model', probes: '--probes' });
  }
}

const f3 = (x: number) => x.toFixed(3);

/** Markdown: Table 2, then the probe-score dose-response and the degenerate alphas (our extras). */
export function renderScoreMarkdown(r: ScoreResult): string {
  let md = '## Steering success (Table 2 layout)\n\n' + renderTable2Markdown(r);
  if (r.dose_response && r.dose_response.length > 0) {
    md += `\n## Probe-score dose-response (least-squares slope per unit alpha, ${Math.round(r.dose_response[0].level * 100)}% bootstrap CI)\n\n`;
    md += '| Model | Layer | Scenario | Slope | CI low | CI high | CI excludes 0 | n |\n| --- | --- | --- | ---: | ---: | ---: | --- | ---: |\n';
    for (const d of r.dose_response) {
      md += `| ${d.model} | ${d.layer} | ${d.scenario} | ${d.slope.toPrecision(4)} | ${d.ci[0].toPrecision(4)} | ${d.ci[1].toPrecision(4)} | ${d.ci_excludes_zero ? 'yes' : 'no'} | ${d.n} |\n`;
    }
  }
  md += '\n## Degeneration (share of samples: empty / repetitive / non-text; flagged alphas in bold)\n\n';
  md += '| Model | Layer | Scenario | Alpha | Empathy rate | Coherent | Context | Empty | Repetitive | Non-text |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n';
  for (const row of r.rows) {
    for (const c of row.conditions) {
      const a = c.degenerate ? `**${c.alpha}**` : String(c.alpha);
      md += `| ${row.model} | ${row.layer} | ${row.scenario} | ${a} | ${f3(c.empathy_rate)} | ${f3(c.coherent_rate)} | ${f3(c.context_rate)} | ` +
        `${f3(c.degeneration.empty)} | ${f3(c.degeneration.repetitive)} | ${f3(c.degeneration.non_text)} |\n`;
    }
  }
  return md;
}

export const scoreCommand: CommandModule<object, Args> = {
  command: 'score <sources..>',
  describe: 'Score steered samples as the paper did (Table 2) plus probe dose-response and degeneration flags',
  builder: (y) =>
    withJudgeOptions(y).positional('sources', { type: 'string', array: true, describe: 'RUN folder, samples.jsonl (- = stdin), or (empathy-probes) a *_steering_multilayer.json file or folder; ' +
      'several RUN folders: the shards of one sweep (steer --shard), scored together as one sweep' })
      .option('format', { choices: ['eia-native', 'empathy-probes'], default: 'eia-native', describe: 'input format' })
      .option('out', { type: 'string', describe: 'folder for score.json and score.md (default: the RUN folder when SOURCE is one; otherwise stdout only)' })
      .option('json', FLAGS.json)
      .option('bootstrap', { type: 'number', default: DEFAULT_BOOTSTRAP, describe: `bootstrap resamples of the dose-response CI (at most ${MAX_RESAMPLES})` })
      .option('seed', { type: 'number', default: 0, describe: 'bootstrap seed' })
      .option('metrics', { type: 'boolean', default: false, describe: 'also the offline metrics of every sample: fluency (perplexity under the unsteered model, and its ratio to the unsteered sample\'s), keyword share, probe projection, steerability per prompt (needs the model; one RUN folder; cached in RUN/metrics.jsonl)' })
      .option('model', { ...FLAGS.model, describe: 'with --metrics: the GGUF the samples were generated with (default: the one RUN/manifest.json names)' })
      .option('probes', { type: 'string', describe: 'with --metrics: folder of layer<L>.npy probes for samples recorded without probe_score (default: the RUN\'s probes_dir)' })
      .option('threads', FLAGS.threads)
      .option('gpu-layers', FLAGS['gpu-layers'])
      .example('$0 score runs/qwen', 'Table 2 of a sweep; writes runs/qwen/score.json and score.md')
      .example('$0 score runs/q.0 runs/q.1 runs/q.2 --json', 'the three shards of one sweep, scored as one sweep (stdout; --out DIR also writes the files)')
      .example('$0 score results/steering --format empathy-probes --json', 'the paper\'s raw samples')
      .example('$0 score runs/qwen --metrics', 'adds fluency, keyword share, probe projection and steerability (score.json offline_metrics)')
      .example('$0 score runs/qwen --judge http://127.0.0.1:8080/v1 --judge-model judge', 'adds an LLM judge\'s rubric scores (answers cached in RUN/judge.jsonl)')
      .epilog('Each sample key (model, layer, scenario, alpha, sample) counts once: duplicate lines are dropped with a warning that counts them. ' +
        'Several RUNs are refused (exit code 2) when they are shards of different grids or shard counts, one shard twice, or a sample in two RUNs; ' +
        'an incomplete set is scored on what exists, marked partial, with the missing cells listed. ' +
        'Without --metrics and --judge, score reads nothing but the samples and writes what it always wrote.') as never,
  handler: async (a) => {
    const sources = (a.sources ?? []).map((s) => stringArg(s, 'SOURCE'));
    if (sources.length === 0) throw new UsageError('give a SOURCE to score');
    for (const s of sources) if (!inputExists(s)) throw new UsageError(`${s} does not exist`);
    intFlag(a.bootstrap, '--bootstrap', 1, MAX_RESAMPLES);
    intFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
    checkModelFlags(a);
    const judge = judgeClientArg(a);
    const format = a.format as SampleFormat;
    const src = sources[0];
    const extras = a.metrics || judge !== undefined;
    if (!extras && (a.model !== undefined || a.probes !== undefined)) throw new UsageError('--model and --probes go with --metrics');
    if (extras && (sources.length > 1 || format !== 'eia-native' || isStdin(src) || !statSync(src).isDirectory())) {
      throw new UsageError('--metrics and --judge measure the samples of one RUN folder (their caches live in it): give one RUN folder');
    }
    if (sources.length > 1 && (format !== 'eia-native' || sources.some((s) => isStdin(s) || !statSync(s).isDirectory()))) {
      throw new UsageError('several SOURCEs are the shards of one sweep: give their RUN folders (--format eia-native)');
    }
    if (isStdin(src) && format !== 'eia-native') throw new UsageError('SOURCE - (stdin) holds eia-native samples (JSON Lines); the empathy-probes format needs its files');
    const isRun = !isStdin(src) && statSync(src).isDirectory() && format === 'eia-native';
    // a merged score belongs to no single shard: with several RUNs it goes to --out DIR or to stdout only
    const outDir = a.out !== undefined ? resolve(stringArg(a.out, '--out')) : isRun && sources.length === 1 ? resolve(src) : null;
    if (outDir && existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    if (sources.length > 1 || (isRun && isSweepRun(src))) return scoreRuns(sources, outDir, a, extras ? judge : null);
    const work = async () => {
      let samples: SampleRecord[];
      let duplicates = 0;
      let derived: DerivedFrom;
      if (outDir) checkScoreTarget(outDir, sources);
      if (format === 'eia-native') {
        const file = isRun ? join(src, RUN_FILES.samples) : src;
        if (isRun && !existsSync(file)) throw new UsageError(`${src} holds no ${RUN_FILES.samples} (not a steer RUN folder?)`);
        // a sweep killed mid-write leaves a torn last line: ignored here, `steer` regenerates it on resume
        const r = isStdin(file)
          ? { ...dropDuplicateSamples(parseSamplesJsonl(readInputText(file, 'SOURCE'), inputName(file), 'drop')), torn: false }
          : readSamplesFile(file, 'drop');
        derived = { samples: [sampleSource(inputName(file), r.records.length, isStdin(file) ? readInputBytes(file, 'SOURCE') : undefined)] };
        if (r.torn) note(`${file}: ignored a torn last line (an interrupted write; \`steer\` regenerates it on resume)`);
        const dup = duplicatesNote(inputName(file), r.duplicates);
        if (dup) warn(dup);
        samples = r.records;
        duplicates = r.duplicates;
      } else {
        samples = readSamples(src, format);
        // the paper's files (a file or a folder of them): the hash is of the samples read
        derived = { samples: [{ path: src, samples: samples.length, sha256: sha256Hex(JSON.stringify(samples)) }] };
      }
      if (samples.length === 0) throw new EiaError('E_BAD_ARG', `${inputName(src)}: no samples to score`);
      const result = scoreSamples(samples, { bootstrap: a.bootstrap, seed: a.seed });
      const more = extras ? await extrasOf({ run: src, manifest: null, judge }, samples, a) : null;
      const out = { ...result, dose_response_series: doseResponseSeriesByScenario(result), source: src, format, duplicates_dropped: duplicates, derived_from: derived!, ...more?.json };
      const md = renderScoreMarkdown(result) + (more?.md ?? '');
      if (outDir) {
        io(() => mkdirSync(outDir, { recursive: true }));
        writeJsonAtomic(join(outDir, RUN_FILES.score), out);
        writeFileAtomic(join(outDir, RUN_FILES.scoreMarkdown), md);
      }
      return { result, out };
    };
    // writing into a folder: its lock (a second writer fails at once)
    const { result, out } = outDir ? await withRunLock(outDir, 'score', work) : await work();
    if (a.json) {
      process.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    printHuman(result);
    if (outDir) note(`wrote ${join(outDir, RUN_FILES.score)} and ${join(outDir, RUN_FILES.scoreMarkdown)}`);
  },
};

/**
 * Scores RUN folders with manifests (one RUN, or the shards of one sweep) as one sweep, marked
 * partial when cells are missing. Every refusal (other grids, other shard counts, a shard twice, a
 * sample in two RUNs) comes before anything is written.
 */
async function scoreRuns(sources: string[], outDir: string | null, a: Args, judge: Extras['judge'] | null): Promise<void> {
  const work = async () => {
    if (outDir) checkScoreTarget(outDir, sources);
    const merged = readSweepRuns(sources);
    const { result, notScored } = scoreSweep(merged, { bootstrap: a.bootstrap, seed: a.seed });
    for (const n of merged.notes) note(n);
    for (const w of merged.warnings) warn(w);
    const more = judge !== null ? await extrasOf({ run: sources[0], manifest: merged.manifest, judge }, merged.records, a) : null;
    const out = {
      ...result, dose_response_series: doseResponseSeriesByScenario(result), ...(sources.length === 1 ? { source: sources[0] } : { sources }),
      format: 'eia-native', duplicates_dropped: merged.duplicates, ...sweepFacts(merged, notScored), ...more?.json,
    };
    const md = partialBanner(merged, notScored) + renderScoreMarkdown(result) + (more?.md ?? '');
    if (outDir) {
      io(() => mkdirSync(outDir, { recursive: true }));
      writeJsonAtomic(join(outDir, RUN_FILES.score), out);
      writeFileAtomic(join(outDir, RUN_FILES.scoreMarkdown), md);
    }
    return { merged, result, notScored, out };
  };
  // one RUN is scored under its lock (not while a sweep writes it); several are read as they are and only --out is locked
  const { merged, result, notScored, out } = outDir ? await withRunLock(outDir, 'score', work) : await work();
  for (const l of describeMissing(merged)) warn(l);
  for (const n of notScored) warn(`  not scored: ${n.model} layer ${n.layer} ${n.scenario} (${n.reason})`);
  if (a.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  printHuman(result);
  if (outDir) note(`wrote ${join(outDir, RUN_FILES.score)} and ${join(outDir, RUN_FILES.scoreMarkdown)}`);
  if (sources.length > 1) note(`scored ${sources.length} RUNs as one sweep (${merged.records.length}/${merged.cells} cells); \`eia-native merge ${sources.join(' ')} --out RUN\` writes them as one RUN folder`);
}

/**
 * score.json and score.md describe the samples they were computed from (score-source.ts): a folder
 * with samples.jsonl of its own takes only the score of those samples (`score RUN`, or `score
 * RUN/samples.jsonl --out RUN`), never another RUN's or several RUNs' (E_CONFLICT; checked under the
 * folder's lock, before anything is written).
 */
function checkScoreTarget(outDir: string, sources: readonly string[]): void {
  const own = join(outDir, RUN_FILES.samples);
  if (!existsSync(own)) return;
  const real = (p: string) => { try { return realpathSync(p); } catch { return resolve(p); } };
  const self = sources.length === 1 && !isStdin(sources[0]) &&
    (real(sources[0]) === real(outDir) || real(sources[0]) === real(own));
  if (self) return;
  throw new EiaError('E_CONFLICT', `--out ${outDir} holds samples of its own (${own}): its score.json would describe other samples ` +
    `(${sources.join(', ')}); write the score into another folder (or score ${outDir} itself)`);
}

function printHuman(result: ScoreResult): void {
  process.stdout.write(renderTable2Markdown(result));
  for (const d of result.dose_response ?? []) {
    process.stdout.write(`dose-response ${d.model} L${d.layer} ${d.scenario}: slope ${d.slope.toPrecision(4)} ` +
      `[${d.ci[0].toPrecision(4)}, ${d.ci[1].toPrecision(4)}]${d.ci_excludes_zero ? '' : ' (CI includes 0)'}\n`);
  }
  for (const r of result.rows) {
    if (r.degenerate_alphas.length) process.stdout.write(`degenerate ${r.model} L${r.layer} ${r.scenario}: alphas ${r.degenerate_alphas.join(', ')}\n`);
  }
}
