// eia-native score: the paper's Table 2 (keyword measures, per-condition rates, success rate per
// (model, layer, scenario), per-model headline) from a RUN folder, an eia-native samples.jsonl or
// the paper's raw steering files, plus probe-score dose-response and degeneration flags. Several
// RUN folders (the shards of one sweep) are scored together as one sweep (lib/steering/merge).
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_BOOTSTRAP } from '../../steering/dose-response.js';
import { RUN_FILES } from '../../io/run-folder.js';
import { readSamples, readSamplesFile, type SampleFormat, type SampleRecord } from '../../steering/samples.js';
import { isSweepRun, readSweepRuns } from '../../steering/merge/read.js';
import { describeMissing, partialBanner, scoreSweep, sweepFacts } from '../../steering/merge/score.js';
import { doseResponseSeriesByScenario, renderTable2Markdown, scoreSamples, type ScoreResult } from '../../steering/tables.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError } from '../../util/errors.js';
import { UsageError } from '../common.js';
import { note } from '../../util/note.js';

interface Args { sources: string[]; format: string; json: boolean; markdown?: string; bootstrap: number; seed: number }

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
    y.positional('sources', { type: 'string', array: true, describe: 'RUN folder, samples.jsonl, or (empathy-probes) a *_steering_multilayer.json file or folder; ' +
      'several RUN folders: the shards of one sweep (steer --shard), scored together as one sweep' })
      .option('format', { choices: ['eia-native', 'empathy-probes'], default: 'eia-native', describe: 'input format' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .option('markdown', { type: 'string', describe: 'also write the Markdown tables to this file' })
      .option('bootstrap', { type: 'number', default: DEFAULT_BOOTSTRAP, describe: 'bootstrap resamples of the dose-response CI' })
      .option('seed', { type: 'number', default: 0, describe: 'bootstrap seed' })
      .example('$0 score runs/qwen', 'Table 2 of a sweep; writes runs/qwen/score.json and score.md')
      .example('$0 score runs/q.0 runs/q.1 runs/q.2 --json', 'the three shards of one sweep, scored as one sweep')
      .example('$0 score results/steering --format empathy-probes --json', 'the paper\'s raw samples') as never,
  handler: async (a) => {
    const sources = a.sources.map(String);
    for (const s of sources) if (!existsSync(s)) throw new UsageError(`${s} does not exist`);
    if (!Number.isInteger(a.bootstrap) || a.bootstrap < 1) throw new UsageError(`--bootstrap must be a positive integer, got ${a.bootstrap}`);
    if (!Number.isInteger(a.seed)) throw new UsageError(`--seed must be an integer, got ${a.seed}`);
    const format = a.format as SampleFormat;
    if (sources.length > 1 && format !== 'eia-native') throw new UsageError('several sources are the shards of one sweep: RUN folders of --format eia-native');
    if (format === 'eia-native' && (sources.length > 1 || isSweepRun(sources[0]))) return scoreRuns(sources, a);
    const src = sources[0];
    let runDir: string | null = null;
    let samples: SampleRecord[];
    if (format === 'eia-native') {
      let file = src;
      if (statSync(src).isDirectory()) {
        runDir = src;
        file = join(src, RUN_FILES.samples);
        if (!existsSync(file)) throw new UsageError(`${src} holds no ${RUN_FILES.samples} (not a steer RUN folder?)`);
      }
      // a sweep killed mid-write leaves a torn last line: ignored here, `steer` regenerates it on resume
      const r = readSamplesFile(file, 'drop');
      if (r.torn) note(`${file}: ignored a torn last line (an interrupted write; \`steer\` regenerates it on resume)`);
      samples = r.records;
    } else {
      samples = readSamples(src, format);
    }
    if (samples.length === 0) throw new EiaError('E_BAD_ARG', `${src}: no samples to score`);
    const result = scoreSamples(samples, { bootstrap: a.bootstrap, seed: a.seed });
    const out = { ...result, dose_response_series: doseResponseSeriesByScenario(result), source: src, format };
    const md = renderScoreMarkdown(result);
    if (runDir) {
      writeJsonAtomic(join(runDir, RUN_FILES.score), out);
      writeFileAtomic(join(runDir, RUN_FILES.scoreMarkdown), md);
    }
    if (a.markdown) writeFileSync(a.markdown, md);
    if (a.json) {
      process.stdout.write(JSON.stringify(out) + '\n');
      return;
    }
    printHuman(result);
    if (runDir) note(`wrote ${join(runDir, RUN_FILES.score)} and ${join(runDir, RUN_FILES.scoreMarkdown)}`);
  },
};

/** Score RUN folders with manifests (one RUN, or the shards of one sweep) as one sweep, marked partial when cells are missing. */
function scoreRuns(sources: string[], a: Args): void {
  const merged = readSweepRuns(sources);
  for (const n of merged.notes) note(n);
  const { result, notScored } = scoreSweep(merged, { bootstrap: a.bootstrap, seed: a.seed });
  const out = {
    ...result, dose_response_series: doseResponseSeriesByScenario(result), ...(sources.length === 1 ? { source: sources[0] } : { sources }),
    format: 'eia-native', ...sweepFacts(merged, notScored),
  };
  const md = partialBanner(merged, notScored) + renderScoreMarkdown(result);
  // one RUN keeps its score beside its samples; a merged score belongs to no single shard (`merge --out` makes a RUN of it)
  const runDir = sources.length === 1 ? sources[0] : null;
  if (runDir) {
    writeJsonAtomic(join(runDir, RUN_FILES.score), out);
    writeFileAtomic(join(runDir, RUN_FILES.scoreMarkdown), md);
  }
  if (a.markdown) writeFileSync(a.markdown, md);
  for (const l of describeMissing(merged)) note(l);
  for (const n of notScored) note(`  not scored: ${n.model} layer ${n.layer} ${n.scenario} (${n.reason})`);
  if (a.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  printHuman(result);
  if (runDir) note(`wrote ${join(runDir, RUN_FILES.score)} and ${join(runDir, RUN_FILES.scoreMarkdown)}`);
  else note(`scored ${sources.length} RUNs as one sweep (${merged.records.length}/${merged.cells} cells); \`eia-native merge ${sources.join(' ')} --out RUN\` writes them as one RUN folder`);
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
