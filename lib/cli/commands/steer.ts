// eia-native steer: a resumable steering sweep (layers x alphas x scenarios x samples) into RUN/.
import type { CommandModule } from 'yargs';
import { SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { PROBE_SCORE_MODES, type ProbeScoreMode } from '../../steering/sweep/options.js';
import { runSweep } from '../../steering/sweep/run.js';
import { parseShard, type ShardSpec } from '../../steering/sweep/shard.js';
import { addHint, modelKeyArg, modelPathArg, parseIntList, parseNumberList, parseStringList, printJson, UsageError, withModelOptions } from '../common.js';
import { note } from '../../util/note.js';

interface Args {
  model: string; probes: string; layers: string; alphas: string; scenarios: string; samples: number; 'max-tokens': number;
  temp: number; 'top-k': number; 'top-p': number; 'min-p': number; seed: number; out: string; chat: boolean; monitor: boolean;
  'token-ids': boolean; 'probe-score': string | boolean; batch?: number; json: boolean; threads?: number; 'gpu-layers': number; shard?: string;
}

/** --shard I/N or auto/N (read before any work: a bad value or a missing task index is exit code 2). */
export function shardArg(v: unknown): ShardSpec | undefined {
  if (v === undefined) return undefined;
  try {
    return parseShard(String(v));
  } catch (e) {
    throw new UsageError(`--shard: ${(e as Error).message}`);
  }
}

function positiveInt(v: number, flag: string): number {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag} must be a positive integer, got ${v}`);
  return v;
}

export const steerCommand: CommandModule<object, Args> = {
  command: 'steer',
  describe: 'Steering sweep (layers x alphas x scenarios x samples), batched, resumable, into RUN/samples.jsonl',
  builder: (y) =>
    withModelOptions(y)
      .option('probes', { type: 'string', demandOption: true, describe: 'folder of layer<L>.npy probes (from `probe`)' })
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks to steer, e.g. 16,20,12 (0-based)' })
      .option('alphas', { type: 'string', default: '-20,-10,-5,-3,0,3,5,10,20', describe: 'steering strengths (write --alphas=-20,... for negatives); include 0 for the baseline' })
      .option('scenarios', { type: 'string', default: STEERING_SCENARIO_IDS.join(','), describe: 'scenario ids (food_delivery, the_listener, the_maze, the_protector, the_duel)' })
      .option('samples', { type: 'number', default: 5, describe: 'samples per (layer, scenario, alpha)' })
      .option('max-tokens', { type: 'number', default: 200, describe: 'new tokens per sample at most' })
      .option('temp', { type: 'number', default: SAMPLING_DEFAULTS.temperature, describe: 'sampling temperature (0 = greedy)' })
      .option('top-k', { type: 'number', default: SAMPLING_DEFAULTS.topK })
      .option('top-p', { type: 'number', default: SAMPLING_DEFAULTS.topP })
      .option('min-p', { type: 'number', default: SAMPLING_DEFAULTS.minP })
      .option('seed', { type: 'number', default: 0, describe: 'sample seeds derive from (seed, scenario, sample)' })
      .option('out', { type: 'string', demandOption: true, describe: 'RUN folder (manifest.json, samples.jsonl); rerun the same command to resume' })
      .option('chat', { type: 'boolean', default: false, describe: 'wrap the prompt in the chat template (default: the paper\'s raw prompt)' })
      .option('monitor', { type: 'boolean', default: false, describe: 'record the steered layer\'s probe projection of every generated token' })
      .option('token-ids', { type: 'boolean', default: false, describe: 'also store the generated token ids' })
      .option('probe-score', {
        type: 'string', default: 'monitor',
        describe: 'probe_score of each sample: monitor (free: the live in-context projection at the steered layer, steering term removed), ' +
          'capture (a separate capture pass over the generated text alone, as the paper scores texts; ~25% slower on a CPU) or off',
      })
      .option('batch', { type: 'number', describe: 'sequences per batched generation (default and maximum: the engine\'s sequence limit)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout' })
      .option('shard', {
        type: 'string', describe: 'I/N: run only part I (0..N-1) of N of the grid (parts of near-equal token cost, the same split in every process) into ' +
          'this --out; auto/N takes I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX. Score or merge the N RUNs together.',
      })
      .example('$0 steer --model qwen.gguf --probes probes --layers 16,20,12 --alphas=-20,-10,-5,-3,0,3,5,10,20 --out runs/qwen', 'the paper\'s Qwen sweep')
      .example('$0 steer --model qwen.gguf --probes probes --layers 16,20,12 --shard auto/8 --out runs/qwen.$SLURM_ARRAY_TASK_ID', 'one task of a SLURM job array')
      .epilog('Interrupt with Ctrl-C (exit 130) or kill at any moment: finished samples stay in RUN/samples.jsonl and the same ' +
        'command resumes. A RUN made with other parameters is refused.') as never,
  handler: async (a) => {
    const layers = parseIntList(a.layers, '--layers');
    const alphas = parseNumberList(a.alphas, '--alphas');
    const scenarios = parseStringList(a.scenarios);
    if (scenarios.length === 0) throw new UsageError('--scenarios: expected a comma-separated list of scenario ids');
    positiveInt(a.samples, '--samples');
    positiveInt(a['max-tokens'], '--max-tokens');
    if (a.batch !== undefined) positiveInt(a.batch, '--batch');
    if (!Number.isInteger(a.seed) || a.seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${a.seed}`);
    if (!Number.isInteger(a['top-k']) || a['top-k'] < 0) throw new UsageError(`--top-k must be a non-negative integer, got ${a['top-k']}`);
    if (!alphas.some((x) => x === 0)) note('note: --alphas has no 0: the paper\'s success rate needs the alpha = 0 baseline');
    const ps = a['probe-score'] === false ? 'off' : a['probe-score'] === true ? 'capture' : String(a['probe-score']);
    if (!PROBE_SCORE_MODES.includes(ps as ProbeScoreMode)) throw new UsageError(`--probe-score must be one of ${PROBE_SCORE_MODES.join(', ')}, got '${ps}'`);
    const shard = shardArg(a.shard);
    const modelPath = modelPathArg(a.model);

    const ac = new AbortController();
    let hits = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      hits++;
      if (hits > 1) {
        process.stderr.write(`${sig} again: exiting now; resume with the same command\n`);
        process.exit(130);
      }
      process.stderr.write(`\n${sig}: stopping (finished samples are kept; press Ctrl-C again to quit at once)\n`);
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const r = await runSweep({
        modelPath, modelKey: modelKeyArg(a.model), probesDir: a.probes, layers, alphas, scenarios, samples: a.samples,
        maxTokens: a['max-tokens'], temperature: a.temp, topK: a['top-k'], topP: a['top-p'], minP: a['min-p'], seed: a.seed,
        out: a.out, chat: a.chat, monitor: a.monitor, tokenIds: a['token-ids'], probeScore: ps as ProbeScoreMode, maxBatch: a.batch,
        threads: a.threads, gpuLayers: a['gpu-layers'], signal: ac.signal, shard,
      });
      if (r.interrupted) {
        process.stderr.write(`interrupted: ${r.kept}/${r.total} samples kept; resume with the same command\n`);
        process.exit(130);
      }
      const tokS = r.loopMs > 0 ? r.tokens / (r.loopMs / 1000) : 0;
      if (a.json) {
        printJson({ ...r, tokens_per_s: tokS });
      } else if (r.written === 0 && r.skipped === r.total) {
        note(`nothing to do: all ${r.total} samples are already in ${r.samplesPath}`);
      } else {
        note(`wrote ${r.written} samples (${r.kept}/${r.total} in ${r.samplesPath}); ${r.tokens} tokens in ${(r.loopMs / 1000).toFixed(1)} s ` +
          `(${tokS.toFixed(1)} tok/s, ${r.batches} batch${r.batches === 1 ? '' : 'es'} of ${r.sequences} sequences)`);
        if (r.shard) note(`this is shard ${r.shard.index}/${r.shard.count}; with all ${r.shard.count} done: eia-native score RUN0 RUN1 … (or merge … --out RUN)`);
        else note(`score it: eia-native score ${a.out}`);
      }
    } catch (e) {
      throw addHint(e, 'E_CONFLICT', 'choose another --out, or rerun the original command');
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
