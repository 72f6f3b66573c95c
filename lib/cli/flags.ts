// The command line's one grammar, in one place: the flags several commands share (one name, one
// meaning, one alias, one check each), the flags that were renamed (with the message that says
// what to type now), and library errors in flag names (inFlagWords).
// docs/cli.md states the rules; its flag table is checked against the
// commands' definitions by test/unit/cli-grammar.test.ts.
import type { Options } from 'yargs';
import { EiaError, isFieldError } from '../util/errors.js';
import { UsageError } from './common.js';

/** Shared flag definitions (yargs options). */
export const FLAGS = {
  model: { type: 'string', alias: 'm', describe: 'GGUF file, or a name from `eia-native models` (pulled)' },
  threads: { type: 'number', alias: 't', describe: 'CPU threads (default: all)' },
  'gpu-layers': { type: 'number', default: 0, describe: 'layers to offload to the GPU (-1 = all; GPU builds); llama.cpp\'s -ngl' },
  'ctx-size': { type: 'number', alias: 'c', describe: 'context tokens per sequence: prompt (or text) + new tokens' },
  'max-tokens': { type: 'number', alias: 'n', describe: 'new tokens per sequence at most' },
  truncate: { type: 'number', describe: 'keep the first N tokens of each input text (0 = off)' },
  force: { type: 'boolean', default: false, describe: 'replace earlier results of other parameters in --out (moved to OUT/replaced-<time>/; says what it replaces)' },
  json: { type: 'boolean', default: false, describe: 'print the result as JSON on stdout (snake_case keys)' },
  shard: {
    type: 'string', describe: 'I/N: run only part I (0..N-1) of N of the sweep grid (parts of near-equal token cost, the same split in every process) ' +
      'into this --out; auto/N takes I from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX. Score, report or merge the N RUNs together.',
  },
} as const satisfies Record<string, Options>;

/** What a lone '-' argument travels as through yargs (which turns a positional '-' into ''); restoreStdinArgs turns it back. */
const STDIN_TOKEN = '\u0000stdin';

/**
 * The command line before yargs reads it: llama.cpp's multi-letter short flag -ngl (yargs would read
 * -n -g -l) becomes --gpu-layers; `serve --ctx N` (the name the server's contract uses, issue 16)
 * becomes --ctx-size, the one flag for context tokens per sequence; and the stdin path '-' is
 * protected from yargs (a flag's value becomes --flag=-; a positional travels as a token that
 * restoreStdinArgs turns back into '-').
 */
export function rewriteArgv(argv: string[]): string[] {
  const out: string[] = [];
  const serve = argv[0] === 'serve';
  for (const a of argv) {
    const prev = out[out.length - 1];
    if (a === '-' && prev !== undefined && /^--?[A-Za-z][\w-]*$/.test(prev)) out[out.length - 1] = `${prev}=-`;
    else if (a === '-') out.push(STDIN_TOKEN);
    else if (serve && (a === '--ctx' || a.startsWith('--ctx='))) out.push(`--ctx-size${a.slice(5)}`);
    else out.push(a === '-ngl' ? '--gpu-layers' : a.startsWith('-ngl=') ? `--gpu-layers=${a.slice(5)}` : a);
  }
  return out;
}

/** Puts '-' back where rewriteArgv protected it (parsed arguments, in place). */
export function restoreStdinArgs(argv: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(argv)) {
    if (v === STDIN_TOKEN) argv[k] = '-';
    else if (Array.isArray(v)) argv[k] = v.map((x) => (x === STDIN_TOKEN ? '-' : x));
  }
}

/** Flags that changed: command -> old flag -> what to type now. */
export const RENAMED_FLAGS: Record<string, Record<string, string>> = {
  capture: { 'max-tokens': '--max-tokens is the number of NEW tokens in every command; capture truncates its input texts with --truncate N' },
  probe: { 'max-tokens': '--max-tokens is the number of NEW tokens in every command; probe truncates its input texts with --truncate N' },
  correlate: { 'max-tokens': '--max-tokens is the number of NEW tokens in every command; correlate truncates its input texts with --truncate N' },
  align: { 'max-tokens': '--max-tokens is the number of NEW tokens in every command; align truncates its input texts with --truncate N' },
  steer: { monitor: 'steer --monitor is now --token-scores (--monitor L:P.npy is generate\'s per-token probe read-out)' },
  'cvec export': { layer: 'cvec export takes --layers (one block per --probe, comma-separated)' },
  score: { markdown: 'score writes score.json and score.md into --out DIR (default: the RUN folder)' },
};

/** An integer flag within [min, max] (max default: no bound). */
export function intFlag(v: unknown, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new UsageError(`${flag} must be ${what}, got ${String(v)}`);
  }
  if (v > max) throw new UsageError(`${flag} is at most ${max}, got ${v}`);
  return v;
}

/** An optional integer flag. */
export function optIntFlag(v: unknown, flag: string, min: number, max?: number): number | undefined {
  return v === undefined ? undefined : intFlag(v, flag, min, max);
}

/** The engine's thread limit (createContext). */
export const MAX_THREADS = 512;

/** --threads, --gpu-layers, --ctx-size (when the command has them). */
export function checkModelFlags(a: { threads?: number; 'gpu-layers'?: number; 'ctx-size'?: number }): void {
  optIntFlag(a.threads, '--threads', 1, MAX_THREADS);
  optIntFlag(a['gpu-layers'], '--gpu-layers', -1);
  optIntFlag(a['ctx-size'], '--ctx-size', 16);
}

/** Sampling flags (when the command has them): their ranges, in flag names. */
export function checkSamplingFlags(a: { temp?: number; 'top-k'?: number; 'top-p'?: number; 'min-p'?: number; seed?: number }): void {
  if (a.temp !== undefined && !(Number.isFinite(a.temp) && a.temp >= 0)) throw new UsageError(`--temp must be a finite number >= 0 (0 = greedy), got ${a.temp}`);
  optIntFlag(a['top-k'], '--top-k', 0);
  if (a['top-p'] !== undefined && !(a['top-p'] > 0 && a['top-p'] <= 1)) throw new UsageError(`--top-p must be in (0, 1], got ${a['top-p']}`);
  if (a['min-p'] !== undefined && !(a['min-p'] >= 0 && a['min-p'] <= 1)) throw new UsageError(`--min-p must be in [0, 1], got ${a['min-p']}`);
  optIntFlag(a.seed, '--seed', 0, 2 ** 32 - 1);
}

/**
 * A library error in the command's own words: a FieldError (lib/util/errors.ts) is rendered with its
 * options named by `flags` (the library's option path -> this command's flag; a path with indices,
 * `steer[2].alpha`, is looked up as `steer[].alpha`); other errors pass unchanged. Library messages
 * never name flags (docs/architecture.md), and no message is rewritten word by word.
 */
export function inFlagWords(e: unknown, flags: Record<string, string>): unknown {
  if (!isFieldError(e)) return e;
  const name = (field: string): string => flags[field] ?? flags[field.replace(/\[\d+\]/g, '[]')] ?? field;
  return new EiaError(e.code, e.render(name), { cause: e });
}

/** Runs library checks (the validator's) with their errors in this command's flags (inFlagWords). */
export function inFlagWordsOf<T>(flags: Record<string, string>, check: () => T): T {
  try {
    return check();
  } catch (e) {
    throw inFlagWords(e, flags);
  }
}
