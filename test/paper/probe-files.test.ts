// The paper's own probe files and dataset (../shared/reference/empathy-probes): its float16 probes
// load as unit directions of the right widths, its pairs and scenarios parse, and models.json
// names a probe file for every layer it lists. Skipped, with the reason, where the data is absent.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { readNpy } from '../../lib/io/npy.js';
import { paperModels } from '../../lib/models/registry.js';
import { datasetHash, readPairs } from '../../lib/probes/dataset.js';
import { scoreWithProbe } from '../../lib/probes/probe.js';
import { loadProbes } from '../../lib/probes/probe-file.js';
import { loadScenariosFile } from '../../lib/steering/scenarios.js';
import { itWithPaper, PAPER_DIR as refDir } from '../helpers/paper.js';

describe('the paper\'s probe files', () => {
  const widths: Record<string, number> = { 'phi-3-mini-4k': 3072, 'qwen2.5-7b': 3584, 'dolphin-llama-3.1-8b': 4096 };
  itWithPaper('every .npy under results/probes loads as float16 with unit norm within 1e-3', () => {
    let count = 0;
    for (const model of Object.keys(widths)) {
      const dir = join(refDir, 'results/probes', model);
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.npy'))) {
        const a = readNpy(join(dir, f));
        expect(a.dtype).toBe('<f2');
        expect(a.shape).toEqual([widths[model]]);
        let s = 0;
        for (const v of a.data) s += v * v;
        expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-3);
        count++;
      }
    }
    expect(count).toBe(16);
  });
});

describe('the paper\'s data', () => {
  itWithPaper('reads the 35/15 pairs, the ablated test pairs and the 5 scenarios', () => {
    const train = readPairs(join(refDir, 'data/contrastive_pairs/train_pairs.jsonl'));
    const test = readPairs(join(refDir, 'data/contrastive_pairs/test_pairs.jsonl'));
    const ablated = readPairs(join(refDir, 'data/contrastive_pairs/test_pairs_ablated.jsonl'));
    expect([train.length, test.length, ablated.length]).toEqual([35, 15, 15]);
    const scenarios = loadScenariosFile(join(refDir, 'data/eia_scenarios/scenarios.json'));
    expect(scenarios.map((s) => s.id).sort()).toEqual(['food_delivery', 'the_duel', 'the_listener', 'the_maze', 'the_protector']);
    const ids = new Set(scenarios.map((s) => s.id));
    for (const p of [...train, ...test]) expect(ids.has(p.scenarioId)).toBe(true);
    expect(datasetHash(train)).not.toBe(datasetHash(test));
  });

  itWithPaper('loads the float16 probes without sidecars; unit norm; width checks against other models', () => {
    const phi = loadProbes(join(refDir, 'results/probes/phi-3-mini-4k'));
    expect([...phi.keys()]).toEqual([8, 12, 16, 20, 24]);
    const p12 = phi.get(12)!;
    expect(p12).toMatchObject({ layer: 12, method: 'mean-diff', pooling: 'mean', trainHash: '', nTrain: 0 });
    expect(p12.direction.length).toBe(3072);
    let nrm = 0;
    for (const v of p12.direction) nrm += v * v;
    expect(Math.abs(Math.sqrt(nrm) - 1)).toBeLessThan(1e-3);
    const qwenRow = new Float32Array(3584);
    expect(() => scoreWithProbe(p12, [qwenRow])).toThrow('probe (layer 12) has width 3072 but activation row 0 has width 3584');
  });
});

describe('models.json and the paper\'s probes', () => {
  itWithPaper("every paper model's probe layers have a probe file in the paper's probes folder", () => {
    const dir = join(refDir, 'results', 'probes');
    for (const m of paperModels()) {
      for (const l of m.probeLayers) expect(() => readFileSync(join(dir, m.paperProbeDir!, `layer${l}.npy`))).not.toThrow();
    }
  });
});
