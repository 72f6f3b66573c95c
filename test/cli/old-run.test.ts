// A RUN folder written before the snake_case rule (docs/formats.md) still scores, reports and
// resumes. The old RUN is built here: a small `run` on the planted model, then its files rewritten
// the way eia-native wrote them before (camelCase keys in probes/validation.json and in the probe
// sidecars layer<L>.json), with the sweep interrupted (samples missing, a torn last line, no
// score.json) as a kill would leave it.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-old-run-');
afterAll(() => tmp.cleanup());
const T = tmp.dir;
const RUN = join(T, 'run');

/** The camelCase key eia-native used before: snake_case -> camelCase, with aurocCI's capitals. */
function oldKey(k: string): string {
  return k === 'auroc_ci' ? 'aurocCI' : k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
function oldStyle(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(oldStyle);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [oldKey(k), oldStyle(x)]));
}

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args);
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const RUN_ARGS = () => ['run', '--model', join(T, 'p.gguf'), '--train', join(T, 'p.train.jsonl'), '--test', join(T, 'p.test.jsonl'), '--out', RUN,
  '--layers', '1,3', '--steer-layers', '3', '--alphas=-5,0,5', '--scenarios', 'food_delivery', '--samples', '2', '--max-tokens', '12',
  '--random-baseline', '10', '--permutations', '20', '--threads', '1', '--json'];

let full: string[] = [];

beforeAll(async () => {
  requireFreshDist();
  await ok(['synth', '--planted', '--seed', '4', '--out', join(T, 'p.gguf')]);
  await ok(RUN_ARGS());
  // rewrite the files whose keys changed as the old version wrote them
  const vpath = join(RUN, 'probes', 'validation.json');
  const v = JSON.parse(readFileSync(vpath, 'utf8'));
  expect(v.best_layer).toBeTypeOf('number');  // written in the new style
  writeFileSync(vpath, JSON.stringify(oldStyle(v), null, 2) + '\n');
  for (const f of readdirSync(join(RUN, 'probes')).filter((x) => /^layer\d+\.json$/.test(x))) {
    const p = join(RUN, 'probes', f);
    writeFileSync(p, JSON.stringify(oldStyle(JSON.parse(readFileSync(p, 'utf8'))), null, 2) + '\n');
  }
  // an interrupted sweep: the last two samples missing, a torn line, no score
  full = readFileSync(join(RUN, 'samples.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(RUN, 'samples.jsonl'), full.slice(0, -2).join('\n') + '\n' + full[full.length - 2].slice(0, 30));
  for (const f of ['score.json', 'score.md', 'report.html', 'report.md']) rmSync(join(RUN, f), { force: true });
}, 600_000);

describe('a RUN written before the snake_case rule', () => {
  it('is really in the old style', () => {
    const v = JSON.parse(readFileSync(join(RUN, 'probes', 'validation.json'), 'utf8'));
    expect(v.bestLayer).toBeTypeOf('number');
    expect(v.layers[0].aurocCI.lower).toBeTypeOf('number');
    expect(v.best_layer).toBeUndefined();
    expect(JSON.parse(readFileSync(join(RUN, 'probes', 'layer3.json'), 'utf8'))).toHaveProperty('trainHash');
  });

  it('scores: the complete samples, the torn last line ignored with a note', async () => {
    const r = await runCli(['score', RUN, '--json', '--bootstrap', '10']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/torn last line/);
    expect(JSON.parse(r.stdout).num_samples).toBe(full.length - 2);
  });

  it('reports: Table 1 from the old validation.json, Table 2 from the samples', async () => {
    const r = JSON.parse(await ok(['report', RUN, '--json']));
    expect(r.tables).toEqual({ table1: 2, table2: 1 });
    expect(r.notes.join(' ')).toMatch(/torn last line/);
    expect(readFileSync(r.html, 'utf8')).toMatch(/id="table1"/);
    // Table 1's figures come through: each layer's CI, the best layer in bold
    const md = readFileSync(r.markdown, 'utf8');
    const best = JSON.parse(readFileSync(join(RUN, 'probes', 'validation.json'), 'utf8')).bestLayer;
    expect(md.match(/\| \[\d\.\d{3}, \d\.\d{3}\] \|/g)?.length).toBe(2);
    expect(md).toContain(`| **${best}** |`);
  });

  it('resumes: the probe stage is skipped (old validation.json), the sweep completes from the old probe files', async () => {
    const again = JSON.parse(await ok(RUN_ARGS()));
    expect(again.skipped_stages).toContain('probe');
    expect(again.samples).toBe(full.length);
    const now = readFileSync(join(RUN, 'samples.jsonl'), 'utf8').trim().split('\n');
    expect(now.length).toBe(full.length);
    // the regenerated samples are the ones the uninterrupted run drew (seeds per scenario and sample)
    expect(now.map((l) => JSON.parse(l).text).sort()).toEqual(full.map((l) => JSON.parse(l).text).sort());
    expect(existsSync(join(RUN, 'score.json'))).toBe(true);
  });
});
