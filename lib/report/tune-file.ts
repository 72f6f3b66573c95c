// tune.json as the report reads it: the fields the Tuning section shows (lib/pipeline/tune writes
// the whole file; the report, at the same rank, reads the file, not the module). A file that is not
// a tune result is noted and left out.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '../io/run-folder.js';

export interface TunePointRow {
  round: number;
  stage: 'baseline' | 'coarse' | 'fine';
  layer: number;
  alpha: number;
  n: number;
  keyword_share: number;
  keyword_rate: number;
  probe_mean: number | null;
  ppl_ratio: number | null;
  judge_harmonic: number | null;
  objective: number | null;
  feasible: boolean;
  tokens: number;
}

export interface TuneInterval { estimate: number; lower: number; upper: number }

export interface TuneFile {
  format: 'eia-native-tune';
  probes_dir: string;
  layer: number | null;
  alpha: number | null;
  objective: string;
  max_ppl_ratio: number | null;
  reason: string;
  detection_auroc: Record<string, number>;
  search: { points: TunePointRow[]; stopped: { layer: number; round: number; reason: string }[]; frontier: number[]; tokens: number };
  validation: null | {
    prompts: string[]; n: number; keyword_share: TuneInterval; baseline_keyword_share: TuneInterval; effect: TuneInterval;
    ppl_ratio: TuneInterval | null; probe_mean: TuneInterval | null; judge_harmonic: TuneInterval | null; fluent: boolean; effect_above_zero: boolean;
    confidence: number; steerability: { scenario: string; n: number; against: number; share_against: number | null }[];
  };
  tokens: { search: number; validation: number; total: number; budget: number };
  card: string | null;
  parameters: { train: string[]; held_out: string[]; samples: number; max_tokens: number };
}

export function readTuneFile(dir: string, notes: string[], sources: string[]): TuneFile | null {
  const path = join(dir, RUN_FILES.tune);
  if (!existsSync(path)) return null;
  try {
    const t = JSON.parse(readFileSync(path, 'utf8')) as TuneFile;
    if (t?.format !== 'eia-native-tune' || !Array.isArray(t.search?.points)) {
      notes.push(`${RUN_FILES.tune} is not a tune result; the Tuning section is left out.`);
      return null;
    }
    sources.push(RUN_FILES.tune);
    return t;
  } catch (err) {
    notes.push(`${RUN_FILES.tune} could not be read (${(err as Error).message}); the Tuning section is left out.`);
    return null;
  }
}
