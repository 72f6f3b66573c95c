// Input files that may be standard input: the path '-' reads stdin (once: a process has one
// stdin, so at most one input of a command can be '-'). Text inputs only; GGUF files (models,
// control vectors) are mapped by llama.cpp and need a path.
import { existsSync, readFileSync } from 'node:fs';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';

export const STDIN = '-';

let stdinBytes: Buffer | null = null;
let stdinReader: string | null = null;

/** True for the stdin path '-'. */
export function isStdin(path: string): boolean {
  return path === STDIN;
}

/** Whether an input exists (stdin always does). */
export function inputExists(path: string): boolean {
  return isStdin(path) || existsSync(path);
}

/**
 * The bytes of an input file or of stdin ('-'). `who` names the reader (a flag at the CLI) so that
 * a second reader of stdin in one process gets a clear error instead of an empty input.
 */
export function readInputBytes(path: string, who = 'an input'): Buffer {
  if (!isStdin(path)) return io(() => readFileSync(path));
  if (stdinBytes === null) {
    stdinBytes = io(() => readFileSync(0));
    stdinReader = who;
    return stdinBytes;
  }
  if (stdinReader !== who) throw new EiaError('E_BAD_ARG', `${who}: standard input ('-') is already read by ${stdinReader}; only one input can come from stdin`);
  return stdinBytes;
}

/** The text (UTF-8) of an input file or of stdin ('-'). */
export function readInputText(path: string, who?: string): string {
  return readInputBytes(path, who).toString('utf8');
}

/** How an input is named in messages. */
export function inputName(path: string): string {
  return isStdin(path) ? '<stdin>' : path;
}
