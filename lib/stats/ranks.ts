// Average ranks (ties share the mean of the ranks they span), the basis of both the
// Mann-Whitney form of AUROC and Spearman's rho. Sorting once here is what keeps AUROC O(n log n).

import type { Numbers } from './descriptive.js';

/** Indices 0..n-1 ordered by ascending value (stable for equal values). */
export function argsort(values: Numbers): Uint32Array {
  const n = values.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // Sorting a copy of values alongside avoids repeated ArrayLike lookups in the comparator.
  const v = Float64Array.from(values);
  return idx.sort((a, b) => v[a] - v[b] || a - b);
}

/**
 * 1-based average ranks, like scipy.stats.rankdata(method='average'):
 * tied values all get the mean of the ranks they would occupy.
 */
export function averageRanks(values: Numbers): Float64Array {
  const n = values.length;
  const order = argsort(values);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    const v = values[order[i]];
    while (j + 1 < n && values[order[j + 1]] === v) j++;
    const r = (i + j) / 2 + 1; // mean of ranks i+1 .. j+1
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}
