// Issue 14 end to end through the CLI: a RUN folder is a transaction (two concurrent `steer` runs:
// one proceeds, the other exits 1 at once; SIGKILL of the holder, take-over and an exact finish),
// one count per sample key in `score`, `report RUN` following the probes the sweep used, interrupts
// printing only our own messages, stdin inputs, the one probe-norm rule across generate / cvec,
// one best-layer rule, results on stdout, and one key style in every file and --json output.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControlVector } from '../../lib/engine/control-vector.js';
import { synth } from '../../lib/engine/synth.js';
import { readNpy, writeNpy } from '../../lib/io/npy.js';
import { RUN_FILES } from '../../lib/io/run-folder.js';
import { rankLayers } from '../../lib/probes/best-layer.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-txn-');
afterAll(() => tmp.cleanup());
const T = (name: string) => join(tmp.dir, name);
let model = '';
let probes = '';

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli(args);
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r;
}

/** A CLI child with its output, exit and the time it took (ms from spawn). */
function start(args: string[], input?: string): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stdout: string; stderr: string }>; stderr: () => string } {
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: [input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stdout: string; stderr: string }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, ms: Date.now() - t0, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Rec = { layer: number; scenario: string; alpha: number; sample: number; text: string };
const keyOf = (r: Rec) => JSON.stringify([r.layer, r.scenario, r.alpha, r.sample]);
const records = (path: string): Rec[] => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

/** Every line parses, each key appears once, and there are `total` of them; the texts by key. */
function exactlyOnce(path: string, total: number): Map<string, string> {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const seen = new Map<string, string>();
  for (const r of records(path)) {
    expect(seen.has(keyOf(r)), `duplicate ${keyOf(r)}`).toBe(false);
    seen.set(keyOf(r), r.text);
  }
  expect(seen.size).toBe(total);
  return seen;
}

// 2 layers x 3 alphas x 2 scenarios x 8 samples = 96 samples (the alpha = 0 ones generated once): long enough (seconds)
// that a second process started together with the first meets the lock, not a finished RUN
const GRID = 2 * 3 * 2 * 8;
const SWEEP = (samples = 8) => ['steer', '--model', model, '--probes', probes, '--layers', '2,3', '--alphas=-5,0,5', '--scenarios', 'food_delivery,the_listener',
  '--samples', String(samples), '--max-tokens', '64', '--temp', '0.7', '--seed', '3', '--threads', '1'];

beforeAll(async () => {
  requireFreshDist();
  const m = await synth({ planted: true, seed: 3, out: T('planted.gguf') });
  model = m.path;
  probes = T('probes');
  await ok(['probe', '--model', model, '--train', m.trainJsonl!, '--test', m.testJsonl!, '--layers', '0,1,2,3,4,5', '--out', probes,
    '--random-baseline', '0', '--permutations', '0', '--bootstrap', '10', '--threads', '1']);
  // the reference: the same sweep, uninterrupted and alone
  await ok([...SWEEP(), '--out', T('ref')]);
}, 300_000);

describe('a RUN folder is a transaction', () => {
  it('two concurrent steer runs on one RUN: exactly one proceeds, the other exits 1 at once naming its pid; each sample once', async () => {
    const run = T('concurrent');
    const a = start([...SWEEP(), '--out', run]);
    const b = start([...SWEEP(), '--out', run]);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const [win, lose, winner] = ra.code === 0 ? [ra, rb, a] : [rb, ra, b];
    expect([ra.code, rb.code].sort(), `${ra.stderr}\n---\n${rb.stderr}`).toEqual([0, 1]);
    expect(lose.stderr).toMatch(new RegExp(`\\[E_LOCKED\\] .*concurrent is in use by another eia-native process \\(pid ${winner.child.pid}, \`steer\``));
    // at once: long before the winner's sweep is over
    expect(lose.ms).toBeLessThan(win.ms);
    expect(lose.ms).toBeLessThan(5000);
    const texts = exactlyOnce(join(run, RUN_FILES.samples), GRID);
    const ref = exactlyOnce(join(T('ref'), RUN_FILES.samples), GRID);
    expect(texts).toEqual(ref);
    expect(existsSync(join(run, RUN_FILES.lock))).toBe(false);
  });

  it('kill -9 of the holder leaves its lock; the next run takes it over and finishes exactly', async () => {
    const run = T('killed');
    const a = start([...SWEEP(), '--batch', '8', '--out', run]);
    await waitFor(() => existsSync(join(run, RUN_FILES.samples)) && readFileSync(join(run, RUN_FILES.samples), 'utf8').split('\n').length > 3, 120_000);
    a.child.kill('SIGKILL');
    const ra = await a.done;
    expect(ra.signal).toBe('SIGKILL');
    const lock = JSON.parse(readFileSync(join(run, RUN_FILES.lock), 'utf8'));
    expect(lock.pid).toBe(a.child.pid);
    const kept = records(join(run, RUN_FILES.samples)).length;
    expect(kept).toBeLessThan(GRID);
    const b = await runCli([...SWEEP(), '--batch', '8', '--out', run]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toMatch(new RegExp(`took over the lock of .*killed left by pid ${a.child.pid}, \`steer\`.*which no longer runs`));
    const texts = exactlyOnce(join(run, RUN_FILES.samples), GRID);
    expect(texts).toEqual(exactlyOnce(join(T('ref'), RUN_FILES.samples), GRID));
    expect(existsSync(join(run, RUN_FILES.lock))).toBe(false);
  });

  it('score and resume count each sample key once and say how many duplicate lines they dropped', async () => {
    const dup = T('dup');
    cpSync(T('ref'), dup, { recursive: true });
    const lines = readFileSync(join(dup, RUN_FILES.samples), 'utf8').split('\n').filter((l) => l !== '');
    writeFileSync(join(dup, RUN_FILES.samples), [...lines, ...lines.slice(0, 5)].join('\n') + '\n');
    const clean = JSON.parse((await ok(['score', T('ref'), '--json'])).stdout);
    const r = await ok(['score', dup, '--json']);
    expect(r.stderr).toMatch(/warning: .*samples\.jsonl: 5 duplicate sample lines ignored/);
    const d = JSON.parse(r.stdout);
    expect(d.duplicates_dropped).toBe(5);
    expect(clean.duplicates_dropped).toBe(0);
    const ns = (s: { rows: { conditions: { alpha: number; n: number }[] }[] }) => s.rows.map((row) => row.conditions.map((c) => [c.alpha, c.n]));
    expect(ns(d)).toEqual(ns(clean));
    expect(ns(d).flat().every(([, n]) => n === 8)).toBe(true);
    expect(JSON.parse(readFileSync(join(dup, RUN_FILES.score), 'utf8')).rows).toEqual(clean.rows);
    // resume: nothing to generate, the duplicates are counted in a warning, the file is left as it is
    const s = await ok([...SWEEP(), '--out', dup]);
    expect(s.stdout).toMatch(/nothing to do: all 96 samples are already in/);
    expect(s.stderr).toMatch(/5 duplicate sample lines ignored/);
    expect(readFileSync(join(dup, RUN_FILES.samples), 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(GRID + 5);
  });

  it('report RUN takes Table 1 from the probes the sweep used (manifest probes_dir)', async () => {
    const r = JSON.parse((await ok(['report', T('ref'), '--json', '--no-markdown'])).stdout);
    expect(r.tables.table1).toBe(6);
    expect(r.notes.join('\n')).toMatch(/Table 1 comes from .*probes\/validation\.json: the probes the sweep used/);
    expect(readFileSync(r.html, 'utf8')).not.toMatch(/Probes not run/i);
  });

  it('Ctrl-C prints only our own messages (no llama.cpp decode lines) and exits 130, lock released', async () => {
    const run = T('interrupted');
    const a = start([...SWEEP(40), '--out', run]);
    // a decode under way: the first progress line with tokens done (non-TTY: one line every 2 s)
    await waitFor(() => /steer [1-9]\d*\//.test(a.stderr()) || a.child.exitCode !== null, 120_000);
    a.child.kill('SIGINT');
    const r = await a.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stderr).toMatch(/interrupted: \d+\/480 samples kept; resume with the same command/);
    expect(r.stderr).not.toMatch(/failed to decode|llama_decode|graph_compute|process_ubatch|ggml_/);
    expect(existsSync(join(run, RUN_FILES.lock))).toBe(false);
  });
});

describe('one grammar', () => {
  it('- reads stdin: capture --input - equals capture --input FILE', async () => {
    const texts = 'I care about you.\nWin the game now.\nThe weather is mild.\n';
    writeFileSync(T('texts.txt'), texts);
    await ok(['capture', '-m', model, '--layers', '1,3', '--input', T('texts.txt'), '--out', T('cap-file'), '-t', '1']);
    const p = start(['capture', '-m', model, '--layers', '1,3', '--input', '-', '--out', T('cap-stdin'), '-t', '1'], texts);
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^captured 3 texts/);  // the result on stdout
    for (const l of [1, 3]) expect(Array.from(readNpy(join(T('cap-stdin'), `layer${l}.npy`)).data)).toEqual(Array.from(readNpy(join(T('cap-file'), `layer${l}.npy`)).data));
  });

  it('probe norms: a x7 probe and a control vector (any --scale) steer as the unit probe; cvec keeps the scale on a round trip', async () => {
    const p3 = join(probes, 'layer3.npy');
    const unit = readNpy(p3).data;
    writeNpy(T('x7.npy'), unit.map((x) => 7 * x), [unit.length]);
    await ok(['cvec', 'export', '--probe', p3, '--scale', '4', '--out', T('cv4.gguf')]);
    const imp = JSON.parse((await ok(['cvec', 'import', T('cv4.gguf'), '--out', T('cv4'), '--json'])).stdout);
    expect(imp.scales['3']).toBeCloseTo(4, 5);
    expect(JSON.parse(readFileSync(join(T('cv4'), 'layer3.json'), 'utf8')).scale).toBeCloseTo(4, 5);
    await ok(['cvec', 'export', '--probe', join(T('cv4'), 'layer3.npy'), '--out', T('cv4-again.gguf')]);
    const v1 = readControlVector(T('cv4.gguf')).layers.get(3)!, v2 = readControlVector(T('cv4-again.gguf')).layers.get(3)!;
    for (let i = 0; i < v1.length; i++) expect(Math.abs(v2[i] - v1[i])).toBeLessThan(1e-6 * 4);
    const gen = async (probe: string) => {
      const r = await ok(['generate', '-m', model, '--prompt', 'The user is upset and', '--probe', probe, '--layer', '3', '--alphas', '6',
        '-n', '16', '--temp', '0', '--json', '-t', '1']);
      return { text: JSON.parse(r.stdout.trim()).text as string, stderr: r.stderr };
    };
    const base = await gen(p3);
    const x7 = await gen(T('x7.npy'));
    const cv = await gen(T('cv4.gguf'));
    expect(x7.text).toBe(base.text);
    expect(cv.text).toBe(base.text);
    expect(x7.stderr).toMatch(/x7\.npy has norm 7\.000: it is used as a unit direction/);
    expect(cv.stderr).toMatch(/cv4\.gguf block 3 has norm 4\.000: it is used as a unit direction/);
    expect(base.stderr).not.toMatch(/has norm/);
  });

  it('generate takes a control vector as its direction: without --layer it steers each of its blocks', async () => {
    await ok(['cvec', 'export', '--probe', join(probes, 'layer2.npy'), '--probe', join(probes, 'layer3.npy'), '--out', T('cv23.gguf')]);
    const r = JSON.parse((await ok(['generate', '-m', model, '--prompt', 'Hello', '--probe', T('cv23.gguf'), '--alphas', '3', '-n', '4', '--temp', '0', '--json', '-t', '1'])).stdout.trim());
    expect(r.layers).toEqual([2, 3]);
    expect(r.tokens).toHaveLength(4);
  });

  it('one best-layer rule: the best detection layer is among the steered layers; every file and --json output uses snake_case keys', async () => {
    const run = T('protocol');
    const m = join(tmp.dir, 'planted');
    const r = JSON.parse((await ok(['run', '-m', model, '--train', `${m}.train.jsonl`, '--test', `${m}.test.jsonl`, '--layers', '0,1,2,3,4,5',
      '--alphas=-5,0,5', '--scenarios', 'food_delivery', '--samples', '1', '-n', '8', '--random-baseline', '0', '--permutations', '0',
      '-t', '1', '--out', run, '--json'])).stdout);
    expect(r.steer_layers).toContain(r.best_layer);
    const v = JSON.parse(readFileSync(join(run, RUN_FILES.validation), 'utf8'));
    expect(r.best_layer).toBe(rankLayers(v.layers)[0].layer);
    expect(r.steer_layers).toEqual(rankLayers(v.layers).slice(0, 3).map((l: { layer: number }) => l.layer).sort((a: number, b: number) => a - b));
    // key style: no camelCase field name anywhere (data keys here are model names, layers and scenario ids: none camelCase)
    const camel: string[] = [];
    const scan = (value: unknown, where: string): void => {
      if (Array.isArray(value)) value.forEach((x, i) => scan(x, `${where}[${i}]`));
      else if (value && typeof value === 'object') {
        for (const [k, x] of Object.entries(value)) {
          if (/[a-z][A-Z]/.test(k)) camel.push(`${where}.${k}`);
          scan(x, `${where}.${k}`);
        }
      }
    };
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    for (const f of files(run)) {
      if (f.endsWith('.json')) scan(JSON.parse(readFileSync(f, 'utf8')), f);
      if (f.endsWith('.jsonl')) readFileSync(f, 'utf8').split('\n').filter(Boolean).forEach((l, i) => scan(JSON.parse(l), `${f}:${i + 1}`));
    }
    for (const args of [['score', run, '--json'], ['report', run, '--json'], ['cvec', 'import', T('cv4.gguf'), '--out', T('cv4b'), '--json'],
      ['info', '-m', model, '--json'], ['models', '--json'], ['stats', 'baseline', '--input', T('baseline.json'), '--json']]) {
      if (args[1] === 'baseline') writeFileSync(T('baseline.json'), JSON.stringify({ aurocs: [0.4, 0.5, 0.6], probe_auroc: 0.9 }));
      scan(JSON.parse((await ok(args)).stdout), args.slice(0, 2).join(' '));
    }
    expect(camel).toEqual([]);
  });

  it('results go to stdout (human-readable), notes and progress to stderr', async () => {
    const s = await ok(['synth', '--out', T('tiny.gguf')]);
    expect(s.stdout).toMatch(/^wrote .*tiny\.gguf \(llama, tiny/);
    const r = await ok([...SWEEP(), '--out', T('ref')]);
    expect(r.stdout).toMatch(/^nothing to do: all 96 samples are already in/);
    const c = await ok(['cvec', 'export', '--probe', join(probes, 'layer1.npy'), '--out', T('cv1.gguf')]);
    expect(c.stdout).toMatch(/^wrote .*cv1\.gguf \(layers 1\)/);
  });
});
