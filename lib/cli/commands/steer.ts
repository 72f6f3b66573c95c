// eia-native steer: a resumable steering sweep (layers x alphas x scenarios x samples) into RUN/.
import type { CommandModule } from 'yargs';
import { engineLimits, MAX_TOKENS_DEFAULTS, SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { PROBE_SCORE_MODES, type ProbeScoreMode } from '../../steering/sweep/options.js';
import { runSweep } from '../../steering/sweep/run.js';
import { parseShard, type ShardSpec } from '../../steering/sweep/shard.js';
import { modelKeyArg, modelPathArg, parseIntList, parseNumberList, parseStringList, printJson, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, checkSamplingFlags, FLAGS, inFlagWords, inFlagWordsOf, intFlag, optIntFlag, SAMPLING_FLAGS } from '../flags.js';
import { checkMaxTokens } from '../../engine/validate.js';
import { note } from '../../util/note.js';

interface Args {
  model: string; probes: string; layers: string; alphas: string; scenarios: string; samples: number; 'max-tokens': number;
  temp: number; 'top-k': number; 'top-p': number; 'min-p': number; seed: number; out: string; chat: boolean; 'token-scores': boolean;
  'token-ids': boolean; 'probe-score': string | boolean; batch?: number; json: boolean; threads?: number; 'gpu-layers': number;
  'ctx-size'?: number; force: boolean; shard?: string;
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

/** Library option names as this command's flags (flags.ts inFlagWords). */
const FLAG_NAMES = { alphas: '--alphas', maxTokens: '--max-tokens', ctxSize: '--ctx-size', layers: '--layers', samples: '--samples', force: '--force', shard: '--shard', scenarios: '--scenarios', ...SAMPLING_FLAGS };

export const steerCommand: CommandModule<object, Args> = {
  command: 'steer',
  describe: 'Steering sweep (layers x alphas x scenarios x samples), batched, resumable, into RUN/samples.jsonl',
  builder: (y) =>
    withModelOptions(y, 'default: the model\'s training context; the KV cache holds prompt + --max-tokens')
      .option('probes', { type: 'string', demandOption: true, describe: 'folder of layer<L>.npy probes (from `probe`)' })
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks to steer, e.g. 16,20,12 (0-based)' })
      .option('alphas', { type: 'string', default: '-20,-10,-5,-3,0,3,5,10,20', describe: 'steering strengths (write --alphas=-20,... for negatives); include 0 for the baseline' })
      .option('scenarios', { type: 'string', default: STEERING_SCENARIO_IDS.join(','), describe: 'scenario ids (food_delivery, the_listener, the_maze, the_protector, the_duel)' })
      .option('samples', { type: 'number', default: 5, describe: 'samples per (layer, scenario, alpha)' })
      .option('max-tokens', { ...FLAGS['max-tokens'], default: MAX_TOKENS_DEFAULTS.sweep })
      .option('temp', { type: 'number', default: SAMPLING_DEFAULTS.temperature, describe: 'sampling temperature (0 = greedy)' })
      .option('top-k', { type: 'number', default: SAMPLING_DEFAULTS.topK, describe: 'top-k (0 = off)' })
      .option('top-p', { type: 'number', default: SAMPLING_DEFAULTS.topP, describe: 'top-p in (0, 1] (1 = off)' })
      .option('min-p', { type: 'number', default: SAMPLING_DEFAULTS.minP, describe: 'min-p in [0, 1] (0 = off)' })
      .option('seed', { type: 'number', default: 0, describe: 'sample seeds derive from (seed, scenario, sample)' })
      .option('out', { type: 'string', demandOption: true, describe: 'RUN folder (manifest.json, samples.jsonl); rerun the same command to resume' })
      .option('chat', { type: 'boolean', default: false, describe: 'wrap the prompt in the chat template (default: the paper\'s raw prompt)' })
      .option('token-scores', { type: 'boolean', default: false, describe: 'store every generated token\'s projection on the steered layer\'s probe (the record\'s `monitor` field)' })
      .option('token-ids', { type: 'boolean', default: false, describe: 'also store the generated token ids' })
      .option('probe-score', {
        type: 'string', default: 'monitor',
        describe: 'probe_score of each sample: monitor (free: the live in-context projection at the steered layer, steering term removed), ' +
          'capture (a separate capture pass over the generated text alone, as the paper scores texts; ~25% slower on a CPU) or off',
      })
      .option('batch', { type: 'number', describe: 'sequences per batched generation (default and maximum: the engine\'s sequence limit)' })
      .option('force', { ...FLAGS.force, describe: 'replace a sweep of other parameters in --out (its files move to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json)
      .option('shard', FLAGS.shard)
      .example('$0 steer --model qwen.gguf --probes probes --layers 16,20,12 --alphas=-20,-10,-5,-3,0,3,5,10,20 --out runs/qwen', 'the paper\'s Qwen sweep')
      .example('$0 steer --model qwen.gguf --probes probes --layers 16,20,12 --shard auto/8 --out runs/qwen.$SLURM_ARRAY_TASK_ID', 'one task of a SLURM job array')
      .epilog('Interrupt with Ctrl-C (exit 130) or kill at any moment: finished samples stay in RUN/samples.jsonl and the same ' +
        'command resumes. A RUN made with other parameters is refused (--force replaces it), and so is a RUN another process is ' +
        'writing (exit 1, naming its pid). |alpha| is bounded by 100 x the steered block\'s residual norm.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    checkSamplingFlags(a);
    const layers = parseIntList(a.layers, '--layers');
    const alphas = parseNumberList(a.alphas, '--alphas');
    const scenarios = parseStringList(a.scenarios, '--scenarios');
    if (scenarios.length === 0) throw new UsageError('--scenarios: expected a comma-separated list of scenario ids');
    intFlag(a.samples, '--samples', 1);
    inFlagWordsOf({ maxTokens: '--max-tokens' }, () => checkMaxTokens(a['max-tokens'], 'maxTokens'));
    optIntFlag(a.batch, '--batch', 1, engineLimits().maxSequences);
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
        out: a.out, chat: a.chat, monitor: a['token-scores'], tokenIds: a['token-ids'], probeScore: ps as ProbeScoreMode, maxBatch: a.batch,
        threads: a.threads, gpuLayers: a['gpu-layers'], signal: ac.signal, ctxSize: a['ctx-size'], force: a.force, shard,
      });
      if (r.interrupted) {
        process.stderr.write(`interrupted: ${r.kept}/${r.total} samples kept; resume with the same command\n`);
        process.exit(130);
      }
      const tokS = r.loopMs > 0 ? r.tokens / (r.loopMs / 1000) : 0;
      if (a.json) {
        printJson({ ...r, tokens_per_s: tokS });
      } else if (r.written === 0 && r.skipped === r.total) {
        process.stdout.write(`nothing to do: all ${r.total} samples are already in ${r.samplesPath}\n`);
      } else {
        process.stdout.write(`wrote ${r.written} samples (${r.kept}/${r.total} in ${r.samplesPath}); ${r.tokens} tokens in ${(r.loopMs / 1000).toFixed(1)} s ` +
          `(${tokS.toFixed(1)} tok/s, ${r.batches} batch${r.batches === 1 ? '' : 'es'} of ${r.sequences} sequences)\n`);
        if (r.shard) note(`this is shard ${r.shard.index}/${r.shard.count}; with all ${r.shard.count} done: eia-native score RUN0 RUN1 … (or merge … --out RUN)`);
        else note(`score it: eia-native score ${a.out}`);
      }
    } catch (e) {
      throw inFlagWords(e, FLAG_NAMES);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
