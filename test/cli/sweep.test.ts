// Steering sweeps through the CLI: planted concept end to end (synth -> probe -> steer -> score),
// crash safety (SIGKILL + resume), SIGINT, bad input, and `score` on the paper's raw samples.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';
import { hasEmpatheticLanguage } from '../../lib/steering/scoring.js';

let dir = '';
let model = '';
let probes = '';

const cli = runCli;

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function keyOf(r: { layer: number; scenario: string; alpha: number; sample: number }): string {
  return JSON.stringify([r.layer, r.scenario, r.alpha, r.sample]);
}

/** Every line parses, and each grid cell appears exactly once. */
function checkExactlyOnce(path: string, total: number): Map<string, { text: string }> {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const recs = lines(path).map((l) => JSON.parse(l));
  const seen = new Map<string, { text: string }>();
  for (const r of recs) {
    const k = keyOf(r);
    expect(seen.has(k), `duplicate ${k}`).toBe(false);
    seen.set(k, r);
  }
  expect(seen.size).toBe(total);
  return seen;
}

async function waitFor(cond: () => boolean, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    if (child && child.exitCode !== null) throw new Error(`child exited early with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
}

beforeAll(async () => {
  requireFreshDist();
  dir = mkdtempSync(join(tmpdir(), 'eia-sweep-'));
  model = join(dir, 'planted.gguf');
  await ok(['synth', '--planted', '--out', model]);
  probes = join(dir, 'probes');
  await ok(['probe', '--model', model, '--train', join(dir, 'planted.train.jsonl'), '--test', join(dir, 'planted.test.jsonl'),
    '--layers', '2,3', '--out', probes, '--random-baseline', '0', '--permutations', '0', '--bootstrap', '10', '--threads', '1']);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The two scenarios are picked from an alpha = 0 pre-run (same seeds, so the same baseline texts):
// the paper's rule cannot show a rise above a 100% baseline, and with 3 samples a scenario whose
// planted baseline is around 0.5-0.8 sits at 100% by chance.
let planted2 = ['food_delivery', 'the_listener'];
const PLANTED_ARGS = () => ['--layers', '2,3', '--alphas=-10,-5,-2,0,2,5,10', '--scenarios', planted2.join(','), '--samples', '3',
  '--max-tokens', '48', '--temp', '0.7', '--seed', '1', '--threads', '1'];

describe('steer + score: planted concept end to end', () => {
  it('steers the planted concept: success >= 0.9, positive probe dose-response with CI excluding 0', async () => {
    const pre = join(dir, 'run-baseline');
    await ok(['steer', '--model', model, '--probes', probes, '--layers', '2', '--alphas=0', '--scenarios', 'food_delivery,the_listener,the_maze,the_protector,the_duel',
      '--samples', '3', '--max-tokens', '48', '--temp', '0.7', '--seed', '1', '--threads', '1', '--probe-score', 'off', '--out', pre]);
    const base = new Map<string, number>();
    for (const l of lines(join(pre, 'samples.jsonl'))) {
      const r = JSON.parse(l);
      base.set(r.scenario, (base.get(r.scenario) ?? 0) + (hasEmpatheticLanguage(r.text) ? 1 : 0));
    }
    planted2 = [...base.entries()].sort((a, b) => a[1] - b[1]).slice(0, 2).map(([id]) => id);
    expect(base.get(planted2[1])!, `baselines ${JSON.stringify([...base])}`).toBeLessThan(3);
    const PLANTED = PLANTED_ARGS();
    const run = join(dir, 'run-planted');
    const t0 = Date.now();
    await ok(['steer', '--model', model, '--probes', probes, ...PLANTED, '--out', run, '--token-scores', '--probe-score', 'capture']);
    const wallMs = Date.now() - t0;
    const manifest = JSON.parse(readFileSync(join(run, 'manifest.json'), 'utf8'));
    expect(manifest.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.llama_commit).toMatch(/^[0-9a-f]{7,40}$/);
    expect(manifest.package_version).toBeTruthy();
    expect(manifest.parameters).toMatchObject({ layers: [2, 3], alphas: [-10, -5, -2, 0, 2, 5, 10], samples: 3, max_tokens: 48, temperature: 0.7, top_k: 50, seed: 1, chat: false });
    expect(Object.keys(manifest.parameters.probes).sort()).toEqual(['2', '3']);
    const recs = [...checkExactlyOnce(join(run, 'samples.jsonl'), 2 * 7 * 2 * 3).values()] as unknown as Record<string, any>[];
    for (const r of recs) {
      expect(r.model).toBe('planted');
      expect(typeof r.text).toBe('string');
      expect(r.tokens).toBeGreaterThan(0);
      expect(['length', 'eog', 'stop']).toContain(r.finish_reason);
      expect(Number.isFinite(r.probe_score)).toBe(true);
      // every sample decoded at least one token inside this command: a positive time, within its wall clock
      expect(r.timings.gen_ms).toBeGreaterThan(0);
      expect(r.timings.gen_ms).toBeLessThan(wallMs);
      expect(r.monitor.layer).toBe(r.layer);
      expect(r.monitor.scores.length).toBe(r.tokens);
    }
    // the seed depends on (seed, scenario, sample) only
    const seeds = new Map<string, number>();
    for (const r of recs) {
      const k = `${r.scenario}/${r.sample}`;
      if (seeds.has(k)) expect(r.seed).toBe(seeds.get(k));
      seeds.set(k, r.seed);
    }
    const score = JSON.parse(await ok(['score', run, '--json']));
    expect(score.rows).toHaveLength(4);
    for (const row of score.rows) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(['model', 'layer', 'scenario', 'success_rate', 'baseline_rate', 'num_alphas']));
      expect(row.num_alphas).toBe(6);
      expect(row.success_rate).toBeGreaterThanOrEqual(0.9);
      expect(row.dose_response.slope).toBeGreaterThan(0);
      expect(row.dose_response.ci[0]).toBeGreaterThan(0);
      expect(row.dose_response.ci_excludes_zero).toBe(true);
    }
    expect(score.headline.planted).toBeGreaterThanOrEqual(0.9);
    expect(Object.keys(score.dose_response_series).sort()).toEqual([...planted2].sort());
    expect(existsSync(join(run, 'score.json'))).toBe(true);
    expect(readFileSync(join(run, 'score.md'), 'utf8')).toContain('| Model | Layer | Scenario | Steering success rate | Baseline empathy rate | Alphas |');
    // a second identical command has nothing left to do and leaves the file as it was
    const before = readFileSync(join(run, 'samples.jsonl'), 'utf8');
    await ok(['steer', '--model', model, '--probes', probes, ...PLANTED, '--out', run, '--token-scores', '--probe-score', 'capture']);
    expect(readFileSync(join(run, 'samples.jsonl'), 'utf8')).toBe(before);

    // the free in-context probe score (live monitor, steering term removed) tracks the capture-pass one
    const runM = join(dir, 'run-planted-monitor');
    await ok(['steer', '--model', model, '--probes', probes, ...PLANTED, '--out', runM]);  // the default probe score
    expect(JSON.parse(readFileSync(join(runM, 'manifest.json'), 'utf8')).parameters.probe_score).toBe('monitor');
    const recM = new Map(lines(join(runM, 'samples.jsonl')).map((l) => { const r = JSON.parse(l); return [keyOf(r), r]; }));
    expect(recM.size).toBe(recs.length);
    const xs: number[] = [], ys: number[] = [];
    for (const r of recs) {
      const m = recM.get(keyOf(r as any))!;
      expect(m.text).toBe(r.text);
      expect(m.monitor).toBeUndefined();
      xs.push(r.probe_score); ys.push(m.probe_score);
    }
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const mx = mean(xs), my = mean(ys);
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; syy += (ys[i] - my) ** 2; }
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.9);
    const scoreM = JSON.parse(await ok(['score', runM, '--json']));
    for (const row of scoreM.rows) expect(row.dose_response.ci[0]).toBeGreaterThan(0);
  });
});

// Many small batches so that samples land in the file while the sweep still runs.
const CRASH = ['--layers', '2,3', '--alphas=-5,0,5', '--scenarios', 'food_delivery,the_listener', '--samples', '4',
  '--max-tokens', '128', '--seed', '3', '--batch', '4', '--threads', '1'];
const CRASH_TOTAL = 2 * 3 * 2 * 4;

describe('crash safety', () => {
  it('SIGKILL mid-sweep, torn last line, resume: every cell exactly once, same texts as an uninterrupted run', async () => {
    const run = join(dir, 'run-kill');
    const samples = join(run, 'samples.jsonl');
    const child = spawn(process.execPath, [CLI, 'steer', '--model', model, '--probes', probes, ...CRASH, '--out', run], { cwd: ROOT, stdio: 'ignore' });
    const exited = exitOf(child);
    await waitFor(() => lines(samples).length >= 4, 60_000, child);
    child.kill('SIGKILL');
    const ex = await exited;
    expect(ex.signal).toBe('SIGKILL');
    const before = lines(samples).length;
    expect(before).toBeGreaterThanOrEqual(4);
    expect(before).toBeLessThan(CRASH_TOTAL);
    // what a kill in the middle of a write leaves: a final line without its newline
    appendFileSync(samples, '{"model":"planted","layer":2,"scenario":"food_de');
    const r = await cli(['steer', '--model', model, '--probes', probes, ...CRASH, '--out', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/torn last line/);
    const resumed = checkExactlyOnce(samples, CRASH_TOTAL);
    // an uninterrupted run with the same parameters draws the same samples
    const ref = join(dir, 'run-ref');
    const oneBatch = CRASH.map((a, i) => (CRASH[i - 1] === '--batch' ? '256' : a));
    await ok(['steer', '--model', model, '--probes', probes, ...oneBatch, '--out', ref]);
    const full = checkExactlyOnce(join(ref, 'samples.jsonl'), CRASH_TOTAL);
    for (const [k, v] of full) expect(resumed.get(k)!.text, k).toBe(v.text);
  });

  it('SIGINT: exit 130 with a message, finished samples kept, resume completes', async () => {
    const run = join(dir, 'run-int');
    const samples = join(run, 'samples.jsonl');
    const child = spawn(process.execPath, [CLI, 'steer', '--model', model, '--probes', probes, ...CRASH, '--out', run], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const exited = exitOf(child);
    await waitFor(() => lines(samples).length >= 4, 60_000, child);
    child.kill('SIGINT');
    const ex = await exited;
    expect(ex.code).toBe(130);
    const m = /interrupted: (\d+)\/(\d+) samples kept; resume with the same command/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    expect(Number(m![2])).toBe(CRASH_TOTAL);
    const kept = lines(samples);
    expect(kept.length).toBe(Number(m![1]));
    expect(kept.length).toBeLessThan(CRASH_TOTAL);
    for (const l of kept) expect(JSON.parse(l).finish_reason).not.toBe('abort');
    const r = await cli(['steer', '--model', model, '--probes', probes, ...CRASH, '--out', run]);
    expect(r.status, r.stderr).toBe(0);
    checkExactlyOnce(samples, CRASH_TOTAL);
  });
});

describe('bad input', () => {
  const base = (over: Record<string, string>, out: string) => {
    const o: Record<string, string> = {
      '--layers': '2,3', '--alphas': '-5,0,5', '--scenarios': 'food_delivery', '--samples': '1', '--max-tokens': '8', '--threads': '1', ...over,
    };
    return ['steer', '--model', model, '--probes', o['--probes'] ?? probes, ...Object.entries(o).filter(([k]) => k !== '--probes').map(([k, v]) => `${k}=${v}`), '--out', out];
  };

  it('unknown scenario', async () => {
    const r = await cli(base({ '--scenarios': 'food_delivery,the_picnic' }, join(dir, 'bad1')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario 'the_picnic'.*food_delivery/);
    expect(existsSync(join(dir, 'bad1'))).toBe(false);
  });

  it('probe missing for a layer', async () => {
    const r = await cli(base({ '--layers': '2,4' }, join(dir, 'bad2')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no probe for layer 4/);
  });

  it('probe width != model width', async () => {
    const narrow = join(dir, 'narrow');
    mkdirSync(narrow, { recursive: true });
    // a 32-wide float32 .npy (the planted model is 64 wide)
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (32,), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const h = Buffer.from(header + ' '.repeat(pad) + '\n', 'latin1');
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
    const data = Buffer.from(new Float32Array(32).fill(1 / Math.sqrt(32)).buffer);
    writeFileSync(join(narrow, 'layer2.npy'), Buffer.concat([pre, h, data]));
    const r = await cli(base({ '--layers': '2', '--probes': narrow }, join(dir, 'bad3')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/width 32.*d_model is 64/);
  });

  it('alphas not numbers (exit 2)', async () => {
    const r = await cli(base({ '--alphas': '-5,x,5' }, join(dir, 'bad4')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--alphas: 'x' is not a number/);
  });

  it('an existing RUN with other parameters is refused, naming the fields', async () => {
    const run = join(dir, 'run-planted');
    const before = readFileSync(join(run, 'samples.jsonl'), 'utf8');
    const args = ['steer', '--model', model, '--probes', probes, ...PLANTED_ARGS(), '--out', run];
    args[args.indexOf('--samples') + 1] = '4';
    args[args.indexOf('--max-tokens') + 1] = '64';
    const r = await cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/other parameters/);
    expect(r.stderr).toMatch(/samples: RUN has 3, this command has 4/);
    expect(r.stderr).toMatch(/max_tokens: RUN has 48, this command has 64/);
    expect(r.stderr).toMatch(/monitor/);
    expect(readFileSync(join(run, 'samples.jsonl'), 'utf8')).toBe(before);
  });
});
