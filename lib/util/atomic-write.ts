// Whole-file writes that readers never see half done: write a temporary sibling, then rename it
// over the target (rename is atomic within a folder). On failure the temporary file is removed and
// the error is an EiaError 'E_IO' (Node's error, e.g. ENOSPC, as its cause).
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { asIoError } from './io-error.js';

let tmpCounter = 0;

/** Writes `bytes` to a temporary sibling then renames it over `path`. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw asIoError(e);
  }
}

/** Writes `value` as pretty-printed JSON (2-space indent, final newline), atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
