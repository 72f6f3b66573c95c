// sha256 of model files, streamed (multi-GB GGUFs) and remembered per (path, size, mtime) so
// that manifests and probe sidecars can name the exact model without re-hashing every run.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { asIoError, io } from '../util/io-error.js';

const memo = new Map<string, string>();

export async function fileSha256(path: string): Promise<string> {
  const abs = resolve(path);
  const st = io(() => statSync(abs));
  const key = `${abs}:${st.size}:${st.mtimeMs}`;
  const hit = memo.get(key);
  if (hit) return hit;
  const h = createHash('sha256');
  await new Promise<void>((ok, bad) => {
    createReadStream(abs)
      .on('data', (c) => h.update(c))
      .on('end', () => ok())
      .on('error', (e) => bad(asIoError(e)));
  });
  const hex = h.digest('hex');
  memo.set(key, hex);
  return hex;
}
