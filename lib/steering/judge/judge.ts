// Judging samples: for each sample, the three rubric questions (rubric.ts) — concept, relevance to
// its prompt, fluency — asked of the judge (client.ts) at most `concurrency` at a time, each answer
// parsed strictly and appended to the cache (cache.ts) as it arrives. Cached answers are not asked
// again. An unparseable answer is counted, a failed request is counted (and asked again next time);
// neither stops the others.
import type { JsonlAppender } from '../../io/jsonl.js';
import { EiaError } from '../../util/errors.js';
import { createProgress } from '../../util/progress.js';
import { textSha256 } from '../metrics/cache.js';
import { sampleKey, type SampleRecord } from '../samples.js';
import { getScenario, SCENARIOS, steeringPrompt, type Scenario } from '../scenarios.js';
import { answerKey, MAX_ANSWER, openJudgeCache, readJudgeCache, type JudgeAnswer } from './cache.js';
import { JUDGE_DEFAULTS, type JudgeClient } from './client.js';
import { fillPrompt, loadRubric, parseRating, type Rubric } from './rubric.js';
import { JUDGE_QUESTIONS, verdictOf, type JudgeQuestion, type JudgeVerdict } from './verdict.js';

export interface JudgeOptions {
  client: JudgeClient;
  rubric?: Rubric;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** judge.jsonl to read and append (the caller holds its folder's lock); null: no cache. */
  cachePath?: string | null;
  scenarios?: readonly Scenario[];
  signal?: AbortSignal;
  progress?: boolean;
}

export interface JudgeRun {
  /** By sample key. */
  verdicts: Map<string, JudgeVerdict>;
  /** Questions asked now, answered from the cache, unparseable (of all answers), failed. */
  asked: number;
  cached: number;
  unparseable: number;
  failed: number;
  /** The first failure's message, for people (null when none failed). */
  firstFailure: string | null;
}

export async function judgeSamples(records: readonly SampleRecord[], o: JudgeOptions): Promise<JudgeRun> {
  const rubric = o.rubric ?? loadRubric();
  const concurrency = o.concurrency ?? JUDGE_DEFAULTS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new EiaError('E_BAD_ARG', `judge concurrency must be 1..256, got ${concurrency}`);
  const scenarios = o.scenarios ?? SCENARIOS;
  const cache = o.cachePath ? readJudgeCache(o.cachePath) : new Map<string, JudgeAnswer>();
  const judgeModel = o.client.model;
  const scores = new Map<string, Record<JudgeQuestion, number | null>>();
  const unparseable = new Map<string, JudgeQuestion[]>();
  const failed = new Map<string, JudgeQuestion[]>();
  type Job = { r: SampleRecord; q: JudgeQuestion; key: string; base: Omit<JudgeAnswer, 'score' | 'answer'> };
  const jobs: Job[] = [];
  let cached = 0;
  const record = (key: string, q: JudgeQuestion, score: number | null) => {
    const s = scores.get(key) ?? { concept: null, instruction: null, fluency: null };
    s[q] = score;
    scores.set(key, s);
    if (score === null) unparseable.set(key, [...(unparseable.get(key) ?? []), q]);
  };
  for (const r of records) {
    const key = sampleKey(r);
    if (scores.has(key)) continue;
    scores.set(key, { concept: null, instruction: null, fluency: null });
    getScenario(r.scenario, scenarios);
    for (const q of JUDGE_QUESTIONS) {
      const base = { model: r.model, layer: r.layer, scenario: r.scenario, alpha: r.alpha, sample: r.sample, question: q, judge_model: judgeModel, rubric_sha256: rubric.hashes[q], text_sha256: textSha256(r.text) };
      const hit = cache.get(answerKey(base));
      if (hit) {
        record(key, q, hit.score);
        cached++;
      } else {
        jobs.push({ r, q, key, base });
      }
    }
  }
  let appender: JsonlAppender | null = null;
  let asked = 0;
  let firstFailure: string | null = null;
  const bar = o.progress !== false && jobs.length > 0 ? createProgress({ label: 'judge', total: jobs.length, unit: 'items' }) : null;
  try {
    if (o.cachePath && jobs.length > 0) appender = openJudgeCache(o.cachePath);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        if (o.signal?.aborted) throw new EiaError('E_ABORTED', 'judge interrupted (the answers received so far are kept in the cache)');
        const job = jobs[next++];
        const prompt = fillPrompt(rubric, job.q, { instruction: steeringPrompt(getScenario(job.r.scenario, scenarios)), response: job.r.text });
        try {
          const answer = await o.client.ask(prompt, o.signal);
          const score = parseRating(answer);
          record(job.key, job.q, score);
          appender?.append({ ...job.base, score, answer: answer.slice(0, MAX_ANSWER) } satisfies JudgeAnswer);
        } catch (e) {
          if ((e as EiaError).code === 'E_ABORTED') throw e;
          failed.set(job.key, [...(failed.get(job.key) ?? []), job.q]);
          firstFailure ??= (e as Error).message;
        }
        asked++;
        bar?.update(asked);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
    bar?.done();
  } finally {
    appender?.close();
  }
  const verdicts = new Map<string, JudgeVerdict>();
  for (const [key, s] of scores) verdicts.set(key, verdictOf(s, unparseable.get(key) ?? [], failed.get(key) ?? []));
  const count = (m: Map<string, JudgeQuestion[]>) => [...m.values()].reduce((n, x) => n + x.length, 0);
  return { verdicts, asked, cached, unparseable: count(unparseable), failed: count(failed), firstFailure };
}
