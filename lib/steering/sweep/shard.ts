// Shards of a sweep: the grid split into N parts of near-equal token cost, so that N processes (a
// SLURM job array, a Kubernetes Indexed Job, GNU parallel) each run one part into its own RUN folder
// with no coordination. The split is a pure function of the grid (layers, alphas, scenarios,
// samples, max tokens) and N: every process computes the same one, and so does a later merge.
//
// The unit of the split is one generation, not one cell: the unsharded alpha = 0 baseline of a
// (scenario, sample) is one generation written for every layer (plan.ts, shareBaseline), so its
// cells stay together in one shard and the shard generates it once, exactly as an unsharded sweep
// does. A generation costs its decode budget, max tokens; every generation of a grid has the same
// budget, and the prompt phase (one pass, shared by identical prompts) is small next to it.
import { badField, EiaError } from '../../util/errors.js';
import { sorted, type GridCell } from './plan.js';

/** Part `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** The grid as the split sees it (list order does not matter). */
export interface GridShape {
  layers: readonly number[];
  alphas: readonly number[];
  scenarios: readonly string[];
  samples: number;
  maxTokens: number;
}

/** What one shard holds. */
export interface ShardLoad {
  index: number;
  /** Generations (a shared baseline counts once). */
  generations: number;
  cells: number;
  /** Sum of the generations' decode budgets, in tokens. */
  token_cost: number;
}

export interface GridPartition {
  count: number;
  /** The load of shard `index` (0 <= index < count), computed, not stored. */
  load(index: number): ShardLoad;
  /** The whole grid's load (index -1). */
  total: ShardLoad;
  /** The shard a cell of the grid belongs to (undefined for a cell outside the grid). */
  shardOf(cell: GridCell): number | undefined;
}

/** Environment variables that carry a scheduler's task index, in the order they are read. */
export const SHARD_INDEX_VARIABLES = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX'] as const;

const bad = (msg: string): never => { throw new EiaError('E_BAD_ARG', msg); };

/** "I/N" as written on the command line and in messages. */
export const formatShard = (s: ShardSpec): string => `${s.index}/${s.count}`;

/**
 * Parses "I/N" (0 <= I < N) or "auto/N", where auto reads I from SLURM_ARRAY_TASK_ID (SLURM job
 * arrays) or else JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). E_BAD_ARG on anything else, on
 * a missing index variable and on I >= N.
 */
export function parseShard(text: string, env: Record<string, string | undefined> = process.env): ShardSpec {
  const m = /^\s*(\d+|auto)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) bad(`shard must be I/N (part I of N, 0 <= I < N) or auto/N, got '${text}'`);
  const count = Number(m![2]);
  if (!Number.isSafeInteger(count) || count < 1) bad(`shard count must be a positive integer, got '${m![2]}'`);
  if (m![1] !== 'auto') return checkShard({ index: Number(m![1]), count });
  const name = SHARD_INDEX_VARIABLES.find((v) => env[v] !== undefined && env[v] !== '');
  if (!name) {
    return bad(`shard auto/${count}: no task index in the environment (neither SLURM_ARRAY_TASK_ID, set in a SLURM job array, ` +
      `nor JOB_COMPLETION_INDEX, set in a Kubernetes Indexed Job); give the index as I/${count}`);
  }
  const raw = env[name]!.trim();
  if (!/^\d+$/.test(raw)) bad(`shard auto/${count}: ${name} is '${raw}', not a task index (a non-negative integer)`);
  const index = Number(raw);
  if (index >= count) {
    const hint = name === 'SLURM_ARRAY_TASK_ID' ? `; a job array for auto/${count} is --array=0-${count - 1}` : `; an Indexed Job for auto/${count} has completions: ${count}`;
    bad(`shard auto/${count}: ${name}=${index} is out of range for ${count} shard${count === 1 ? '' : 's'} (0..${count - 1})${hint}`);
  }
  return { index, count };
}

/** A shard given in code: integers with 0 <= index < count (E_BAD_ARG otherwise). */
export function checkShard(s: ShardSpec): ShardSpec {
  if (!Number.isSafeInteger(s.count) || s.count < 1) bad(`shard count must be a positive integer, got ${s.count}`);
  if (!Number.isSafeInteger(s.index) || s.index < 0 || s.index >= s.count) {
    bad(`shard index ${s.index} is out of range for ${s.count} shard${s.count === 1 ? '' : 's'} (0..${s.count - 1})`);
  }
  return { index: s.index, count: s.count };
}

/** The grid's sizes as the split counts them (lists made distinct and sorted, -0 is 0). */
interface GridCounts {
  layers: number[];
  nonZero: number[];
  scenarios: string[];
  samples: number;
  /** alpha = 0 is in the grid: one shared baseline per (scenario, sample). */
  baseline: boolean;
  /** Baseline generations (each fills every layer) and the steered ones (one cell each). */
  baselines: number;
  steered: number;
  generations: number;
}

function gridCounts(g: GridShape): GridCounts {
  const layers = sorted([...new Set(g.layers)]);
  const alphas = [...new Set(g.alphas.map((a) => (a === 0 ? 0 : a)))];
  const nonZero = sorted(alphas.filter((a) => a !== 0));
  const scenarios = sorted([...new Set(g.scenarios)]);
  const baseline = alphas.includes(0);
  const baselines = baseline ? scenarios.length * g.samples : 0;
  const steered = scenarios.length * layers.length * nonZero.length * g.samples;
  return { layers, nonZero, scenarios, samples: g.samples, baseline, baselines, steered, generations: baselines + steered };
}

/** The number of generations of a grid (a shared baseline counts once): the most shards it splits into. */
export function gridGenerations(g: GridShape): number {
  return gridCounts(g).generations;
}

/** A shard count for this grid: a positive integer and at most one shard per generation (E_BAD_ARG otherwise; a FieldError of `shard`). */
export function checkShardCount(g: GridShape, count: number): void {
  checkShard({ index: 0, count });
  const n = gridGenerations(g);
  if (count > n) {
    throw badField('shard', 'invalid_value', (name) => `${name('shard')}: ${count} shards are more than the grid's ${n} generation${n === 1 ? '' : 's'} ` +
      `(layers x non-zero alphas x scenarios x samples, plus one shared alpha = 0 baseline per scenario and sample): a shard holds at least one ` +
      `generation, so at most ${n} shards`);
  }
}

/**
 * Splits the grid into `count` shards (1 <= count <= the grid's generations, checkShardCount): the
 * generations, baselines first (they fill the most cells) and then in canonical order, each go to
 * the shard with the least token cost so far (ties: fewest cells, then lowest index). With equal
 * costs this deals them out in turn, so the shards' token costs differ by at most one generation
 * and every shard gets samples of every part of the grid (no shard holds all of one scenario whose
 * texts happen to end early).
 *
 * The canonical order: scenarios, then for each its baselines (alpha = 0, one per sample, filling
 * every layer), then layers, non-zero alphas and samples ascending, whatever the order of the lists.
 * Every generation has the same cost (max tokens), so the greedy deal has a closed form, computed
 * per cell without a list of generations or of shards (a count of 10^9 costs nothing):
 * - one layer: every generation fills one cell, and generation i (canonical order) goes to shard i mod N;
 * - several layers: baseline k goes to shard k mod N; with r = (baselines mod N), steered generation j
 *   goes to shard r + j while j < N - r (the shards one baseline short), and after that the deal goes
 *   round in the order r, r+1, …, N-1, 0, …, r-1 (those shards hold fewer cells at equal cost).
 * test/unit/shard.test.ts checks this against the greedy deal itself on many grids.
 */
export function partitionGrid(g: GridShape, count: number): GridPartition {
  checkShardCount(g, count);
  const c = gridCounts(g);
  const N = count;
  const L = c.layers.length, A = c.nonZero.length, S = c.samples;
  const per = (a: number, b: number) => Math.floor(a / b);
  const layerAt = new Map(c.layers.map((l, i) => [l, i]));
  const alphaAt = new Map(c.nonZero.map((a, i) => [a, i]));
  const scenAt = new Map(c.scenarios.map((s, i) => [s, i]));
  const B = c.baselines, R = c.steered, r = B % N;
  const block = (c.baseline ? S : 0) + L * A * S;  // generations per scenario in canonical order
  const steeredShard = (j: number): number => {
    if (j < N - r) return r + j;
    return (r + ((j - (N - r)) % N)) % N;
  };
  const shardOf = (cell: GridCell): number | undefined => {
    const si = scenAt.get(cell.scenario), li = layerAt.get(cell.layer);
    if (si === undefined || li === undefined || !Number.isInteger(cell.sample) || cell.sample < 0 || cell.sample >= S) return undefined;
    if (cell.alpha === 0) {
      if (!c.baseline) return undefined;
      return L === 1 ? (si * block + cell.sample) % N : (si * S + cell.sample) % N;
    }
    const ai = alphaAt.get(cell.alpha);
    if (ai === undefined) return undefined;
    const within = li * A * S + ai * S + cell.sample;
    if (L === 1) return (si * block + (c.baseline ? S : 0) + within) % N;
    return steeredShard(si * L * A * S + within);
  };
  const load = (index: number): ShardLoad => {
    if (!Number.isInteger(index) || index < 0 || index >= N) bad(`shard index ${index} is out of range for ${N} shards (0..${N - 1})`);
    let baselines: number, steered: number;
    if (L === 1) {
      const gens = per(c.generations, N) + (index < c.generations % N ? 1 : 0);
      return { index, generations: gens, cells: gens, token_cost: gens * g.maxTokens };
    }
    baselines = per(B, N) + (index < r ? 1 : 0);
    const first = Math.min(R, N - r);  // steered generations of the first pass: shards r .. r + first - 1
    const rest = Math.max(0, R - first);
    steered = (index >= r && index < r + first ? 1 : 0) + per(rest, N) + (((index - r + N) % N) < rest % N ? 1 : 0);
    return { index, generations: baselines + steered, cells: baselines * L + steered, token_cost: (baselines + steered) * g.maxTokens };
  };
  const total: ShardLoad = { index: -1, generations: c.generations, cells: B * L + R, token_cost: c.generations * g.maxTokens };
  return { count: N, load, total, shardOf };
}
