// RUN/run.json: what `run`/`demo` did in a RUN folder, one record per finished stage with the hash
// of its parameters, so that a finished stage with the same parameters is skipped on resume.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '../io/run-folder.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';

export type StageName = 'probe' | 'steer' | 'score' | 'report';

export interface StageRecord { hash: string; done_at: string; [k: string]: unknown }

export interface RunState {
  format: 'eia-native-run';
  version: 1;
  model: { path: string; sha256: string; key: string };
  synthetic: boolean;
  stages: Partial<Record<StageName, StageRecord>>;
}

/** A short, stable hash of a stage's parameters. */
export const hashOf = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

export function loadState(dir: string): RunState | null {
  const f = join(dir, RUN_FILES.run);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as RunState;
  } catch {
    throw new EiaError('E_CONFLICT', `${f}: not valid JSON (delete it to start the run over)`);
  }
}

export function saveState(dir: string, s: RunState): void {
  writeJsonAtomic(join(dir, RUN_FILES.run), s);
}

/** Records a finished stage (with extra fields for people) and saves run.json. */
export function finishStage(dir: string, s: RunState, stage: StageName, hash: string, extra: Record<string, unknown> = {}): void {
  s.stages[stage] = { hash, done_at: new Date().toISOString(), ...extra };
  saveState(dir, s);
}
