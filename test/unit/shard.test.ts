// Shards of a sweep without a model: the --shard grammar (I/N, auto/N from the scheduler's
// environment), the split of the grid (every cell in exactly one shard, a shared baseline kept
// whole, the same split whatever the list order, near-equal token cost) and the grid's identity.
import { describe, expect, it } from 'vitest';
import { gridId } from '../../lib/steering/sweep/grid-id.js';
import type { SweepParameters } from '../../lib/steering/sweep/manifest.js';
import { cellKey, sweepGrid } from '../../lib/steering/sweep/plan.js';
import { parseShard, partitionGrid, type GridPartition, type GridShape } from '../../lib/steering/sweep/shard.js';
import { EiaError } from '../../lib/util/errors.js';

// the grid of the acceptance check: 3 layers x the paper's 9 alphas x 3 scenarios x 5 samples
const PAPER: GridShape = {
  layers: [12, 16, 20], alphas: [-20, -10, -5, -3, 0, 3, 5, 10, 20], scenarios: ['food_delivery', 'the_listener', 'the_maze'], samples: 5, maxTokens: 200,
};

function badArg(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EiaError);
    expect((e as EiaError).code).toBe('E_BAD_ARG');
    return (e as Error).message;
  }
  throw new Error('expected an E_BAD_ARG error');
}

describe('parseShard', () => {
  it('reads I/N', () => {
    expect(parseShard('1/3', {})).toEqual({ index: 1, count: 3 });
    expect(parseShard(' 0 / 1 ', {})).toEqual({ index: 0, count: 1 });
  });

  it('refuses what is not a part I of N with 0 <= I < N', () => {
    expect(badArg(() => parseShard('3/3', {}))).toMatch(/shard index 3 is out of range for 3 shards \(0\.\.2\)/);
    expect(badArg(() => parseShard('1/0', {}))).toMatch(/shard count must be a positive integer/);
    for (const s of ['x', '-1/3', '1/3/4', '1.5/3', '1/', '/3', '']) expect(badArg(() => parseShard(s, {}))).toMatch(/shard must be I\/N/);
  });

  it('auto/N reads SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX', () => {
    expect(parseShard('auto/3', { SLURM_ARRAY_TASK_ID: '2' })).toEqual({ index: 2, count: 3 });
    expect(parseShard('auto/3', { JOB_COMPLETION_INDEX: '1' })).toEqual({ index: 1, count: 3 });
    expect(parseShard('auto/3', { SLURM_ARRAY_TASK_ID: '0', JOB_COMPLETION_INDEX: '1' })).toEqual({ index: 0, count: 3 });
    expect(parseShard('auto/3', { SLURM_ARRAY_TASK_ID: '', JOB_COMPLETION_INDEX: '1' })).toEqual({ index: 1, count: 3 });
  });

  it('auto/N without an index, with an index >= N or with a non-number is refused, naming the variable', () => {
    const none = badArg(() => parseShard('auto/3', { PATH: '/bin' }));
    expect(none).toMatch(/SLURM_ARRAY_TASK_ID/);
    expect(none).toMatch(/JOB_COMPLETION_INDEX/);
    expect(badArg(() => parseShard('auto/3', { SLURM_ARRAY_TASK_ID: '3' }))).toMatch(/SLURM_ARRAY_TASK_ID=3 is out of range for 3 shards \(0\.\.2\); a job array for auto\/3 is --array=0-2/);
    expect(badArg(() => parseShard('auto/2', { JOB_COMPLETION_INDEX: '7' }))).toMatch(/JOB_COMPLETION_INDEX=7 is out of range for 2 shards/);
    expect(badArg(() => parseShard('auto/3', { JOB_COMPLETION_INDEX: 'a' }))).toMatch(/JOB_COMPLETION_INDEX is 'a', not a task index/);
  });
});

/** The shards' loads, listed (the partition computes them per index). */
const loads = (p: GridPartition) => Array.from({ length: p.count }, (_, i) => p.load(i));

/**
 * The split as it was first written, kept here as the reference: the greedy deal over a list of
 * generations (baselines first, then canonical order) to the shard of least token cost, ties fewest
 * cells, then lowest index. partitionGrid computes the same owner per cell arithmetically.
 */
function greedyReference(g: GridShape, count: number): Map<string, number> {
  const s = <T>(xs: readonly T[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const layers = s(g.layers), alphas = s(g.alphas.map((a) => (a === 0 ? 0 : a)));
  const groups: { cells: { layer: number; scenario: string; alpha: number; sample: number }[] }[] = [];
  for (const scenario of s(g.scenarios)) {
    if (alphas.includes(0)) for (let sample = 0; sample < g.samples; sample++) groups.push({ cells: layers.map((layer) => ({ layer, scenario, alpha: 0, sample })) });
    for (const layer of layers) for (const alpha of alphas) {
      if (alpha === 0) continue;
      for (let sample = 0; sample < g.samples; sample++) groups.push({ cells: [{ layer, scenario, alpha, sample }] });
    }
  }
  const order = groups.map((_, i) => i).sort((a, b) => (groups[b].cells.length - groups[a].cells.length) || (a - b));
  const shards = Array.from({ length: count }, (_, index) => ({ index, cost: 0, cells: 0 }));
  const owner = new Map<string, number>();
  for (const gi of order) {
    let best = shards[0];
    for (const x of shards) if (x.cost < best.cost || (x.cost === best.cost && x.cells < best.cells)) best = x;
    best.cost += g.maxTokens;
    best.cells += groups[gi].cells.length;
    for (const c of groups[gi].cells) owner.set(cellKey(c), best.index);
  }
  return owner;
}

describe('partitionGrid', () => {
  const grid = sweepGrid(PAPER.layers, PAPER.alphas, PAPER.scenarios, PAPER.samples);

  it('puts every cell of the grid in exactly one shard, for any shard count', () => {
    for (let n = 1; n <= 12; n++) {
      const p = partitionGrid(PAPER, n);
      const counts = new Array(n).fill(0);
      for (const c of grid) counts[p.shardOf(c)!]++;
      expect(counts, `N=${n}`).toEqual(loads(p).map((s) => s.cells));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(grid.length);
      expect(p.shardOf({ layer: 13, scenario: 'the_maze', alpha: 0, sample: 0 })).toBeUndefined();
    }
  });

  it('keeps the cells of a shared alpha = 0 generation in one shard, and counts it once', () => {
    const p = partitionGrid(PAPER, 4);
    for (const scenario of PAPER.scenarios) {
      for (let sample = 0; sample < PAPER.samples; sample++) {
        const owners = new Set(PAPER.layers.map((layer) => p.shardOf({ layer, scenario, alpha: 0, sample })));
        expect(owners.size, `${scenario}/${sample}`).toBe(1);
      }
    }
    // 3 x 8 x 3 x 5 steered generations + 3 x 5 baselines; 405 cells
    expect(loads(p).reduce((s, x) => s + x.generations, 0)).toBe(3 * 8 * 3 * 5 + 3 * 5);
    expect(p.total).toEqual({ index: -1, generations: 375, cells: 405, token_cost: 375 * PAPER.maxTokens });
    expect(loads(p).reduce((s, x) => s + x.token_cost, 0)).toBe(375 * PAPER.maxTokens);
  });

  it('3 x 9 x 3 x 5: the shards\' token costs differ by at most 10% (at most one generation) for 2..12 shards', () => {
    const spread: string[] = [];
    for (let n = 2; n <= 12; n++) {
      const costs = loads(partitionGrid(PAPER, n)).map((s) => s.token_cost);
      const max = Math.max(...costs), min = Math.min(...costs);
      expect(max - min, `N=${n}: ${costs}`).toBeLessThanOrEqual(PAPER.maxTokens);
      expect((max - min) / max, `N=${n}`).toBeLessThanOrEqual(0.1);
      spread.push(`${n}: ${(100 * (max - min) / max).toFixed(1)}%`);
    }
    process.stderr.write(`[shard] token cost spread on 3x9x3x5 by shard count: ${spread.join(', ')}\n`);
    // 3 shards: 125 generations and 135 cells each
    expect(loads(partitionGrid(PAPER, 3)).map((s) => [s.generations, s.cells])).toEqual([[125, 135], [125, 135], [125, 135]]);
  });

  it('deals the grid out: each of 3 shards holds samples of every (layer, scenario, alpha)', () => {
    const p = partitionGrid(PAPER, 3);
    for (let i = 0; i < 3; i++) {
      const conditions = new Set(grid.filter((c) => p.shardOf(c) === i).map((c) => JSON.stringify([c.layer, c.scenario, c.alpha])));
      expect(conditions.size).toBe(3 * 9 * 3);
    }
  });

  it('is the same split whatever the order of the lists (and -0 is 0)', () => {
    const shuffled: GridShape = { ...PAPER, layers: [20, 12, 16], alphas: [5, -0, 20, -3, 10, -20, 3, -5, -10], scenarios: ['the_maze', 'food_delivery', 'the_listener'] };
    const a = partitionGrid(PAPER, 5), b = partitionGrid(shuffled, 5);
    for (const c of grid) expect(b.shardOf(c), cellKey(c)).toBe(a.shardOf(c));
  });

  it('a shard count is bounded by the grid: at most one shard per generation (issue 23: 10^9 shards allocated one object each)', () => {
    const tiny: GridShape = { layers: [1], alphas: [0, 5], scenarios: ['the_maze'], samples: 1, maxTokens: 8 };
    expect(loads(partitionGrid(tiny, 2)).map((s) => s.cells)).toEqual([1, 1]);
    expect(badArg(() => partitionGrid(tiny, 3))).toMatch(/shard: 3 shards are more than the grid's 2 generations .*at most 2 shards/);
    const t0 = Date.now();
    expect(badArg(() => partitionGrid(PAPER, 1_000_000_000))).toMatch(/shard: 1000000000 shards are more than the grid's 375 generations/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('the arithmetic split is the greedy deal, cell for cell, on 300 grids and every shard count up to their generations', () => {
    let state = 12345;
    const rnd = (n: number) => { state = (Math.imul(state, 1103515245) + 12345) >>> 0; return state % n; };
    const pick = <T>(xs: readonly T[], k: number) => [...xs].sort(() => rnd(3) - 1).slice(0, k);
    let checked = 0;
    for (let t = 0; t < 300; t++) {
      const alphas = pick([-20, -5, -1, 0, 2, 3, 10], 1 + rnd(5));
      if (t % 4 === 0 && !alphas.includes(0)) alphas.push(0);
      const g: GridShape = {
        layers: pick([3, 7, 1, 12, 20], 1 + rnd(4)), alphas, scenarios: pick(['the_maze', 'food_delivery', 'the_duel', 'the_listener'], 1 + rnd(3)),
        samples: 1 + rnd(4), maxTokens: 1 + rnd(50),
      };
      const gens = partitionGrid(g, 1).total.generations;
      const grid = sweepGrid(g.layers, g.alphas, g.scenarios, g.samples);
      for (let n = 1; n <= gens; n++) {
        const p = partitionGrid(g, n);
        const ref = greedyReference(g, n);
        const counts = new Array(n).fill(0);
        const differ = grid.filter((c) => p.shardOf(c) !== ref.get(cellKey(c)));
        expect(differ.map(cellKey), `${JSON.stringify(g)} N=${n}`).toEqual([]);
        for (const c of grid) counts[p.shardOf(c)!]++;
        expect(loads(p).map((x) => x.cells), `${JSON.stringify(g)} N=${n}`).toEqual(counts);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

describe('gridId', () => {
  const P: SweepParameters = {
    model_sha256: 'a'.repeat(64), layers: [12, 16, 20], alphas: [-5, 0, 5], scenarios: ['food_delivery', 'the_maze'], samples: 5, max_tokens: 200,
    temperature: 0.7, top_k: 50, top_p: 1, min_p: 0, seed: 0, chat: false, monitor: false, probe_score: 'monitor', positions: 'all',
    probes: { 12: 'b'.repeat(64), 16: 'c'.repeat(64), 20: 'd'.repeat(64) }, prompts_sha256: 'e'.repeat(64),
  };

  it('does not depend on the order of the lists or keys', () => {
    const same = { ...P, layers: [20, 12, 16], alphas: [5, -0, -5], scenarios: ['the_maze', 'food_delivery'], probes: { 20: 'd'.repeat(64), 12: 'b'.repeat(64), 16: 'c'.repeat(64) } };
    expect(gridId(same)).toBe(gridId(P));
    expect(gridId(P)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with every field that defines the grid', () => {
    const changes: Partial<SweepParameters>[] = [
      { alphas: [-5, 0, 10] }, { layers: [12, 16] }, { scenarios: ['the_maze'] }, { samples: 4 }, { max_tokens: 100 }, { seed: 1 },
      { temperature: 0.8 }, { top_k: 40 }, { chat: true }, { monitor: true }, { probe_score: 'capture' }, { model_sha256: 'f'.repeat(64) },
      { probes: { ...P.probes, 16: 'f'.repeat(64) } }, { prompts_sha256: 'f'.repeat(64) },
    ];
    const ids = new Set([gridId(P), ...changes.map((c) => gridId({ ...P, ...c }))]);
    expect(ids.size).toBe(changes.length + 1);
  });

  it('reads an old manifest\'s boolean probe_score as its mode', () => {
    expect(gridId({ ...P, probe_score: true as never })).toBe(gridId({ ...P, probe_score: 'capture' }));
  });
});
