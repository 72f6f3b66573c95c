// Table 2 of a sweep read from one or several RUN folders (read.ts), marked partial when cells are
// missing. A partial sweep is scored on the samples it has; a (layer, scenario) whose alpha = 0
// baseline samples are all missing has no success rate (the paper's rule compares with the
// baseline), so it is left out and listed instead of failing the whole score.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from '../../io/run-folder.js';
import { EiaError } from '../../util/errors.js';
import { sampleSource, type DerivedFrom } from '../score-source.js';
import type { SampleRecord } from '../samples.js';
import type { GridCell } from '../sweep/plan.js';
import { formatShard } from '../sweep/shard.js';
import { scoreSamples, type ScoreOptions, type ScoreResult } from '../tables.js';
import type { MergedSweep } from './read.js';

/** A (model, layer, scenario) of a partial sweep that could not be scored. */
export interface NotScored {
  model: string;
  layer: number;
  scenario: string;
  reason: string;
}

export interface SweepScore {
  result: ScoreResult;
  notScored: NotScored[];
}

/** Scores what the sweep holds (see the module comment). E_BAD_ARG when nothing can be scored. */
export function scoreSweep(m: MergedSweep, options: ScoreOptions = {}): SweepScore {
  if (m.records.length === 0) throw new EiaError('E_BAD_ARG', `${m.runs.map((r) => r.dir).join(', ')}: no samples to score`);
  let records: readonly SampleRecord[] = m.records;
  const notScored: NotScored[] = [];
  if (m.partial && m.manifest.parameters.alphas.some((a) => a === 0)) {
    const withBaseline = new Set(records.filter((r) => r.alpha === 0).map((r) => rowKey(r)));
    const dropped = new Map<string, NotScored>();
    for (const r of records) {
      if (!withBaseline.has(rowKey(r)) && !dropped.has(rowKey(r))) {
        dropped.set(rowKey(r), { model: r.model, layer: r.layer, scenario: r.scenario, reason: 'its alpha = 0 baseline samples are missing' });
      }
    }
    notScored.push(...dropped.values());
    records = records.filter((r) => withBaseline.has(rowKey(r)));
    if (records.length === 0) throw new EiaError('E_BAD_ARG', 'no (layer, scenario) of this partial sweep has its alpha = 0 baseline samples yet: nothing can be scored');
  }
  return { result: scoreSamples(records, options), notScored };
}

const rowKey = (r: SampleRecord): string => JSON.stringify([r.model, r.layer, r.scenario]);

/** The fields a score of a sweep adds to Table 2 (snake_case: they are written to score.json and printed). */
export function sweepFacts(m: MergedSweep, notScored: readonly NotScored[] = []): Record<string, unknown> {
  // what the score was computed from: each RUN's samples.jsonl as it is now (score-source.ts)
  const derived: DerivedFrom = {
    samples: m.runs.filter((r) => existsSync(join(r.dir, RUN_FILES.samples))).map((r) => sampleSource(join(r.dir, RUN_FILES.samples), r.records.length)),
  };
  return {
    derived_from: derived,
    partial: m.partial,
    missing_cells: m.missing.map((c) => ({ layer: c.layer, scenario: c.scenario, alpha: c.alpha, sample: c.sample })),
    not_scored: notScored,
    sweep: {
      grid_id: m.gridId,
      shard_count: m.shardCount,
      runs: m.runs.map((r) => ({ path: r.dir, shard: r.count > 1 ? formatShard(r) : null, samples: r.records.length })),
      missing_shards: m.missingShards.map((i) => formatShard({ index: i, count: m.shardCount })),
      cells: m.cells,
      present: m.records.length,
    },
  };
}

/**
 * Lines for people on what a partial sweep lacks: the count, the shards not given, and the missing
 * cells grouped by condition (at most `maxLines` conditions; the full list is in `missing_cells`).
 */
export function describeMissing(m: MergedSweep, maxLines = 12): string[] {
  if (!m.partial) return [];
  const out = [`partial sweep: ${m.missing.length} of ${m.cells} cells missing; only the ${m.records.length} samples present are scored`];
  if (m.missingShards.length > 0) {
    out.push(`  shard${m.missingShards.length === 1 ? '' : 's'} not given: ${m.missingShards.map((i) => formatShard({ index: i, count: m.shardCount })).join(', ')}`);
  }
  const groups = new Map<string, { c: GridCell; samples: number[] }>();
  for (const c of m.missing) {
    const k = JSON.stringify([c.layer, c.scenario, c.alpha]);
    const g = groups.get(k) ?? { c, samples: [] };
    g.samples.push(c.sample);
    groups.set(k, g);
  }
  const all = [...groups.values()];
  for (const g of all.slice(0, maxLines)) out.push(`  missing: layer ${g.c.layer}, ${g.c.scenario}, alpha ${g.c.alpha}: sample${g.samples.length === 1 ? '' : 's'} ${ranges(g.samples)}`);
  if (all.length > maxLines) out.push(`  … and ${all.length - maxLines} more conditions with missing samples (all listed in missing_cells of the JSON output)`);
  return out;
}

/** [0,1,2,4] -> "0-2, 4". */
function ranges(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return out.join(', ');
}

/** A Markdown banner for a partial sweep ('' when complete). */
export function partialBanner(m: MergedSweep, notScored: readonly NotScored[] = []): string {
  if (!m.partial) return '';
  const lines = describeMissing(m, 12);
  let md = `> **Partial sweep**: ${lines[0].replace(/^partial sweep: /, '')}.\n>\n`;
  for (const l of lines.slice(1)) md += `> - ${l.trim()}\n`;
  if (notScored.length) md += `> - not scored (no alpha = 0 samples yet): ${notScored.map((n) => `layer ${n.layer} ${n.scenario}`).join('; ')}\n`;
  return md + '\n';
}
