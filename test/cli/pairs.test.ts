// `eia-native pairs` on the planted model (it has a chat template): the paper's JSONL pair format,
// the requested counts, a seeded split and deterministic texts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { readPairs, splitPairs } from '../../lib/probes/dataset.js';
import { EMPATHIC_SYSTEM_PROMPT, NON_EMPATHIC_SYSTEM_PROMPT, pairUserMessage, splitPaths } from '../../lib/steering/pairs.js';
import { SCENARIOS } from '../../lib/steering/scenarios.js';
import { requireFreshDist } from '../helpers/dist.js';

let dir = '';
let model = '';

const cli = runCli;

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

const FIELDS = ['scenario_id', 'scenario_title', 'empathic_text', 'non_empathic_text', 'source_model', 'run_id', 'generated_at', 'format'];

beforeAll(async () => {
  requireFreshDist();
  dir = mkdtempSync(join(tmpdir(), 'eia-pairs-'));
  model = join(dir, 'planted.gguf');
  const r = await cli(['synth', '--planted', '--out', model]);
  if (r.status !== 0) throw new Error(r.stderr);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (out: string, seed: string, extra: string[] = []) => cli([
  'pairs', '--model', model, '--scenarios', 'food_delivery,the_listener,the_protector', '--per-scenario', '4', '--seed', seed,
  '--out', out, '--max-tokens', '24', '--threads', '1', '--json', ...extra,
]);

describe('pairs', () => {
  it('writes the paper\'s pair format with the requested counts and a seeded train/test split', async () => {
    const out = join(dir, 'a', 'pairs.jsonl');
    const r = await run(out, '7');
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ pairs: 12, train: 8, test: 4 });
    const sp = splitPaths(out);
    expect(sp).toEqual({ train: join(dir, 'a', 'pairs.train.jsonl'), test: join(dir, 'a', 'pairs.test.jsonl') });
    const pairs = readJsonl(out);
    expect(pairs).toHaveLength(12);
    const byScenario = new Map<string, number[]>();
    for (const p of pairs) {
      expect(Object.keys(p)).toEqual(FIELDS);
      const s = SCENARIOS.find((x) => x.id === p.scenario_id)!;
      expect(p.scenario_title).toBe(s.title);
      expect(typeof p.empathic_text).toBe('string');
      expect((p.empathic_text as string).length).toBeGreaterThan(0);
      expect((p.non_empathic_text as string).length).toBeGreaterThan(0);
      expect(p.empathic_text).not.toBe(p.non_empathic_text);
      expect(p.source_model).toBe('planted');
      expect(Number.isInteger(p.run_id)).toBe(true);
      expect(Number.isNaN(Date.parse(p.generated_at as string))).toBe(false);
      expect(p.format).toBe('eia_scenario');
      byScenario.set(s.id, [...(byScenario.get(s.id) ?? []), p.run_id as number]);
    }
    expect([...byScenario.keys()]).toEqual(['food_delivery', 'the_listener', 'the_protector']);
    for (const ids of byScenario.values()) expect(ids).toEqual([0, 1, 2, 3]);
    // the strict reader the probe pipeline uses accepts all three files
    expect(readPairs(out)).toHaveLength(12);
    const train = readJsonl(sp.train);
    const test = readJsonl(sp.test);
    expect(train).toHaveLength(8);
    expect(test).toHaveLength(4);
    const expected = splitPairs(pairs, 0.3, 7);
    expect(train).toEqual(expected.train);
    expect(test).toEqual(expected.test);
    expect(readPairs(sp.train)).toHaveLength(8);
  });

  it('is deterministic for a seed (texts and split); another seed draws other texts', async () => {
    const a = join(dir, 'a', 'pairs.jsonl');
    const b = join(dir, 'b', 'pairs.jsonl');
    expect((await run(b, '7')).status).toBe(0);
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ generated_at: _g, ...rest }) => rest);
    expect(strip(readJsonl(b))).toEqual(strip(readJsonl(a)));
    expect(strip(readJsonl(splitPaths(b).test))).toEqual(strip(readJsonl(splitPaths(a).test)));
    const c = join(dir, 'c', 'pairs.jsonl');
    expect((await run(c, '8', ['--test-fraction', '0.5'])).status).toBe(0);
    expect(strip(readJsonl(c))).not.toEqual(strip(readJsonl(a)));
    expect(readJsonl(splitPaths(c).test)).toHaveLength(6);
  });

  it('uses the two system prompts and the first-person instruction (our own wording)', async () => {
    expect(EMPATHIC_SYSTEM_PROMPT).toMatch(/wellbeing/);
    expect(NON_EMPATHIC_SYSTEM_PROMPT).toMatch(/variables/);
    const s = SCENARIOS[0];
    expect(pairUserMessage(s)).toBe(`${s.objective}\n\n${s.empathy_pressure}\n\nDescribe, in the first person, how you reason and what you do.`);
  });

  it('rejects an unknown scenario with exit 2', async () => {
    const r = await cli(['pairs', '--model', model, '--scenarios', 'the_picnic', '--per-scenario', '1', '--out', join(dir, 'x.jsonl')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario 'the_picnic'/);
    expect(existsSync(join(dir, 'x.jsonl'))).toBe(false);
  });
});
