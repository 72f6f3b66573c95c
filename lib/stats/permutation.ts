// Label-permutation test for AUROC: under the null (labels carry no information about the
// scores) every relabelling with the same class sizes is equally likely. Ranks do not change
// when labels are shuffled, so each permutation is just a rank sum over a random subset: O(n).

import { createRng } from './rng.js';
import { auroc, splitByClass, type Labels } from './auroc.js';
import { averageRanks } from './ranks.js';
import type { Numbers } from './descriptive.js';
import { EiaError } from '../util/errors.js';

/** Result of {@link permutationTestAuroc}. */
export interface PermutationResult {
  observed: number;
  /** (1 + #(permuted AUROC >= observed)) / (permutations + 1) */
  p: number;
  permutations: number;
  /** mean of the permuted AUROCs (about 0.5) */
  nullMean: number;
}

/** One-sided permutation p-value of the observed AUROC (seeded Fisher-Yates shuffles of the labels). */
export function permutationTestAuroc(
  scores: Numbers,
  labels: Labels,
  opts: { permutations?: number; seed?: number } = {},
): PermutationResult {
  const permutations = opts.permutations ?? 1000;
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw new EiaError('E_BAD_ARG', `permutations must be a positive integer, got ${permutations}`);
  }
  const { pos, neg } = splitByClass(scores, labels);
  const observed = auroc(scores, labels);
  const ranks = averageRanks(scores);
  const n = ranks.length, nP = pos.length, nN = neg.length;
  const offset = (nP * (nP + 1)) / 2, denom = nP * nN;
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rng = createRng(opts.seed ?? 0);
  // Compare with a tiny tolerance: rank sums are exact halves, but the division is not.
  const eps = 1e-12;
  let atLeast = 0, sum = 0;
  for (let k = 0; k < permutations; k++) {
    // Partial Fisher-Yates: the first nP slots become a uniform random positive set.
    let rs = 0;
    for (let i = 0; i < nP; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
      rs += ranks[perm[i]];
    }
    const a = (rs - offset) / denom;
    sum += a;
    if (a >= observed - eps) atLeast++;
  }
  return { observed, p: (1 + atLeast) / (permutations + 1), permutations, nullMean: sum / permutations };
}
