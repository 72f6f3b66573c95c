// Loading a RUN folder for the report. Every part is optional: a missing or unreadable file becomes
// null plus a note, never an exception, so a report can be made at any stage of a run.
//
// Files read (relative to RUN):
//   run.json              { model, synthetic, stages, ... }      (written by `run`/`demo`)
//   manifest.json         steering sweep manifest                  (lib/steering/sweep/manifest.ts)
//   samples.jsonl         steered samples (monitor traces; Table 2 when score.json is absent)
//   score.json            Table 2 + dose-response                  (`score`)
//   probes/validation.json  Table 1 + controls                     (`probe`)
//   tune.json             the choice and search path of `tune`     (lib/pipeline/tune; tune-file.ts)
//
// A sweep RUN (one with manifest.json) is read as a sweep (lib/steering/merge): its samples in grid
// order, and marked partial with its missing cells listed when the grid is not complete. The shards
// of one sweep are read the same way, together (loadRun with a MergedSweep): their samples are
// scored as one sweep and their own score.json files are not used.

import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { RUN_FILES } from '../io/run-folder.js';
import { readValidation, type ProbeReport } from '../probes/validation.js';
import { readSamplesFile, type SampleRecord } from '../steering/samples.js';
import type { DoseResponseSeries, ScoreResult } from '../steering/tables.js';
import { doseResponseSeriesByScenario, scoreSamples } from '../steering/tables.js';
import type { SweepManifest } from '../steering/sweep/manifest.js';
import { readSweepRuns, type MergedSweep } from '../steering/merge/read.js';
import { describeMissing, scoreSweep } from '../steering/merge/score.js';
import { scoreMatchesRun } from '../steering/score-source.js';
import { readGgufStrings } from './gguf-meta.js';
import type { OfflineMetrics } from '../steering/metrics/summary.js';
import type { RunMetricsFacts } from '../steering/metrics/run-metrics.js';
import { readTuneFile, type TuneFile } from './tune-file.js';

const { run: RUN_FILE, manifest: MANIFEST_FILE, samples: SAMPLES_FILE, score: SCORE_FILE, validation: VALIDATION_FILE } = RUN_FILES;

/** The prefix of general.name in models written by `eia-native synth`. */
export const SYNTH_NAME_PREFIX = 'eia-synth';

/** run.json as far as the report reads it (other fields are shown as they are). */
export interface RunInfo {
  model?: string | { path?: string; name?: string; [k: string]: unknown };
  synthetic?: boolean;
  stages?: unknown;
  [k: string]: unknown;
}

/** The score of a RUN: score.json, or the same computed from samples.jsonl; `score --metrics` (and `tune`) add the offline metrics. */
export type RunScore = ScoreResult & { dose_response_series?: Record<string, DoseResponseSeries[]>; offline_metrics?: OfflineMetrics; metrics_facts?: RunMetricsFacts };

/** probes/validation.json as the report reads it (either key style; probes/validation.ts). */
export type Validation = ProbeReport;
export type ValidationLayer = ProbeReport['layers'][number];

export interface RunData {
  dir: string;
  run: RunInfo | null;
  manifest: SweepManifest | null;
  validation: Validation | null;
  score: RunScore | null;
  /** where the score came from */
  scoreSource: 'score.json' | 'samples.jsonl' | null;
  /** Why RUN/score.json was not used (it describes other samples than the RUN's as they are now), or null. */
  scoreIgnored: string | null;
  samples: SampleRecord[] | null;
  synthetic: { synthetic: boolean; reason: string };
  /** display name of the model */
  modelName: string;
  /** GGUF general.name, when the model file could be read */
  ggufName: string | null;
  /** What part of the sweep the samples are, for people (a shard, several RUNs merged, partial); null for a plain RUN */
  sweepParts: string | null;
  /** tune.json of a `tune` folder (the Tuning section), null elsewhere */
  tune: TuneFile | null;
  /** problems met while reading (shown in the report) */
  notes: string[];
  /** files read, relative to RUN */
  sources: string[];
}

function readJson<T>(dir: string, rel: string, notes: string[], sources: string[]): T | null {
  const path = join(dir, rel);
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as T;
    sources.push(rel);
    return v;
  } catch (err) {
    notes.push(`${rel} could not be read (${(err as Error).message}); its part of the report is left out.`);
    return null;
  }
}

/** samples.jsonl, ignoring a torn last line (noted); a damaged file is noted and left out. */
function readSamples(dir: string, notes: string[], sources: string[]): SampleRecord[] | null {
  const path = join(dir, SAMPLES_FILE);
  if (!existsSync(path)) return null;
  try {
    const { records, torn, duplicates } = readSamplesFile(path, 'drop');
    sources.push(SAMPLES_FILE);
    if (torn) notes.push(`${SAMPLES_FILE}: ignored a torn last line (an interrupted write).`);
    if (duplicates > 0) notes.push(`${SAMPLES_FILE}: ${duplicates} duplicate sample ${duplicates === 1 ? 'line' : 'lines'} ignored (each sample key counts once).`);
    return records;
  } catch (err) {
    notes.push(`${SAMPLES_FILE} could not be read (${(err as Error).message}); its part of the report is left out.`);
    return null;
  }
}

/**
 * The RUN's Table 1: RUN/probes/validation.json, else the validation.json of the probes folder the
 * sweep used (manifest.json's probes_dir: `steer --probes DIR` outside the RUN), or null with a note.
 */
function readValidationFile(dir: string, manifest: SweepManifest | null, notes: string[], sources: string[], tune: TuneFile | null = null): Validation | null {
  const candidates = [VALIDATION_FILE];
  for (const probesDir of [manifest?.probes_dir, tune?.probes_dir]) {
    if (typeof probesDir !== 'string') continue;
    const pd = isAbsolute(probesDir) ? probesDir : resolve(dir, probesDir);
    candidates.push(join(pd, 'validation.json'));
  }
  for (const c of candidates) {
    const path = isAbsolute(c) ? c : join(dir, c);
    if (!existsSync(path)) continue;
    try {
      const v = readValidation(path);
      sources.push(c);
      if (c !== VALIDATION_FILE) notes.push(`Table 1 comes from ${path}: the probes the ${tune ? 'tune' : 'sweep'} used (${tune ? 'tune.json' : 'manifest.json'} probes_dir).`);
      return v;
    } catch (err) {
      notes.push(`${c} could not be read (${(err as Error).message}); Table 1 is left out.`);
      return null;
    }
  }
  return null;
}

function candidateModelPaths(dir: string, run: RunInfo | null, manifest: SweepManifest | null, validation: Validation | null): string[] {
  const raw: string[] = [];
  if (run) {
    if (typeof run.model === 'string') raw.push(run.model);
    else if (run.model && typeof run.model.path === 'string') raw.push(run.model.path);
    if (typeof run.model_path === 'string') raw.push(run.model_path);
  }
  if (manifest?.model?.path) raw.push(manifest.model.path);
  if (validation?.model?.path) raw.push(validation.model.path);
  const out: string[] = [];
  for (const p of raw) {
    const tries = isAbsolute(p) ? [p] : [resolve(p), resolve(dir, p), resolve(dir, '..', p)];
    for (const t of tries) if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** A sweep RUN read as a sweep, or null (not a sweep RUN, or not readable as one: noted, and samples.jsonl is read as it is). */
function readOwnSweep(dir: string, manifest: SweepManifest | null, notes: string[]): MergedSweep | null {
  if (!manifest) return null;
  try {
    return readSweepRuns([dir]);
  } catch (err) {
    notes.push(`The sweep could not be read against its manifest (${(err as Error).message}); ${SAMPLES_FILE} is read as it is.`);
    return null;
  }
}

/** "shard 1/3", "3 RUNs merged (shards 0/3, 1/3, 2/3)", with ", partial" when cells are missing. */
function describeParts(sweep: MergedSweep, merged: boolean): string | null {
  const shards = sweep.runs.map((r) => (r.count > 1 ? `${r.index}/${r.count}` : 'whole grid'));
  const from = sweep.manifest.merged_from;
  let text = merged ? `${sweep.runs.length} RUNs read as one sweep (${sweep.runs.map((r, i) => `${shards[i]}: ${r.dir}`).join('; ')})`
    : sweep.runs[0].count > 1 ? `shard ${shards[0]} of the grid`
    : from ? `merged from ${from.length} RUNs (${from.map((f) => f.shard ?? 'whole grid').join(', ')})` : null;
  if (sweep.partial) text = `${text ? text + '; ' : ''}partial: ${sweep.records.length} of ${sweep.cells} cells`;
  return text;
}

/** Reads whatever a RUN folder holds (see the module comment); with `merged`, the samples are those of the merged RUNs. */
export function loadRun(dirIn: string, merged?: MergedSweep): RunData {
  const dir = resolve(dirIn);
  const notes: string[] = [];
  const sources: string[] = [];
  const run = readJson<RunInfo>(dir, RUN_FILE, notes, sources);
  let manifest = readJson<SweepManifest>(dir, MANIFEST_FILE, notes, sources);
  const tune = merged ? null : readTuneFile(dir, notes, sources);
  const validation = readValidationFile(dir, manifest, notes, sources, tune);
  const sweep = merged ?? readOwnSweep(dir, manifest, notes);
  let samples: SampleRecord[] | null;
  if (sweep) {
    if (merged) manifest = sweep.manifest;
    // no samples.jsonl anywhere: the sweep has not written a sample yet ("not run", as for a plain RUN)
    const written = sweep.runs.some((r) => existsSync(join(r.dir, SAMPLES_FILE)));
    samples = written ? sweep.records : null;
    if (written) sources.push(SAMPLES_FILE);
    notes.push(...sweep.warnings, ...sweep.notes);
    const missing = describeMissing(sweep);
    if (missing.length) notes.push(missing.map((l) => l.trim()).join('; ') + '.');
  } else {
    samples = readSamples(dir, notes, sources);
  }
  // a merged score is computed from the samples of all the RUNs; a shard's own score.json covers its shard only
  let score = merged ? null : readJson<RunScore>(dir, SCORE_FILE, notes, sources);
  let scoreSource: RunData['scoreSource'] = score ? 'score.json' : null;
  if (score && !Array.isArray(score.rows)) {
    notes.push(`${SCORE_FILE} has no rows array; it is ignored.`);
    score = null;
    scoreSource = null;
  }
  // a derived file is used only while it describes this RUN's samples as they are (score-source.ts)
  let scoreIgnored: string | null = null;
  if (score && samples && samples.length > 0) {
    let m: ReturnType<typeof scoreMatchesRun>;
    try {
      m = scoreMatchesRun(score as { derived_from?: unknown }, dir);
    } catch (err) {
      m = { ok: false, reason: `its source could not be checked (${(err as Error).message})` };
    }
    if (!m.ok) {
      scoreIgnored = `${join(dir, SCORE_FILE)} is not used: ${m.reason}; Table 2 is scored from ${SAMPLES_FILE}`;
      notes.push(`${SCORE_FILE} is not used: ${m.reason}.`);
      score = null;
      scoreSource = null;
    }
  }
  if (!score && samples && samples.length > 0) {
    try {
      let r;
      if (sweep) {
        const s = scoreSweep(sweep);
        r = s.result;
        for (const n of s.notScored) notes.push(`Not scored: ${n.model} layer ${n.layer} ${n.scenario} (${n.reason}).`);
      } else {
        r = scoreSamples(samples);
      }
      score = { ...r, dose_response_series: doseResponseSeriesByScenario(r) };
      scoreSource = 'samples.jsonl';
      notes.push(merged ? `Table 2 was scored from the ${SAMPLES_FILE} of ${sweep!.runs.length} RUNs read as one sweep (as \`eia-native score RUN1 RUN2 …\` would).`
        : `Table 2 was scored from ${SAMPLES_FILE} (as \`eia-native score RUN\` would)${existsSync(join(dir, SCORE_FILE)) ? '' : `: ${SCORE_FILE} is absent`}.`);
    } catch (err) {
      notes.push(`${SAMPLES_FILE} could not be scored (${(err as Error).message}).`);
    }
  }
  if (score && !score.dose_response_series && score.dose_response) score.dose_response_series = doseResponseSeriesByScenario(score);

  // Model name and synthetic status.
  let ggufName: string | null = null;
  for (const p of candidateModelPaths(dir, run, manifest, validation)) {
    const meta = existsSync(p) ? readGgufStrings(p, ['general.name']) : null;
    if (meta && meta['general.name'] !== undefined) { ggufName = meta['general.name']; break; }
  }
  let synthetic: RunData['synthetic'];
  if (run && typeof run.synthetic === 'boolean') {
    synthetic = { synthetic: run.synthetic, reason: `run.json says synthetic: ${run.synthetic}` };
  } else if (ggufName !== null && ggufName.startsWith(SYNTH_NAME_PREFIX)) {
    synthetic = { synthetic: true, reason: `the model's GGUF general.name is "${ggufName}" (written by eia-native synth)` };
  } else if (run && typeof run.model === 'object' && run.model && typeof run.model.name === 'string' && run.model.name.startsWith(SYNTH_NAME_PREFIX)) {
    synthetic = { synthetic: true, reason: `run.json names the model "${run.model.name}"` };
  } else {
    synthetic = { synthetic: false, reason: ggufName !== null ? `GGUF general.name "${ggufName}"` : 'model file not found; assumed real' };
  }

  let modelName = ggufName ?? '';
  if (!modelName && run) modelName = typeof run.model === 'string' ? basename(run.model) : String(run.model?.name ?? run.model?.path ?? '');
  if (!modelName && manifest?.model) modelName = manifest.model.key || basename(manifest.model.path);
  if (!modelName && validation?.model?.path) modelName = basename(validation.model.path);
  if (!modelName && score?.rows[0]) modelName = score.rows[0].model;
  if (!modelName) modelName = 'unknown model';

  const sweepParts = sweep ? describeParts(sweep, !!merged) : null;
  return { dir, run, manifest, validation, score, scoreSource, scoreIgnored, samples, synthetic, modelName, ggufName, sweepParts, tune, notes, sources };
}
