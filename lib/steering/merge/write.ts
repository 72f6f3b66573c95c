// One RUN folder from a merged sweep (read.ts): the manifest of the whole grid (no shard; the RUNs
// it came from in merged_from) and samples.jsonl with every line as its shard wrote it, in grid
// order. It is a RUN like any unsharded one: score and report read it the same way, and `steer`
// with the unsharded parameters resumes it (nothing to do when complete; the missing cells when
// partial). The probes folder and run.json's probe stage come from the first RUN that has them, so
// that the report has Table 1 and `run` resumes after its probe stage. It is written under the RUN
// folder's lock, after every check (io/run-lock.ts; docs/reliability.md).
import { cpSync, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { existing, moveAside, RUN_FILES, SWEEP_OUTPUTS } from '../../io/run-folder.js';
import { withRunLock } from '../../io/run-lock.js';
import { warn } from '../../util/note.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError, FieldError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { formatShard } from '../sweep/shard.js';
import type { SweepManifest } from '../sweep/manifest.js';
import type { MergedSweep } from './read.js';

export interface MergedRun {
  out: string;
  manifestPath: string;
  samplesPath: string;
  samples: number;
  /** Parts copied from the first RUN that had them (probes/, run.json). */
  copied: string[];
}

export interface MergeWriteOptions {
  /** Replace a sweep already in `out` (its files move to OUT/replaced-<time>/; nothing is deleted). */
  force?: boolean;
  /** Where the --force note goes (default: warn). */
  alert?: (msg: string) => void;
}

/**
 * Checks, before anything is written, that `out` can take the merged RUN: it is not one of the
 * merged RUNs (E_CONFLICT, always) and holds no sweep (E_CONFLICT unless `force`). Returns true
 * when a sweep there is to be replaced.
 */
export function checkMergeTarget(m: MergedSweep, outIn: string, force = false): boolean {
  const out = resolve(outIn);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new EiaError('E_BAD_ARG', `${outIn} exists and is not a folder (expected the merged RUN folder)`);
  for (const r of m.runs) {
    if (existsSync(out) && realpathSync(out) === realpathSync(r.dir)) throw new EiaError('E_CONFLICT', `${outIn} is one of the RUNs being merged; write the merged RUN to a new folder`);
  }
  const held = existing(out, [RUN_FILES.manifest, RUN_FILES.samples]);
  if (held.length === 0) return false;
  if (force) return true;
  throw new FieldError('E_CONFLICT', 'force', 'results_exist', (n) => `${outIn} already holds a sweep (${held.join(', ')}); write the merged RUN to a new folder (or ${n('force')} to replace it)`);
}

/**
 * Writes the merged RUN folder `out` under its lock (a second writer fails at once, E_LOCKED). Every
 * check (checkMergeTarget) runs before the first write; a refused call leaves `out` as it was.
 */
export async function writeMergedRun(m: MergedSweep, outIn: string, opts: MergeWriteOptions = {}): Promise<MergedRun> {
  const out = resolve(outIn);
  // the lock first: a folder another process writes is E_LOCKED (exit 1, wait and retry), whatever it
  // holds; what it holds is checked under the lock (a refused call removes the folder the lock created)
  return withRunLock(out, 'merge', () => {
    const replace = checkMergeTarget(m, outIn, !!opts.force);
    // ---- writes from here on
    if (replace) (opts.alert ?? warn)(`--force: ${moveAside(out, SWEEP_OUTPUTS)} (a sweep merged or run earlier)`);
    const copied: string[] = [];
    const withProbes = m.runs.find((r) => existsSync(join(r.dir, RUN_FILES.validation)));
    if (withProbes && !existsSync(join(out, RUN_FILES.probes))) {
      io(() => cpSync(join(withProbes.dir, RUN_FILES.probes), join(out, RUN_FILES.probes), { recursive: true }));
      copied.push(`${RUN_FILES.probes}/ (from ${withProbes.dir})`);
    }
    const withState = m.runs.find((r) => existsSync(join(r.dir, RUN_FILES.run)));
    if (withState && !existsSync(join(out, RUN_FILES.run))) {
      const state = probeStageOnly(join(withState.dir, RUN_FILES.run));
      if (state) {
        writeJsonAtomic(join(out, RUN_FILES.run), state);
        copied.push(`${RUN_FILES.run} (its probe stage, from ${withState.dir})`);
      }
    }
    const manifest: SweepManifest = {
      ...m.manifest,
      merged_from: m.runs.map((r) => ({ path: resolve(r.dir), shard: r.count > 1 ? formatShard(r) : null, samples: r.records.length })),
    };
    const manifestPath = join(out, RUN_FILES.manifest);
    const samplesPath = join(out, RUN_FILES.samples);
    // samples first, manifest last: a merge killed half-way leaves samples without a manifest, which steer and merge refuse
    writeFileAtomic(samplesPath, m.lines.map((l) => JSON.stringify(l) + '\n').join(''));
    writeJsonAtomic(manifestPath, manifest);
    return { out, manifestPath, samplesPath, samples: m.lines.length, copied };
  }, opts.alert);
}

/** run.json with only its probe stage (the other stages were the shard's own), or null when unreadable. */
function probeStageOnly(path: string): Record<string, unknown> | null {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof s !== 'object' || s === null) return null;
    const stages = (s.stages ?? {}) as Record<string, unknown>;
    return { ...s, stages: stages.probe ? { probe: stages.probe } : {} };
  } catch {
    return null;
  }
}
