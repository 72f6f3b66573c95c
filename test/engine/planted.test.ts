// The planted model as a faithful testbed (issue 17): on the realistic profile (the default) the
// paper's controls behave as they do on real models, its pair texts vary in content as the paper's
// do, and its lexical ablation is the paper's; the easy profile (fast tests) fails those controls,
// which shows that the checks can fail. Seeds are chosen here: model seed 1 (the demo's default).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { synth } from '../../lib/engine/synth.js';
import { readPairs } from '../../lib/probes/dataset.js';
import { checkPlantedControls, plantedControlsLines, type PlantedControls } from '../../lib/probes/planted-controls.js';
import { EMPATHY_KEYWORDS, TASK_KEYWORDS } from '../../lib/steering/scoring.js';
import { tempDir } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-planted-');
afterAll(() => tmp.cleanup());

let controls: PlantedControls;
let files: Awaited<ReturnType<typeof synth>>;
beforeAll(async () => {
  files = await synth({ planted: true, seed: 1, out: join(tmp.dir, 'realistic.gguf') });
  controls = await checkPlantedControls(files, { seed: 1 });
  process.stderr.write(`[planted] ${plantedControlsLines(controls).join('\n[planted] ')}\n`);
}, 300_000);

describe('realistic planted model (seed 1): the controls behave as on real models', () => {
  it('is the default profile and writes the ablated test pairs', () => {
    expect(files.plantedProfile).toBe('realistic');
    expect(existsSync(files.ablatedJsonl!)).toBe(true);
    expect(controls.layers.map((l) => l.layer)).toEqual(Array.from({ length: files.nLayer }, (_, i) => i));
  });

  it('100 random directions per block: mean AUROC in [0.40, 0.60] and std in [0.10, 0.30] at every block', () => {
    for (const l of controls.layers) {
      expect(l.randomMean, `block ${l.layer}`).toBeGreaterThanOrEqual(0.4);
      expect(l.randomMean, `block ${l.layer}`).toBeLessThanOrEqual(0.6);
      expect(l.randomStd, `block ${l.layer}`).toBeGreaterThanOrEqual(0.1);
      expect(l.randomStd, `block ${l.layer}`).toBeLessThanOrEqual(0.3);
    }
  });

  it('at the best block: AUROC >= 0.95, above the random 95th percentile, empirical p <= 0.02, permutation p <= 0.01', () => {
    const b = controls.layers.find((l) => l.layer === controls.bestLayer)!;
    expect(b.auroc).toBeGreaterThanOrEqual(0.95);
    expect(b.auroc).toBeGreaterThan(b.randomP95);
    expect(b.empiricalP).toBeLessThanOrEqual(0.02);
    expect(b.permutationP).toBeLessThanOrEqual(0.01);
  });

  it('the signal grows over the first blocks: block 0 is at least 0.1 below the best block', () => {
    const b = controls.layers.find((l) => l.layer === controls.bestLayer)!;
    expect(controls.layers[0].auroc).toBeLessThanOrEqual(b.auroc - 0.1);
    expect(controls.bestLayer).toBeGreaterThan(0);
  });

  it('lexical ablation lowers detection but does not erase it (>= 0.7)', () => {
    const b = controls.layers.find((l) => l.layer === controls.bestLayer)!;
    expect(b.ablatedAuroc).not.toBeNull();
    expect(b.ablatedAuroc!).toBeLessThan(b.auroc);
    expect(b.ablatedAuroc!).toBeGreaterThanOrEqual(0.7);
  });

  it('the probe recovers the planted direction: cosine >= 0.9 at the best block', () => {
    const b = controls.layers.find((l) => l.layer === controls.bestLayer)!;
    expect(b.cosine).toBeGreaterThanOrEqual(0.9);
  });

  it('the class difference is a small part of the variance (< 25%), and the statement says every control holds', () => {
    expect(controls.classVarianceShare).toBeGreaterThan(0);
    expect(controls.classVarianceShare).toBeLessThan(0.25);
    expect(controls.checks.map((c) => c.id)).toEqual(['random-mean', 'random-std', 'probe-auroc', 'beats-random', 'empirical-p', 'permutation-p', 'grows', 'ablation', 'cosine']);
    const lines = plantedControlsLines(controls);
    expect(lines.filter((l) => l.includes('[ok]'))).toHaveLength(9);
    expect(lines.join('\n')).not.toContain('[FAIL]');
    expect(controls.passed).toBe(true);
  });
});

describe('realistic planted pair texts vary as the paper\'s do', () => {
  it('10 pairs per scenario, two writers, texts of different lengths, each text with its own wording of the scenario', () => {
    const pairs = [...readPairs(files.trainJsonl!), ...readPairs(files.testJsonl!)];
    expect(pairs).toHaveLength(50);
    const per = new Map<string, number>();
    for (const p of pairs) per.set(p.scenarioId, (per.get(p.scenarioId) ?? 0) + 1);
    expect([...per.values()]).toEqual([10, 10, 10, 10, 10]);
    const writers = new Set(pairs.map((p) => p.sourceModel));
    expect([...writers].sort()).toEqual(['eia-native-synth-a', 'eia-native-synth-b']);
    const words = pairs.flatMap((p) => [p.empathicText, p.nonEmpathicText]).map((t) => t.split(/\s+/).length);
    const mean = words.reduce((s, x) => s + x, 0) / words.length;
    const sd = Math.sqrt(words.reduce((s, x) => s + (x - mean) ** 2, 0) / words.length);
    expect(sd / mean).toBeGreaterThan(0.25); // lengths vary (the paper's texts: 171-391 words)
    // both texts restate the scenario, mostly in different words: the first sentences differ in most pairs
    const first = (t: string) => t.split('. ')[0];
    expect(pairs.filter((p) => first(p.empathicText) !== first(p.nonEmpathicText)).length).toBeGreaterThan(25);
  });

  it('either side may weigh the other: some empathic texts use task keywords, some task texts empathy keywords', () => {
    const pairs = [...readPairs(files.trainJsonl!), ...readPairs(files.testJsonl!)];
    const has = (t: string, kws: readonly string[]) => kws.some((k) => t.toLowerCase().includes(k));
    const empWithTask = pairs.filter((p) => has(p.empathicText, TASK_KEYWORDS)).length;
    const taskWithEmp = pairs.filter((p) => has(p.nonEmpathicText, EMPATHY_KEYWORDS)).length;
    expect(empWithTask).toBeGreaterThanOrEqual(5);
    expect(empWithTask).toBeLessThan(50);
    expect(taskWithEmp).toBeGreaterThanOrEqual(5);
    expect(taskWithEmp).toBeLessThan(50);
  });

  it('the ablated file is the test file with empathy words of the empathic texts replaced (non-empathic texts untouched)', () => {
    const test = readPairs(files.testJsonl!), abl = readPairs(files.ablatedJsonl!);
    expect(abl).toHaveLength(test.length);
    let changed = 0;
    for (let i = 0; i < test.length; i++) {
      expect(abl[i].nonEmpathicText).toBe(test[i].nonEmpathicText);
      expect(abl[i].scenarioId).toBe(test[i].scenarioId);
      if (abl[i].empathicText !== test[i].empathicText) changed++;
      // the main ablated words are gone
      expect(abl[i].empathicText).not.toMatch(/\b(help|support|understand|comfort|compassion|empathy|kindness|wellbeing)\b/i);
    }
    expect(changed).toBe(test.length);
    expect(files.ablationReplacements!).toBeGreaterThan(3);
    expect(readFileSync(files.ablatedJsonl!, 'utf8')).toContain('"run_id": 35');
  });
});

describe('easy profile and the synth statement', () => {
  it('the same seed writes the same bytes; the easy profile is another model without ablated pairs', async () => {
    const again = await synth({ planted: true, seed: 1, out: join(tmp.dir, 'again.gguf') });
    expect(readFileSync(again.path).equals(readFileSync(files.path))).toBe(true);
    expect(readFileSync(again.trainJsonl!, 'utf8')).toBe(readFileSync(files.trainJsonl!, 'utf8'));
    const easy = await synth({ planted: true, plantedProfile: 'easy', seed: 1, out: join(tmp.dir, 'easy.gguf') });
    expect(easy.plantedProfile).toBe('easy');
    expect(easy.ablatedJsonl).toBeUndefined();
    expect(readFileSync(easy.path).equals(readFileSync(files.path))).toBe(false);
    await expect(synth({ planted: true, plantedProfile: 'hard' as never, out: join(tmp.dir, 'x.gguf') })).rejects.toThrow(/unknown planted profile 'hard'/);
    await expect(synth({ plantedProfile: 'easy', out: join(tmp.dir, 'x.gguf') })).rejects.toThrow(/needs planted/);
  });

  it('`synth --planted --planted-profile easy` states that its controls fail (the checks can fail); --no-check measures nothing', async () => {
    requireFreshDist();
    // child processes run asynchronously: a long spawnSync would stall the vitest worker's RPC
    const cli = runCli;
    const r = await cli(['synth', '--planted', '--planted-profile', 'easy', '--seed', '1', '--out', join(tmp.dir, 'easy-cli.gguf')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/controls measured on this model/);
    expect(r.stdout).toMatch(/\[FAIL\] the probe beats random directions: AUROC 1\.000 vs their 95th percentile 1\.000/);
    expect(r.stdout).toMatch(/\[FAIL\] random directions spread as on real models/);
    expect(r.stdout).toMatch(/\[ok\] the probe recovers the planted direction/);
    const n = await cli(['synth', '--planted', '--no-check', '--out', join(tmp.dir, 'nocheck.gguf')]);
    expect(n.status, n.stderr).toBe(0);
    expect(n.stdout).not.toMatch(/controls/);
    const bad = await cli(['synth', '--planted-profile', 'easy', '--out', join(tmp.dir, 'y.gguf')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--planted-profile needs --planted/);
  }, 300_000);
});
