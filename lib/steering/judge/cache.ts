// RUN/judge.jsonl: every answer the judge gave, appended as it arrives, so that a resumed `tune` or a
// second `score --judge` never asks the same question twice. An answer applies to a sample only for
// the same judge model, question text (its rubric hash) and sample text; unparseable answers are
// kept too (asking again would only cost more; they are counted every time), failed requests are not
// (there is no answer to keep). A torn last line (a kill mid-write) is dropped.
import { existsSync } from 'node:fs';
import { JsonlAppender, readJsonl } from '../../io/jsonl.js';
import { EiaError } from '../../util/errors.js';
import { JUDGE_QUESTIONS, type JudgeQuestion } from './verdict.js';

export interface JudgeAnswer {
  model: string;
  layer: number;
  scenario: string;
  alpha: number;
  sample: number;
  question: JudgeQuestion;
  judge_model: string;
  rubric_sha256: string;
  text_sha256: string;
  /** The rating parsed from the answer; null when unparseable. */
  score: number | null;
  /** The judge's answer as it came (cut to MAX_ANSWER characters). */
  answer: string;
}

export const MAX_ANSWER = 4000;

/** The cache key of one question about one sample text (see the module comment). */
export function answerKey(a: Pick<JudgeAnswer, 'model' | 'layer' | 'scenario' | 'alpha' | 'sample' | 'question' | 'judge_model' | 'rubric_sha256' | 'text_sha256'>): string {
  return JSON.stringify([a.model, a.layer, a.scenario, a.alpha === 0 ? 0 : a.alpha, a.sample, a.question, a.judge_model, a.rubric_sha256, a.text_sha256]);
}

function validate(v: unknown, where: string): JudgeAnswer {
  const o = v as Record<string, unknown>;
  const bad = (f: string): never => { throw new EiaError('E_BAD_ARG', `${where}: "${f}" is missing or invalid`); };
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EiaError('E_BAD_ARG', `${where}: expected a JSON object`);
  for (const f of ['model', 'scenario', 'judge_model', 'rubric_sha256', 'text_sha256', 'answer']) if (typeof o[f] !== 'string') bad(f);
  if (!Number.isInteger(o.layer)) bad('layer');
  if (!Number.isInteger(o.sample)) bad('sample');
  if (typeof o.alpha !== 'number' || !Number.isFinite(o.alpha)) bad('alpha');
  if (!JUDGE_QUESTIONS.includes(o.question as JudgeQuestion)) bad('question');
  if (o.score !== null && o.score !== 0 && o.score !== 1 && o.score !== 2) bad('score');
  return o as unknown as JudgeAnswer;
}

export function readJudgeCache(path: string): Map<string, JudgeAnswer> {
  const out = new Map<string, JudgeAnswer>();
  if (!existsSync(path)) return out;
  for (const a of readJsonl(path, { tornTail: 'drop', each: validate }).records) out.set(answerKey(a), a);
  return out;
}

/** Appends answers; a torn last line left by a kill is cut off first. */
export function openJudgeCache(path: string): JsonlAppender {
  if (existsSync(path)) readJsonl(path, { tornTail: 'repair', each: validate });
  return new JsonlAppender(path);
}
