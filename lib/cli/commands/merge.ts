// eia-native merge: the shards of one sweep (steer --shard I/N, one RUN folder each) written as one
// RUN folder, which score, report and steer read like a sweep run unsharded (lib/steering/merge).
// Every RUN is read and checked before the merged RUN is written, under its lock.
import type { CommandModule } from 'yargs';
import { readSweepRuns } from '../../steering/merge/read.js';
import { describeMissing } from '../../steering/merge/score.js';
import { writeMergedRun } from '../../steering/merge/write.js';
import { formatShard } from '../../steering/sweep/shard.js';
import { note, warn } from '../../util/note.js';
import { printJson, stringArg, UsageError } from '../common.js';
import { FLAGS, inFlagWords } from '../flags.js';

interface Args { runs: string[]; out?: string; force: boolean; json: boolean }

/** Library option names as this command's flags (flags.ts inFlagWords). */
const FLAG_NAMES = { force: '--force', out: '--out' };

export const mergeCommand: CommandModule<object, Args> = {
  command: 'merge <runs..>',
  describe: 'Merge the shards of one sweep (steer --shard I/N) into one RUN folder',
  builder: (y) =>
    y.positional('runs', { type: 'string', array: true, describe: 'the shards\' RUN folders (any order)' })
      .option('out', { type: 'string', describe: 'the merged RUN folder to write (new, or without a sweep in it)' })
      .option('force', { ...FLAGS.force, describe: 'replace a sweep already in --out (its files move to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json)
      .example('$0 merge runs/q.0 runs/q.1 runs/q.2 --out runs/q', 'three shards -> one RUN; then eia-native score runs/q')
      .epilog('Refused (exit code 2): RUNs of different grids, shards of different shard counts, a shard given twice, a sample in two RUNs, ' +
        'and an --out that already holds a sweep (unless --force). An incomplete set is merged with a list of the missing cells, marked partial; ' +
        'steer with the unsharded parameters and --out RUN completes it. A RUN another process writes is refused (exit 1, naming its pid).') as never,
  handler: async (a) => {
    if (a.out === undefined) throw new UsageError('--out is required: the merged RUN folder to write');
    const outArg = stringArg(a.out, '--out');
    const runs = (a.runs ?? []).map((r) => stringArg(r, 'RUN'));
    if (runs.length === 0) throw new UsageError('give the RUN folders to merge');
    let merged, r;
    try {
      merged = readSweepRuns(runs);
      r = await writeMergedRun(merged, outArg, { force: a.force });
    } catch (e) {
      throw inFlagWords(e, FLAG_NAMES);
    }
    for (const n of merged.notes) note(n);
    for (const w of merged.warnings) warn(w);
    for (const l of describeMissing(merged)) warn(l);
    if (a.json) {
      printJson({
        out: r.out, samples: r.samples, cells: merged.cells, partial: merged.partial, grid_id: merged.gridId, shard_count: merged.shardCount,
        missing_cells: merged.missing, missing_shards: merged.missingShards.map((i) => formatShard({ index: i, count: merged.shardCount })),
        duplicates_dropped: merged.duplicates, copied: r.copied,
      });
      return;
    }
    process.stdout.write(`merged ${merged.runs.length} RUN${merged.runs.length === 1 ? '' : 's'} into ${r.out}: ${r.samples}/${merged.cells} cells` +
      `${merged.partial ? ' (partial)' : ''}\n`);
    note(`score it: eia-native score ${outArg}`);
  },
};
