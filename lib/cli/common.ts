// Shared CLI plumbing: list parsing, usage errors, JSON output, model resolution.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Argv } from 'yargs';
import { inputExists, inputName, readInputText } from '../io/input.js';
import { resolveModel } from '../models/cache.js';
import { parsePairs, type ContrastivePair } from '../probes/dataset.js';
import { EiaError, isEiaError, type ErrorCode } from '../util/errors.js';
import { snakeCaseKeys } from '../util/snake-case.js';
import { warn } from '../util/note.js';
import { DECIMAL, FLAGS } from './flags.js';

/** A bad flag value found by the CLI itself (before any work): an EiaError 'E_BAD_ARG', exit code 2. */
export class UsageError extends EiaError {
  constructor(message: string) {
    super('E_BAD_ARG', message);
    this.name = 'UsageError';
  }
}

/**
 * A library error with a hint in the CLI's own terms (library messages never name flags): an
 * EiaError of `code` gets `(hint)` on a line of its own; anything else is returned as it is.
 */
export function addHint(e: unknown, code: ErrorCode, hint: string): unknown {
  return isEiaError(e, code) ? new EiaError(code, `${e.message}\n(${hint})`, { cause: e }) : e;
}

/** The items of a comma-separated flag value (a flag given as an array is joined first). */
function listItems(value: unknown): string[] {
  const s = Array.isArray(value) ? value.join(',') : String(value ?? '');
  return s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

/** The one rule for lists: a value listed twice is a usage error, with the same message for every flag. */
function distinct<T>(xs: T[], what: string, same: (a: T, b: T) => boolean = (a, b) => a === b): T[] {
  xs.forEach((x, i) => {
    if (xs.slice(0, i).some((y) => same(x, y))) throw new UsageError(`${what}: ${String(x)} is listed twice`);
  });
  return xs;
}

/** "8,12,16" -> [8, 12, 16]; rejects anything that is not a list of distinct integers. */
export function parseIntList(value: unknown, what: string): number[] {
  const parts = listItems(value);
  if (parts.length === 0) throw new UsageError(`${what}: expected a comma-separated list of integers`);
  return distinct(parts.map((p) => {
    if (!/^[+-]?\d+$/.test(p) || !Number.isSafeInteger(Number(p))) throw new UsageError(`${what}: '${p}' is not an integer`);
    return Number(p);
  }), what);
}

/** "-5,0,5" -> [-5, 0, 5]; distinct finite decimal numbers only (flags.ts DECIMAL: no 0x10, no Infinity). */
export function parseNumberList(value: unknown, what: string): number[] {
  const parts = listItems(value);
  if (parts.length === 0) throw new UsageError(`${what}: expected a comma-separated list of numbers`);
  return distinct(parts.map((p) => {
    const n = Number(p);
    if (!DECIMAL.test(p) || !Number.isFinite(n)) throw new UsageError(`${what}: '${p}' is not a number`);
    return n === 0 ? 0 : n;  // -0 is 0
  }), what);
}

/** "a,b" -> ['a', 'b']; distinct items; an empty list is `[]` (the caller says what it expected). */
export function parseStringList(value: unknown, what: string): string[] {
  return distinct(listItems(value), what);
}

/** A model argument: a GGUF path, or a models.json name already pulled into the cache. */
export function modelPathArg(spec: unknown): string {
  if (typeof spec !== 'string' || spec.length === 0) throw new UsageError('--model is required (a GGUF file or a model name)');
  return resolveModel(spec);
}

/** A pairs file given by `flag` ('-' = stdin): it must exist and hold at least one pair. */
export function pairsArg(path: string, flag: string): ContrastivePair[] {
  if (!inputExists(path)) throw new UsageError(`${flag}: ${path} does not exist`);
  const pairs = parsePairs(readInputText(path, flag), inputName(path));
  if (pairs.length === 0) throw new EiaError('E_BAD_ARG', `${inputName(path)}: no pairs (the empathic and non-empathic classes are empty)`);
  return pairs;
}

/** The name a model goes by in records and tables: a registry name as given, else the file name without .gguf. */
export function modelKeyArg(spec: string): string {
  const isPath = spec.includes('/') || spec.includes('\\') || /\.gguf$/i.test(spec) || (existsSync(spec) && statSync(spec).isFile());
  return isPath ? basename(spec).replace(/\.gguf$/i, '') : spec;
}

/**
 * Prints a --json result with snake_case keys, the key style of every eia-native output
 * (docs/formats.md). `value` must hold field names only: a result with a map keyed by data (model
 * names, layers) is built in snake_case and printed with printJsonAsIs.
 */
export function printJson(value: unknown): void {
  printJsonAsIs(snakeCaseKeys(value));
}

export function printJsonAsIs(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}


/** Options shared by commands that load a model and run it (flags.ts defines them once). */
export function withModelOptions<T>(y: Argv<T>, ctxDescribe: string) {
  return y
    .option('model', { ...FLAGS.model, demandOption: true })
    .option('threads', FLAGS.threads)
    .option('gpu-layers', FLAGS['gpu-layers'])
    .option('ctx-size', { ...FLAGS['ctx-size'], describe: `${FLAGS['ctx-size'].describe} (${ctxDescribe})` });
}

/**
 * The named output files of a command (synth, cvec export, pairs), checked before any work: an
 * existing one is refused (E_CONFLICT) unless `force`, and then it is replaced with a warning that
 * names it; a folder in the way is refused either way.
 */
export function checkOutputFiles(paths: readonly string[], force: boolean, flag = '--out'): void {
  const existing = paths.filter((p) => existsSync(p));
  for (const p of existing) if (statSync(p).isDirectory()) throw new UsageError(`${flag}: ${p} is a folder (expected a file name)`);
  if (existing.length === 0) return;
  if (!force) throw new EiaError('E_CONFLICT', `${flag}: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; use another name or --force to replace ${existing.length === 1 ? 'it' : 'them'}`);
  warn(`--force: replacing ${existing.join(', ')}`);
}

/** A non-empty string flag (a flag given without its value arrives as ''). */
export function stringArg(v: unknown, flag: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`${flag} needs a value`);
  return v;
}
