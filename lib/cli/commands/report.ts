// eia-native report: a RUN folder -> one self-contained HTML report (Table 1, Table 2, figures as
// inline SVG) and a Markdown report. Parts of the RUN that are missing show as "not run". Several
// RUN folders (the shards of one sweep) -> one report of the sweep, into --out DIR.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { writeReport } from '../../report/index.js';
import { printJson, UsageError } from '../common.js';
import { note } from '../../util/note.js';
import { EiaError } from '../../util/errors.js';

interface Args { runs: string[]; out?: string; markdown?: string | false; json: boolean }

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <runs..>',
  describe: 'Write the HTML + Markdown report of a RUN folder (Tables 1 and 2, figures as inline SVG)',
  builder: (y) =>
    y.positional('runs', { type: 'string', array: true, describe: 'RUN folder (probes/validation.json, samples.jsonl, score.json, manifest.json, run.json; any subset); ' +
        'several: the shards of one sweep (steer --shard), reported as one sweep' })
      .option('out', { type: 'string', describe: 'HTML file to write (default RUN/report.html); with several RUNs (or an existing folder): the folder for report.html and report.md' })
      .option('markdown', { type: 'string', describe: 'Markdown file to write (default RUN/report.md; its SVG figures go to <name>-figures/ beside it; --no-markdown: none)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary (paths, figures, tables) on stdout' })
      .example('$0 report runs/qwen', 'writes runs/qwen/report.html and runs/qwen/report.md')
      .example('$0 report runs/demo --out demo.html --markdown demo.md', 'choose the output files')
      .example('$0 report runs/q.0 runs/q.1 runs/q.2 --out runs/q-report', 'the three shards of one sweep: runs/q-report/report.html and report.md')
      .epilog('The HTML is self-contained (no scripts, no external resources): open it in any browser or attach it as it is.') as never,
  handler: async (a) => {
    const runs = a.runs.map(String);
    for (const run of runs) if (!existsSync(run) || !statSync(run).isDirectory()) throw new UsageError(`${run} is not a folder (expected a RUN folder)`);
    if (runs.length > 1 && !a.out) throw new UsageError('--out DIR is required with several RUNs: the folder for report.html and report.md');
    // --out is a folder with several RUNs, or when it names an existing folder
    const outDir = a.out !== undefined && (runs.length > 1 || (existsSync(a.out) && statSync(a.out).isDirectory())) ? a.out : null;
    const html = outDir ? join(outDir, 'report.html') : a.out;
    const markdown = a.markdown === false ? false : a.markdown ?? (outDir ? join(outDir, 'report.md') : undefined);
    const r = writeReport(runs, { html, markdown });
    if (a.json) {
      printJson(r);
      return;
    }
    const drawn = r.figures.filter((f) => f.rendered).length;
    const failed = r.figures.filter((f) => f.error);
    note(`wrote ${r.html}${r.markdown ? ` and ${r.markdown}` : ''}: ${drawn}/${r.figures.length} figures` +
      `${r.tables.table1 !== null ? `, Table 1 (${r.tables.table1} layers)` : ', no Table 1 (probes not run)'}` +
      `${r.tables.table2 !== null ? `, Table 2 (${r.tables.table2} rows)` : ', no Table 2 (steering not run)'}` +
      `${r.synthetic ? '; synthetic model' : ''}`);
    for (const f of r.figures) if (f.notRun) note(`  not run: ${f.title}: ${f.notRun}`);
    for (const f of failed) note(`  error: ${f.title}: ${f.error}`);
    process.stdout.write(r.html + '\n');
    if (failed.length) throw new EiaError('E_INTERNAL', `${failed.length} figure(s) could not be drawn`);
  },
};
