// eia-native merge: the shards of one sweep (steer --shard I/N, one RUN folder each) written as one
// RUN folder, which score, report and steer read like a sweep run unsharded (lib/steering/merge).
import type { CommandModule } from 'yargs';
import { readSweepRuns } from '../../steering/merge/read.js';
import { describeMissing } from '../../steering/merge/score.js';
import { writeMergedRun } from '../../steering/merge/write.js';
import { note } from '../../util/note.js';
import { printJson, UsageError } from '../common.js';

interface Args { runs: string[]; out?: string; json: boolean }

export const mergeCommand: CommandModule<object, Args> = {
  command: 'merge <runs..>',
  describe: 'Merge the shards of one sweep (steer --shard I/N) into one RUN folder',
  builder: (y) =>
    y.positional('runs', { type: 'string', array: true, describe: 'the shards\' RUN folders (any order)' })
      .option('out', { type: 'string', describe: 'the merged RUN folder to write (new, or without a sweep in it)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout' })
      .example('$0 merge runs/q.0 runs/q.1 runs/q.2 --out runs/q', 'three shards -> one RUN; then eia-native score runs/q')
      .epilog('Refused (exit code 2): RUNs of different grids, shards of different shard counts, a shard given twice, a sample in two RUNs. ' +
        'An incomplete set is merged with a list of the missing cells; steer with the unsharded parameters and --out RUN completes it.') as never,
  handler: async (a) => {
    if (!a.out) throw new UsageError('--out is required: the merged RUN folder to write');
    const merged = readSweepRuns(a.runs.map(String));
    for (const n of merged.notes) note(n);
    const r = writeMergedRun(merged, a.out);
    const missing = describeMissing(merged);
    for (const l of missing) note(l);
    if (a.json) {
      printJson({
        out: r.out, samples: r.samples, cells: merged.cells, partial: merged.partial, grid_id: merged.gridId, shard_count: merged.shardCount,
        missing_cells: merged.missing, missing_shards: merged.missingShards.map((i) => `${i}/${merged.shardCount}`), copied: r.copied,
      });
      return;
    }
    note(`merged ${merged.runs.length} RUN${merged.runs.length === 1 ? '' : 's'} into ${r.out}: ${r.samples}/${merged.cells} cells` +
      `${merged.partial ? ' (partial)' : ''}; score it: eia-native score ${a.out}`);
  },
};
