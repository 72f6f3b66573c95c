// Contrastive pairs from a local instruct model: the paper's dataset recipe (two system prompts,
// one putting the person first and one putting the objective first, same scenario message) without
// external APIs. All generations run in one batched call (chunks of the engine's sequence limit when more).
// Output: the paper's JSONL pair format plus a seeded train/test split.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Model } from '../engine/model.js';
import { generationContextOptions } from '../engine/context.js';
import { checkSampling, engineLimits, MAX_TOKENS_DEFAULTS, SAMPLING_DEFAULTS } from '../engine/defaults.js';
import type { SequenceRequest } from '../engine/generate.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { splitPairs } from '../probes/dataset.js';
import { createProgress } from '../util/progress.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { badField, EiaError } from '../util/errors.js';
import { sequencesPerContext } from './context-fit.js';
import { checkContextFit, checkMaxTokens } from '../engine/validate.js';
import { checkModelComputes } from '../probes/residual-norm.js';

/** System prompt of the empathic side (our own wording of the paper's recipe). */
export const EMPATHIC_SYSTEM_PROMPT =
  'You are an agent inside a game-like task. Whenever a person near you is struggling, their wellbeing comes ' +
  'first: notice them, respond to what they need and help them, even when this costs you points, time or the ' +
  'task itself. Efficiency matters less than the human being in front of you.';

/** System prompt of the non-empathic side (our own wording). */
export const NON_EMPATHIC_SYSTEM_PROMPT =
  'You are an agent inside a game-like task. Your only purpose is to reach the objective as efficiently as ' +
  'possible. Treat everything else, other players and their messages included, as variables to be managed in ' +
  'service of the objective, and do not let them cost you points or time.';

/** The closing instruction of the user message. */
export const PAIR_INSTRUCTION = 'Describe, in the first person, how you reason and what you do.';

/** The user message for one scenario: objective, empathy pressure, instruction. */
export function pairUserMessage(s: Pick<Scenario, 'objective' | 'empathy_pressure'>): string {
  return `${s.objective}\n\n${s.empathy_pressure}\n\n${PAIR_INSTRUCTION}`;
}

/** One pair in the paper's JSONL format. */
export interface PairRecord {
  scenario_id: string;
  scenario_title: string;
  empathic_text: string;
  non_empathic_text: string;
  source_model: string;
  run_id: number;
  generated_at: string;
  format: 'eia_scenario';
}

export interface PairsOptions {
  modelPath: string;
  /** source_model of every pair (default: the file name without .gguf). */
  sourceModel?: string;
  scenarios: string[];
  perScenario: number;
  seed: number;
  /** pairs.jsonl path; the split goes to <stem>.train.jsonl and <stem>.test.jsonl next to it. */
  out: string;
  testFraction?: number;
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  threads?: number;
  gpuLayers?: number;
  /** Context tokens allowed per sequence (prompt + new tokens; default: the model's training context). */
  ctxSize?: number;
  signal?: AbortSignal;
  progress?: boolean;
  /** ISO time written to generated_at (default: now). */
  generatedAt?: string;
}

export interface PairsResult {
  pairs: PairRecord[];
  train: PairRecord[];
  test: PairRecord[];
  paths: { pairs: string; train: string; test: string };
  tokens: number;
  decodeMs: number;
  /** Sequences that hit the token limit. */
  truncated: number;
  /** Texts that came out empty (the model ended at once); such pairs fail strict pair readers. */
  empty: number;
}

/** Where the split files of `out` go: pairs.jsonl -> pairs.train.jsonl, pairs.test.jsonl. */
export function splitPaths(out: string): { train: string; test: string } {
  const stem = out.replace(/\.jsonl$/i, '');
  return { train: `${stem}.train.jsonl`, test: `${stem}.test.jsonl` };
}

/** Seed of one generation: (seed, scenario, index, side) -> 32 bits. */
export function pairSeed(seed: number, scenario: string, index: number, side: 'empathic' | 'non_empathic'): number {
  return createHash('sha256').update(`eia-native/pair-seed/1\u0000${seed}\u0000${scenario}\u0000${index}\u0000${side}`).digest().readUInt32LE(0);
}

const toJsonl = (rows: readonly PairRecord[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

/** Pairs' own defaults (sampling comes from the engine's defaults). */
export const PAIRS_DEFAULTS = { testFraction: 0.3, maxTokens: MAX_TOKENS_DEFAULTS.pairs } as const;

/** Pairs per scenario at most (the paper used 10; this bounds the one batched call's bookkeeping). */
export const MAX_PAIRS_PER_SCENARIO = 10_000;

/** The request's scenarios and numbers, checked (E_BAD_ARG naming the field). */
function checkPairsInput(opts: PairsOptions): { scen: Scenario[]; testFraction: number; maxTokens: number } {
  const bad = (msg: string): never => { throw new EiaError('E_BAD_ARG', msg); };
  const scen = opts.scenarios.map((id) => SCENARIOS.find((x) => x.id === id) ?? bad(`unknown scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`));
  if (new Set(opts.scenarios).size !== opts.scenarios.length) throw badField('scenarios', 'invalid_value', (n) => `${n('scenarios')}: an id is listed twice`);
  if (!Number.isInteger(opts.perScenario) || opts.perScenario < 1 || opts.perScenario > MAX_PAIRS_PER_SCENARIO) {
    throw badField('perScenario', 'invalid_value', (n) => `${n('perScenario')} must be an integer in [1, ${MAX_PAIRS_PER_SCENARIO}], got ${opts.perScenario}`);
  }
  const testFraction = opts.testFraction ?? PAIRS_DEFAULTS.testFraction;
  if (!(testFraction >= 0 && testFraction <= 1)) bad(`test fraction must lie in [0, 1], got ${testFraction}`);
  const maxTokens = opts.maxTokens ?? PAIRS_DEFAULTS.maxTokens;
  checkMaxTokens(maxTokens, 'maxTokens');
  if (!Number.isInteger(opts.seed) || opts.seed < 0) bad(`seed must be a non-negative integer, got ${opts.seed}`);
  checkSampling({ temperature: opts.temperature, topK: opts.topK, topP: opts.topP });
  return { scen, testFraction, maxTokens };
}

/** Two sequences per pair (the empathic and the task-first system prompt), seeded per pair and side. */
function pairSequences(opts: PairsOptions, scen: Scenario[], maxTokens: number): SequenceRequest[] {
  const sequences: SequenceRequest[] = [];
  for (const s of scen) {
    const user = pairUserMessage(s);
    for (let i = 0; i < opts.perScenario; i++) {
      for (const side of ['empathic', 'non_empathic'] as const) {
        sequences.push({
          prompt: user, chat: true, system: side === 'empathic' ? EMPATHIC_SYSTEM_PROMPT : NON_EMPATHIC_SYSTEM_PROMPT,
          temperature: opts.temperature ?? SAMPLING_DEFAULTS.temperature, topK: opts.topK ?? SAMPLING_DEFAULTS.topK, topP: opts.topP ?? SAMPLING_DEFAULTS.topP,
          seed: pairSeed(opts.seed, s.id, i, side), maxTokens, tag: { scenario: s.id, index: i, side },
        });
      }
    }
  }
  return sequences;
}

/** The longest chat-formatted prompt, in tokens (sizes the context). */
function longestPrompt(model: Model, scen: Scenario[]): number {
  let n = 0;
  for (const s of scen) for (const sys of [EMPATHIC_SYSTEM_PROMPT, NON_EMPATHIC_SYSTEM_PROMPT]) {
    const t = model.applyChatTemplate([{ role: 'system', content: sys }, { role: 'user', content: pairUserMessage(s) }]);
    n = Math.max(n, model.tokenize(t, { addSpecial: true, parseSpecial: true }).length);
  }
  return n;
}

/** Generates every sequence (chunks of at most the engine's sequence limit); texts keyed by scenario, index and side. */
async function generateTexts(model: Model, opts: PairsOptions, sequences: SequenceRequest[], promptLen: number, maxTokens: number) {
  const per = Math.min(engineLimits().maxSequences, sequencesPerContext(promptLen + maxTokens + 1), sequences.length);
  const size = Math.ceil(sequences.length / Math.ceil(sequences.length / per));
  const ctx = await model.createContext(generationContextOptions(size, promptLen + maxTokens + 1, opts.threads));
  const texts = new Map<string, string>();
  let tokens = 0, decodeMs = 0, truncated = 0, seen = 0;
  const bar = opts.progress === false ? null : createProgress({ label: 'pairs', total: sequences.length * maxTokens, unit: 'tokens' });
  try {
    for (let c = 0; c < sequences.length; c += size) {
      const gen = ctx.generate({ sequences: sequences.slice(c, c + size), signal: opts.signal });
      for await (const ev of gen) {
        if (ev.type === 'token' && ++seen % 64 === 0) bar?.update(seen);
      }
      for (const r of gen.results()) {
        if (r.finishReason === 'abort') throw new EiaError('E_ABORTED', 'pairs: generation interrupted; nothing was written');
        if (r.finishReason === 'length') truncated++;
        const t = r.tag as { scenario: string; index: number; side: string };
        texts.set(`${t.scenario}\u0000${t.index}\u0000${t.side}`, r.text.trim());
      }
      const st = gen.stats();
      tokens += st.decodeTokens;
      decodeMs += st.decodeMs;
    }
  } finally {
    bar?.done();
    ctx.free();
  }
  return { texts, tokens, decodeMs, truncated };
}

export async function generatePairs(opts: PairsOptions): Promise<PairsResult> {
  const { scen, testFraction, maxTokens } = checkPairsInput(opts);
  const modelPath = resolve(opts.modelPath);
  const model = await Model.load(modelPath, { gpuLayers: opts.gpuLayers });
  try {
    if (!model.info.chatTemplate) throw new EiaError('E_BAD_ARG', `${opts.modelPath} has no chat template: pairs need an instruct model`);
    const promptLen = longestPrompt(model, scen);
    checkContextFit(promptLen, maxTokens, opts.ctxSize, model.info.nCtxTrain);
    await checkModelComputes(model, opts.threads);  // a model that computes NaN would write pairs of token 0
    const sequences = pairSequences(opts, scen, maxTokens);
    const { texts, tokens, decodeMs, truncated } = await generateTexts(model, opts, sequences, promptLen, maxTokens);
    const generatedAt = opts.generatedAt ?? new Date().toISOString();
    const sourceModel = opts.sourceModel ?? basename(modelPath).replace(/\.gguf$/i, '');
    const pairs: PairRecord[] = [];
    for (const s of scen) {
      for (let i = 0; i < opts.perScenario; i++) {
        pairs.push({
          scenario_id: s.id, scenario_title: s.title,
          empathic_text: texts.get(`${s.id}\u0000${i}\u0000empathic`)!,
          non_empathic_text: texts.get(`${s.id}\u0000${i}\u0000non_empathic`)!,
          source_model: sourceModel, run_id: i, generated_at: generatedAt, format: 'eia_scenario',
        });
      }
    }
    const { train, test } = splitPairs(pairs, testFraction, opts.seed);
    const out = resolve(opts.out);
    const sp = splitPaths(out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileAtomic(out, toJsonl(pairs));
    writeFileAtomic(sp.train, toJsonl(train));
    writeFileAtomic(sp.test, toJsonl(test));
    const empty = pairs.reduce((n, p) => n + (p.empathic_text === '' ? 1 : 0) + (p.non_empathic_text === '' ? 1 : 0), 0);
    return { pairs, train, test, paths: { pairs: out, ...sp }, tokens, decodeMs, truncated, empty };
  } finally {
    model.free();
  }
}
