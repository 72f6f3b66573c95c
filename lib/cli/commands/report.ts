// eia-native report: a RUN folder -> one self-contained HTML report (Table 1, Table 2, figures as
// inline SVG) and a Markdown report. Parts of the RUN that are missing show as "not run".
import { existsSync, statSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { writeReport } from '../../report/index.js';
import { printJson, UsageError } from '../common.js';
import { note } from '../../util/note.js';
import { EiaError } from '../../util/errors.js';

interface Args { run: string; out?: string; markdown?: string | false; json: boolean }

export const reportCommand: CommandModule<object, Args> = {
  command: 'report <run>',
  describe: 'Write the HTML + Markdown report of a RUN folder (Tables 1 and 2, figures as inline SVG)',
  builder: (y) =>
    y.positional('run', { type: 'string', describe: 'RUN folder (probes/validation.json, samples.jsonl, score.json, manifest.json, run.json; any subset)' })
      .option('out', { type: 'string', describe: 'HTML file to write (default RUN/report.html)' })
      .option('markdown', { type: 'string', describe: 'Markdown file to write (default RUN/report.md; its SVG figures go to <name>-figures/ beside it; --no-markdown: none)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary (paths, figures, tables) on stdout' })
      .example('$0 report runs/qwen', 'writes runs/qwen/report.html and runs/qwen/report.md')
      .example('$0 report runs/demo --out demo.html --markdown demo.md', 'choose the output files')
      .epilog('The HTML is self-contained (no scripts, no external resources): open it in any browser or attach it as it is.') as never,
  handler: async (a) => {
    if (!existsSync(a.run) || !statSync(a.run).isDirectory()) throw new UsageError(`${a.run} is not a folder (expected a RUN folder)`);
    const r = writeReport(a.run, { html: a.out, markdown: a.markdown === false ? false : a.markdown });
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
