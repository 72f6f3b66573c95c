// JSON Lines: the one reader and the one appender of eia-native's .jsonl files.
//
// A torn tail is a last line without its newline. Appends write a whole line (record + "\n") and
// fsync, so in a file eia-native appends to, a torn tail is what a kill in the middle of a write
// leaves. Each reader says what it does with one (TornTail):
//   'error'  the last line is an ordinary line: used when valid JSON (hand-written files often lack
//            the final newline), an error naming its line when not. For input files.
//   'drop'   the torn tail is ignored and reported (`torn: true`); the file is not changed. For
//            readers of append-only logs that must not write (score, report).
//   'repair' as 'drop', and the file is cut back to its last newline, so that the writer can
//            append again. For the writer resuming its own log (steer).
// Lines may end in "\n" or "\r\n"; blank lines are skipped; every error names FILE:LINE.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, truncateSync, writeSync } from 'node:fs';
import { EiaError } from '../util/errors.js';
import { asIoError, io } from '../util/io-error.js';
import { readTextFile } from './input.js';

export type TornTail = 'error' | 'drop' | 'repair';

export interface JsonlOptions<T> {
  /** What a last line without its newline means (see the module comment). */
  tornTail: TornTail;
  /** Checks and converts one parsed line; `where` is "FILE:LINE" for its error messages. */
  each?: (value: unknown, where: string) => T;
}

export interface JsonlRead<T> {
  records: T[];
  /** A torn last line was dropped ('drop') or cut off the file ('repair'). */
  torn: boolean;
}

/** Parses JSON Lines text; `source` names it in errors. 'repair' is for files (readJsonl). */
export function parseJsonl<T = unknown>(text: string, source: string, opts: JsonlOptions<T>): JsonlRead<T> {
  const torn = opts.tornTail !== 'error' && text.length > 0 && !text.endsWith('\n');
  const body = torn ? text.slice(0, text.lastIndexOf('\n') + 1) : text;
  const lines = body.split('\n');
  const records: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      const last = i === lines.length - 1 && !body.endsWith('\n');
      throw new EiaError('E_BAD_ARG', `${where}: invalid JSON${last ? ' (a torn last line?)' : ''}: ${(e as Error).message}`);
    }
    records.push(opts.each ? opts.each(value, where) : (value as T));
  }
  return { records, torn };
}

/** Reads a JSON Lines file (see parseJsonl); with 'repair' a torn tail is also cut off the file. */
export function readJsonl<T = unknown>(path: string, opts: JsonlOptions<T>): JsonlRead<T> {
  const text = readTextFile(path);
  const read = parseJsonl(text, path, opts);
  if (read.torn && opts.tornTail === 'repair') {
    io(() => truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1), 'utf8')));
  }
  return read;
}

/** Appends records as lines; each append writes the whole line, then fsync(). Failures are 'E_IO'. */
export class JsonlAppender {
  private fd: number;
  constructor(readonly path: string) {
    this.fd = io(() => openSync(path, 'a'));
  }
  append(record: unknown): void {
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    const start = fstatSync(this.fd).size;
    try {
      // write() may store only part of the line (disk nearly full): continue until all of it is
      // written or write() throws (ENOSPC), so a record is acknowledged only when it is complete
      for (let off = 0; off < line.length;) off += writeSync(this.fd, line, off, line.length - off);
      fsyncSync(this.fd);
    } catch (e) {
      // drop the partial line so that the file still ends at a record boundary
      try { ftruncateSync(this.fd, start); } catch { /* the readers drop a torn tail anyway */ }
      throw asIoError(e);
    }
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
