// eia-native report: RUN folders -> one self-contained HTML report (Tables 1 and 2, figures as
// inline SVG) and a Markdown report, written into --out DIR (default: the RUN folder). Parts of
// the RUN that are missing show as "not run"; Table 1 comes from the probes the sweep used.
// Several RUN folders (the shards of one sweep) -> one report of the sweep, into --out DIR. A STUDY
// folder (eia-native study) -> the study report, recomputed and re-rendered in place.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { withRunLock } from '../../io/run-lock.js';
import { isStudyFolder } from '../../io/study-folder.js';
import { writeReport } from '../../report/index.js';
import { writeStudyReport } from '../../report/study.js';
import { printJson, stringArg, UsageError } from '../common.js';
import { FLAGS } from '../flags.js';
import { note, warn } from '../../util/note.js';
import { EiaError } from '../../util/errors.js';

interface Args { runs: string[]; out?: string; markdown: boolean; json: boolean }

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <runs..>',
  describe: 'Write the HTML + Markdown report of a RUN folder (Tables 1 and 2, figures as inline SVG)',
  builder: (y) =>
    y.positional('runs', { type: 'string', array: true, describe: 'RUN folder (probes/validation.json, samples.jsonl, score.json, manifest.json, run.json; any subset); ' +
        'several: the shards of one sweep (steer --shard), reported as one sweep (--out DIR required)' })
      .option('out', { type: 'string', describe: 'folder for report.html, report.md and report-figures/ (default: the RUN folder; required with several RUNs)' })
      .option('markdown', { type: 'boolean', default: true, describe: 'also write report.md with its SVG figures (--no-markdown: the HTML only)' })
      .option('json', { ...FLAGS.json, describe: 'print a JSON summary (paths, figures, tables) on stdout' })
      .example('$0 report runs/qwen', 'writes runs/qwen/report.html and runs/qwen/report.md')
      .example('$0 report runs/demo --out site/demo --no-markdown', 'the HTML alone, into another folder')
      .example('$0 report runs/q.0 runs/q.1 runs/q.2 --out runs/q-report', 'the three shards of one sweep: runs/q-report/report.html and report.md')
      .epilog('The HTML is self-contained (no scripts, no external resources): open it in any browser or attach it as it is. ' +
        'Without probes/ in the RUN, Table 1 comes from the probes folder the sweep used (manifest.json probes_dir). ' +
        'Several RUNs are refused (exit code 2) as `merge` refuses them; an incomplete set is reported as partial.') as never,
  handler: async (a) => {
    const runs = (a.runs ?? []).map((r) => stringArg(r, 'RUN'));
    if (runs.length === 0) throw new UsageError('give a RUN folder');
    for (const run of runs) if (!existsSync(run) || !statSync(run).isDirectory()) throw new UsageError(`${run} is not a folder (expected a RUN folder)`);
    if (runs.length === 1 && isStudyFolder(runs[0])) {
      // a STUDY folder (eia-native study): its numbers recomputed from the folder, its report re-rendered in place
      if (a.out !== undefined) throw new UsageError('--out: a study report is written into its STUDY folder (it links the RUN reports beside it)');
      const r = await withRunLock(resolve(runs[0]), 'report', () => writeStudyReport(runs[0], { markdown: a.markdown }));
      if (a.json) return printJson(r);
      process.stdout.write(`wrote ${r.html}${r.markdown ? ` and ${r.markdown}` : ''} (study: ${r.tables.length} tables, ${r.figures.filter((f) => f.rendered).length} figures, ${r.findings.length} findings)\n`);
      return;
    }
    if (runs.length > 1 && a.out === undefined) throw new UsageError('--out DIR is required with several RUNs: the folder for report.html and report.md (the report belongs to no single shard)');
    let outDir = resolve(runs[0]);
    if (a.out !== undefined) {
      const out = stringArg(a.out, '--out');
      if (/\.(html?|md|markdown|txt|json)$/i.test(out)) throw new UsageError(`--out is a folder (DIR/report.html, DIR/report.md), got the file name ${out}`);
      if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: ${out} exists and is not a folder`);
      outDir = resolve(out);
    }
    const r = await withRunLock(outDir, 'report', () => writeReport(runs.length === 1 ? runs[0] : runs, { outDir, markdown: a.markdown }));
    if (r.scoreIgnored) warn(`warning: ${r.scoreIgnored}`);
    if (a.json) {
      printJson(r);
      return;
    }
    const drawn = r.figures.filter((f) => f.rendered).length;
    const failed = r.figures.filter((f) => f.error);
    process.stdout.write(`wrote ${r.html}${r.markdown ? ` and ${r.markdown}` : ''}: ${drawn}/${r.figures.length} figures` +
      `${r.tables.table1 !== null ? `, Table 1 (${r.tables.table1} layers)` : ', no Table 1 (probes not run)'}` +
      `${r.tables.table2 !== null ? `, Table 2 (${r.tables.table2} rows)` : ', no Table 2 (steering not run)'}` +
      `${r.synthetic ? '; synthetic model' : ''}\n`);
    for (const f of r.figures) if (f.notRun) note(`  not run: ${f.title}: ${f.notRun}`);
    for (const f of failed) note(`  error: ${f.title}: ${f.error}`);
    if (failed.length) throw new EiaError('E_INTERNAL', `${failed.length} figure(s) could not be drawn`);
  },
};
