// Defaults of the detection analysis, in one place: the library (runProbe, runProtocol) and the
// CLI's flags (probe, run, stats) take them from here.

/** The paper's truncation of texts for detection (tokens). */
export const PAPER_MAX_TOKENS = 512;

export const PROBE_DEFAULTS = {
  /** The paper's estimator. */
  method: 'mean-diff' as const,
  /** Random unit directions of the baseline (the paper used 100). */
  randomBaseline: 100,
  /** Label permutations of the AUROC permutation test. */
  permutations: 1000,
  /** Bootstrap resamples of the AUROC CI. */
  bootstrap: 1000,
  /** Keep the first 512 tokens of each text (the paper's truncation). */
  truncate: PAPER_MAX_TOKENS,
  seed: 0,
} as const;

/**
 * Caps of the loops a user sets the length of (one home, so that every command bounds them the
 * same): bootstrap resamples and label permutations (a p-value resolves to 1/(N+1): 1e6 is far past
 * any use), random-baseline directions.
 */
export const MAX_RESAMPLES = 1_000_000;
export const MAX_PERMUTATIONS = 1_000_000;
export const MAX_RANDOM_DIRECTIONS = 100_000;
