// Minimal NumPy .npy reader/writer for probe directions and activation matrices. Reads the
// float dtypes the paper's files use (its probes are float16) and always writes float32, so
// numpy.load opens our files and we open the paper's without Python.

import { writeFileAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';
import { MAX_BINARY_INPUT_BYTES, readBounded } from './input.js';

/** A 1-D or 2-D array in C order, values converted to float32. */
export interface NpyArray {
  data: Float32Array;
  shape: number[];
  /** dtype as stored in the file ('<f4', '<f2' or '<f8') */
  dtype: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED = ['<f4', '<f2', '<f8'] as const;

/** float16 bits -> float32 value (handles subnormals, infinities and NaN). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function fail(label: string, msg: string): never {
  throw new EiaError('E_BAD_ARG', `${label}: ${msg}`);
}

/** Parses the Python-literal header dict, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
function parseHeader(header: string, label: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortranText = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) fail(label, `header has no 'descr' (dtype): ${header.trim()}`);
  if (fortranText === undefined) fail(label, `header has no 'fortran_order': ${header.trim()}`);
  if (shapeText === undefined) fail(label, `header has no 'shape': ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+$/.test(s)) fail(label, `bad dimension '${s}' in shape (${shapeText})`);
    return Number(s);
  });
  return { descr, fortran: fortranText === 'True', shape };
}

/**
 * Parses .npy bytes (format versions 1.0, 2.0 and 3.0). Accepts dtypes '<f4', '<f2' and
 * '<f8' ('|' or '=' byte order on a little-endian host is not produced by numpy for floats);
 * 1-D or 2-D, C order only. `label` (a path) prefixes every error message.
 */
export function parseNpy(buf: Uint8Array, label = '<buffer>'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) fail(label, 'not a .npy file (bad magic)');
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number, headerStart: number;
  if (major === 1) { headerLen = view.getUint16(8, true); headerStart = 10; }
  else if (major === 2 || major === 3) {
    if (buf.length < 12) fail(label, 'truncated file (incomplete header length)');
    headerLen = view.getUint32(8, true); headerStart = 12;
  } else fail(label, `unsupported .npy format version ${major}.${buf[7]}`);
  const dataStart = headerStart + headerLen;
  if (buf.length < dataStart) fail(label, `truncated file: header needs ${dataStart} bytes, file has ${buf.length}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, dataStart));
  const { descr, fortran, shape } = parseHeader(header, label);
  if (!(SUPPORTED as readonly string[]).includes(descr)) {
    fail(label, `unsupported dtype '${descr}' (supported: ${SUPPORTED.join(', ')})`);
  }
  if (fortran) fail(label, 'Fortran-order arrays are not supported (save with C order, e.g. np.ascontiguousarray)');
  if (shape.length < 1 || shape.length > 2) fail(label, `only 1-D and 2-D arrays are supported, got shape (${shape.join(', ')})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = descr === '<f2' ? 2 : descr === '<f4' ? 4 : 8;
  const need = count * itemSize;
  if (buf.length - dataStart < need) {
    fail(label, `truncated file: shape (${shape.join(', ')}) of ${descr} needs ${need} data bytes, found ${buf.length - dataStart}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const o = dataStart + i * itemSize;
    data[i] = itemSize === 2 ? halfToFloat(view.getUint16(o, true))
      : itemSize === 4 ? view.getFloat32(o, true) : view.getFloat64(o, true);
  }
  return { data, shape, dtype: descr };
}

/** Reads a .npy file; errors name the path. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readBounded(path, MAX_BINARY_INPUT_BYTES), path);
}

function checkShape(length: number, shape: readonly number[]): void {
  if (shape.length < 1 || shape.length > 2) throw new EiaError('E_BAD_ARG', `only 1-D and 2-D arrays can be written, got shape (${shape.join(', ')})`);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw new EiaError('E_BAD_ARG', `bad shape (${shape.join(', ')})`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== length) throw new EiaError('E_BAD_ARG', `shape (${shape.join(', ')}) holds ${count} values but data has ${length}`);
}

/**
 * Encodes float32 data as .npy bytes: version 1.0 ('<f4', C order), header padded with spaces
 * so the data starts at a multiple of 64 bytes, as numpy itself writes.
 */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  checkShape(data.length, shape);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  for (let i = 0; i < data.length; i++) view.setFloat32(start + i * 4, data[i], true);
  return out;
}

/** Writes float32 .npy atomically (temporary file, then rename). */
export function writeNpy(path: string, data: ArrayLike<number>, shape: readonly number[] = [data.length]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}
