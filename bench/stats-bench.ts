// Times the statistics on 10,000 scores: AUROC, a 1,000-resample stratified bootstrap and a
// 1,000-permutation test. Prints one JSON line. Run: npx vite-node bench/stats-bench.ts
// (the target is AUROC + bootstrap under one second; timings are not asserted in tests).

import { performance } from 'node:perf_hooks';
import { auroc } from '../lib/stats/auroc.js';
import { bootstrapAuroc } from '../lib/stats/bootstrap.js';
import { permutationTestAuroc } from '../lib/stats/permutation.js';
import { createRng } from '../lib/stats/rng.js';

const n = Number(process.env.N ?? 10_000);
const rng = createRng(1);
const labels = new Uint8Array(n);
const scores = new Float64Array(n);
for (let i = 0; i < n; i++) {
  labels[i] = i % 2;
  // a coarse grid so that ties occur, as with float16 probe scores
  scores[i] = Math.round((rng.normal() + 0.8 * labels[i]) * 256) / 256;
}

const time = <T>(fn: () => T): [T, number] => { const t = performance.now(); const r = fn(); return [r, performance.now() - t]; };
time(() => bootstrapAuroc(scores, labels, { resamples: 20 })); // warm-up (JIT)
const [a, aurocMs] = time(() => auroc(scores, labels));
const [ci, bootstrapMs] = time(() => bootstrapAuroc(scores, labels, { resamples: 1000, seed: 7 }));
const [perm, permutationMs] = time(() => permutationTestAuroc(scores, labels, { permutations: 1000, seed: 7 }));
const r = (x: number) => Math.round(x * 100) / 100;
console.log(JSON.stringify({
  n, resamples: 1000, auroc: a, ci: [ci.lower, ci.upper], permutationP: perm.p,
  aurocMs: r(aurocMs), bootstrapMs: r(bootstrapMs), permutationMs: r(permutationMs),
  aurocPlusBootstrapMs: r(aurocMs + bootstrapMs), underOneSecond: aurocMs + bootstrapMs < 1000,
}));
