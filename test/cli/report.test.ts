// `eia-native report` end to end: a small RUN made with the real CLI on the planted synthetic model
// (synth -> probe -> steer --monitor -> score), then the report opened in headless Chromium
// (Debian's package via playwright-core): every figure drawn with data marks, no console errors,
// the synthetic-model notice, Tables 1 and 2 with the right row counts; plus partial RUNs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { ensureChromium, figureStats, launchChromium, openReport } from '../helpers/chromium.js';
import { requireFreshDist } from '../helpers/dist.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a command without blocking the event loop (vitest's worker must stay responsive). */
function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, EIA_NATIVE_QUIET: '1' } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

const cli = (args: string[]) => run(process.execPath, ['bin/eia-native.js', ...args]);

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const LAYERS = [0, 1, 2, 3, 4, 5];
const STEER_LAYERS = [2, 3];
const SCENARIOS = ['food_delivery', 'the_listener'];
const FIGURES = ['auroc-by-layer', 'random-baseline', 'score-distributions', 'dose-response-rate', 'dose-response-probe', 'baseline-behaviour', 'monitor-traces'];

// Chromium: Debian's package; installed here when missing (as .ci/run does). Skip only if impossible.
const chrome = await ensureChromium();
if ('skip' in chrome) process.stderr.write(`[report] SKIPPING the browser checks: ${chrome.skip}\n`);

let T = '';
let RUN = '';
let summary: any;
const timings: Record<string, number> = {};

async function timed<R>(name: string, f: () => Promise<R>): Promise<R> {
  const t0 = Date.now();
  try { return await f(); } finally { timings[name] = (Date.now() - t0) / 1000; }
}

beforeAll(async () => {
  requireFreshDist();
  T = mkdtempSync(join(tmpdir(), 'report-test-'));
  RUN = join(T, 'RUN');
  const model = join(T, 'p.gguf');
  await timed('synth', () => ok(['synth', '--planted', '--out', model]));
  await timed('probe', () => ok(['probe', '--model', model, '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'),
    '--layers', LAYERS.join(','), '--random-baseline', '100', '--permutations', '200', '--bootstrap', '200', '--out', join(RUN, 'probes')]));
  await timed('steer', () => ok(['steer', '--model', model, '--probes', join(RUN, 'probes'), '--layers', STEER_LAYERS.join(','), '--alphas=-5,0,5',
    '--scenarios', SCENARIOS.join(','), '--samples', '2', '--max-tokens', '24', '--out', RUN, '--token-scores']));
  await timed('score', () => ok(['score', RUN, '--json']));
  summary = JSON.parse(await timed('report', () => ok(['report', RUN, '--json'])));
  process.stderr.write(`[report] stage seconds: ${JSON.stringify(timings)}\n`);
}, 900_000);

afterAll(() => {
  if (T) rmSync(T, { recursive: true, force: true });
});

/** A copy of the RUN with only some of its parts. */
function partialRun(name: string, parts: string[]): string {
  const dir = join(T, name);
  mkdirSync(dir, { recursive: true });
  for (const p of parts) cpSync(join(RUN, p), join(dir, p), { recursive: true });
  return dir;
}

describe('eia-native report (CLI)', () => {
  it('writes report.html, report.md and the Markdown figures; summary matches the RUN', async () => {
    expect(summary.html).toBe(join(RUN, 'report.html'));
    expect(summary.markdown).toBe(join(RUN, 'report.md'));
    expect(existsSync(summary.html)).toBe(true);
    expect(summary.synthetic).toBe(true);
    expect(summary.synthetic_reason).toMatch(/eia-synth/);
    expect(summary.figures.map((f: any) => f.id)).toEqual(FIGURES);
    for (const f of summary.figures) expect(f, f.id).toMatchObject({ rendered: true });
    expect(summary.tables).toEqual({ table1: LAYERS.length, table2: STEER_LAYERS.length * SCENARIOS.length });
    const md = readFileSync(summary.markdown, 'utf8');
    expect(md).toMatch(/Synthetic model/);
    expect(md).toMatch(/\| Model \| Layer \| AUROC \|/);
    expect(md).toMatch(/\| Model \| Layer \| Scenario \| Steering success rate \| Baseline empathy rate \| Alphas \|/);
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThanOrEqual(FIGURES.length);
    for (const l of links) {
      const svg = readFileSync(join(RUN, l), 'utf8');
      expect(svg).toMatch(/^<\?xml[^>]*>\n<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
  });

  it('the HTML is self-contained: no scripts, no external URLs, figures inline', async () => {
    const html = readFileSync(summary.html, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '')).not.toMatch(/(?:https?:)?\/\/[a-z0-9]/i);
    expect(html).not.toMatch(/\bsrc=/i);
    expect((html.match(/<svg\b/g) ?? []).length).toBeGreaterThanOrEqual(FIGURES.length);
  });

  it('missing parts render as "not run", never a crash', async () => {
    const empty = partialRun('empty', []);
    const e = JSON.parse(await ok(['report', empty, '--json']));
    expect(e.figures.every((f: any) => !f.rendered && f.not_run)).toBe(true);
    expect(e.tables).toEqual({ table1: null, table2: null });
    const eh = readFileSync(e.html, 'utf8');
    expect(eh).toMatch(/Not run\./);
    expect(eh).not.toMatch(/id="table1"|id="table2"|id="synthetic-notice"/);

    const probesOnly = partialRun('probes-only', ['probes']);
    const p = JSON.parse(await ok(['report', probesOnly, '--json']));
    expect(p.figures.filter((f: any) => f.rendered).map((f: any) => f.id)).toEqual(FIGURES.slice(0, 3));
    expect(p.tables).toEqual({ table1: LAYERS.length, table2: null });

    // samples.jsonl without score.json: Table 2 is scored from the samples, with a note.
    const noScore = partialRun('no-score', ['probes', 'samples.jsonl', 'manifest.json']);
    const n = JSON.parse(await ok(['report', noScore, '--json']));
    expect(n.tables.table2).toBe(STEER_LAYERS.length * SCENARIOS.length);
    expect(n.notes.join(' ')).toMatch(/score\.json is absent/);
    expect(n.figures.every((f: any) => f.rendered)).toBe(true);

    // A torn last line and a corrupt score.json are noted, not fatal.
    const torn = partialRun('torn', ['probes', 'samples.jsonl']);
    writeFileSync(join(torn, 'samples.jsonl'), readFileSync(join(torn, 'samples.jsonl'), 'utf8') + '{"model":"p","lay');
    writeFileSync(join(torn, 'score.json'), '{not json');
    const t = JSON.parse(await ok(['report', torn, '--json']));
    expect(t.notes.join(' ')).toMatch(/torn last line/);
    expect(t.notes.join(' ')).toMatch(/score\.json could not be read/);
  });

  it('run.json decides the synthetic flag when present', async () => {
    const real = partialRun('declared-real', ['probes', 'score.json', 'manifest.json']);
    writeFileSync(join(real, 'run.json'), JSON.stringify({ model: 'some-model.gguf', synthetic: false, stages: { probe: 'done' } }));
    const r = JSON.parse(await ok(['report', real, '--json', '--no-markdown']));
    expect(r.synthetic).toBe(false);
    expect(r.markdown).toBeNull();
    expect(readFileSync(r.html, 'utf8')).not.toMatch(/id="synthetic-notice"/);
    const synth = partialRun('declared-synth', []);
    writeFileSync(join(synth, 'run.json'), JSON.stringify({ model: 'x.gguf', synthetic: true }));
    // --out is a folder, as in every command that writes several files
    const s = JSON.parse(await ok(['report', synth, '--json', '--out', join(T, 'elsewhere')]));
    expect(s.html).toBe(join(T, 'elsewhere', 'report.html'));
    expect(s.markdown).toBe(join(T, 'elsewhere', 'report.md'));
    expect(readFileSync(s.html, 'utf8')).toMatch(/id="synthetic-notice"/);
    expect(readFileSync(s.markdown, 'utf8')).toMatch(/Synthetic model/);
  });

  it('usage errors exit 2', async () => {
    const r = await cli(['report', join(T, 'does-not-exist')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a folder/);
  });
});

describe.skipIf('skip' in chrome)('report in headless Chromium', () => {
  let context: BrowserContext;
  let close: () => Promise<void> = async () => {};

  beforeAll(async () => {
    ({ context, close } = await launchChromium((chrome as { path: string }).path));
  }, 120_000);
  afterAll(async () => { await close(); });

  const open = (file: string) => openReport(context, file);

  it('every figure is drawn with data marks; no console errors; notice and tables present', async () => {
    const t0 = Date.now();
    const { page, errors, external } = await open(join(RUN, 'report.html'));
    const figs = await figureStats(page);
    expect(figs.map((f) => f.id)).toEqual(FIGURES);
    for (const f of figs) {
      expect(f.svgs.length, f.id!).toBeGreaterThan(0);
      for (const s of f.svgs) {
        expect(s.width, f.id!).toBeGreaterThan(100);
        expect(s.height, f.id!).toBeGreaterThan(100);
        expect(s.children, f.id!).toBeGreaterThan(0);
        expect(s.dataGroups, f.id!).toBeGreaterThan(0);
        expect(s.marks, f.id!).toBeGreaterThan(0);
      }
    }
    // Small multiples: one class-score plot per probed layer, one monitor plot per steered layer.
    expect(figs.find((f) => f.id === 'score-distributions')!.svgs.length).toBe(LAYERS.length);
    expect(figs.find((f) => f.id === 'monitor-traces')!.svgs.length).toBe(STEER_LAYERS.length);
    expect(await page.locator('[data-not-run], [data-error]').count()).toBe(0);

    const notice = page.locator('#synthetic-notice');
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.innerText()).toMatch(/SYNTHETIC model[\s\S]*say nothing about real LLMs/);
    // The notice comes before any table or figure.
    const order = await page.evaluate(() => {
      const n = document.getElementById('synthetic-notice')!;
      const t = document.getElementById('table1')!;
      return n.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING;
    });
    expect(order).toBeTruthy();

    expect(await page.locator('#table1 tbody tr').count()).toBe(LAYERS.length);
    expect(await page.locator('#table1 thead th').allInnerTexts()).toEqual(expect.arrayContaining(['Layer', 'AUROC', 'Separation']));
    expect(await page.locator('#table2 tbody tr').count()).toBe(STEER_LAYERS.length * SCENARIOS.length);
    expect(await page.locator('#table2 thead th').allInnerTexts()).toEqual(
      ['Model', 'Layer', 'Scenario', 'Steering success rate', 'Baseline empathy rate', 'Alphas']);
    const t2Layers = await page.locator('#table2 tbody tr td:nth-child(2)').allInnerTexts();
    expect([...new Set(t2Layers)].sort()).toEqual(STEER_LAYERS.map(String));

    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
    process.stderr.write(`[report] chromium check ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  it('draws the random-baseline histogram when validation.json carries per-direction AUROCs', async () => {
    const dir = partialRun('with-aurocs', ['probes', 'score.json', 'samples.jsonl', 'manifest.json']);
    const vpath = join(dir, 'probes', 'validation.json');
    const v = JSON.parse(readFileSync(vpath, 'utf8'));
    for (const l of v.layers) l.random_baseline.aurocs = Array.from({ length: l.random_baseline.n }, (_, i) => (i * 37 % 101) / 100);
    writeFileSync(vpath, JSON.stringify(v));
    await ok(['report', dir]);
    const { page, errors } = await open(join(dir, 'report.html'));
    const fig = (await figureStats(page)).find((f) => f.id === 'random-baseline')!;
    expect(fig.svgs.length).toBe(LAYERS.length);
    for (const s of fig.svgs) expect(s.marks).toBeGreaterThan(5); // histogram bars + probe and p95 rules
    expect(await page.locator('#fig-random-baseline svg g[aria-label="rect"] rect').count()).toBeGreaterThan(LAYERS.length * 5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a partial RUN (probes only) renders its figures and clear "not run" notes, without console errors', async () => {
    const dir = join(T, 'probes-only');
    if (!existsSync(join(dir, 'report.html'))) await ok(['report', partialRun('probes-only', ['probes'])]);
    const { page, errors } = await open(join(dir, 'report.html'));
    const figs = await figureStats(page);
    expect(figs.map((f) => f.id)).toEqual(FIGURES.slice(0, 3));
    for (const f of figs) for (const s of f.svgs) expect(s.marks, f.id!).toBeGreaterThan(0);
    expect(await page.locator('[data-figure-missing]').count()).toBe(4);
    expect(await page.locator('#table2').count()).toBe(0);
    expect(await page.locator('#table2-missing').innerText()).toMatch(/Not run/);
    expect(errors).toEqual([]);
    await page.close();
  });
});
