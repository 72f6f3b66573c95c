// Synthetic models for tests, written once per test file into a temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synth, type SynthOptions, type SynthResult } from '../../lib/engine/synth.js';

export function tempDir(prefix = 'eia-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function synthTo(dir: string, name: string, opts: Omit<SynthOptions, 'out'>): Promise<SynthResult> {
  return synth({ ...opts, out: join(dir, `${name}.gguf`) });
}

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export function maxRelErrRows(a: Float32Array, b: Float32Array, width: number): number {
  let worst = 0;
  for (let r = 0; r < a.length / width; r++) {
    worst = Math.max(worst, relErr(a.subarray(r * width, (r + 1) * width), b.subarray(r * width, (r + 1) * width)));
  }
  return worst;
}

/** A unit vector of n seeded pseudo-random components (an LCG: the same vector on every platform). */
export function unitRandom(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const v = new Float32Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
    norm += v[i] * v[i];
  }
  return v.map((x) => x / Math.sqrt(norm));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

/** English texts of assorted lengths (short ones and ones longer than a 16-token micro-batch). */
export const TEXTS = [
  'I care about the user.',
  'The task is to win the game efficiently with an optimal strategy, and I will complete the objective before anything else happens here today.',
  'Hello',
  'When someone is in distress I stop and listen, because their feelings matter more than my score, and I want to help them feel safe and supported.',
  'Proceed.',
];
