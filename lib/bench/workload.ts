// What the bench runs: settings per mode (full / --quick) and the synthetic inputs (random token
// prompts, random texts, a fixed random steering direction), all seeded so every run does the same work.
import { SAMPLING_DEFAULTS } from '../engine/defaults.js';
import { createRng, type Rng } from '../stats/rng.js';

export const BENCH_SHAPES = ['0.5b', 'phi-3-mini', 'qwen2.5-7b', 'llama-3.1-8b', 'tiny'] as const;
export type BenchShape = (typeof BENCH_SHAPES)[number];

/** The paper's 11 alphas (Phi-3 grid): 11 alphas x 5 samples = 55 sequences per sweep. */
export const SWEEP_ALPHAS = [-20, -10, -5, -3, -1, 0, 1, 3, 5, 10, 20] as const;

export interface BenchSettings {
  quick: boolean;
  /** Paired rounds per ratio after one warm-up (median of per-round ratios). */
  rounds: number;
  threads: number;
  capture: { layers: number; textTokens: number; textsPerRound: number; batch: number };
  sweep: { alphas: number[]; samples: number; promptTokens: number; genTokens: number; temperature: number; topK: number };
  /** Samples of the sweep generated one at a time per round (a spread subset when fewer than all). */
  sequential: { samples: number };
  plain: { promptTokens: number; genTokens: number; seed: number; rounds: number };
  paper: { alphas: number[]; samples: number; promptTokens: number; genTokens: number; probeLayers: number; texts: number; textTokens: number; rounds: number };
}

export function benchSettings(opts: { quick: boolean; threads: number; reps?: number; shape: string }): BenchSettings {
  const q = opts.quick;
  // --quick is sized for < 3 minutes with the 0.5b shape on 2 idle cores (about 170 tok/s prompt
  // processing, 25 tok/s single-sequence decode there); the full run takes tens of minutes.
  const s: BenchSettings = {
    quick: q,
    rounds: q ? 2 : 3,
    threads: opts.threads,
    capture: { layers: 5, textTokens: 512, textsPerRound: q ? 1 : 2, batch: 512 },
    sweep: { alphas: [...SWEEP_ALPHAS], samples: 5, promptTokens: 128, genTokens: q ? 16 : 200, temperature: SAMPLING_DEFAULTS.temperature, topK: SAMPLING_DEFAULTS.topK },
    sequential: { samples: q ? 3 : 11 },
    plain: { promptTokens: 128, genTokens: q ? 32 : 200, seed: 42, rounds: q ? 3 : 5 },
    paper: { alphas: [-5, 0, 5], samples: q ? 1 : 2, promptTokens: q ? 32 : 64, genTokens: q ? 8 : 32, probeLayers: 5, texts: q ? 2 : 8, textTokens: q ? 64 : 128, rounds: q ? 1 : 3 },
  };
  if (opts.reps !== undefined) {
    s.rounds = opts.reps;
    s.plain.rounds = opts.reps;
    s.paper.rounds = Math.min(opts.reps, s.paper.rounds);
  }
  return s;
}

/** A seeded unit vector (Gaussian, normalised): the steering direction / monitor probe. */
export function unitVector(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const v = new Float32Array(n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    v[i] = rng.normal();
    ss += v[i] * v[i];
  }
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < n; i++) v[i] *= inv;
  return v;
}

/**
 * `n` token ids: BOS first when the model adds one, then uniform ids from [3, nVocab) (skipping the
 * low ids where unknown/BOS/EOS live) that are not in `avoid` (e.g. end-of-generation tokens).
 */
export function randomTokens(rng: Rng, n: number, vocab: { nVocab: number; bos: number; addBos: boolean }, avoid: ReadonlySet<number> = new Set()): number[] {
  const out: number[] = [];
  if (vocab.addBos && vocab.bos >= 0) out.push(vocab.bos);
  while (out.length < n) {
    const t = 3 + rng.int(vocab.nVocab - 3);
    if (t === vocab.bos || avoid.has(t)) continue;
    out.push(t);
  }
  return out;
}

/** `count` layers spread over the model: k * nLayer / (count + 1), k = 1..count (5 of 24 -> 4, 8, 12, 16, 20). */
export function spreadLayers(nLayer: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= count; k++) out.push(Math.min(nLayer - 1, Math.floor((k * nLayer) / (count + 1))));
  return [...new Set(out)];
}

/** Indices of `k` of `n` items spread evenly (all of them when k >= n). */
export function spreadIndices(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k));
}
