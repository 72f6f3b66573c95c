// The paper's own artefacts (../shared/reference/empathy-probes; skipped, with the reason, when absent): its probe
// files load, are unit directions and survive llama.cpp's control-vector format (written by
// `eia-native cvec export`, read back by `cvec import` and by llama.cpp's own loader), and
// `eia-native stats` reproduces its published random-baseline and correlation figures.
import { beforeAll, afterAll, describe, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProbe } from '../../lib/probes/probe-file.js';
import { readNpy } from '../../lib/io/npy.js';
import { loadControlVectorWithLlama } from '../../lib/engine/control-vector.js';
import { itWithPaper, PAPER_DIR as refDir, paperPresent } from '../helpers/paper.js';
import { requireFreshDist } from '../helpers/dist.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const probesDir = join(refDir, 'results', 'probes');
const present = paperPresent;

function ok(args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/eia-native.js', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const models = present ? readdirSync(probesDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];
const layerFiles = (m: string) => readdirSync(join(probesDir, m)).filter((f) => /^layer\d+\.npy$/.test(f))
  .sort((a, b) => Number(a.slice(5, -4)) - Number(b.slice(5, -4)));

let T = '';
beforeAll(() => {
  if (!present) return;
  requireFreshDist();
  T = mkdtempSync(join(tmpdir(), 'paper-probes-'));
});
afterAll(() => { if (T) rmSync(T, { recursive: true, force: true }); });

describe('the paper\'s probes (results/probes)', () => {
  itWithPaper('finds the three models\' probes', () => {
    expect(models).toEqual(['dolphin-llama-3.1-8b', 'phi-3-mini-4k', 'qwen2.5-7b']);
    expect(models.map((m) => layerFiles(m).length)).toEqual([6, 5, 5]);
  });

  const widths: Record<string, number> = { 'dolphin-llama-3.1-8b': 4096, 'phi-3-mini-4k': 3072, 'qwen2.5-7b': 3584 };
  for (const m of models) {
    itWithPaper(`${m}: every layer*.npy loads, is a unit vector, and round-trips through a llama.cpp control vector`, () => {
      const files = layerFiles(m);
      const probes = files.map((f) => loadProbe(join(probesDir, m, f)));
      for (const [i, p] of probes.entries()) {
        expect(readNpy(join(probesDir, m, files[i])).dtype).toBe('<f2');
        expect(p.direction.length).toBe(widths[m]);
        let n2 = 0;
        for (const v of p.direction) n2 += v * v;
        expect(Math.abs(Math.sqrt(n2) - 1)).toBeLessThan(1e-3);
        expect(p.layer).toBe(Number(files[i].slice(5, -4)));
      }
      const gguf = join(T, `${m}.gguf`);
      ok(['cvec', 'export', ...files.flatMap((f) => ['--probe', join(probesDir, m, f)]), '--model-hint', m, '--out', gguf]);
      const imported = JSON.parse(ok(['cvec', 'import', gguf, '--out', join(T, m), '--json']));
      expect(imported.n_embd).toBe(widths[m]);
      expect(imported.layers).toEqual(probes.map((p) => p.layer));
      // llama.cpp's own loader: layers 1..max, n_embd floats each, our direction at (layer - 1) * n_embd
      const ll = loadControlVectorWithLlama(gguf);
      expect(ll.nEmbd).toBe(widths[m]);
      const maxLayer = Math.max(...probes.map((p) => p.layer));
      expect(ll.data.length).toBe(maxLayer * ll.nEmbd);
      for (const [i, p] of probes.entries()) {
        const d = p.direction, w = d.length;
        // the file holds the stored probe exactly (float16 values are exact in float32; its norm,
        // 1 to float16 rounding, is the probe's scale and travels with it: the one norm rule)
        const fromLlama = ll.data.subarray((p.layer - 1) * w, p.layer * w);
        expect(Array.from(fromLlama)).toEqual(Array.from(readNpy(join(probesDir, m, files[i])).data));
        // cvec import keeps unit directions: the probe renormalised, to float32 precision
        const back = loadProbe(join(T, m, `layer${p.layer}.npy`)).direction;
        let n2 = 0;
        for (const v of d) n2 += v * v;
        const inv = 1 / Math.sqrt(n2);
        let maxErr = 0;
        for (let j = 0; j < w; j++) maxErr = Math.max(maxErr, Math.abs(back[j] - Math.fround(d[j] * inv)));
        expect(maxErr).toBeLessThanOrEqual(2 ** -24);
        // ... and the stored norm as the scale, so that exporting again gives the same vectors
        expect(imported.scales[String(p.layer)]).toBeCloseTo(p.scale!, 6);
      }
      // layers the paper did not probe are zero in llama.cpp's view
      const probed = new Set(probes.map((p) => p.layer));
      for (let l = 1; l <= maxLayer; l++) {
        if (probed.has(l)) continue;
        expect(ll.data.subarray((l - 1) * ll.nEmbd, l * ll.nEmbd).every((v) => v === 0)).toBe(true);
      }
    });
  }
});

describe('stats CLI on the paper\'s result files', () => {
  itWithPaper('random_baseline_proper.json: mean, std, 95th percentile and z as published', () => {
    const file = join(refDir, 'results', 'random_baseline_proper.json');
    const ref = JSON.parse(readFileSync(file, 'utf8'));
    const j = JSON.parse(ok(['stats', 'baseline', '--input', file, '--json']));
    expect(j.n).toBe(100);
    expect(j.probe_auroc).toBe(1);
    expect(Math.abs(j.mean - 0.497778)).toBeLessThan(1e-6);
    expect(Math.abs(j.std - 0.240304)).toBeLessThan(1e-6);
    expect(Math.abs(j.p95 - 0.856889)).toBeLessThan(1e-6);
    expect(Math.abs(j.z - 2.089946)).toBeLessThan(1e-6);
    expect(j.z.toFixed(4)).toBe('2.0899');
    // and the file's own unrounded figures
    expect(j.mean).toBeCloseTo(ref.random_baseline.mean_auroc, 12);
    expect(j.median).toBeCloseTo(ref.random_baseline.median_auroc, 12);
    expect(j.std).toBeCloseTo(ref.random_baseline.std_auroc, 12);
    expect(j.min).toBe(ref.random_baseline.min_auroc);
    expect(j.max).toBe(ref.random_baseline.max_auroc);
    expect(j.p95).toBeCloseTo(ref.random_baseline['95th_percentile'], 12);
    expect(j.z).toBeCloseTo(ref.comparison.z_score, 8); // the file's z differs from (1 - mean) / std of its own figures by 9e-10
    expect(j.empirical_p).toBeCloseTo(1 / 101, 12);
  });

  itWithPaper('eia_correlation.json: Pearson, Spearman and 0-vs-2 accuracy as published', () => {
    const file = join(refDir, 'results', 'eia_correlation.json');
    const ref = JSON.parse(readFileSync(file, 'utf8'));
    const j = JSON.parse(ok(['stats', 'correlate', '--input', file, '--json']));
    expect(j.n).toBe(12);
    expect(Math.abs(j.pearson.r - 0.709015)).toBeLessThan(1e-6);
    expect(Math.abs(j.pearson.p - 0.0098293)).toBeLessThan(1e-6);
    expect(Math.abs(j.spearman.rho - 0.713996)).toBeLessThan(1e-6);
    expect(Math.abs(j.spearman.p - 0.0091006)).toBeLessThan(1e-6);
    expect(j.pearson.r).toBeCloseTo(ref.pearson_correlation, 12);
    expect(j.pearson.p).toBeCloseTo(ref.pearson_p_value, 10);
    expect(j.spearman.rho).toBeCloseTo(ref.spearman_correlation, 12);
    expect(j.spearman.p).toBeCloseTo(ref.spearman_p_value, 10);
    expect(j.binary_accuracy.accuracy).toBe(ref.binary_accuracy);
    expect(j.binary_accuracy.confusion).toEqual(ref.confusion_matrix);
  });

  itWithPaper('prints a readable summary without --json', () => {
    const out = ok(['stats', 'baseline', '--input', join(refDir, 'results', 'random_baseline_proper.json')]);
    expect(out).toContain('mean 0.497778');
    expect(out).toContain('z = 2.0899');
  });
});
