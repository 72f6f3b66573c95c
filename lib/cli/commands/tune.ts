// eia-native tune: the block and alpha to steer with, searched on train prompts within a token
// budget, validated on held-out prompts (lib/pipeline/tune); then the report of its folder.
import type { CommandModule } from 'yargs';
import { SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { runTune, TUNE_DEFAULTS } from '../../pipeline/tune/index.js';
import { writeReport } from '../../report/index.js';
import { MAX_RESAMPLES } from '../../probes/defaults.js';
import { SCENARIO_IDS, STEERING_SCENARIO_IDS } from '../../steering/scenarios.js';
import { note, warn } from '../../util/note.js';
import { modelKeyArg, modelPathArg, parseIntList, parseNumberList, parseStringList, printJson, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, checkSamplingFlags, FLAGS, inFlagWords, inFlagWordsOf, intFlag, optIntFlag, SAMPLING_FLAGS } from '../flags.js';
import { checkMaxTokens } from '../../engine/validate.js';
import { judgeClientArg, withJudgeOptions, type JudgeArgs } from '../judge-flags.js';

interface Args extends JudgeArgs {
  model: string; probes: string; out: string; layers?: string; alphas?: string; scenarios: string; 'held-out'?: string; samples: number;
  'max-tokens': number; 'max-ppl-ratio': number; 'budget-tokens'?: number; temp: number; 'top-k': number; 'top-p': number; 'min-p': number;
  seed: number; chat: boolean; bootstrap: number; card: boolean; force: boolean; json: boolean; threads?: number; 'gpu-layers': number; 'ctx-size'?: number;
}

/** Library option names as this command's flags (flags.ts inFlagWords). */
const FLAG_NAMES = {
  alphas: '--alphas', layers: '--layers', samples: '--samples', maxTokens: '--max-tokens', ctxSize: '--ctx-size', train: '--scenarios', scenarios: '--scenarios',
  heldOut: '--held-out', budgetTokens: '--budget-tokens', maxPplRatio: '--max-ppl-ratio', force: '--force', ...SAMPLING_FLAGS,
};

export const tuneCommand: CommandModule<object, Args> = {
  command: 'tune',
  describe: 'Choose the block and alpha to steer with: a budgeted search for the most concept within a fluency limit (or the best LLM-judge score), validated on held-out prompts',
  builder: (y) =>
    withJudgeOptions(withModelOptions(y, 'default: the model\'s training context; the KV cache holds prompt + --max-tokens'))
      .option('probes', { type: 'string', demandOption: true, describe: 'folder of layer<L>.npy probes (from `probe`); validation.json beside them ranks the blocks; the chosen probe\'s card (in its sidecar) gets the tuned alpha' })
      .option('out', { type: 'string', demandOption: true, describe: 'folder for tune.json, the samples and their measures, score.json and the report; rerun the same command to resume' })
      .option('layers', { type: 'string', describe: 'candidate blocks, comma-separated (default: every block with a probe)' })
      .option('alphas', { type: 'string', describe: `the coarse alpha grid, positive, comma-separated (default: ${TUNE_DEFAULTS.coarseFractions.join(', ')} x the candidates' median residual norm)` })
      .option('scenarios', { type: 'string', default: STEERING_SCENARIO_IDS.join(','), describe: 'the prompts searched on (scenario ids)' })
      .option('held-out', { type: 'string', describe: 'the prompts the choice is validated on (scenario ids; default: the scenarios not searched on)' })
      .option('samples', { type: 'number', default: TUNE_DEFAULTS.samples, describe: 'samples per (block, alpha, prompt)' })
      .option('max-tokens', { ...FLAGS['max-tokens'], default: TUNE_DEFAULTS.maxTokens })
      .option('max-ppl-ratio', { type: 'number', default: TUNE_DEFAULTS.maxPplRatio, describe: 'fluency limit: the steered text\'s perplexity under the unsteered model over the unsteered text\'s' })
      .option('budget-tokens', { type: 'number', describe: 'generated tokens the search and the validation may spend (default: the whole coarse grid, the fine points and the validation)' })
      .option('temp', { type: 'number', default: SAMPLING_DEFAULTS.temperature, describe: 'sampling temperature (0 = greedy)' })
      .option('top-k', { type: 'number', default: SAMPLING_DEFAULTS.topK, describe: 'top-k (0 = off)' })
      .option('top-p', { type: 'number', default: SAMPLING_DEFAULTS.topP, describe: 'top-p in (0, 1] (1 = off)' })
      .option('min-p', { type: 'number', default: SAMPLING_DEFAULTS.minP, describe: 'min-p in [0, 1] (0 = off)' })
      .option('seed', { type: 'number', default: 0, describe: 'sample seeds derive from (seed, scenario, sample), as in steer' })
      .option('chat', { type: 'boolean', default: false, describe: 'wrap the prompt in the chat template (default: the paper\'s raw prompt)' })
      .option('bootstrap', { type: 'number', default: TUNE_DEFAULTS.resamples, describe: `bootstrap resamples of the held-out CIs (at most ${MAX_RESAMPLES})` })
      .option('card', { type: 'boolean', default: true, describe: 'write the chosen alpha into the chosen probe\'s vector card (its sidecar\'s card.tuned; --no-card: leave the probes folder as it is)' })
      .option('force', { ...FLAGS.force, describe: 'replace a tune of other parameters in --out (its files move to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json)
      .example('$0 tune -m planted.gguf --probes probes --out tune', 'every probe block; writes tune/tune.json, tune/report.html and the tuned alpha into probes/layer<L>.json\'s card')
      .example('$0 tune -m q.gguf --probes probes --layers 12,16,20 --budget-tokens 60000 --out tune', 'three candidate blocks within 60k generated tokens')
      .example('$0 tune -m q.gguf --probes probes --out tune --judge http://127.0.0.1:8081/v1 --judge-model judge', 'maximise the AxBench harmonic mean of an LLM judge')
      .epilog('Then steer with it: `generate --probe probes/layer<L>.npy --alphas tuned`, or `"scale": "tuned"` in a server request. ' +
        'Interrupt with Ctrl-C (exit 130) or kill at any moment: the same command resumes without generating, measuring or asking anything twice. ' +
        'See docs/tune.md.') as never,
  handler: async (a) => {
    checkModelFlags(a);
    checkSamplingFlags(a);
    intFlag(a.samples, '--samples', 1);
    inFlagWordsOf(FLAG_NAMES, () => checkMaxTokens(a['max-tokens'], 'maxTokens'));
    intFlag(a.bootstrap, '--bootstrap', 1, MAX_RESAMPLES);
    optIntFlag(a['budget-tokens'], '--budget-tokens', 1);
    if (!(Number.isFinite(a['max-ppl-ratio']) && a['max-ppl-ratio'] > 1)) throw new UsageError(`--max-ppl-ratio must be a number above 1, got ${a['max-ppl-ratio']}`);
    const layers = a.layers !== undefined ? parseIntList(a.layers, '--layers') : undefined;
    const alphas = a.alphas !== undefined ? parseNumberList(a.alphas, '--alphas') : undefined;
    const train = parseStringList(a.scenarios, '--scenarios');
    const heldOut = a['held-out'] !== undefined ? parseStringList(a['held-out'], '--held-out') : undefined;
    for (const s of [...train, ...(heldOut ?? [])]) if (!(SCENARIO_IDS as readonly string[]).includes(s)) throw new UsageError(`unknown scenario '${s}' (known: ${SCENARIO_IDS.join(', ')})`);
    const judge = judgeClientArg(a);
    const modelPath = modelPathArg(a.model);
    const ac = new AbortController();
    let hits = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++hits > 1) {
        process.stderr.write(`${sig} again: exiting now; resume with the same command\n`);
        process.exit(130);
      }
      process.stderr.write(`\n${sig}: stopping (what is done is kept; press Ctrl-C again to quit at once)\n`);
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const r = await runTune({
        modelPath, modelKey: modelKeyArg(a.model), probesDir: a.probes, out: a.out, layers, alphas, train, heldOut, samples: a.samples, maxTokens: a['max-tokens'],
        maxPplRatio: a['max-ppl-ratio'], budgetTokens: a['budget-tokens'], temperature: a.temp, topK: a['top-k'], topP: a['top-p'], minP: a['min-p'],
        seed: a.seed, chat: a.chat, ctxSize: a['ctx-size'], judge, resamples: a.bootstrap, card: a.card, force: a.force, threads: a.threads, gpuLayers: a['gpu-layers'], signal: ac.signal,
      });
      const rep = writeReport(a.out);
      if (a.json) {
        printJson({ ...r, report: rep.html });
      } else if (r.layer === null) {
        process.stdout.write(`no choice: ${r.reason}; see ${a.out}/tune.json and ${rep.html}\n`);
      } else {
        const v = r.validation!;
        const f = (x: number) => x.toFixed(3);
        process.stdout.write(`tuned: block ${r.layer}, alpha ${r.alpha} (${r.reason})\n` +
          `held-out (${v.prompts.join(', ')}, ${v.n} samples): keyword share ${f(v.keyword_share.estimate)} [${f(v.keyword_share.lower)}, ${f(v.keyword_share.upper)}] ` +
          `vs ${f(v.baseline_keyword_share.estimate)} unsteered; perplexity ratio ${v.ppl_ratio ? `${f(v.ppl_ratio.estimate)} [${f(v.ppl_ratio.lower)}, ${f(v.ppl_ratio.upper)}]` : '-'}` +
          `${v.judge_harmonic ? `; judge ${f(v.judge_harmonic.estimate)}` : ''}\n` +
          `tokens: ${r.tokens.search} search + ${r.tokens.validation} validation = ${r.tokens.total} of a budget of ${r.tokens.budget}\n`);
        if (!v.fluent) warn(`warning: on the held-out prompts the perplexity ratio ${v.ppl_ratio?.estimate.toFixed(3)} exceeds the limit ${r.max_ppl_ratio}`);
        if (!v.effect_above_zero) warn('warning: on the held-out prompts the effect\'s CI does not lie above 0');
        if (r.card) note(`the tuned alpha is in the vector card of ${r.card} (card.tuned; eia-native info --vector ${a.probes}/layer${r.layer}.npy): generate --probe ${a.probes}/layer${r.layer}.npy --alphas tuned`);
        note(`wrote ${a.out}/tune.json and ${rep.html}`);
      }
    } catch (e) {
      throw inFlagWords(e, FLAG_NAMES);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
