// The command line's one grammar, in one place: the flags several commands share (one name, one
// meaning, one alias, one check each), the flags that were renamed (with the message that says
// what to type now), and library errors in flag names (inFlagWords).
// docs/cli.md states the rules; its flag table is checked against the
// commands' definitions by test/unit/cli-grammar.test.ts.
import type { Options } from 'yargs';
import { checkSampling, type SamplingParameter } from '../engine/defaults.js';
import { EiaError, isEiaError, isFieldError } from '../util/errors.js';
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

/** The options of the command being parsed, as yargs reports them (getOptions()). */
export interface CommandOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  array: string[];
  boolean: string[];
  number: string[];
  count?: string[];
  default?: Record<string, unknown>;
}

/**
 * The one number grammar of every number flag: decimal, with an optional sign, fraction and
 * exponent (`5`, `-0.5`, `1e9`). No other bases (`0x10`, `0b11`), no `Infinity`/`NaN`, no blanks:
 * Number() would read `0x10` as 16 and '' as 0 without a word. Integer flags check integrality and
 * bounds afterwards (intFlag).
 */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** What yargs takes as a negative number (a value), not as a flag; the same rule as yargs-parser's. */
const NEGATIVE = /^-([0-9]+(\.[0-9]+)?|\.[0-9]+)$/;

/** A token that yargs reads as a flag (not as the value of the flag before it). */
const isFlagToken = (t: string): boolean => t.startsWith('-') && t !== '-' && !NEGATIVE.test(t);

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The command line as typed, checked against the command's options before yargs' values are used
 * (yargs fills in a default for a flag given without its value, reads `0x10` as 16 and '' as 0, and
 * turns a flag given twice into an array only for some types). One rule for every command:
 * - a flag that takes a value must be given one (`--samples` alone, or followed by another flag, is
 *   a usage error; a value that begins with '-' is written `--flag=-…`), and an empty value is
 *   refused unless the flag's default is the empty string;
 * - a number flag's value follows DECIMAL;
 * - a flag that is not repeatable is given at most once (switches included), whatever its values;
 * - a repeatable flag (an array option) is not given the same value twice.
 * Unknown flags are left to yargs' strict mode. `tokens` is the argv after rewriteArgv.
 */
export function checkCommandLine(tokens: readonly string[], o: CommandOptions): void {
  const canon = new Map<string, string>();
  for (const [k, as] of Object.entries(o.alias ?? {})) for (const a of [k, ...as]) if (!canon.has(a)) canon.set(a, k);
  for (const k of Object.keys(o.key)) if (!canon.has(k)) canon.set(k, k);
  const lookup = (name: string): string | undefined => canon.get(name) ?? canon.get(kebab(name));
  const isBool = (k: string) => o.boolean.includes(k) || (o.count ?? []).includes(k);
  const name = (k: string) => (k.length === 1 ? `-${k}` : `--${k}`);
  const given = new Map<string, number>();
  const values = new Map<string, Set<string>>();
  const needsValue = (k: string, next: string | undefined): never => {
    const known = next !== undefined && lookup(next.replace(/^--?(no-)?/, '').replace(/=[\s\S]*$/, '')) !== undefined;
    const hint = next !== undefined && isFlagToken(next) && !known ? ` ('${next}' reads as a flag; a value that begins with '-' is written ${name(k)}=${next})` : '';
    throw new UsageError(`${name(k)} needs a value${hint}`);
  };
  const checkValue = (k: string, v: string): void => {
    if (v === '' && o.default?.[k] !== '') throw new UsageError(`${name(k)} needs a value (got an empty one)`);
    if (o.number.includes(k) && !DECIMAL.test(v)) throw new UsageError(`${name(k)} must be a decimal number, got '${v}'`);
    if (o.array.includes(k)) {
      const seen = values.get(k) ?? new Set<string>();
      if (seen.has(v)) throw new UsageError(`${name(k)} is given the value '${v}' twice`);
      values.set(k, seen.add(v));
    }
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '--') break;
    if (!isFlagToken(t)) continue;  // a positional, a negative number, stdin
    let k: string | undefined;
    let inline: string | undefined;
    const long = /^--([^=]+)(?:=([\s\S]*))?$/.exec(t);
    if (long) {
      k = lookup(long[1]);
      if (k === undefined && long[1].startsWith('no-')) {
        const b = lookup(long[1].slice(3));
        if (b !== undefined && isBool(b)) k = b;  // --no-check
        else continue;
      } else if (k === undefined) continue;  // unknown: yargs' strict mode says so
      inline = long[2];
    } else {
      const short = /^-([A-Za-z])([\s\S]*)$/.exec(t);
      if (!short || (k = lookup(short[1])) === undefined) continue;
      if (short[2] !== '') {
        if (isBool(k)) continue;  // a group of switches (-xy)
        inline = short[2].startsWith('=') ? short[2].slice(1) : short[2];  // -n5, -n=5
      }
    }
    given.set(k, (given.get(k) ?? 0) + 1);
    if (isBool(k)) {
      if (inline === undefined && /^(true|false)$/.test(tokens[i + 1] ?? '')) i++;
      continue;
    }
    if (o.array.includes(k) && inline === undefined) {
      let n = 0;
      while (i + 1 < tokens.length && tokens[i + 1] !== '--' && !isFlagToken(tokens[i + 1])) { checkValue(k, tokens[++i]); n++; }
      if (n === 0) needsValue(k, tokens[i + 1]);
      continue;
    }
    if (inline === undefined) {
      const next = tokens[i + 1];
      if (next === undefined || next === '--' || isFlagToken(next)) needsValue(k, next);
      inline = next;
      i++;
    }
    checkValue(k, inline);
  }
  for (const [k, n] of given) {
    if (n < 2 || o.array.includes(k)) continue;
    throw new UsageError(isBool(k) ? `${name(k)} is given ${n} times; give it once`
      : `${name(k)} is given ${n} times; it takes one value (lists are comma-separated, e.g. --layers 8,12)`);
  }
}

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

/** The flags of the sampling parameters (the library's names -> this CLI's flags, for inFlagWords). */
export const SAMPLING_FLAGS: Record<SamplingParameter, string> = { temperature: '--temp', topK: '--top-k', topP: '--top-p', minP: '--min-p' };

/** Sampling flags (when the command has them): their ranges (the engine's one rule, SAMPLING_RANGES), in flag names. */
export function checkSamplingFlags(a: { temp?: number; 'top-k'?: number; 'top-p'?: number; 'min-p'?: number; seed?: number }): void {
  optIntFlag(a['top-k'], '--top-k', 0, 2 ** 31 - 1);
  try {
    checkSampling({ temperature: a.temp, topK: a['top-k'], topP: a['top-p'], minP: a['min-p'] });
  } catch (e) {
    const named = inFlagWords(e, SAMPLING_FLAGS);
    throw isEiaError(named) ? new UsageError(named.message) : named;
  }
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
