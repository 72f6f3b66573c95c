// eia-native score: the paper's Table 2 (keyword measures, per-condition rates, success rate per
// (model, layer, scenario), per-model headline) from a RUN folder, an eia-native samples.jsonl or
// the paper's raw steering files, plus probe-score dose-response and degeneration flags.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_BOOTSTRAP } from '../../steering/dose-response.js';
import { inputExists, inputName, isStdin, readInputText } from '../../io/input.js';
import { RUN_FILES } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { MAX_RESAMPLES } from '../../probes/defaults.js';
import { dropDuplicateSamples, duplicatesNote, parseSamplesJsonl, readSamples, readSamplesFile, type SampleFormat, type SampleRecord } from '../../steering/samples.js';
import { doseResponseSeriesByScenario, renderTable2Markdown, scoreSamples, type ScoreResult } from '../../steering/tables.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { stringArg, UsageError } from '../common.js';
import { FLAGS, intFlag } from '../flags.js';
import { note, warn } from '../../util/note.js';

interface Args { source: string; format: string; json: boolean; out?: string; bootstrap: number; seed: number }

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
  command: 'score <source>',
  describe: 'Score steered samples as the paper did (Table 2) plus probe dose-response and degeneration flags',
  builder: (y) =>
    y.positional('source', { type: 'string', describe: 'RUN folder, samples.jsonl (- = stdin), or (empathy-probes) a *_steering_multilayer.json file or folder' })
      .option('format', { choices: ['eia-native', 'empathy-probes'], default: 'eia-native', describe: 'input format' })
      .option('out', { type: 'string', describe: 'folder for score.json and score.md (default: the RUN folder when SOURCE is one; otherwise stdout only)' })
      .option('json', FLAGS.json)
      .option('bootstrap', { type: 'number', default: DEFAULT_BOOTSTRAP, describe: `bootstrap resamples of the dose-response CI (at most ${MAX_RESAMPLES})` })
      .option('seed', { type: 'number', default: 0, describe: 'bootstrap seed' })
      .example('$0 score runs/qwen', 'Table 2 of a sweep; writes runs/qwen/score.json and score.md')
      .example('$0 score results/steering --format empathy-probes --json', 'the paper\'s raw samples')
      .epilog('Each sample key (model, layer, scenario, alpha, sample) counts once: duplicate lines are dropped with a warning that counts them.') as never,
  handler: async (a) => {
    const src = stringArg(a.source, 'SOURCE');
    if (!inputExists(src)) throw new UsageError(`${src} does not exist`);
    intFlag(a.bootstrap, '--bootstrap', 1, MAX_RESAMPLES);
    intFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
    const format = a.format as SampleFormat;
    if (isStdin(src) && format !== 'eia-native') throw new UsageError('SOURCE - (stdin) holds eia-native samples (JSON Lines); the empathy-probes format needs its files');
    const isRun = !isStdin(src) && statSync(src).isDirectory() && format === 'eia-native';
    const outDir = a.out !== undefined ? resolve(stringArg(a.out, '--out')) : isRun ? resolve(src) : null;
    if (outDir && existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    const work = () => {
      let samples: SampleRecord[];
      let duplicates = 0;
      if (format === 'eia-native') {
        const file = isRun ? join(src, RUN_FILES.samples) : src;
        if (isRun && !existsSync(file)) throw new UsageError(`${src} holds no ${RUN_FILES.samples} (not a steer RUN folder?)`);
        // a sweep killed mid-write leaves a torn last line: ignored here, `steer` regenerates it on resume
        const r = isStdin(file)
          ? { ...dropDuplicateSamples(parseSamplesJsonl(readInputText(file, 'SOURCE'), inputName(file), 'drop')), torn: false }
          : readSamplesFile(file, 'drop');
        if (r.torn) note(`${file}: ignored a torn last line (an interrupted write; \`steer\` regenerates it on resume)`);
        const dup = duplicatesNote(inputName(file), r.duplicates);
        if (dup) warn(dup);
        samples = r.records;
        duplicates = r.duplicates;
      } else {
        samples = readSamples(src, format);
      }
      if (samples.length === 0) throw new EiaError('E_BAD_ARG', `${inputName(src)}: no samples to score`);
      const result = scoreSamples(samples, { bootstrap: a.bootstrap, seed: a.seed });
      const out = { ...result, dose_response_series: doseResponseSeriesByScenario(result), source: src, format, duplicates_dropped: duplicates };
      const md = renderScoreMarkdown(result);
      if (outDir) {
        io(() => mkdirSync(outDir, { recursive: true }));
        writeJsonAtomic(join(outDir, RUN_FILES.score), out);
        writeFileAtomic(join(outDir, RUN_FILES.scoreMarkdown), md);
      }
      return { result, out };
    };
    // writing into a folder: its lock (a second writer fails at once)
    const { result, out } = outDir ? await withRunLock(outDir, 'score', work) : work();
    if (a.json) {
      process.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    process.stdout.write(renderTable2Markdown(result));
    for (const d of result.dose_response ?? []) {
      process.stdout.write(`dose-response ${d.model} L${d.layer} ${d.scenario}: slope ${d.slope.toPrecision(4)} ` +
        `[${d.ci[0].toPrecision(4)}, ${d.ci[1].toPrecision(4)}]${d.ci_excludes_zero ? '' : ' (CI includes 0)'}\n`);
    }
    for (const r of result.rows) {
      if (r.degenerate_alphas.length) process.stdout.write(`degenerate ${r.model} L${r.layer} ${r.scenario}: alphas ${r.degenerate_alphas.join(', ')}\n`);
    }
    if (outDir) note(`wrote ${join(outDir, RUN_FILES.score)} and ${join(outDir, RUN_FILES.scoreMarkdown)}`);
  },
};
