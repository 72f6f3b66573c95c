// Issue 26 end to end on the planted model, through the CLI: a RUN scored and reported without
// --metrics/--judge is exactly what it was (no new key, file, section or figure); `score --metrics`
// measures every sample once (a second call measures nothing) and the perplexity ratio rises
// monotonically with |alpha|; `tune` picks a best-detecting block and an alpha within the fluency
// limit, writes tune.json, the report's Tuning section and the tuned alpha into the probe's vector
// card, resumes without generating or measuring anything again, refuses other parameters;
// `generate --alphas tuned` uses it, from the probe and from the control vector `cvec export` makes
// of it (the card carries it, and `cvec import` brings it back), and `info --vector` prints it.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readControlVector } from '../../lib/engine/control-vector.js';
import { readVectorCards } from '../../lib/probes/vector-card.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-tune-');
afterAll(() => tmp.cleanup());
const T = tmp.dir;
const RUN = join(T, 'run');
const MODEL = join(T, 'p.gguf');
const PROBES = join(T, 'probes');
const ALPHAS = [-10, -5, -2.5, 0, 2.5, 5, 10];

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli(args);
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r;
}
const lines = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0);

/** The keys `score --json` of a sweep RUN printed before issue 26 (the contract an old RUN keeps). */
// derived_from: what every score is computed from (issue 23: a derived file names its source)
const SCORE_KEYS = ['rows', 'headline', 'num_samples', 'thresholds', 'dose_response', 'dose_response_series', 'source', 'format', 'duplicates_dropped',
  'partial', 'missing_cells', 'not_scored', 'sweep', 'derived_from'].sort();
const REPORT_FIGURES = ['auroc-by-layer', 'random-baseline', 'score-distributions', 'dose-response-rate', 'dose-response-probe', 'baseline-behaviour', 'monitor-traces'];

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  await ok(['synth', '--planted', '--seed', '1', '--out', MODEL]);
  await ok(['probe', '--model', MODEL, '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'), '--layers', '1,2,3', '--out', PROBES,
    '--random-baseline', '0', '--permutations', '0', '--bootstrap', '10', '--threads', '1']);
  await ok(['steer', '--model', MODEL, '--probes', PROBES, '--layers', '2', `--alphas=${ALPHAS.join(',')}`, '--scenarios', 'food_delivery,the_listener',
    '--samples', '4', '--max-tokens', '32', '--seed', '1', '--threads', '1', '--out', RUN]);
}, 900_000);

describe('score and report without --metrics or --judge', () => {
  it('score and report are what they were: no new key, file, section or figure', async () => {
    const first = JSON.parse((await ok(['score', RUN, '--json', '--bootstrap', '50'])).stdout);
    expect(Object.keys(first).sort()).toEqual(SCORE_KEYS);
    expect(existsSync(join(RUN, 'metrics.jsonl'))).toBe(false);
    expect(existsSync(join(RUN, 'judge.jsonl'))).toBe(false);
    const rep = JSON.parse((await ok(['report', RUN, '--json'])).stdout);
    expect(rep.figures.map((f: { id: string }) => f.id)).toEqual(REPORT_FIGURES);
    const html = readFileSync(rep.html, 'utf8');
    expect(html).not.toMatch(/id="quality"|id="tuning"|Steering quality/);
  });
});

describe('score --metrics', () => {
  let out: Record<string, any>;
  it('measures every sample; the perplexity ratio rises monotonically with |alpha| on the planted model', async () => {
    out = JSON.parse((await ok(['score', RUN, '--metrics', '--json', '--bootstrap', '50', '--threads', '1'])).stdout);
    const m = out.offline_metrics;
    expect(m.samples.length).toBe(out.num_samples);
    expect(out.metrics_facts.metrics).toMatchObject({ measured: out.num_samples, cached: 0 });
    expect(lines(join(RUN, 'metrics.jsonl'))).toBe(out.num_samples);
    const ratio = (a: number) => m.points.find((p: { alpha: number }) => p.alpha === a).ppl_ratio as number;
    const r = Object.fromEntries(ALPHAS.map((a) => [a, ratio(a)]));
    expect(r[0]).toBeCloseTo(1, 12);
    expect(r[2.5]).toBeGreaterThan(1);
    expect(r[5]).toBeGreaterThan(r[2.5]);
    expect(r[10]).toBeGreaterThan(r[5]);
    expect(r[-2.5]).toBeGreaterThan(1);
    expect(r[-5]).toBeGreaterThan(r[-2.5]);
    expect(r[-10]).toBeGreaterThan(r[-5]);
    // the concept follows alpha; steerability is reported per prompt, as a distribution
    const share = (a: number) => m.points.find((p: { alpha: number }) => p.alpha === a).keyword_share as number;
    expect(share(5)).toBeGreaterThan(share(0));
    expect(share(-5)).toBeLessThan(share(0));
    expect(m.steerability.per_prompt.map((p: { scenario: string }) => p.scenario).sort()).toEqual(['food_delivery', 'the_listener']);
    expect(m.steerability.distribution[0]).toHaveProperty('median');
    const md = readFileSync(join(RUN, 'score.md'), 'utf8');
    expect(md).toMatch(/## Offline steering metrics/);
    expect(md).toMatch(/## Steerability/);
    process.stderr.write(`[tune test] perplexity ratio by alpha: ${ALPHAS.map((a) => `${a}: ${r[a].toFixed(3)}`).join(', ')}\n`);
  });

  it('a second call measures nothing (the cache), Table 2 is unchanged, and the report gains the Steering quality section', async () => {
    const again = JSON.parse((await ok(['score', RUN, '--metrics', '--json', '--bootstrap', '50', '--threads', '1'])).stdout);
    expect(again.metrics_facts.metrics).toMatchObject({ measured: 0, cached: out.num_samples });
    expect(again.offline_metrics.points).toEqual(out.offline_metrics.points);
    expect(lines(join(RUN, 'metrics.jsonl'))).toBe(out.num_samples);
    const plain = JSON.parse((await ok(['score', RUN, '--json', '--bootstrap', '50'])).stdout);
    expect(Object.keys(plain).sort()).toEqual(SCORE_KEYS);
    for (const k of SCORE_KEYS) expect(again[k], k).toEqual(plain[k]);
    await ok(['score', RUN, '--metrics', '--bootstrap', '50', '--threads', '1']);  // score.json with the metrics
    const rep = JSON.parse((await ok(['report', RUN, '--json'])).stdout);
    expect(rep.figures.map((f: { id: string }) => f.id)).toEqual([...REPORT_FIGURES, 'concept-fluency', 'steerability']);
    expect(rep.figures.filter((f: { id: string; rendered: boolean }) => f.id === 'concept-fluency' || f.id === 'steerability').every((f: { rendered: boolean }) => f.rendered)).toBe(true);
    expect(readFileSync(rep.html, 'utf8')).toMatch(/<section id="quality">/);
  });

  it('bad uses are usage errors before any work', async () => {
    const r1 = await runCli(['score', RUN, '--model', MODEL]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/--model and --probes go with --metrics/);
    const r2 = await runCli(['score', join(RUN, 'samples.jsonl'), '--metrics']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/one RUN folder/);
    const r3 = await runCli(['score', RUN, '--judge', 'http://127.0.0.1:9/v1']);
    expect(r3.status).toBe(2);
    expect(r3.stderr).toMatch(/--judge needs --judge-model/);
    const r4 = await runCli(['score', RUN, '--metrics', '--model', join(T, 'nope.gguf')]);
    expect(r4.status).toBe(2);
  });
});

describe('tune', () => {
  const OUT = join(T, 'tune');
  const TP = join(T, 'probes-tune');
  const ARGS = () => ['tune', '-m', MODEL, '--probes', TP, '--out', OUT, '--scenarios', 'food_delivery,the_listener', '--held-out', 'the_maze',
    '--samples', '3', '--max-tokens', '24', '--threads', '1', '--bootstrap', '200', '--json'];
  let t: Record<string, any>;

  it('chooses a best-detecting block and an alpha within the fluency limit; writes tune.json, the report section and the tuned alpha', async () => {
    cpSync(PROBES, TP, { recursive: true });
    t = JSON.parse((await ok(ARGS())).stdout);
    const saved = JSON.parse(readFileSync(join(OUT, 'tune.json'), 'utf8'));
    expect(saved.layer).toBe(t.layer);
    expect(saved.alpha).toBe(t.alpha);
    const auroc = saved.detection_auroc as Record<string, number>;
    const best = Math.max(...Object.values(auroc));
    expect(auroc[String(t.layer)]).toBe(best);
    expect(t.alpha).toBeGreaterThan(0);
    expect(saved.choice.ppl_ratio).toBeLessThanOrEqual(1.5);
    expect(saved.search.points[0].stage).toBe('baseline');
    expect(saved.search.points.some((p: { stage: string }) => p.stage === 'fine')).toBe(true);
    expect(saved.tokens.total).toBeLessThanOrEqual(saved.budget_tokens);
    const v = saved.validation;
    expect(v.prompts).toEqual(['the_maze']);
    expect(v.keyword_share.lower).toBeLessThanOrEqual(v.keyword_share.estimate);
    expect(v.keyword_share.estimate).toBeGreaterThan(v.baseline_keyword_share.estimate);
    // the tuned alpha is the chosen probe's card's `tuned` (no second, top-level record); the other probes' cards have none
    const side = JSON.parse(readFileSync(join(TP, `layer${t.layer}.json`), 'utf8'));
    expect(side.tuned).toBeUndefined();
    const card = readVectorCards(join(TP, `layer${t.layer}.npy`)).get(t.layer)!;
    expect(card.tuned).toEqual({
      alpha: t.alpha, layer: t.layer, objective: 'keyword_share', max_ppl_ratio: 1.5, model_sha256: saved.model.sha256,
      tune_json: join(OUT, 'tune.json'), created_at: saved.created_at,
    });
    expect(card.auroc).toBe(auroc[String(t.layer)]);  // the rest of the card is the probe run's, kept
    for (const l of [1, 2, 3].filter((x) => x !== t.layer)) expect(readVectorCards(join(TP, `layer${l}.npy`)).get(l)!.tuned).toBeNull();
    expect(saved.card).toBe(join(TP, `layer${t.layer}.json`));
    const html = readFileSync(join(OUT, 'report.html'), 'utf8');
    expect(html).toMatch(/<section id="tuning">/);
    expect(html).toMatch(/data-figure="tune-search"/);
    expect(html).toMatch(/id="table1"/);  // from the probes the tune used
  });

  it('resumes without generating or measuring anything again, to the same choice; other parameters are refused', async () => {
    const before = { samples: lines(join(OUT, 'samples.jsonl')), metrics: lines(join(OUT, 'metrics.jsonl')) };
    const again = JSON.parse((await ok(ARGS())).stdout);
    expect({ layer: again.layer, alpha: again.alpha }).toEqual({ layer: t.layer, alpha: t.alpha });
    expect(lines(join(OUT, 'samples.jsonl'))).toBe(before.samples);
    expect(lines(join(OUT, 'metrics.jsonl'))).toBe(before.metrics);
    const other = await runCli([...ARGS().slice(0, -1), '--seed', '7']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/other parameters[\s\S]*seed/);
  });

  it('generate --alphas tuned steers the tuned block at the tuned alpha; a probe without one is a usage error', async () => {
    const g = (await ok(['generate', '-m', MODEL, '--prompt', 'Hello', '--probe', join(TP, `layer${t.layer}.npy`), '--alphas', '0,tuned', '--max-tokens', '4', '--threads', '1', '--json'])).stdout
      .trim().split('\n').map((l) => JSON.parse(l));
    expect(g.map((x) => x.alpha)).toEqual([0, t.alpha]);
    expect(g.every((x) => x.layer === t.layer)).toBe(true);
    const other = [1, 2, 3].find((l) => l !== t.layer)!;
    const r = await runCli(['generate', '-m', MODEL, '--prompt', 'Hello', '--probe', join(TP, `layer${other}.npy`), '--alphas', 'tuned', '--max-tokens', '4']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/carries no tuned alpha/);
  });

  it('info --vector prints the tuned line; cvec export carries it into the GGUF card; generate --probe X.gguf --alphas tuned steers with it', async () => {
    const npy = join(TP, `layer${t.layer}.npy`);
    const info = (await ok(['info', '--vector', npy])).stdout;
    expect(info).toMatch(new RegExp(`\\n {2}tuned {5}alpha ${String(t.alpha).replace('.', '\\.')} \\(keyword_share, perplexity ratio <= 1\\.5; `));
    const others = [1, 2, 3].filter((l) => l !== t.layer);
    const gguf = join(T, 'tuned.gguf');
    // every block of the folder: the GGUF holds three cards, one of them with `tuned`
    await ok(['cvec', 'export', ...[1, 2, 3].flatMap((l) => ['--probe', join(TP, `layer${l}.npy`)]), '--out', gguf]);
    const meta = readControlVector(gguf).meta;
    expect(meta[`eia.card.${t.layer}.tuned.alpha`]).toBe(t.alpha);
    for (const l of others) expect(meta[`eia.card.${l}.tuned.alpha`]).toBeUndefined();
    const cards = readVectorCards(gguf);
    expect(cards.get(t.layer)!.tuned).toEqual(readVectorCards(npy).get(t.layer)!.tuned);
    expect((await ok(['info', '--vector', gguf])).stdout).toMatch(/ {2}tuned {5}alpha /);
    // and back: cvec import writes it into the imported probe's card
    await ok(['cvec', 'import', gguf, '--out', join(T, 'imported')]);
    expect(readVectorCards(join(T, 'imported', `layer${t.layer}.npy`)).get(t.layer)!.tuned).toEqual(cards.get(t.layer)!.tuned);
    const gen = async (args: string[]) => (await ok(['generate', '-m', MODEL, '--prompt', 'The user is upset and', ...args, '--samples', '2', '--seed', '3',
      '--max-tokens', '12', '--threads', '1', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { alpha: number; layer: number; tokens: number[] });
    const fromGguf = await gen(['--probe', gguf, '--alphas', 'tuned']);
    const explicit = await gen(['--probe', gguf, '--layer', String(t.layer), '--alphas', String(t.alpha)]);
    const fromNpy = await gen(['--probe', npy, '--alphas', 'tuned']);
    const weaker = await gen(['--probe', gguf, '--layer', String(t.layer), '--alphas', String(t.alpha / 4)]);
    expect(fromGguf.map((x) => [x.alpha, x.layer])).toEqual([[t.alpha, t.layer], [t.alpha, t.layer]]);
    expect(fromGguf.map((x) => x.tokens)).toEqual(explicit.map((x) => x.tokens));
    expect(fromGguf.map((x) => x.tokens)).toEqual(fromNpy.map((x) => x.tokens));
    expect(fromGguf.map((x) => x.tokens)).not.toEqual(weaker.map((x) => x.tokens));  // the comparison can fail
    // the GGUF holds other blocks: the tuned block alone is steered, and that is said; another --layer is warned about
    const said = await runCli(['generate', '-m', MODEL, '--prompt', 'Hi', '--probe', gguf, '--alphas', 'tuned', '--max-tokens', '2', '--threads', '1'], { env: { ...process.env, EIA_NATIVE_QUIET: '' } });
    expect(said.status, said.stderr).toBe(0);
    expect(said.stderr).toMatch(new RegExp(`steers block ${t.layer} only, the block its alpha .* was tuned at`));
    const other = await runCli(['generate', '-m', MODEL, '--prompt', 'Hi', '--probe', gguf, '--layer', String(others[0]), '--alphas', 'tuned', '--max-tokens', '2', '--threads', '1']);
    expect(other.status, other.stderr).toBe(0);
    expect(other.stderr).toMatch(new RegExp(`alpha .* was tuned at block ${t.layer}, and --layer is ${others[0]}`));
  });
});
