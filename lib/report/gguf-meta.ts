// Reads string metadata (e.g. general.name) from a GGUF file header in pure TypeScript, without
// loading the model: the report uses it to tell a synthetic model from a real one.

import { closeSync, openSync, readSync } from 'node:fs';
import { EiaError } from '../util/errors.js';

/** GGUF value types (gguf.h). */
const FIXED_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const T_STRING = 8;
const T_ARRAY = 9;

class Reader {
  private buf = Buffer.alloc(1 << 16);
  private start = 0; // file offset of buf[0]
  private len = 0;
  pos = 0; // file offset of the next read
  constructor(private readonly fd: number) {}

  private ensure(n: number): void {
    if (this.pos >= this.start && this.pos + n <= this.start + this.len) return;
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
    this.start = this.pos;
    this.len = readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
    if (this.len < n) throw new EiaError('E_BAD_ARG', 'truncated GGUF header');
  }
  u32(): number {
    this.ensure(4);
    const v = this.buf.readUInt32LE(this.pos - this.start);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.ensure(8);
    const v = this.buf.readBigUInt64LE(this.pos - this.start);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new EiaError('E_BAD_ARG', 'GGUF length out of range');
    return Number(v);
  }
  str(): string {
    const n = this.u64();
    if (n > 1 << 24) throw new EiaError('E_BAD_ARG', 'GGUF string too long');
    this.ensure(n);
    const s = this.buf.toString('utf8', this.pos - this.start, this.pos - this.start + n);
    this.pos += n;
    return s;
  }
  skipValue(type: number): void {
    if (type === T_STRING) { const n = this.u64(); this.pos += n; return; }
    if (type === T_ARRAY) {
      const et = this.u32();
      const n = this.u64();
      if (et in FIXED_SIZE) { const skip = n * FIXED_SIZE[et]; this.pos += skip; return; }
      for (let i = 0; i < n; i++) this.skipValue(et);
      return;
    }
    const size = FIXED_SIZE[type];
    if (size === undefined) throw new EiaError('E_BAD_ARG', `unknown GGUF value type ${type}`);
    this.pos += size;
  }
}

/**
 * The string-valued metadata keys of a GGUF file that are in `keys` (stops once all are found).
 * Returns null when the file cannot be read or is not GGUF (v2/v3).
 */
export function readGgufStrings(path: string, keys: readonly string[]): Record<string, string> | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const r = new Reader(fd);
    const magic = r.u32();
    if (magic !== 0x46554747) return null; // "GGUF"
    const version = r.u32();
    if (version < 2) return null;
    r.u64(); // tensor count
    const nKv = r.u64();
    const want = new Set(keys);
    const out: Record<string, string> = {};
    for (let i = 0; i < nKv && want.size > 0; i++) {
      const key = r.str();
      const type = r.u32();
      if (want.has(key) && type === T_STRING) {
        out[key] = r.str();
        want.delete(key);
      } else {
        r.skipValue(type);
      }
    }
    return out;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
