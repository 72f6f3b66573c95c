// Perplexity from per-token log-probabilities: the mean negative log-likelihood (NLL, in nats per
// token) and its exponential. The engine gives the log-probabilities (Context.tokenLogprobs); the
// steering metrics (lib/steering/metrics) turn them into fluency. Also the log-softmax of one logit
// row, the reference the engine's native log-softmax is tested against.
import { EiaError } from '../util/errors.js';

/** Mean negative log-likelihood per token of `logprobs` (natural logs); null for no tokens. */
export function meanNll(logprobs: ArrayLike<number>): number | null {
  if (logprobs.length === 0) return null;
  let s = 0;
  for (let i = 0; i < logprobs.length; i++) {
    const v = logprobs[i];
    if (!Number.isFinite(v) && v !== -Infinity) throw new EiaError('E_BAD_ARG', `log-probability ${i} is not a number (${String(v)})`);
    s -= v;
  }
  return s / logprobs.length;
}

/** Perplexity exp(mean NLL) of `logprobs`; null for no tokens. */
export function perplexity(logprobs: ArrayLike<number>): number | null {
  const nll = meanNll(logprobs);
  return nll === null ? null : Math.exp(nll);
}

/** log softmax(row)[index], in float64 with the max subtracted first. */
export function logSoftmaxAt(row: ArrayLike<number>, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= row.length) throw new EiaError('E_BAD_ARG', `index ${index} is outside the row (0..${row.length - 1})`);
  let mx = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > mx) mx = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - mx);
  return row[index] - mx - Math.log(sum);
}

/** Geometric mean of positive numbers (the mean of perplexities on the log scale); null for none. */
export function geometricMean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) throw new EiaError('E_BAD_ARG', `geometric mean of a non-positive or non-finite value (${v})`);
    s += Math.log(v);
  }
  return Math.exp(s / values.length);
}
