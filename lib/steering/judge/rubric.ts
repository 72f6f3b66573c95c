// The judge's rubric: the prompts live in rubric.md beside this file (one readable file; see its
// head for the format), read and checked here; the answers are parsed here, strictly.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EiaError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { packageRoot } from '../../util/package.js';
import { JUDGE_QUESTIONS, type JudgeQuestion } from './verdict.js';

/** The rubric file shipped with the package (lib/ is in the package's files). */
export const RUBRIC_FILE = join(packageRoot, 'lib', 'steering', 'judge', 'rubric.md');

export interface Rubric {
  /** What the concept question asks about. */
  concept: string;
  /** One prompt template per question ({concept}, {instruction}, {response} filled in). */
  templates: Record<JudgeQuestion, string>;
  /** sha256 of each question's template and of the concept text: a cached answer applies only to the same text. */
  hashes: Record<JudgeQuestion, string>;
  path: string;
}

const PARTS = ['concept-description', ...JUDGE_QUESTIONS] as const;

/** Reads and checks a rubric file (default: the package's): every part once, each question with its {response}. */
export function loadRubric(path = RUBRIC_FILE): Rubric {
  const text = io(() => readFileSync(path, 'utf8')).replace(/\r\n/g, '\n');
  const parts = new Map<string, string>();
  let current: string | null = null;
  let body: string[] = [];
  const flush = () => {
    if (current !== null) parts.set(current, body.join('\n').trim());
  };
  for (const line of text.split('\n')) {
    const h = /^## +(.+?)\s*$/.exec(line);
    if (h) {
      flush();
      current = h[1];
      if (!(PARTS as readonly string[]).includes(current)) throw new EiaError('E_BAD_ARG', `${path}: unknown part "## ${current}" (expected ${PARTS.join(', ')})`);
      if (parts.has(current)) throw new EiaError('E_BAD_ARG', `${path}: part "## ${current}" appears twice`);
      body = [];
    } else if (current !== null) {
      body.push(line);
    }
  }
  flush();
  for (const p of PARTS) if (!parts.get(p)) throw new EiaError('E_BAD_ARG', `${path}: part "## ${p}" is missing or empty`);
  const templates = Object.fromEntries(JUDGE_QUESTIONS.map((q) => [q, parts.get(q)!])) as Record<JudgeQuestion, string>;
  for (const q of JUDGE_QUESTIONS) {
    if (!templates[q].includes('{response}')) throw new EiaError('E_BAD_ARG', `${path}: part "## ${q}" has no {response} placeholder`);
  }
  const concept = parts.get('concept-description')!;
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const hashes = Object.fromEntries(JUDGE_QUESTIONS.map((q) => [q, sha(`${templates[q]}\u0000${q === 'concept' ? concept : ''}`)])) as Record<JudgeQuestion, string>;
  return { concept, templates, hashes, path };
}

/** The prompt of one question for one sample. */
export function fillPrompt(rubric: Rubric, q: JudgeQuestion, fields: { instruction: string; response: string }): string {
  // one pass, so that a placeholder inside the sample's own text is left as it is
  return rubric.templates[q].replace(/\{(concept|instruction|response)\}/g, (_, k: string) =>
    k === 'concept' ? rubric.concept : k === 'instruction' ? fields.instruction : fields.response);
}

const RATING = /Rating:\s*\[\[\s*([^\]]*?)\s*\]\]/gi;

/**
 * The rating of an answer: exactly one `Rating: [[N]]` with N one of 0, 1, 2; null otherwise (no
 * rating, several, or a value that is not 0, 1 or 2). Never a guess.
 */
export function parseRating(answer: string): number | null {
  const found = [...answer.matchAll(RATING)];
  if (found.length !== 1) return null;
  const v = found[0][1];
  return v === '0' || v === '1' || v === '2' ? Number(v) : null;
}
