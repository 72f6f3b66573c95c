// The paper's datasets: contrastive pairs (JSONL) and rubric-scored texts (JSONL); its scenarios
// JSON is read by lib/steering/scenarios.ts, the one scenario reader. Parsing is strict and every
// error names the file, the 1-based line and the field, so a hand-edited data file fails loudly
// instead of silently training a different probe.

import { createHash } from 'node:crypto';
import { parseJsonl } from '../io/jsonl.js';
import { createRng } from '../stats/rng.js';
import { io } from '../util/io-error.js';
import { EiaError } from '../util/errors.js';
import { readTextFile } from '../io/input.js';

/** One contrastive pair: an empathic and a non-empathic reasoning text for one scenario. */
export interface ContrastivePair {
  scenarioId: string;
  empathicText: string;
  nonEmpathicText: string;
  scenarioTitle?: string;
  sourceModel?: string;
  /** the generator's run number (a number in the paper's files) */
  runId?: string | number;
  generatedAt?: string;
  format?: string;
}

/** A text with a rubric score (0 ignores the person, 2 sacrifices the task). */
export interface ScoredText {
  text: string;
  score: 0 | 1 | 2;
  scenario?: string;
}

type Obj = Record<string, unknown>;

/** Parses a hand-written JSONL file: one object per non-blank line (torn-tail policy 'error'); `each` receives (object, "FILE:LINE"). */
function parseObjects<T>(text: string, file: string, each: (o: Obj, where: string) => T): T[] {
  return parseJsonl(text, file, {
    tornTail: 'error',
    each: (o, where) => {
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new EiaError('E_BAD_ARG', `${where}: expected a JSON object`);
      return each(o as Obj, where);
    },
  }).records;
}

function str(o: Obj, field: string, where: string, required: true): string;
function str(o: Obj, field: string, where: string, required: false): string | undefined;
function str(o: Obj, field: string, where: string, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) {
    if (required) throw new EiaError('E_BAD_ARG', `${where}: missing field "${field}"`);
    return undefined;
  }
  if (typeof v !== 'string') throw new EiaError('E_BAD_ARG', `${where}: field "${field}" must be a string, got ${typeof v}`);
  if (required && v.trim() === '') throw new EiaError('E_BAD_ARG', `${where}: field "${field}" is empty`);
  return v;
}

/** Parses contrastive-pair JSONL text; `file` names the source in error messages. */
export function parsePairs(text: string, file = '<pairs>'): ContrastivePair[] {
  return parseObjects(text, file, (o, w) => {
    const p: ContrastivePair = {
      scenarioId: str(o, 'scenario_id', w, true),
      empathicText: str(o, 'empathic_text', w, true),
      nonEmpathicText: str(o, 'non_empathic_text', w, true),
    };
    const opt: ['scenarioTitle' | 'sourceModel' | 'generatedAt' | 'format', string][] = [
      ['scenarioTitle', 'scenario_title'], ['sourceModel', 'source_model'], ['generatedAt', 'generated_at'], ['format', 'format'],
    ];
    for (const [key, field] of opt) {
      const v = str(o, field, w, false);
      if (v !== undefined) p[key] = v;
    }
    const run = o.run_id;
    if (typeof run === 'number' || typeof run === 'string') p.runId = run;
    else if (run !== undefined && run !== null) throw new EiaError('E_BAD_ARG', `${w}: field "run_id" must be a string or number, got ${typeof run}`);
    return p;
  });
}

/** Reads a contrastive-pair JSONL file (fields scenario_id, empathic_text, non_empathic_text; others optional). */
export function readPairs(path: string): ContrastivePair[] {
  return parsePairs(readTextFile(path), path);
}

/** Parses scored-text JSONL: `{"text": ..., "score": 0|1|2, "scenario": ...}` per line (scenario optional). */
export function parseScoredTexts(text: string, file = '<scored texts>'): ScoredText[] {
  return parseObjects(text, file, (o, w) => {
    const t = str(o, 'text', w, true);
    const score = o.score;
    if (score === undefined || score === null) throw new EiaError('E_BAD_ARG', `${w}: missing field "score"`);
    if (score !== 0 && score !== 1 && score !== 2) throw new EiaError('E_BAD_ARG', `${w}: field "score" must be 0, 1 or 2, got ${JSON.stringify(score)}`);
    const out: ScoredText = { text: t, score };
    const sc = str(o, 'scenario', w, false);
    if (sc !== undefined) out.scenario = sc;
    return out;
  });
}

/** Reads a scored-text JSONL file. */
export function readScoredTexts(path: string): ScoredText[] {
  return parseScoredTexts(readTextFile(path), path);
}

/**
 * Seeded train/test split: a Fisher-Yates shuffle (createRng(seed)) picks round(n * testFraction)
 * test pairs; both halves keep the input order. Same (pairs, fraction, seed) -> same split.
 */
export function splitPairs<T>(pairs: readonly T[], testFraction: number, seed: number): { train: T[]; test: T[] } {
  if (!(testFraction >= 0 && testFraction <= 1)) throw new EiaError('E_BAD_ARG', `testFraction must lie in [0, 1], got ${testFraction}`);
  const n = pairs.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = Math.round(n * testFraction);
  const isTest = new Uint8Array(n);
  for (let k = 0; k < nTest; k++) isTest[order[k]] = 1;
  const train: T[] = [], test: T[] = [];
  for (let i = 0; i < n; i++) (isTest[i] ? test : train).push(pairs[i]);
  return { train, test };
}

/**
 * Stable sha256 (hex) of a set of pairs: each pair is hashed from its content fields
 * (scenario id, empathic text, non-empathic text; metadata ignored), the per-pair hashes are
 * sorted and hashed again. Independent of order, so it identifies the training set itself.
 */
export function datasetHash(pairs: readonly ContrastivePair[]): string {
  const each = pairs.map((p) => createHash('sha256')
    .update(JSON.stringify([p.scenarioId, p.empathicText, p.nonEmpathicText]), 'utf8').digest('hex'));
  each.sort();
  return createHash('sha256').update(`eia-pairs/1\n${each.join('\n')}`, 'utf8').digest('hex');
}
