// Several RUN folders read as one sweep: the shards of one grid (or one RUN of the whole grid), with
// the checks that make their union exactly the sweep run unsharded. Refused (E_CONFLICT), before
// anything is scored or written: RUNs of different grids (grid-id.ts), shards of different splits
// (another shard count), one shard given twice (a copy), and a sample in a RUN whose shard does not
// own it (overlapping shards; a duplicated sample when the owning shard holds it too). A set that
// lacks shards or samples is not refused: what exists is read, and the missing cells are listed.
//
// The records come out in grid order (scenarios and layers in the order of the grid's lists, then
// alpha and sample ascending), whatever order they finished in: Table 2's row order and the
// bootstrap of the dose-response follow the order of the samples, so the same samples give the
// same scores whether they came from one process, a resumed one, or N shards.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonl } from '../../io/jsonl.js';
import { RUN_FILES } from '../../io/run-folder.js';
import { EiaError } from '../../util/errors.js';
import { duplicatesNote, validateRecord, type SampleRecord } from '../samples.js';
import { canonicalGrid, gridId } from '../sweep/grid-id.js';
import { readManifest, type SweepManifest } from '../sweep/manifest.js';
import { cellKey, sweepGrid, type GridCell } from '../sweep/plan.js';
import { formatShard, partitionGrid } from '../sweep/shard.js';

/** One RUN folder of the set. */
export interface SweepRun {
  /** As given. */
  dir: string;
  manifest: SweepManifest;
  gridId: string;
  /** The shard it holds; index 0 of count 1 for a RUN of the whole grid. */
  index: number;
  count: number;
  /** Its samples (a duplicated cell inside the RUN: the first record only). */
  records: SampleRecord[];
}

/** The set read as one sweep. */
export interface MergedSweep {
  /** By shard index. */
  runs: SweepRun[];
  /** The manifest of the whole sweep: the first RUN's, without its shard. */
  manifest: SweepManifest;
  gridId: string;
  /** Shards of the split (1: RUNs of the whole grid). */
  shardCount: number;
  /** Shard indices not in the set. */
  missingShards: number[];
  /** Every sample, in grid order. */
  records: SampleRecord[];
  /** The lines of samples.jsonl as written (every field kept), aligned with `records`. */
  lines: Record<string, unknown>[];
  /** Cells of the grid. */
  cells: number;
  /** Cells of the grid with no sample, in grid order. */
  missing: GridCell[];
  partial: boolean;
  /** Messages for people: torn last lines, model names unified. */
  notes: string[];
  /** Warnings (printed even when quiet): duplicated samples inside one RUN, dropped as `score RUN` drops them. */
  warnings: string[];
  /** Lines dropped as duplicates of a sample inside their own RUN. */
  duplicates: number;
}

/** A folder that holds a sweep's manifest.json. */
export function isSweepRun(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, RUN_FILES.manifest));
}

const conflict = (msg: string): never => { throw new EiaError('E_CONFLICT', msg); };
const shardName = (r: Pick<SweepRun, 'index' | 'count'>): string => (r.count > 1 ? `shard ${formatShard(r)}` : 'the whole grid');
const cellText = (c: GridCell): string => `layer ${c.layer}, ${c.scenario}, alpha ${c.alpha}, sample ${c.sample}`;

/** Reads RUN folders as one sweep (see the module comment). */
export function readSweepRuns(dirs: readonly string[]): MergedSweep {
  if (dirs.length === 0) throw new EiaError('E_BAD_ARG', 'no RUN folders given');
  const notes: string[] = [];
  const warnings: string[] = [];
  let duplicates = 0;
  const runs = dirs.map((dir) => openRun(dir));
  checkSameSet(runs);
  runs.sort((a, b) => a.index - b.index);
  const first = runs[0];
  const p = first.manifest.parameters;
  const count = first.count;
  const grid = sweepGrid(p.layers, p.alphas, p.scenarios, p.samples);
  const part = count > 1 ? partitionGrid({ layers: p.layers, alphas: p.alphas, scenarios: p.scenarios, samples: p.samples, maxTokens: p.max_tokens }, count) : null;
  const gridKeys = new Set(grid.map(cellKey));
  const ownerOf = (c: GridCell): number | undefined => (part ? part.shardOf(c) : gridKeys.has(cellKey(c)) ? 0 : undefined);

  const lines: { run: SweepRun; rec: SampleRecord; raw: Record<string, unknown> }[] = [];
  for (const run of runs) {
    const r = readRunSamples(run, notes, warnings);
    duplicates += r.duplicates;
    lines.push(...r.lines.map((x) => ({ run, ...x })));
  }
  const holders = new Map<string, SweepRun[]>();
  for (const { run, rec } of lines) {
    const k = cellKey(rec);
    const h = holders.get(k) ?? [];
    if (!h.includes(run)) h.push(run);
    holders.set(k, h);
  }
  for (const { run, rec } of lines) {
    const owner = ownerOf(rec);
    if (owner === run.index) continue;
    if (owner === undefined) conflict(`${run.dir} holds a sample outside the sweep's grid (${cellText(rec)}): not a sample of this sweep`);
    const other = holders.get(cellKey(rec))!.find((r) => r !== run);
    if (other) {
      conflict(`duplicated sample: ${cellText(rec)} is in ${run.dir} and in ${other.dir} ` +
        `(it belongs to shard ${formatShard({ index: owner!, count })}, not to ${run.dir}'s ${shardName(run)}); merging would count it twice`);
    }
    conflict(`overlapping shards: ${run.dir} (${shardName(run)}) holds ${cellText(rec)}, which belongs to shard ${formatShard({ index: owner!, count })}`);
  }

  unifyModelKey(runs, lines, notes);
  const order = gridOrder(first.manifest);
  lines.sort((a, b) => order(a.rec, b.rec));
  const present = new Set(lines.map((l) => cellKey(l.rec)));
  const missing = grid.filter((c) => !present.has(cellKey(c)));
  const given = new Set(runs.map((r) => r.index));
  const { shard: _own, ...whole } = first.manifest;
  return {
    runs, manifest: { ...whole, grid_id: first.gridId }, gridId: first.gridId, shardCount: count,
    missingShards: Array.from({ length: count }, (_, i) => i).filter((i) => !given.has(i)),
    records: lines.map((l) => l.rec), lines: lines.map((l) => l.raw), cells: grid.length, missing, partial: missing.length > 0, notes, warnings, duplicates,
  };
}

/** A RUN folder's manifest and shard. */
function openRun(dir: string): SweepRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new EiaError('E_BAD_ARG', `${dir} is not a folder (expected a steer RUN folder)`);
  const path = join(dir, RUN_FILES.manifest);
  if (!existsSync(path)) throw new EiaError('E_BAD_ARG', `${dir} holds no ${RUN_FILES.manifest}: not a steer RUN folder, so it cannot be merged with others`);
  const manifest = readManifest(path);
  const s = manifest.shard;  // its part I/N and the shard count's bound: checked by readManifest
  const sharded = s !== undefined && s !== null;
  return { dir, manifest, gridId: gridId(manifest.parameters), index: sharded ? s.index : 0, count: sharded ? s.count : 1, records: [] };
}

/** One grid, one split, each shard once (the refusals that need no samples). */
function checkSameSet(runs: SweepRun[]): void {
  const real = new Map<string, SweepRun>();
  for (const r of runs) {
    const rp = realpathSync(r.dir);
    const seen = real.get(rp);
    if (seen) conflict(`${r.dir} is given twice${seen.dir !== r.dir ? ` (as ${seen.dir} too)` : ''}`);
    real.set(rp, r);
  }
  const first = runs[0];
  for (const r of runs.slice(1)) {
    if (r.gridId !== first.gridId) {
      conflict(`${r.dir} is a sweep of another grid than ${first.dir} (grid ${r.gridId.slice(0, 12)}… vs ${first.gridId.slice(0, 12)}…): ` +
        `its samples are not part of the same sweep. Differing:\n  ${gridDiff(first, r).join('\n  ')}`);
    }
  }
  for (const r of runs.slice(1)) {
    if (r.count !== first.count) {
      conflict(`the shard counts do not match: ${first.dir} is ${shardName(first)}, ${r.dir} is ${shardName(r)}; ` +
        `the shards of one sweep come from one split into N parts (the same N for every shard)`);
    }
  }
  const byIndex = new Map<number, SweepRun>();
  for (const r of runs) {
    const seen = byIndex.get(r.index);
    if (seen) {
      conflict(r.count > 1
        ? `${seen.dir} and ${r.dir} are both shard ${formatShard(r)} (two copies of one shard): their samples overlap; give each shard once`
        : `${seen.dir} and ${r.dir} both hold the whole grid (no shard): merging them would count every sample twice`);
    }
    byIndex.set(r.index, r);
  }
}

/** The fields of the grid that differ between two RUNs. */
function gridDiff(a: SweepRun, b: SweepRun): string[] {
  const ga = canonicalGrid(a.manifest.parameters), gb = canonicalGrid(b.manifest.parameters);
  const keys = [...new Set([...Object.keys(ga), ...Object.keys(gb)])].sort();
  return keys.filter((k) => JSON.stringify(ga[k] ?? null) !== JSON.stringify(gb[k] ?? null))
    .map((k) => `${k}: ${a.dir} has ${JSON.stringify(ga[k] ?? null)}, ${b.dir} has ${JSON.stringify(gb[k] ?? null)}`);
}

/**
 * samples.jsonl of one RUN (a torn last line ignored with a note: the shard may still run). A cell
 * written twice inside one RUN counts once, with a counted warning, as `score RUN` and a resume
 * treat it; the same cell in two RUNs is a refusal (readSweepRuns).
 */
function readRunSamples(run: SweepRun, notes: string[], warnings: string[]): { lines: { rec: SampleRecord; raw: Record<string, unknown> }[]; duplicates: number } {
  const path = join(run.dir, RUN_FILES.samples);
  if (!existsSync(path)) return { lines: [], duplicates: 0 };
  const { records, torn } = readJsonl(path, { tornTail: 'drop', each: (v, where) => ({ rec: validateRecord(v, where), raw: v as Record<string, unknown> }) });
  if (torn) notes.push(`${path}: ignored a torn last line (an interrupted write; \`steer\` regenerates it on resume)`);
  const seen = new Set<string>();
  const out = records.filter((r) => {
    const k = cellKey(r.rec);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const dup = duplicatesNote(path, records.length - out.length);  // as `score RUN` and a resume say it
  if (dup) warnings.push(dup);
  run.records = out.map((r) => r.rec);
  return { lines: out, duplicates: records.length - out.length };
}

/** Shards run under other model names (another --model spelling of the same file) take the first RUN's. */
function unifyModelKey(runs: SweepRun[], lines: { run: SweepRun; rec: SampleRecord; raw: Record<string, unknown> }[], notes: string[]): void {
  const key = runs[0].manifest.model?.key;
  if (!key) return;
  for (const r of runs.slice(1)) {
    const own = r.manifest.model?.key;
    if (!own || own === key) continue;
    notes.push(`${r.dir} names the model '${own}', ${runs[0].dir} '${key}' (the same model file): the merged sweep calls it '${key}'`);
    for (const l of lines) if (l.run === r && l.rec.model === own) { l.rec.model = key; l.raw.model = key; }
  }
}

/** Grid order: scenarios and layers as the grid lists them, then alpha and sample ascending. */
function gridOrder(m: SweepManifest): (a: SampleRecord, b: SampleRecord) => number {
  const scen = new Map(m.parameters.scenarios.map((s, i) => [s, i]));
  const lay = new Map(m.parameters.layers.map((l, i) => [l, i]));
  return (a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || (scen.get(a.scenario)! - scen.get(b.scenario)!)
    || (lay.get(a.layer)! - lay.get(b.layer)!) || (a.alpha - b.alpha) || (a.sample - b.sample);
}
