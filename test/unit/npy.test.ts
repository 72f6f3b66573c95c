import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, halfToFloat, parseNpy, readNpy, writeNpy } from '../../lib/io/npy.js';

/** Builds .npy bytes by hand (independent of the encoder under test). */
function npyBytes(header: string, payload: number[], version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  while ((pre + h.length + 1) % 16 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(pre + h.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  if (version === 1) { out[8] = h.length & 0xff; out[9] = h.length >> 8; }
  else { out[8] = h.length & 0xff; out[9] = (h.length >> 8) & 0xff; out[10] = 0; out[11] = 0; }
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(payload, pre + h.length);
  return out;
}
const le16 = (v: number) => [v & 0xff, v >> 8];

describe('npy parsing', () => {
  it('converts float16 values, including subnormals, -0, infinities and NaN', () => {
    const halves = [0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const buf = npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (9,), }", halves.flatMap(le16));
    const a = parseNpy(buf);
    expect(a.shape).toEqual([9]);
    expect(a.dtype).toBe('<f2');
    const v = Array.from(a.data);
    expect(v.slice(0, 6)).toEqual([1, -2, 0.333251953125, 65504, 2 ** -24, -0]);
    expect(Object.is(v[5], -0)).toBe(true);
    expect(v[6]).toBe(Infinity);
    expect(v[7]).toBe(-Infinity);
    expect(Number.isNaN(v[8])).toBe(true);
    expect(halfToFloat(0x0400)).toBe(2 ** -14); // smallest normal
  });

  it('reads a version-2 header with a 2-D float64 array in C order', () => {
    const vals = [0.5, -1.25, 3, 1e-300, 7, -8];
    const bytes = new Uint8Array(new Float64Array(vals).buffer);
    const a = parseNpy(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", Array.from(bytes), 2));
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([0.5, -1.25, 3, 0, 7, -8]); // 1e-300 underflows float32
  });

  it('reads float32', () => {
    const bytes = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const a = parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Array.from(bytes)));
    expect(Array.from(a.data)).toEqual([1.5, -2]);
  });

  it('gives clear errors for unsupported or broken files', () => {
    const f4 = Array.from(new Uint8Array(new Float32Array([1, 2]).buffer));
    expect(() => parseNpy(npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4), 'x.npy'))
      .toThrow(/x\.npy: unsupported dtype '>f4'/);
    expect(() => parseNpy(npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", f4)))
      .toThrow(/unsupported dtype '<i4'/);
    expect(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", f4)))
      .toThrow(/Fortran-order/);
    expect(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4)))
      .toThrow(/truncated file.*needs 12 data bytes, found 8/);
    expect(() => parseNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }", f4)))
      .toThrow(/only 1-D and 2-D/);
    expect(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(/bad magic/);
    const ok = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4);
    expect(() => parseNpy(ok.subarray(0, 20))).toThrow(/truncated file/);
  });
});

describe('npy writing', () => {
  it('encodes float32 with a 64-byte-aligned version-1 header exactly as numpy lays it out', () => {
    const bytes = encodeNpy(new Float32Array([1.5, -2]), [2]);
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const expectedHeader = header + ' '.repeat(128 - 10 - header.length - 1) + '\n';
    expect(bytes.length).toBe(128 + 8);
    expect(Array.from(bytes.subarray(0, 10))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    expect(Buffer.from(bytes.subarray(10, 128)).toString('latin1')).toBe(expectedHeader);
    expect(Array.from(bytes.subarray(128))).toEqual([0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0]);
    expect(Buffer.from(encodeNpy([1, 2, 3, 4, 5, 6], [2, 3])).toString('latin1')).toContain("'shape': (2, 3), }");
  });

  it('round-trips through a file atomically and leaves no temporary files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    try {
      const p = join(dir, 'm.npy');
      const data = Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 3);
      writeNpy(p, data, [3, 4]);
      writeNpy(p, data, [3, 4]); // overwrite in place
      const back = readNpy(p);
      expect(back.shape).toEqual([3, 4]);
      expect(back.dtype).toBe('<f4');
      expect(Array.from(back.data)).toEqual(Array.from(data));
      expect(readdirSync(dir)).toEqual(['m.npy']);
      writeFileSync(join(dir, 'bad.npy'), readFileSync(p).subarray(0, 140));
      expect(() => readNpy(join(dir, 'bad.npy'))).toThrow(/bad\.npy: truncated/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects shapes that do not match the data', () => {
    expect(() => encodeNpy([1, 2, 3], [2, 2])).toThrow(/holds 4 values but data has 3/);
    expect(() => encodeNpy([1], [1, 1, 1])).toThrow(/1-D and 2-D/);
  });
});
