// File helpers for the tests of "nothing written where a check fails" and of hostile inputs:
// a hash of a whole file tree, a GGUF model whose weights hold NaN, a control vector holding NaN.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readGgufTensor } from '../../lib/engine/gguf.js';
import { writeControlVector } from '../../lib/engine/control-vector.js';

/** sha256 over every file below `path` (relative name, size, contents), sorted; 'absent' when missing. */
export function treeHash(path: string): string {
  if (!existsSync(path)) return 'absent';
  const h = createHash('sha256');
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      h.update(`dir ${relative(path, p)}\n`);
      for (const f of readdirSync(p).sort()) walk(join(p, f));
    } else {
      h.update(`file ${relative(path, p)} ${st.size}\n`).update(readFileSync(p));
    }
  };
  walk(path);
  return h.digest('hex');
}

/** Overwrites 8 values of the first copy of `tensor`'s data in `src` with NaN, written to `dst` (F32 tensors). */
export function ggufWithNaN(src: string, dst: string, tensor = 'blk.0.attn_norm.weight'): void {
  const t = readGgufTensor(src, tensor);
  const bytes = readFileSync(src);
  const at = bytes.indexOf(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  if (at < 0) throw new Error(`${tensor}'s data not found in ${src}`);
  const nan = Buffer.alloc(4);
  nan.writeFloatLE(NaN);
  for (let i = 0; i < Math.min(8, t.data.length); i++) nan.copy(bytes, at + 4 * i);
  writeFileSync(dst, bytes);
}

/** A control vector (blocks 1 and 2, width n) whose block 1 direction holds one NaN: llama.cpp's writer would refuse, so the bytes are patched. */
export function controlVectorWithNaN(path: string, n: number): void {
  const marker = 0.123456789;
  const v = new Float32Array(n).fill(0.25);
  v[3] = marker;
  writeControlVector(path, new Map([[1, v], [2, new Float32Array(n).fill(0.5)]]), 'x');
  const bytes = readFileSync(path);
  const m = Buffer.alloc(4);
  m.writeFloatLE(marker);
  const at = bytes.indexOf(m);
  if (at < 0) throw new Error('marker not found');
  m.writeFloatLE(NaN);
  m.copy(bytes, at);
  writeFileSync(path, bytes);
}

/** A copy of `src` whose float32 metadata value `key` (e.g. llama.rope.freq_base) is `value` (NaN, 0, …). */
export function ggufWithMetaFloat(src: string, dst: string, key: string, value: number): void {
  const bytes = readFileSync(src);
  const at = bytes.indexOf(Buffer.from(key));
  if (at < 0) throw new Error(`${key} not found in ${src}`);
  const type = bytes.readUInt32LE(at + key.length);
  if (type !== 6) throw new Error(`${key} is not a float32 value (GGUF type ${type})`);
  bytes.writeFloatLE(value, at + key.length + 4);
  writeFileSync(dst, bytes);
}
