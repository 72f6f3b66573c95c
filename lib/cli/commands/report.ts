// eia-native report: a RUN folder -> one self-contained HTML report (Tables 1 and 2, figures as
// inline SVG) and a Markdown report, written into --out DIR (default: the RUN folder). Parts of
// the RUN that are missing show as "not run"; Table 1 comes from the probes the sweep used.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { withRunLock } from '../../io/run-lock.js';
import { writeReport } from '../../report/index.js';
import { printJson, stringArg, UsageError } from '../common.js';
import { FLAGS } from '../flags.js';
import { note } from '../../util/note.js';
import { EiaError } from '../../util/errors.js';

interface Args { run: string; out?: string; markdown: boolean; json: boolean }

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <run>',
  describe: 'Write the HTML + Markdown report of a RUN folder (Tables 1 and 2, figures as inline SVG)',
  builder: (y) =>
    y.positional('run', { type: 'string', describe: 'RUN folder (probes/validation.json, samples.jsonl, score.json, manifest.json, run.json; any subset)' })
      .option('out', { type: 'string', describe: 'folder for report.html, report.md and report-figures/ (default: the RUN folder)' })
      .option('markdown', { type: 'boolean', default: true, describe: 'also write report.md with its SVG figures (--no-markdown: the HTML only)' })
      .option('json', { ...FLAGS.json, describe: 'print a JSON summary (paths, figures, tables) on stdout' })
      .example('$0 report runs/qwen', 'writes runs/qwen/report.html and runs/qwen/report.md')
      .example('$0 report runs/demo --out site/demo --no-markdown', 'the HTML alone, into another folder')
      .epilog('The HTML is self-contained (no scripts, no external resources): open it in any browser or attach it as it is. ' +
        'Without probes/ in the RUN, Table 1 comes from the probes folder the sweep used (manifest.json probes_dir).') as never,
  handler: async (a) => {
    const run = stringArg(a.run, 'RUN');
    if (!existsSync(run) || !statSync(run).isDirectory()) throw new UsageError(`${run} is not a folder (expected a RUN folder)`);
    let outDir = resolve(run);
    if (a.out !== undefined) {
      const out = stringArg(a.out, '--out');
      if (/\.(html?|md|markdown|txt|json)$/i.test(out)) throw new UsageError(`--out is a folder (DIR/report.html, DIR/report.md), got the file name ${out}`);
      if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: ${out} exists and is not a folder`);
      outDir = resolve(out);
    }
    const r = await withRunLock(outDir, 'report', () => writeReport(run, { outDir, markdown: a.markdown }));
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
