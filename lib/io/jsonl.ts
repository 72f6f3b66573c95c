// JSON Lines: reading with line-numbered errors, and crash-safe appends (one write + fsync per
// line, so a kill leaves at most one torn final line, which readers can detect and drop).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

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

/** Appends records as lines; each append is one write() followed by fsync(). */
export class JsonlAppender {
  private fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }
  append(record: unknown): void {
    const line = JSON.stringify(record) + '\n';
    writeSync(this.fd, line);
    fsyncSync(this.fd);
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
