// Input files, and the one limit on what eia-native reads from one input. Text inputs may be
// standard input: the path '-' reads stdin (once: a process has one stdin, so at most one input of
// a command can be '-'). GGUF files (models, control vectors) are mapped by llama.cpp and need a path.
//
// Size: every text input (pair files, prompts, texts, JSON and JSON Lines files, samples.jsonl,
// scenarios) is read whole, so it is bounded: at most MAX_INPUT_BYTES (256 MiB; a JavaScript string
// holds at most ~512 MiB, and the largest inputs here, a 1,000,000-sample sweep's samples.jsonl
// without token ids, stay well below). `.npy` arrays are bounded by MAX_BINARY_INPUT_BYTES (the
// largest file Node reads into one buffer, 2 GiB). A larger input (a 3 GiB file, /dev/zero, an
// endless pipe) is refused by name (E_BAD_ARG) after reading at most the limit, never filling memory.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { EiaError } from '../util/errors.js';
import { asIoError } from '../util/io-error.js';

export const STDIN = '-';

/** The most bytes read from one text input (see the module comment). */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;
/** The most bytes read from one binary input (.npy). */
export const MAX_BINARY_INPUT_BYTES = 2 * 1024 * 1024 * 1024 - 1;

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

const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;

function tooLarge(name: string, limit: number, size?: number): EiaError {
  return new EiaError('E_BAD_ARG', `${name} is ${size !== undefined ? `${size} bytes, ` : ''}larger than ${mib(limit)}, ` +
    `the most eia-native reads from one input (docs/reliability.md, "Input size"); split it, or give a regular file of that size at most`);
}

/**
 * All bytes of a file (a path) or of an open descriptor (0: stdin), at most `limit` of them: a regular
 * file larger than that is refused before reading, anything else (a pipe, a device) once `limit` + 1
 * bytes have come. Errors name the input (E_IO for the file system's failures).
 */
export function readBounded(source: string | 0, limit = MAX_INPUT_BYTES, name = source === 0 ? '<stdin>' : source): Buffer {
  let fd: number | null = null;
  try {
    fd = source === 0 ? 0 : openSync(source, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new EiaError('E_BAD_ARG', `${name} is a folder, not a file`);
    if (st.isFile() && st.size > limit) throw tooLarge(name, limit, st.size);
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;  // a non-blocking stdin: wait for data
        if ((e as NodeJS.ErrnoException).code === 'EOF') break;
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > limit) throw tooLarge(name, limit);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    throw asIoError(e, name);
  } finally {
    if (fd !== null && fd !== 0) try { closeSync(fd); } catch { /* already closed */ }
  }
}

/** The UTF-8 text of a file, at most MAX_INPUT_BYTES (see readBounded). */
export function readTextFile(path: string): string {
  return readBounded(path).toString('utf8');
}

/**
 * The bytes of an input file or of stdin ('-'), bounded (readBounded). `who` names the reader (a
 * flag at the CLI) so that a second reader of stdin in one process gets a clear error instead of an
 * empty input.
 */
export function readInputBytes(path: string, who = 'an input'): Buffer {
  if (!isStdin(path)) return readBounded(path, MAX_INPUT_BYTES, path);
  if (stdinBytes === null) {
    stdinBytes = readBounded(0, MAX_INPUT_BYTES, `${who} <stdin>`);
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
