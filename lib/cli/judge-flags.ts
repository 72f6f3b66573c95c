// The LLM judge's flags, shared by `score` and `tune`: the endpoint, the judge model, its key (or
// EIA_NATIVE_JUDGE_KEY), requests in flight, and the per-request timeout.
import type { Argv } from 'yargs';
import { JUDGE_DEFAULTS, JudgeClient } from '../steering/judge/client.js';
import { judgeKeyFromEnv } from '../util/env.js';
import { isEiaError } from '../util/errors.js';
import { UsageError } from './common.js';
import { inFlagWords, intFlag } from './flags.js';

export interface JudgeArgs { judge?: string; 'judge-model'?: string; 'judge-key'?: string; 'judge-concurrency': number; 'judge-timeout': number }

export function withJudgeOptions<T>(y: Argv<T>) {
  return y
    .option('judge', { type: 'string', describe: 'an OpenAI-compatible endpoint (…/v1) to judge every sample with AxBench-style rubric questions: eia-native serve, llama-server, a hosted API' })
    .option('judge-model', { type: 'string', describe: 'the judge model\'s name at --judge' })
    .option('judge-key', { type: 'string', describe: 'API key of --judge (default: EIA_NATIVE_JUDGE_KEY)' })
    .option('judge-concurrency', { type: 'number', default: JUDGE_DEFAULTS.concurrency, describe: 'judge requests in flight at once' })
    .option('judge-timeout', { type: 'number', default: JUDGE_DEFAULTS.timeoutMs / 1000, describe: 'seconds one judge request may take (retried on timeouts, 429 and 5xx)' });
}

/** The judge client the flags ask for, or undefined without --judge; usage errors name the flags. */
export function judgeClientArg(a: JudgeArgs): { client: JudgeClient; concurrency: number } | undefined {
  if (a.judge === undefined) {
    if (a['judge-model'] !== undefined || a['judge-key'] !== undefined) throw new UsageError('--judge-model and --judge-key go with --judge URL');
    return undefined;
  }
  if (typeof a.judge !== 'string' || a.judge === '') throw new UsageError('--judge needs a URL');
  if (!a['judge-model']) throw new UsageError('--judge needs --judge-model NAME (the judge model\'s name at that endpoint)');
  const concurrency = intFlag(a['judge-concurrency'], '--judge-concurrency', 1, 256);
  const t = a['judge-timeout'];
  if (!(typeof t === 'number' && Number.isFinite(t) && t > 0 && t <= 3600)) throw new UsageError(`--judge-timeout must be a number of seconds in (0, 3600], got ${String(t)}`);
  try {
    return { client: new JudgeClient({ url: a.judge, model: a['judge-model'], apiKey: a['judge-key'] ?? judgeKeyFromEnv(), timeoutMs: Math.max(1, Math.round(t * 1000)) }), concurrency };
  } catch (e) {
    const named = inFlagWords(e, { judge: '--judge' });
    if (isEiaError(named, 'E_BAD_ARG')) throw new UsageError(named.message);
    throw named;
  }
}
