// Contrastive pairs from a local instruct model: the paper's dataset recipe (two system prompts,
// one putting the person first and one putting the objective first, same scenario message) without
// external APIs. All generations run in one batched call (chunks of 256 sequences when more).
// Output: the paper's JSONL pair format plus a seeded train/test split.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Model } from '../engine/model.js';
import { generationContextOptions } from '../engine/context.js';
import type { SequenceRequest } from '../engine/generate.js';
import { writeFileAtomic } from '../io/npy.js';
import { splitPairs } from '../probes/dataset.js';
import { createProgress } from '../models/progress.js';
import { SCENARIOS, type Scenario } from './scenarios.js';

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

/** Errors in the request itself (unknown scenario, bad counts): exit code 2 in the CLI. */
export class PairsInputError extends Error {
  readonly exitCode = 2;
}

const toJsonl = (rows: readonly PairRecord[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');

export async function generatePairs(opts: PairsOptions): Promise<PairsResult> {
  const scen: Scenario[] = opts.scenarios.map((id) => {
    const s = SCENARIOS.find((x) => x.id === id);
    if (!s) throw new PairsInputError(`unknown scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`);
    return s;
  });
  if (new Set(opts.scenarios).size !== opts.scenarios.length) throw new PairsInputError('scenarios: an id is listed twice');
  if (!Number.isInteger(opts.perScenario) || opts.perScenario < 1) throw new PairsInputError(`per-scenario must be a positive integer, got ${opts.perScenario}`);
  const testFraction = opts.testFraction ?? 0.3;
  if (!(testFraction >= 0 && testFraction <= 1)) throw new PairsInputError(`test fraction must lie in [0, 1], got ${testFraction}`);
  const maxTokens = opts.maxTokens ?? 300;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new PairsInputError(`max tokens must be a positive integer, got ${maxTokens}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new PairsInputError(`seed must be a non-negative integer, got ${opts.seed}`);

  const modelPath = resolve(opts.modelPath);
  const model = await Model.load(modelPath, { gpuLayers: opts.gpuLayers });
  try {
    if (!model.info.chatTemplate) throw new PairsInputError(`${opts.modelPath} has no chat template: pairs need an instruct model`);
    const sequences: SequenceRequest[] = [];
    for (const s of scen) {
      const user = pairUserMessage(s);
      for (let i = 0; i < opts.perScenario; i++) {
        for (const side of ['empathic', 'non_empathic'] as const) {
          sequences.push({
            prompt: user, chat: true, system: side === 'empathic' ? EMPATHIC_SYSTEM_PROMPT : NON_EMPATHIC_SYSTEM_PROMPT,
            temperature: opts.temperature ?? 0.7, topK: opts.topK ?? 50, topP: opts.topP ?? 1,
            seed: pairSeed(opts.seed, s.id, i, side), maxTokens, tag: { scenario: s.id, index: i, side },
          });
        }
      }
    }
    let promptLen = 0;
    for (const s of scen) for (const sys of [EMPATHIC_SYSTEM_PROMPT, NON_EMPATHIC_SYSTEM_PROMPT]) {
      const t = model.applyChatTemplate([{ role: 'system', content: sys }, { role: 'user', content: pairUserMessage(s) }]);
      promptLen = Math.max(promptLen, model.tokenize(t, { addSpecial: true, parseSpecial: true }).length);
    }
    const per = Math.min(256, sequences.length);
    const nChunks = Math.ceil(sequences.length / per);
    const size = Math.ceil(sequences.length / nChunks);
    const ctx = await model.createContext(generationContextOptions(size, promptLen + maxTokens + 1, opts.threads));
    const texts = new Map<string, string>();
    let tokens = 0, decodeMs = 0, truncated = 0;
    const bar = opts.progress === false ? null : createProgress({ label: 'pairs', total: sequences.length * maxTokens, unit: 'tokens' });
    let seen = 0;
    try {
      for (let c = 0; c < sequences.length; c += size) {
        const gen = ctx.generate({ sequences: sequences.slice(c, c + size), signal: opts.signal });
        for await (const ev of gen) {
          if (ev.type === 'token' && ++seen % 64 === 0) bar?.update(seen);
        }
        for (const r of gen.results()) {
          if (r.finishReason === 'abort') throw new Error('pairs: generation interrupted; nothing was written');
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
