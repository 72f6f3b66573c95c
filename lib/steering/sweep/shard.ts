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
import { EiaError } from '../../util/errors.js';
import { cellKey, sorted, type GridCell } from './plan.js';

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

/** One generation of the split and the cells it fills. */
export interface ShardGroup {
  cells: GridCell[];
  /** Decode budget: max tokens. */
  cost: number;
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
  shards: ShardLoad[];
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

/**
 * The generations of a grid in a canonical order that does not depend on the order of the lists:
 * scenarios, then for each its baselines (alpha = 0, one per sample, filling every layer), then
 * layers, alphas and samples ascending.
 */
export function shardGroups(g: GridShape): ShardGroup[] {
  const layers = sorted(g.layers);
  const alphas = sorted(g.alphas.map((a) => (a === 0 ? 0 : a)));
  const out: ShardGroup[] = [];
  for (const scenario of sorted(g.scenarios)) {
    if (alphas.includes(0)) {
      for (let sample = 0; sample < g.samples; sample++) {
        out.push({ cells: layers.map((layer) => ({ layer, scenario, alpha: 0, sample })), cost: g.maxTokens });
      }
    }
    for (const layer of layers) for (const alpha of alphas) {
      if (alpha === 0) continue;
      for (let sample = 0; sample < g.samples; sample++) out.push({ cells: [{ layer, scenario, alpha, sample }], cost: g.maxTokens });
    }
  }
  return out;
}

/**
 * Splits the grid into `count` shards: the generations, baselines first (they fill the most cells)
 * and then in canonical order, each go to the shard with the least token cost so far (ties: fewest
 * cells, then lowest index). With equal costs this deals them out in turn, so the shards' token
 * costs differ by at most one generation and every shard gets samples of every part of the grid
 * (no shard holds all of one scenario whose texts happen to end early).
 */
export function partitionGrid(g: GridShape, count: number): GridPartition {
  checkShard({ index: 0, count });
  const groups = shardGroups(g);
  const order = groups.map((_, i) => i).sort((a, b) => (groups[b].cells.length - groups[a].cells.length) || (a - b));
  const shards: ShardLoad[] = Array.from({ length: count }, (_, index) => ({ index, generations: 0, cells: 0, token_cost: 0 }));
  const owner = new Map<string, number>();
  for (const gi of order) {
    const grp = groups[gi];
    let best = shards[0];
    for (const s of shards) {
      if (s.token_cost < best.token_cost || (s.token_cost === best.token_cost && s.cells < best.cells)) best = s;
    }
    best.generations++;
    best.cells += grp.cells.length;
    best.token_cost += grp.cost;
    for (const c of grp.cells) owner.set(cellKey(c), best.index);
  }
  return { count, shards, shardOf: (cell) => owner.get(cellKey(cell)) };
}
