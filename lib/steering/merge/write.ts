// One RUN folder from a merged sweep (read.ts): the manifest of the whole grid (no shard; the RUNs
// it came from in merged_from) and samples.jsonl with every line as its shard wrote it, in grid
// order. It is a RUN like any unsharded one: score and report read it the same way, and `steer`
// with the unsharded parameters resumes it (nothing to do when complete; the missing cells when
// partial). The probes folder and run.json's probe stage come from the first RUN that has them, so
// that the report has Table 1 and `run` resumes after its probe stage.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RUN_FILES } from '../../io/run-folder.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError } from '../../util/errors.js';
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

/** Writes the merged RUN folder `out`, which must not hold a sweep or be one of the merged RUNs (E_CONFLICT). */
export function writeMergedRun(m: MergedSweep, outIn: string): MergedRun {
  const out = resolve(outIn);
  for (const r of m.runs) {
    if (existsSync(out) && realpathSync(out) === realpathSync(r.dir)) throw new EiaError('E_CONFLICT', `${outIn} is one of the RUNs being merged; write the merged RUN to a new folder`);
  }
  for (const f of [RUN_FILES.manifest, RUN_FILES.samples]) {
    if (existsSync(join(out, f))) throw new EiaError('E_CONFLICT', `${outIn} already holds a sweep (${f}); write the merged RUN to a new folder`);
  }
  io(() => mkdirSync(out, { recursive: true }));
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
  writeJsonAtomic(manifestPath, manifest);
  writeFileAtomic(samplesPath, m.lines.map((l) => JSON.stringify(l) + '\n').join(''));
  return { out, manifestPath, samplesPath, samples: m.lines.length, copied };
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
