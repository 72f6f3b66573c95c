// Markdown rendering of a probe validation report in the paper's Table 1 layout (one row per
// layer: AUROC, accuracy, class means, class stds, separation), with the bootstrap CI, both
// accuracy thresholds, and the controls (random baseline, permutation test, lexical ablation).

import type { ProbeReport } from './validation.js';

function f(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'n/a';
  return x.toFixed(digits);
}

function pv(p: number): string {
  return p < 0.001 ? p.toExponential(2) : p.toFixed(4);
}

/** The validation report as Markdown (Table 1 layout plus controls). */
export function probeReportMarkdown(r: ProbeReport): string {
  const out: string[] = [];
  out.push(`# Probe validation: ${r.model.path.split(/[\\/]/).pop()}`);
  out.push('');
  out.push(`Model \`${r.model.path}\` (${r.model.arch}, ${r.model.n_layer} blocks, d_model ${r.model.n_embd}, sha256 \`${r.model.sha256.slice(0, 16)}…\`). ` +
    `Probe: ${r.method}, ${r.pooling} pooling, max ${r.max_tokens || 'all'} tokens; ${r.train.n_pairs} train pairs, ${r.test.n_pairs} test pairs ` +
    `(empathic = positive class); seed ${r.seed}.`);
  out.push('');
  const ciLevel = r.layers[0] ? Math.round(r.layers[0].auroc_ci.confidence * 100) : 95;
  out.push(`| Layer | AUROC [${ciLevel}% CI] | Accuracy (median thr) | Accuracy (midpoint thr) | Mean emp | Mean non | Std emp | Std non | Separation |`);
  out.push('| ---: | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const l of r.layers) {
    const name = l.layer === r.best_layer ? `**${l.layer}**` : String(l.layer);
    out.push(`| ${name} | ${f(l.auroc)} [${f(l.auroc_ci.lower)}, ${f(l.auroc_ci.upper)}] | ${f(l.accuracy_median)} | ${f(l.accuracy_midpoint)} | ` +
      `${f(l.mean_emp)} | ${f(l.mean_non)} | ${f(l.std_emp)} | ${f(l.std_non)} | ${f(l.separation)} |`);
  }
  out.push('');
  out.push(`Best layer: **${r.best_layer}** (AUROC ${f(r.best_auroc)}). Accuracy thresholds: median of all test scores (score >= t), ` +
    `midpoint of the class means (score > t). Stds are population (ddof 0); CI = stratified percentile bootstrap ` +
    `(${r.layers[0]?.auroc_ci.resamples ?? 0} resamples).`);
  const withBase = r.layers.filter((l) => l.random_baseline);
  if (withBase.length > 0) {
    out.push('');
    const n = withBase[0].random_baseline!.n;
    out.push(`**Random baseline** (${n} seeded Gaussian unit directions on the test texts):`);
    out.push('');
    out.push('| Layer | mean | median | std | min | max | 95th pct | probe AUROC | z | empirical p |');
    out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const l of withBase) {
      const b = l.random_baseline!;
      out.push(`| ${l.layer} | ${f(b.mean, 4)} | ${f(b.median, 4)} | ${f(b.std, 4)} | ${f(b.min, 4)} | ${f(b.max, 4)} | ${f(b.p95, 4)} | ` +
        `${f(b.probe_auroc, 4)} | ${f(b.z, 2)} | ${pv(b.empirical_p)} |`);
    }
  }
  const withPerm = r.layers.filter((l) => l.permutation);
  if (withPerm.length > 0) {
    out.push('');
    out.push(`**Permutation test** (${withPerm[0].permutation!.permutations} label shuffles, one-sided p of the AUROC): ` +
      withPerm.map((l) => `L${l.layer} p = ${pv(l.permutation!.p)}`).join('; ') + '.');
  }
  const withAbl = r.layers.filter((l) => l.ablation);
  if (withAbl.length > 0 && r.ablation) {
    out.push('');
    out.push(`**Lexical ablation** (${r.ablation.n_pairs} pairs, ${r.ablation.source}), AUROC with the same probes: ` +
      withAbl.map((l) => `L${l.layer} ${f(l.ablation!.auroc)}`).join('; ') + '.');
  }
  out.push('');
  out.push(`Capture: ${r.capture_passes} pass, ${r.texts_captured} texts, ${r.tokens} tokens, ${r.tokens_per_second.toFixed(0)} tokens/s.`);
  return out.join('\n') + '\n';
}
