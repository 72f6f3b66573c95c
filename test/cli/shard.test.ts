// Sharded sweeps through the CLI, on the planted model: 3 shards run as 3 processes at once and
// merged equal the unsharded sweep (samples, tokens, Table 2); a shard killed with SIGKILL resumes
// exactly; --shard auto/N reads the scheduler's index; score, report and merge refuse shards of
// another grid, of another shard count, a shard given twice and duplicated samples; an incomplete
// set is scored as partial; `run --shard`; and docs/scale-out.md's GNU parallel block, the SLURM script and
// the Kubernetes Job of examples/ run as written.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../lib/io/run-lock.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';

let T = '';
let model = '';
let probes = '';
let shim = '';  // a folder with an `eia-native` command, as an installed package puts on PATH

interface Result { status: number | null; stdout: string; stderr: string }

/** The environment of every child: no scheduler index unless a test sets one. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${shim}${delimiter}${process.env.PATH}`, ...extra };
  for (const k of ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'JOB_COMPLETION_INDEX']) if (!(k in extra)) delete e[k];
  return e;
}

function spawnCmd(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: env(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<Result>((res, rej) => {
    child.on('error', rej);
    child.on('close', (status) => res({ status, stdout, stderr }));
  });
  return { child, done };
}

const cli = (args: string[], extraEnv: Record<string, string> = {}) => spawnCmd(process.execPath, [CLI, ...args], { env: extraEnv }).done;
const bash = (script: string, cwd: string, extraEnv: Record<string, string> = {}) => spawnCmd('bash', ['-c', script], { cwd, env: extraEnv }).done;

async function ok(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const r = await cli(args, extraEnv);
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
}

const keyOf = (r: { layer: number; scenario: string; alpha: number; sample: number }) => JSON.stringify([r.layer, r.scenario, r.alpha, r.sample]);

/** A RUN's samples by cell, every field that does not depend on timing; each cell at most once. */
function samplesOf(...runs: string[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const run of runs) {
    for (const l of lines(join(run, 'samples.jsonl'))) {
      const { timings: _t, ...r } = JSON.parse(l);
      expect(out.has(keyOf(r)), `${keyOf(r)} twice`).toBe(false);
      out.set(keyOf(r), r);
    }
  }
  return out;
}

/**
 * Deep equality in which a number may differ from the expected one by one part in 1e6 (relative)
 * or 1e-9 (absolute): probe scores are float sums over the residual stream, and llama.cpp's matrix
 * kernels add in an order that depends on how many rows a batch holds, so a sample generated in a
 * batch of another size (a shard, a resumed run with another --batch) scores ~1e-8 apart with the
 * same tokens. Everything else (tokens, text, counts, rates: rationals at least 1/n apart) is exact.
 */
function expectSame(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number' && !Number.isInteger(expected)) {
    expect(Math.abs(actual - expected) <= Math.max(1e-9, 1e-6 * Math.abs(expected)), `${path}: ${actual} vs ${expected}`).toBe(true);
  } else if (expected instanceof Map && actual instanceof Map) {
    expect([...actual.keys()].sort(), `${path}: cells`).toEqual([...expected.keys()].sort());
    for (const [k, v] of expected) expectSame(actual.get(k), v, `${path}[${k}]`);
  } else if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    expect(Array.isArray(actual), `${path}: array`).toBe(Array.isArray(expected));
    expect(Object.keys(actual).sort(), `${path}: keys`).toEqual(Object.keys(expected).sort());
    for (const k of Object.keys(expected)) expectSame((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

/** score --json without the fields that name the inputs (derived_from: the samples files it was computed from). */
function table2(stdout: string): Record<string, unknown> {
  const { source: _s, sources: _ss, sweep: _w, derived_from: _d, ...rest } = JSON.parse(stdout);
  return rest;
}

const manifest = (run: string) => JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));

/** RUN/.eia-lock as a live process (this test's) holds it. */
function lockAsLive(run: string): void {
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, '.eia-lock'), JSON.stringify({
    pid: process.pid, host: hostname(), pid_start: processStartTime(process.pid), command: 'steer', started_at: new Date().toISOString(), token: 'held-by-the-test',
  }));
}

// 3 layers x the paper's 9 alphas x 3 scenarios x 5 samples, 8 tokens each
const GRID = () => ['--model', model, '--probes', probes, '--layers', '1,2,3', '--alphas=-20,-10,-5,-3,0,3,5,10,20',
  '--scenarios', 'food_delivery,the_listener,the_maze', '--samples', '5', '--max-tokens', '8', '--threads', '1', '--token-ids'];
const CELLS = 3 * 9 * 3 * 5;
const R = (name: string) => join(T, name);
const SH = [0, 1, 2].map((i) => () => R(`sh.${i}`));

let full: Map<string, unknown>;
let fullScore: Record<string, unknown>;

beforeAll(async () => {
  requireFreshDist();
  T = mkdtempSync(join(tmpdir(), 'eia-shard-'));
  shim = join(T, 'bin');
  mkdirSync(shim);
  writeFileSync(join(shim, 'eia-native'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(shim, 'eia-native'), 0o755);
  model = R('planted.gguf');
  await ok(['synth', '--planted', '--out', model]);
  probes = R('probes');
  await ok(['probe', '--model', model, '--train', R('planted.train.jsonl'), '--test', R('planted.test.jsonl'), '--layers', '1,2,3', '--out', probes,
    '--random-baseline', '0', '--permutations', '0', '--bootstrap', '10', '--threads', '1']);
  // the reference: the same sweep unsharded, and the three shards at the same time
  const [ref, ...shards] = await Promise.all([
    cli(['steer', ...GRID(), '--out', R('full')]),
    ...SH.map((s, i) => cli(['steer', ...GRID(), '--shard', `${i}/3`, '--out', s(), '--json'])),
  ]);
  for (const r of [ref, ...shards]) expect(r.status, r.stderr).toBe(0);
  full = samplesOf(R('full'));
  expect(full.size).toBe(CELLS);
  fullScore = table2(await ok(['score', R('full'), '--json']));
}, 300_000);

afterAll(() => {
  if (T) rmSync(T, { recursive: true, force: true });
});

describe('3 shards at once, merged', () => {
  it('hold exactly the unsharded samples (same tokens, same texts) and give the same Table 2', async () => {
    expectSame(samplesOf(...SH.map((s) => s())), full);
    const merged = JSON.parse(await ok(['score', ...SH.map((s) => s()), '--json']));
    expect(merged.partial).toBe(false);
    expect(merged.missing_cells).toEqual([]);
    expectSame(table2(JSON.stringify(merged)), fullScore);
    expect((fullScore.rows as unknown[]).length).toBe(9);
    // the same with the shards in another order
    expectSame(table2(await ok(['score', SH[2](), SH[0](), SH[1](), '--json'])), fullScore);
    // one RUN folder: the same samples and Table 2, and `steer` with the unsharded flags finds nothing to do
    await ok(['merge', SH[1](), SH[2](), SH[0](), '--out', R('merged')]);
    expectSame(samplesOf(R('merged')), full);
    expectSame(table2(await ok(['score', R('merged'), '--json'])), fullScore);
    const before = readFileSync(R('merged/samples.jsonl'), 'utf8');
    const again = await cli(['steer', ...GRID(), '--out', R('merged')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/nothing to do: all 405 samples/);
    expect(readFileSync(R('merged/samples.jsonl'), 'utf8')).toBe(before);
    expect(manifest(R('merged')).merged_from.map((m: { shard: string }) => m.shard)).toEqual(['0/3', '1/3', '2/3']);
  });

  it('record their shard and one grid identity; their token costs differ by at most 10%', () => {
    const ms = SH.map((s) => manifest(s()));
    expect(ms.map((m) => [m.shard.index, m.shard.count])).toEqual([[0, 3], [1, 3], [2, 3]]);
    expect(new Set(ms.map((m) => m.grid_id)).size).toBe(1);
    expect(ms[0].grid_id).toMatch(/^[0-9a-f]{64}$/);
    expect(ms.reduce((s, m) => s + m.shard.cells, 0)).toBe(CELLS);
    const planned = ms.map((m) => m.shard.token_cost);
    expect((Math.max(...planned) - Math.min(...planned)) / Math.max(...planned)).toBeLessThanOrEqual(0.1);
    // the tokens really generated: one per generation (a shared alpha = 0 sample counts once)
    const generated = SH.map((s) => {
      const seen = new Set<string>();
      let n = 0;
      for (const l of lines(join(s(), 'samples.jsonl'))) {
        const r = JSON.parse(l);
        const gen = r.alpha === 0 ? `${r.scenario}/${r.sample}` : keyOf(r);
        if (!seen.has(gen)) { seen.add(gen); n += r.tokens; }
      }
      return n;
    });
    process.stderr.write(`[shard] planned token cost per shard ${planned.join(', ')}; generated ${generated.join(', ')}\n`);
    expect((Math.max(...generated) - Math.min(...generated)) / Math.max(...generated)).toBeLessThanOrEqual(0.1);
  });

  it('report RUN1 RUN2 RUN3 --out DIR: the tables of the unsharded sweep\'s report', async () => {
    const r = JSON.parse(await ok(['report', ...SH.map((s) => s()), '--out', R('report'), '--json']));
    expect(r.html).toBe(R('report/report.html'));
    expect(r.markdown).toBe(R('report/report.md'));
    const u = JSON.parse(await ok(['report', R('full'), '--json']));
    expect(r.tables).toEqual(u.tables);
    const tables = (md: string) => md.split('\n').filter((l) => l.startsWith('| '));
    const mine = tables(readFileSync(r.markdown, 'utf8'));
    expect(mine.length).toBeGreaterThan(20);
    expect(mine).toEqual(tables(readFileSync(u.markdown, 'utf8')));
    expect(readFileSync(r.markdown, 'utf8')).toMatch(/Sweep parts:\*\* 3 RUNs read as one sweep/);
  });
});

describe('a shard killed with SIGKILL', () => {
  it('reruns to completion with no sample lost or written twice; the merge is still exact', async () => {
    const run = R('killed.1');
    const samples = join(run, 'samples.jsonl');
    // one sequence per batch, so that samples land while it runs (the batch size is not part of the grid)
    const { child, done } = spawnCmd(process.execPath, [CLI, 'steer', ...GRID(), '--shard', '1/3', '--batch', '1', '--out', run]);
    const t0 = Date.now();
    while (lines(samples).length < 4) {
      if (Date.now() - t0 > 60_000 || child.exitCode !== null) throw new Error(`no samples in time (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await done;
    expect(child.signalCode).toBe('SIGKILL');
    const before = lines(samples).length;
    expect(before).toBeLessThan(135);
    appendFileSync(samples, '{"model":"planted","layer":2,"scenario":"the_m');  // a write cut short
    const r = await cli(['steer', ...GRID(), '--shard', '1/3', '--out', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/torn last line/);
    expect(r.stderr).toMatch(/took over the lock of .*killed\.1 left by pid \d+/);  // the killed shard's lock
    expect(existsSync(join(run, '.eia-lock'))).toBe(false);
    expectSame(samplesOf(run), samplesOf(SH[1]()));
    expectSame(table2(await ok(['score', SH[0](), run, SH[2](), '--json'])), fullScore);
    await ok(['merge', SH[0](), run, SH[2](), '--out', R('merged-killed')]);
    expectSame(samplesOf(R('merged-killed')), full);
  });
});

describe('--shard auto/N', () => {
  it('SLURM_ARRAY_TASK_ID=2 runs shard 2 of 3', async () => {
    await ok(['steer', ...GRID(), '--shard', 'auto/3', '--out', R('auto')], { SLURM_ARRAY_TASK_ID: '2' });
    expect(manifest(R('auto')).shard).toMatchObject({ index: 2, count: 3 });
    expectSame(samplesOf(R('auto')), samplesOf(SH[2]()));
  });

  it('no index in the environment, or an index >= N, is a usage error (exit 2) before anything is written', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['auto/3', {}, /no task index in the environment \(neither SLURM_ARRAY_TASK_ID.*nor JOB_COMPLETION_INDEX/],
      ['auto/3', { SLURM_ARRAY_TASK_ID: '3' }, /SLURM_ARRAY_TASK_ID=3 is out of range for 3 shards \(0\.\.2\)/],
      ['auto/3', { JOB_COMPLETION_INDEX: '5' }, /JOB_COMPLETION_INDEX=5 is out of range for 3 shards/],
      ['3/3', {}, /shard index 3 is out of range for 3 shards/],
      ['1-3', {}, /shard must be I\/N/],
    ];
    for (const [spec, e, msg] of cases) {
      const r = await cli(['steer', ...GRID(), '--shard', spec, '--out', R('never')], e);
      expect(r.status, `${spec} ${JSON.stringify(e)}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/\[E_BAD_ARG\] --shard: /);
      expect(r.stderr).toMatch(msg);
      expect(existsSync(R('never'))).toBe(false);
    }
  });

  it('a RUN of one shard is not resumed as another', async () => {
    const before = readFileSync(join(SH[1](), 'samples.jsonl'), 'utf8');
    const r = await cli(['steer', ...GRID(), '--shard', '0/3', '--out', SH[1]()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds shard 1\/3 of this sweep, this call asks for shard 0\/3/);
    expect(readFileSync(join(SH[1](), 'samples.jsonl'), 'utf8')).toBe(before);
  });

  it('a shard holds its RUN\'s lock: a second process on the same shard folder is refused (exit 1), the RUN unchanged', async () => {
    const run = R('locked.0');
    cpSync(SH[0](), run, { recursive: true });
    const before = readFileSync(join(run, 'samples.jsonl'), 'utf8');
    lockAsLive(run);
    const r = await cli(['steer', ...GRID(), '--shard', '0/3', '--out', run]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`\\[E_LOCKED\\] .*locked\\.0 is in use by another eia-native process \\(pid ${process.pid}, \`steer\``));
    expect(readFileSync(join(run, 'samples.jsonl'), 'utf8')).toBe(before);
  });
});

describe('merging refuses (score, report and merge alike, exit 2)', () => {
  const refusals: { name: string; runs: () => string[]; error: RegExp }[] = [];

  beforeAll(async () => {
    // shard 2 of a sweep with another alpha list; shard 4 of a split into 5
    const other = GRID().map((a) => (a.startsWith('--alphas=') ? '--alphas=-10,0,10' : a));
    await Promise.all([
      ok(['steer', ...other, '--shard', '2/3', '--out', R('other-alphas.2')]),
      ok(['steer', ...GRID(), '--shard', '4/5', '--out', R('fifth.4')]),
    ]);
    cpSync(SH[1](), R('copy.1'), { recursive: true });
    // a shard holding a sample of shard 0 (which has it too) / of shard 2 (not in the set)
    cpSync(SH[1](), R('dup.1'), { recursive: true });
    appendFileSync(R('dup.1/samples.jsonl'), lines(join(SH[0](), 'samples.jsonl'))[0] + '\n');
    cpSync(SH[1](), R('overlap.1'), { recursive: true });
    appendFileSync(R('overlap.1/samples.jsonl'), lines(join(SH[2](), 'samples.jsonl'))[0] + '\n');
    refusals.push(
      { name: 'shards of different grids (another alpha list)', runs: () => [SH[0](), SH[1](), R('other-alphas.2')], error: /is a sweep of another grid than .*\n\s+alphas: .* has \[-20,-10,-5,-3,0,3,5,10,20\], .* has \[-10,0,10\]/ },
      { name: 'two copies of one shard', runs: () => [SH[0](), SH[1](), R('copy.1')], error: /are both shard 1\/3 \(two copies of one shard\)/ },
      { name: 'a shard count that does not match', runs: () => [SH[0](), SH[1](), R('fifth.4')], error: /the shard counts do not match: .* is shard 0\/3, .* is shard 4\/5/ },
      { name: 'a duplicated sample', runs: () => [SH[0](), R('dup.1'), SH[2]()], error: /duplicated sample: layer \d, \w+, alpha -?\d+, sample \d is in .*dup\.1 and in .*sh\.0/ },
      { name: 'overlapping shards', runs: () => [SH[0](), R('overlap.1')], error: /overlapping shards: .*overlap\.1 \(shard 1\/3\) holds .* which belongs to shard 2\/3/ },
      { name: 'one RUN given twice', runs: () => [SH[0](), SH[0]()], error: /sh\.0 is given twice/ },
    );
  }, 120_000);

  for (const cmd of ['score', 'report', 'merge'] as const) {
    it(`${cmd}: each refusal with its reason, nothing written`, async () => {
      expect(refusals.length).toBe(6);
      for (const f of refusals) {
        const out = R(`refused-${cmd}`);
        const args = cmd === 'score' ? ['score', ...f.runs(), '--json'] : [cmd, ...f.runs(), '--out', out];
        const r = await cli(args);
        expect(r.status, `${cmd}: ${f.name}: ${r.stderr}`).toBe(2);
        expect(r.stderr, f.name).toMatch(/\[E_CONFLICT\]/);
        expect(r.stderr, f.name).toMatch(f.error);
        expect(r.stdout).toBe('');
        expect(existsSync(out), f.name).toBe(false);
        for (const run of f.runs()) expect(existsSync(join(run, 'score.json')), run).toBe(false);
      }
    });
  }
});

describe('a duplicated line inside one shard (issue 14\'s rule: it counts once, with a counted warning)', () => {
  it('score of the shards warns and gives the unsharded Table 2; across shards the same sample is a refusal (above)', async () => {
    const run = R('dupin.1');
    cpSync(SH[1](), run, { recursive: true });
    appendFileSync(join(run, 'samples.jsonl'), lines(join(run, 'samples.jsonl'))[3] + '\n');
    const r = await cli(['score', SH[0](), run, SH[2](), '--json'], { EIA_NATIVE_QUIET: '1' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*dupin\.1\/samples\.jsonl: 1 duplicate sample line ignored/);
    const s = JSON.parse(r.stdout);
    expect(s.duplicates_dropped).toBe(1);
    const { duplicates_dropped: _d, ...rest } = table2(r.stdout);
    const { duplicates_dropped: _f, ...ref } = fullScore;
    expectSame(rest, ref);
    await ok(['merge', SH[0](), run, SH[2](), '--out', R('merged-dupin')]);
    expectSame(samplesOf(R('merged-dupin')), full);
  });
});

describe('merge --out: every check first, then the write under the RUN lock', () => {
  it('a locked --out is refused (exit 1) and left as it was', async () => {
    const out = R('merge-locked');
    lockAsLive(out);
    const r = await cli(['merge', ...SH.map((s) => s()), '--out', out]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`\\[E_LOCKED\\] .*merge-locked is in use by another eia-native process \\(pid ${process.pid}`));
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(join(out, 'samples.jsonl'))).toBe(false);
  });

  it('an --out that holds a sweep is refused (exit 2) unless --force, which moves it to replaced-<time>/', async () => {
    const out = R('merge-over');
    cpSync(R('full'), out, { recursive: true });
    const old = lines(join(out, 'samples.jsonl')).slice(0, 7).join('\n') + '\n';
    writeFileSync(join(out, 'samples.jsonl'), old);
    const r = await cli(['merge', ...SH.map((s) => s()), '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[E_CONFLICT\] .*merge-over already holds a sweep \(manifest\.json, samples\.jsonl\); write the merged RUN to a new folder \(or --force to replace it\)/);
    expect(readFileSync(join(out, 'samples.jsonl'), 'utf8')).toBe(old);
    const f = await cli(['merge', ...SH.map((s) => s()), '--out', out, '--force'], { EIA_NATIVE_QUIET: '1' });
    expect(f.status, f.stderr).toBe(0);
    const moved = /--force: moved (.*) to (\S*replaced-[^\s]+)/.exec(f.stderr);
    expect(moved, f.stderr).not.toBeNull();
    expect(moved![1]).toMatch(/manifest\.json, samples\.jsonl/);
    expect(readFileSync(join(ROOT, moved![2], 'samples.jsonl'), 'utf8')).toBe(old);
    expectSame(samplesOf(out), full);
    expectSame(table2(await ok(['score', out, '--json'])), fullScore);
  });
});

describe('an incomplete set', () => {
  it('says which cells are missing, scores only what exists (marked partial); steer completes the merged RUN', async () => {
    const r = await cli(['score', SH[0](), SH[2](), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.partial).toBe(true);
    expect(s.sweep.missing_shards).toEqual(['1/3']);
    expect(new Set(s.missing_cells.map(keyOf))).toEqual(new Set(samplesOf(SH[1]()).keys()));
    expect(s.num_samples).toBe(CELLS - 135);
    expect(r.stderr).toMatch(/partial sweep: 135 of 405 cells missing/);
    expect(r.stderr).toMatch(/shard not given: 1\/3/);
    expect(r.stderr).toMatch(/missing: layer \d, \w+, alpha -?\d+: samples? \d/);
    // several RUNs: score.json and score.md go to --out DIR only (never into a shard)
    await ok(['score', SH[0](), SH[2](), '--out', R('partial-score')]);
    expect(readFileSync(R('partial-score/score.md'), 'utf8')).toMatch(/^> \*\*Partial sweep\*\*: 135 of 405 cells missing/);
    expect(JSON.parse(readFileSync(R('partial-score/score.json'), 'utf8')).partial).toBe(true);
    for (const s of [SH[0](), SH[2]()]) expect(existsSync(join(s, 'score.json')), s).toBe(false);

    const m = await cli(['merge', SH[0](), SH[2](), '--out', R('partial')]);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stderr).toMatch(/135 of 405 cells missing/);
    expect(JSON.parse(await ok(['score', R('partial'), '--json'])).partial).toBe(true);
    // the merged RUN is an ordinary RUN: the unsharded command generates the missing cells, and then it is the whole sweep
    const fill = await cli(['steer', ...GRID(), '--out', R('partial'), '--json']);
    expect(fill.status, fill.stderr).toBe(0);
    expect(JSON.parse(fill.stdout)).toMatchObject({ written: 135, skipped: CELLS - 135 });
    expectSame(samplesOf(R('partial')), full);
    expectSame(table2(await ok(['score', R('partial'), '--json'])), fullScore);
  });
});

describe('run --shard', () => {
  it('runs only that shard in its sweep stage; its score is partial', async () => {
    const out = R('run.1');
    await ok(['run', '--model', model, '--train', R('planted.train.jsonl'), '--test', R('planted.test.jsonl'), '--layers', '1,2,3', '--steer-layers', '2,3',
      '--alphas=-5,0,5', '--scenarios', 'food_delivery,the_listener', '--samples', '2', '--max-tokens', '8', '--random-baseline', '10', '--permutations', '20',
      '--threads', '1', '--shard', '1/2', '--out', out, '--json']);
    const m = manifest(out);
    expect(m.shard).toMatchObject({ index: 1, count: 2, grid_cells: 2 * 3 * 2 * 2 });
    expect(lines(join(out, 'samples.jsonl'))).toHaveLength(m.shard.cells);
    expect(m.shard.cells).toBeLessThan(m.shard.grid_cells);
    const state = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(state.stages.steer.shard).toBe('1/2');
    const score = JSON.parse(readFileSync(join(out, 'score.json'), 'utf8'));
    expect(score.partial).toBe(true);
    expect(score.missing_cells).toHaveLength(m.shard.grid_cells - m.shard.cells);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});

describe('docs/scale-out.md and examples/, as written', () => {
  function parallelInstalled(): boolean {
    return (process.env.PATH ?? '').split(delimiter).some((d) => existsSync(join(d, 'parallel')));
  }

  /** A folder with p.gguf and probes/, as the README's steps leave them. */
  function workdir(name: string): string {
    const dir = R(name);
    mkdirSync(dir);
    copyFileSync(model, join(dir, 'p.gguf'));
    symlinkSync(probes, join(dir, 'probes'));
    return dir;
  }

  // Where GNU parallel is not installed (.ci/run installs it), a stand-in for the one form the block uses
  // (`parallel -j N CMD … ::: ARG …`: CMD with {} replaced by each ARG, all at once) runs the same commands.
  const PARALLEL_STANDIN = `parallel() {
  local cmd=() args=() rest=0 pids=() rc=0
  if [ "$1" = "-j" ]; then shift 2; fi
  for a in "$@"; do
    if [ $rest = 1 ]; then args+=("$a"); elif [ "$a" = ":::" ]; then rest=1; else cmd+=("$a"); fi
  done
  for x in "\${args[@]}"; do "\${cmd[@]//\\{\\}/$x}" & pids+=($!); done
  for p in "\${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
`;

  it(`docs/scale-out.md: the GNU parallel block (3 shards on one machine, score, merge)${parallelInstalled() ? '' : ' [GNU parallel not installed: the stand-in runs the same commands]'}`, async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'scale-out.md'), 'utf8');
    const at = doc.indexOf('<!-- test/cli/shard.test.ts runs this block as it is -->');
    expect(at).toBeGreaterThan(0);
    const block = /```bash\n([\s\S]*?)```/.exec(doc.slice(at))![1];
    expect(block).toMatch(/^parallel -j 3 eia-native steer [\s\S]*--shard \{\}\/3/m);
    const dir = workdir('readme');
    const r = await bash(`set -euo pipefail\n${parallelInstalled() ? '' : PARALLEL_STANDIN}${block}`, dir);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'score.json'), 'utf8'));
    expect(s.partial).toBe(false);
    expect(s.sweep.runs.map((x: { shard: string }) => x.shard)).toEqual(['0/3', '1/3', '2/3']);
    expect(s.rows).toHaveLength(2 * 2);
    expect(lines(join(dir, 'runs/sweep/samples.jsonl'))).toHaveLength(2 * 3 * 2 * 3);
  });

  const tiny = { MODEL: '', PROBES: '', LAYERS: '2,3', ALPHAS: '-5,0,5', SCENARIOS: 'food_delivery', SAMPLES: '2', MAX_TOKENS: '8', GPU_LAYERS: '0' };

  it('examples/slurm: the job array (2 tasks at once) then the merge job', async () => {
    const script = readFileSync(join(ROOT, 'examples/slurm/sweep.sbatch'), 'utf8');
    expect(script).toMatch(/^#SBATCH --array=0-\d+$/m);  // the array must count from 0
    const dir = workdir('slurm');
    const e = { ...tiny, MODEL: model, PROBES: probes, OUT: join(dir, 'sweep'), SLURM_ARRAY_TASK_COUNT: '2', SLURM_CPUS_PER_TASK: '1' };
    const tasks = await Promise.all([0, 1].map((i) => bash(`bash ${join(ROOT, 'examples/slurm/sweep.sbatch')}`, dir, { ...e, SLURM_ARRAY_TASK_ID: String(i) })));
    for (const t of tasks) expect(t.status, t.stderr).toBe(0);
    expect(manifest(join(dir, 'sweep/shard-1')).shard).toMatchObject({ index: 1, count: 2 });
    const m = await bash(`bash ${join(ROOT, 'examples/slurm/merge.sbatch')}`, dir, { OUT: join(dir, 'sweep') });
    expect(m.status, m.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(dir, 'sweep/merged/score.json'), 'utf8'));
    expect(s.partial).toBe(false);
    expect(s.num_samples).toBe(2 * 3 * 1 * 2);
    expect(existsSync(join(dir, 'sweep/merged/report.html'))).toBe(true);
  });

  it('examples/kubernetes: the Indexed Job\'s command for each completion index, then merge', async () => {
    const yaml = readFileSync(join(ROOT, 'examples/kubernetes/sweep-job.yaml'), 'utf8');
    expect(yaml).toMatch(/^\s+completionMode: Indexed$/m);
    const completions = Number(/^\s+completions: (\d+)/m.exec(yaml)![1]);
    const envs = Object.fromEntries([...yaml.matchAll(/- \{ name: (\w+), value: "?([^"}]*?)"? \}/g)].map((m) => [m[1], m[2].trim()]));
    expect(Number(envs.SHARDS), 'SHARDS must equal completions').toBe(completions);
    // the container's shell script: the block scalar under `args:`
    const lines_ = yaml.split('\n');
    const start = lines_.findIndex((l) => /^\s+- \|$/.test(l));
    const indent = /^(\s*)/.exec(lines_[start + 1])![1].length;
    const body: string[] = [];
    for (const l of lines_.slice(start + 1)) {
      if (l.trim() !== '' && /^(\s*)/.exec(l)![1].length < indent) break;
      body.push(l.slice(indent));
    }
    expect(body.join('\n')).toMatch(/--shard "auto\/\$SHARDS" --out "\$OUT\/shard-\$JOB_COMPLETION_INDEX"/);
    const dir = workdir('k8s');
    const e = { ...envs, ...tiny, MODEL: model, PROBES: probes, THREADS: '1', OUT: join(dir, 'sweep'), SHARDS: '2' };
    const pods = await Promise.all([0, 1].map((i) => spawnCmd('/bin/sh', ['-c', body.join('\n')], { cwd: dir, env: { ...e, JOB_COMPLETION_INDEX: String(i) } }).done));
    for (const p of pods) expect(p.status, p.stderr).toBe(0);
    await ok(['merge', join(dir, 'sweep/shard-0'), join(dir, 'sweep/shard-1'), '--out', join(dir, 'sweep/merged')]);
    expect(JSON.parse(await ok(['score', join(dir, 'sweep/merged'), '--json'])).partial).toBe(false);
  });
});
