// Shards of a sweep without a model: the --shard grammar (I/N, auto/N from the scheduler's
// environment), the split of the grid (every cell in exactly one shard, a shared baseline kept
// whole, the same split whatever the list order, near-equal token cost) and the grid's identity.
import { describe, expect, it } from 'vitest';
import { gridId } from '../../lib/steering/sweep/grid-id.js';
import type { SweepParameters } from '../../lib/steering/sweep/manifest.js';
import { cellKey, sweepGrid } from '../../lib/steering/sweep/plan.js';
import { parseShard, partitionGrid, shardGroups, type GridShape } from '../../lib/steering/sweep/shard.js';
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

describe('partitionGrid', () => {
  const grid = sweepGrid(PAPER.layers, PAPER.alphas, PAPER.scenarios, PAPER.samples);

  it('puts every cell of the grid in exactly one shard, for any shard count', () => {
    for (let n = 1; n <= 12; n++) {
      const p = partitionGrid(PAPER, n);
      const counts = new Array(n).fill(0);
      for (const c of grid) counts[p.shardOf(c)!]++;
      expect(counts, `N=${n}`).toEqual(p.shards.map((s) => s.cells));
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
    expect(shardGroups(PAPER)).toHaveLength(3 * 8 * 3 * 5 + 3 * 5);
    expect(p.shards.reduce((s, x) => s + x.generations, 0)).toBe(375);
    expect(p.shards.reduce((s, x) => s + x.token_cost, 0)).toBe(375 * PAPER.maxTokens);
  });

  it('3 x 9 x 3 x 5: the shards\' token costs differ by at most 10% (at most one generation) for 2..12 shards', () => {
    const spread: string[] = [];
    for (let n = 2; n <= 12; n++) {
      const costs = partitionGrid(PAPER, n).shards.map((s) => s.token_cost);
      const max = Math.max(...costs), min = Math.min(...costs);
      expect(max - min, `N=${n}: ${costs}`).toBeLessThanOrEqual(PAPER.maxTokens);
      expect((max - min) / max, `N=${n}`).toBeLessThanOrEqual(0.1);
      spread.push(`${n}: ${(100 * (max - min) / max).toFixed(1)}%`);
    }
    process.stderr.write(`[shard] token cost spread on 3x9x3x5 by shard count: ${spread.join(', ')}\n`);
    // 3 shards: 125 generations and 135 cells each
    expect(partitionGrid(PAPER, 3).shards.map((s) => [s.generations, s.cells])).toEqual([[125, 135], [125, 135], [125, 135]]);
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

  it('more shards than generations leaves some empty, still covering every cell once', () => {
    const tiny: GridShape = { layers: [1], alphas: [0, 5], scenarios: ['the_maze'], samples: 1, maxTokens: 8 };
    const p = partitionGrid(tiny, 4);
    expect(p.shards.map((s) => s.cells)).toEqual([1, 1, 0, 0]);
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
