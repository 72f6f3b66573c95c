// eia-native bench: capture, steering sweeps, monitoring, plain generation and the paper's pattern,
// measured against llama.cpp's own tools, node-llama-cpp and the paper's method, as ratios.
import type { CommandModule } from 'yargs';
import { formatReport } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';
import { BENCH_SHAPES, type BenchShape } from '../../bench/workload.js';
import { modelPathArg, printJson } from '../common.js';
import { FLAGS, MAX_THREADS, optIntFlag } from '../flags.js';
import { note } from '../../util/note.js';

/** Measured rounds at most (each round runs every workload once). */
const MAX_REPS = 1000;

interface Args { json: boolean; quick: boolean; shape: string; model?: string; threads?: number; reps?: number }

export const benchCommand: CommandModule<object, Args> = {
  command: 'bench',
  describe: 'Benchmark against llama.cpp\'s own tools, node-llama-cpp and the paper\'s method (ratios + absolute rates)',
  builder: (y) =>
    y.option('json', { ...FLAGS.json, describe: 'one JSON object on stdout (machine, settings, ratios, rates, peak RSS)' })
      .option('quick', { type: 'boolean', default: false, describe: 'fewer rounds and tokens (under 3 minutes on 2 cores with the 0.5b shape)' })
      .option('shape', { choices: BENCH_SHAPES, default: '0.5b', describe: 'synthetic model shape (its own architecture, q8_0; cached)' })
      .option('model', { ...FLAGS.model, describe: 'benchmark this GGUF instead of the synthetic model' })
      .option('threads', { ...FLAGS.threads, describe: 'CPU threads for every side (default: all)' })
      .option('reps', { type: 'number', describe: 'measured rounds per ratio after the warm-up (default 5, --quick 3)' })
      .example('$0 bench --quick', 'the quick run on the 0.5b-shaped synthetic model')
      .example('$0 bench --json --shape qwen2.5-7b --threads 8', 'full run, JSON') as never,
  handler: async (a) => {
    optIntFlag(a.threads, '--threads', 1, MAX_THREADS);
    optIntFlag(a.reps, '--reps', 1, MAX_REPS);
    const model = a.model !== undefined ? modelPathArg(a.model) : undefined;
    const report = await runBench({ shape: a.shape as BenchShape, model, threads: a.threads, reps: a.reps, quick: a.quick, log: note });
    if (a.json) printJson(report);
    else process.stdout.write(formatReport(report) + '\n');
  },
};
