// `eia-native study` end to end on three planted models (two profiles, three seeds; the planted
// model has one shape, tiny, in a test's time budget: docs/study.md has the acceptance run with a
// 0.5b-shaped one): one command writes a normal RUN folder per model and the study report; its
// cross-model numbers are those of `align` and `correlate` run by hand on the same models and RUN
// folders; a study killed with SIGKILL resumes to the same numbers; `report STUDY` re-renders; a
// study of another plan is refused; the report checked in headless Chromium (as report.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { CLI, ROOT } from '../helpers/cli.js';
import { ensureChromium, figureStats, launchChromium, openReport } from '../helpers/chromium.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, EIA_NATIVE_QUIET: '1' } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const chrome = await ensureChromium();
if ('skip' in chrome) process.stderr.write(`[study] SKIPPING the browser checks: ${chrome.skip}\n`);

const tmp = tempDir('eia-study-');
const T = (f: string) => join(tmp.dir, f);
let args: (out: string) => string[];
let A: any;  // results.json of the straight study
let summaryA: any;

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  await ok(['synth', '--planted', '--seed', '1', '--no-check', '--out', T('p1.gguf')]);
  await ok(['synth', '--planted', '--planted-profile', 'easy', '--seed', '2', '--no-check', '--out', T('p2.gguf')]);
  await ok(['synth', '--planted', '--seed', '3', '--no-check', '--out', T('p3.gguf')]);
  // rubric-scored texts made of the planted pairs (empathic = 2, non-empathic = 0, halves of both = 1)
  const pairs = readFileSync(T('p1.test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const texts = [
    ...pairs.slice(0, 5).map((p) => ({ text: p.empathic_text, score: 2 })),
    ...pairs.slice(5, 10).map((p) => ({ text: p.non_empathic_text, score: 0 })),
    ...pairs.slice(10, 12).map((p) => ({ text: `${p.empathic_text.slice(0, 80)} ${p.non_empathic_text.slice(80)}`, score: 1 })),
  ];
  writeFileSync(T('texts.jsonl'), texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
  args = (out) => ['study', '--models', `a=${T('p1.gguf')},b=${T('p2.gguf')},c=${T('p3.gguf')}`,
    '--train', T('p1.train.jsonl'), '--test', T('p1.test.jsonl'), '--texts', T('texts.jsonl'), '--layers', '2,3', '--alphas=-4,0,4',
    '--scenarios', 'food_delivery', '--samples', '2', '--max-tokens', '8', '--random-baseline', '10', '--permutations', '20', '--out', T(out), '--json'];
  summaryA = JSON.parse(await ok(args('A')));
  A = JSON.parse(readFileSync(T('A/results.json'), 'utf8'));
}, 1_200_000);
afterAll(() => tmp.cleanup());

describe('eia-native study', () => {
  it('one command: a normal RUN folder per model, results.json and the report (HTML + Markdown)', () => {
    expect(summaryA.models.map((m: any) => m.name)).toEqual(['a', 'b', 'c']);
    for (const m of ['a', 'b', 'c']) {
      for (const f of ['run.json', 'probes/validation.json', 'manifest.json', 'samples.jsonl', 'score.json', 'report.html']) expect(existsSync(T(`A/${m}/${f}`)), `${m}/${f}`).toBe(true);
      const v = JSON.parse(readFileSync(T(`A/${m}/probes/validation.json`), 'utf8'));
      const r = A.models.find((x: any) => x.name === m);
      expect(r.best_layer).toBe(v.best_layer);
      expect(r.depth).toBe(v.best_layer / 6);
      expect(r.best.auroc).toBe(v.best_auroc);
      expect(r.layers.map((l: any) => l.layer)).toEqual([2, 3]);
      expect(r.headline.lower).toBeLessThanOrEqual(r.headline.headline);
      expect(r.headline.upper).toBeGreaterThanOrEqual(r.headline.headline);
      expect(r.headline.headline).toBe(JSON.parse(readFileSync(T(`A/${m}/score.json`), 'utf8')).headline[m]);
    }
    expect(A.agreement).toHaveLength(3);   // unordered pairs
    expect(A.transfer).toHaveLength(6);    // ordered pairs
    expect(A.pairs).toHaveLength(6);
    expect(A.drift).toEqual([]);           // three trained models, no quantizations of one
    expect(existsSync(T('A/report.html')) && existsSync(T('A/report.md'))).toBe(true);
    expect(summaryA.findings.length).toBeGreaterThan(0);
    const md = readFileSync(T('A/report.md'), 'utf8');
    for (const h of ['## Findings', '## Detection (Table 1)', '## Steering (Table 2)', '## Behavioural correlation', '## Cross-model agreement', '## Procrustes transfer']) expect(md).toContain(h);
  });

  it('the cross-model numbers are align\'s and correlate\'s, run by hand on the same models and RUN folders', async () => {
    for (const [a, b, fa, fb] of [['a', 'b', 'p1', 'p2'], ['c', 'a', 'p3', 'p1']]) {
      const p = A.pairs.find((x: any) => x.a === a && x.b === b);
      const hand = JSON.parse(await ok(['align', '--model-a', T(`${fa}.gguf`), '--model-b', T(`${fb}.gguf`), '--train', T('p1.train.jsonl'), '--test', T('p1.test.jsonl'),
        '--layer-a', String(p.model_a.layer), '--layer-b', String(p.model_b.layer), '--json']));
      for (const k of ['agreement', 'procrustes', 'auroc', 'cosine_carried_native', 'carried_native_agreement']) expect(p[k], `${a}->${b} ${k}`).toEqual(hand[k]);
      expect(p.model_a.width).toBe(hand.model_a.width);
      const t = A.transfer.find((x: any) => x.a === a && x.b === b);
      expect(t.auroc_carried).toBe(hand.auroc.carried_a_to_b);
      const ag = A.agreement.find((x: any) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
      expect(ag.pearson.r).toBeCloseTo(hand.agreement.pearson.r, 12);
    }
    for (const [m, f] of [['a', 'p1'], ['b', 'p2'], ['c', 'p3']]) {
      const r = A.models.find((x: any) => x.name === m);
      const hand = JSON.parse(await ok(['correlate', '--model', T(`${f}.gguf`), '--probe', T(`A/${m}/probes/layer${r.best_layer}.npy`), '--texts', T('texts.jsonl'), '--json']));
      for (const k of ['n', 'pearson', 'spearman', 'binary_accuracy', 'binary_accuracy_all_items', 'texts']) expect(r.behaviour[k], `${m} ${k}`).toEqual(hand[k]);
      expect(r.behaviour.layer).toBe(hand.layer);
    }
  }, 900_000);

  it('resumes after SIGKILL to the same numbers', async () => {
    const child = spawn(process.execPath, [CLI, ...args('B')], { cwd: ROOT, env: { ...process.env, EIA_NATIVE_QUIET: '1' }, stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    // kill while model b's sweep runs (a finished, b probed)
    const deadline = Date.now() + 600_000;
    while (!existsSync(T('B/b/samples.jsonl')) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(child.exitCode, 'the study ended before it could be killed').toBeNull();
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(T('B/results.json'))).toBe(false);
    const again = JSON.parse(await ok(args('B')));
    const a = again.models.find((m: any) => m.name === 'a');
    expect(a.skipped_stages).toContain('probe');  // a's RUN was finished before the kill
    const B = JSON.parse(readFileSync(T('B/results.json'), 'utf8'));
    const strip = (r: any) => JSON.parse(JSON.stringify({ ...r, generated_at: null, models: r.models.map((m: any) => ({ ...m, behaviour: { ...m.behaviour, probe: null } })) }));
    expect(strip(B)).toEqual(strip(A));
  }, 1_500_000);

  it('report STUDY re-renders from the folder; another plan is refused before anything is written', async () => {
    rmSync(T('B/report.html'));
    rmSync(T('B/results.json'));
    const r = JSON.parse(await ok(['report', T('B'), '--json']));
    expect(r.html).toBe(T('B/report.html'));
    expect(existsSync(T('B/results.json'))).toBe(true);
    const before = statSync(T('A/study.json')).mtimeMs;
    const bad = await cli(args('A').map((x) => (x === '--alphas=-4,0,4' ? '--alphas=-3,0,3' : x)));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\[E_CONFLICT\] .*holds a study of another plan \(a's layers or alphas/);
    expect(statSync(T('A/study.json')).mtimeMs).toBe(before);
    const dup = await cli(['study', '--models', `x=${T('p1.gguf')},x=${T('p2.gguf')}`, '--train', T('p1.train.jsonl'), '--test', T('p1.test.jsonl'), '--out', T('D')]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/the name 'x' is given twice/);
    expect(existsSync(T('D'))).toBe(false);
  }, 600_000);
});

describe.skipIf('skip' in chrome)('the study report in headless Chromium', () => {
  let ctx: { context: BrowserContext; close: () => Promise<void> };
  beforeAll(async () => { ctx = await launchChromium((chrome as { path: string }).path); });
  afterAll(async () => { await ctx?.close(); });

  it('tables side by side, the depth figure drawn for every model, no errors, nothing external', async () => {
    const { page, errors, external } = await openReport(ctx.context, T('A/report.html'));
    const table = async (id: string) => page.$$eval(`table#${id} tr`, (rows) => rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent!.trim())));
    const t1 = await table('table1-side');
    expect(t1[0]).toEqual(['', 'a', 'b', 'c']);
    expect(t1.map((r) => r[0])).toEqual(['', 'Best block', 'Relative depth', 'AUROC', '95% CI', 'Accuracy (median thr.)', 'Accuracy (midpoint thr.)',
      'Random-baseline p', 'Random 95th pct', 'Permutation p', 'Ablated AUROC']);
    const auroc = t1.find((r) => r[0] === 'AUROC')!;
    expect(auroc.slice(1)).toEqual(A.models.map((m: any) => m.best.auroc.toFixed(3)));
    const t2 = await table('table2-side');
    expect(t2[0]).toEqual(['', 'a', 'b', 'c']);
    expect(t2.find((r) => r[0] === 'Headline')!.slice(1)).toEqual(A.models.map((m: any) => m.headline.headline.toFixed(3)));
    expect((await table('agreement'))[0]).toEqual(['', 'a', 'b', 'c']);
    expect((await table('transfer')).length).toBe(4);
    expect((await table('behaviour')).length).toBe(4);
    const figs = await figureStats(page);
    const depth = figs.find((f) => f.id === 'auroc-by-depth')!;
    expect(depth.svgs[0].width).toBeGreaterThan(300);
    expect(depth.svgs[0].marks).toBeGreaterThanOrEqual(3 * 2);  // a dot per model and block at least
    expect(await page.$$eval('#findings li', (l) => l.length)).toBe(summaryA.findings.length);
    expect(await page.$('#synthetic-notice')).not.toBeNull();
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await page.close();
  });
});
