// JSON Lines: reading with line-numbered errors, and crash-safe appends (one write + fsync per
// line, so a kill leaves at most one torn final line, which readers can detect and drop).
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';

export function readJsonl<T = unknown>(path: string, opts: { allowTornTail?: boolean } = {}): T[] {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      const isLast = i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === '');
      if (opts.allowTornTail && isLast && !text.endsWith('\n')) break;  // an interrupted append
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
  }
  return out;
}

/** Appends records as lines; each append writes the whole line, then fsync(). */
export class JsonlAppender {
  private fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
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
      try { ftruncateSync(this.fd, start); } catch { /* the reader drops a torn tail anyway */ }
      throw e;
    }
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
