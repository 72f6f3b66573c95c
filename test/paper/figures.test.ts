// The paper's published statistics (../shared/reference/empathy-probes/results), recomputed from
// its own result files with eia-native's statistics. Skipped, with the reason, where the data is absent.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect } from 'vitest';
import { summariseBaseline } from '../../lib/stats/baseline.js';
import { binaryAccuracy02, pearson, spearman } from '../../lib/stats/correlation.js';
import { median } from '../../lib/stats/descriptive.js';
import { itWithPaper, PAPER_DIR as refDir } from '../helpers/paper.js';

describe('the paper\'s figures', () => {
  const read = (p: string) => JSON.parse(readFileSync(resolve(refDir, p), 'utf8'));

  itWithPaper('behavioural correlation: Pearson .709015 (p .0098293), Spearman .713996 (p .0091006), 0-vs-2 accuracy 100%', () => {
    const d = read('results/eia_correlation.json') as { detailed_results: { probe_score: number; true_score: number }[] };
    const probe = d.detailed_results.map((r) => r.probe_score), rubric = d.detailed_results.map((r) => r.true_score);
    expect(probe.length).toBe(12);
    const p = pearson(probe, rubric), s = spearman(probe, rubric);
    expect(Math.abs(p.r - 0.709015)).toBeLessThan(1e-6);
    expect(Math.abs(p.p - 0.0098293)).toBeLessThan(1e-6);
    expect(Math.abs(s.r - 0.713996)).toBeLessThan(1e-6);
    expect(Math.abs(s.p - 0.0091006)).toBeLessThan(1e-6);
    const b = binaryAccuracy02(probe, rubric);
    expect(b.accuracy).toBe(1);
    expect(b.n).toBe(10);
    expect(b.confusion).toEqual([[5, 0], [0, 5]]);
    // the median over all 12 texts would misclassify a rubric-0 text: the documented choice matters
    const all = median(probe);
    expect(probe.some((v, i) => rubric[i] === 0 && v >= all)).toBe(true);
  });

  itWithPaper('cross-model correlations in cross_model_correlation.json are reproduced', () => {
    const d = read('results/cross_model_correlation.json') as Record<string, {
      pearson_correlation: number; pearson_p_value: number; spearman_correlation: number; spearman_p_value: number;
      detailed_results: { probe_score: number; true_score: number }[];
    }>;
    const q = d['qwen2.5-7b'];
    const probe = q.detailed_results.map((r) => r.probe_score), rubric = q.detailed_results.map((r) => r.true_score);
    expect(Math.abs(pearson(probe, rubric).r - -0.057482)).toBeLessThan(1e-6);
    for (const m of Object.values(d)) {
      const x = m.detailed_results.map((r) => r.probe_score), y = m.detailed_results.map((r) => r.true_score);
      expect(pearson(x, y).r).toBeCloseTo(m.pearson_correlation, 9);
      expect(pearson(x, y).p).toBeCloseTo(m.pearson_p_value, 9);
      expect(spearman(x, y).r).toBeCloseTo(m.spearman_correlation, 9);
      expect(spearman(x, y).p).toBeCloseTo(m.spearman_p_value, 9);
    }
  });

  itWithPaper('random baseline: mean .497778, std .240304, p95 .856889, z 2.0899', () => {
    const d = read('results/random_baseline_proper.json') as { random_baseline: { all_aurocs: number[] }; comparison: { z_score: number } };
    const s = summariseBaseline(d.random_baseline.all_aurocs, 1.0);
    expect(s.n).toBe(100);
    expect(Math.abs(s.mean - 0.497778)).toBeLessThan(1e-6);
    expect(Math.abs(s.std - 0.240304)).toBeLessThan(1e-6);
    expect(Math.abs(s.p95 - 0.856889)).toBeLessThan(1e-6);
    expect(Math.abs(s.median - 0.481111)).toBeLessThan(1e-6);
    expect(Math.abs(s.z! - 2.0899)).toBeLessThan(1e-4);
    expect(Math.abs(s.z! - (1 - 0.4977777777777778) / 0.24030392279079005)).toBeLessThan(1e-9);
    expect(Math.abs(s.z! - d.comparison.z_score)).toBeLessThan(1e-6);
    expect(s.empiricalP).toBeCloseTo(1 / 101, 15); // no random direction reached 1.0
  });

  itWithPaper('validation_phi3.json holds only per-layer summaries (no raw scores to reproduce)', () => {
    const d = read('results/probes/validation_phi3.json') as { layer_results: Record<string, Record<string, unknown>> };
    for (const layer of Object.values(d.layer_results)) {
      expect(Object.values(layer).every((v) => typeof v === 'number')).toBe(true);
    }
  });
});
