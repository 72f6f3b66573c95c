// What a score was computed from. score.json is derived from samples: it records them (each
// samples file's path as given, its number of samples and the sha256 of its bytes) under
// `derived_from`, so that a reader can tell a score of these samples from a stale one (written
// before the sweep went on) or a foreign one (`score A --out B` wrote A's score into B): the report
// uses a RUN's score.json only when it was computed from exactly the RUN's samples.jsonl as it is
// now, and scores the samples itself otherwise, saying why; `score --out` refuses to put a score
// into a folder whose own samples it does not describe.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readBounded } from '../io/input.js';
import { RUN_FILES } from '../io/run-folder.js';

/** One samples file a score was computed from. */
export interface SampleSource {
  /** As given to the command (a RUN's samples.jsonl, a JSONL file, '<stdin>', a paper results file). */
  path: string;
  /** Samples read from it (after dropping duplicates and a torn last line). */
  samples: number;
  /** sha256 of its bytes when they were read. */
  sha256: string;
}

/** score.json's record of its source. */
export interface DerivedFrom {
  samples: SampleSource[];
}

/** sha256 of bytes, hex. */
export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** The record of one samples file (read again for its hash: the bounded input reader). */
export function sampleSource(path: string, samples: number, bytes?: Uint8Array): SampleSource {
  return { path, samples, sha256: sha256Hex(bytes ?? readBounded(path)) };
}

/**
 * Whether `score` (a score.json's contents) was computed from exactly the samples.jsonl in `runDir`
 * as it is now: `ok`, or the reason for people why not.
 */
export function scoreMatchesRun(score: { derived_from?: unknown }, runDir: string): { ok: true } | { ok: false; reason: string } {
  const path = join(runDir, RUN_FILES.samples);
  const from = score.derived_from as DerivedFrom | undefined;
  if (!from || !Array.isArray(from.samples)) return { ok: false, reason: 'it does not record the samples it was computed from (written by an earlier version)' };
  if (!existsSync(path)) return { ok: false, reason: `this RUN has no ${RUN_FILES.samples}` };
  const now = sha256Hex(readBounded(path));
  if (from.samples.length === 1 && from.samples[0].sha256 === now) return { ok: true };
  const what = from.samples.map((s) => `${s.path} (${s.samples} samples)`).join(', ');
  return {
    ok: false,
    reason: from.samples.length > 1 ? `it was computed from ${from.samples.length} sample files together: ${what}`
      : `it was computed from ${what}, not from this RUN's ${RUN_FILES.samples} as it is now (other samples, or the sweep went on since)`,
  };
}
