// Inline vector data as requests carry it: base64 of float32 little-endian values (EasySteer and the
// issue's contract), or a plain JSON array of numbers. Checked before anything reaches the engine:
// strict base64, the model's width, finite values.
import { badRequest } from './api-error.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes `data` into n_embd float32 values or throws a 400 naming `param`. */
export function decodeVectorData(data: unknown, nEmbd: number, param: string): Float32Array {
  let out: Float32Array;
  if (typeof data === 'string') {
    if (data.length % 4 !== 0 || !BASE64.test(data)) {
      throw badRequest('invalid_vector_data', param, `${param} must be base64 (standard alphabet, padded) of float32 little-endian values`);
    }
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length % 4 !== 0) throw badRequest('invalid_vector_data', param, `${param} decodes to ${bytes.length} bytes, not a whole number of float32 values`);
    const n = bytes.length / 4;
    if (n !== nEmbd) throw badRequest('vector_length', param, `${param} has ${n} values; the model's width (n_embd) is ${nEmbd}`);
    out = new Float32Array(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (Array.isArray(data)) {
    if (data.length !== nEmbd) throw badRequest('vector_length', param, `${param} has ${data.length} values; the model's width (n_embd) is ${nEmbd}`);
    out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') throw badRequest('invalid_vector_data', param, `${param}[${i}] is not a number`);
      out[i] = data[i];
    }
  } else {
    throw badRequest('invalid_vector_data', param, `${param} must be a base64 string (float32 little-endian) or an array of numbers`);
  }
  checkFinite(out, param);
  return out;
}

export function checkFinite(v: Float32Array, param: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw badRequest('vector_not_finite', param, `${param} holds a non-finite value (${v[i]}) at index ${i}`);
  }
}

/** The inverse (clients and tests): float32 little-endian, base64. */
export function encodeVectorData(v: ArrayLike<number>): string {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i], i * 4);
  return buf.toString('base64');
}
