// The one way eia-native writes a whole file, so that no reader ever sees it half done and no
// failure passes as success: the bytes go to a new temporary sibling, are flushed to the disk
// (fsync) and the file is closed, and only then renamed over the target (rename is atomic within a
// folder). A failure anywhere (a full disk, a read-only folder, a parent that is a file) removes
// the temporary file and is an EiaError 'E_IO' naming the path (Node's error as its cause). Every
// writer of whole files uses it: JSON/Markdown/HTML results, .npy files, control vectors (the
// native encoder returns the bytes), pair files, the RUN lock's temporary file. The native
// synthetic-model writer streams gigabytes and keeps the same steps in C++ (native/synth/gguf_writer.cpp).
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { asIoError } from './io-error.js';

let tmpCounter = 0;

/**
 * Creates `path` (it must not exist: flag 'wx'), writes all of `bytes`, flushes them to the disk and
 * closes it. On failure the file is removed and the error is E_IO naming `path`.
 */
export function writeNewFile(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  let fd: number | null = null;
  try {
    fd = openSync(path, 'wx', 0o644);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    const f = fd;
    fd = null;
    closeSync(f);
  } catch (e) {
    if (fd !== null) try { closeSync(fd); } catch { /* closing after a failure */ }
    if (!(isExists(e))) try { unlinkSync(path); } catch { /* never created */ }
    throw asIoError(e, path);
  }
}

const isExists = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'EEXIST' && (e as NodeJS.ErrnoException)?.syscall === 'open';

/** Writes `bytes` to a temporary sibling (flushed, closed) then renames it over `path`. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`;
  writeNewFile(tmp, bytes);
  try {
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw asIoError(e, path);
  }
}

/** Writes `value` as pretty-printed JSON (2-space indent, final newline), atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
