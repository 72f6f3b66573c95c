// What a steering sweep takes and what it returns (the stages live beside this file: plan.ts,
// manifest.ts, probe-score.ts, run.ts).
import type { SweepRecord } from '../samples.js';

/** How each sample's probe_score is computed (see SweepOptions.probeScore). */
export type ProbeScoreMode = 'capture' | 'monitor' | 'off';
export const PROBE_SCORE_MODES: readonly ProbeScoreMode[] = ['capture', 'monitor', 'off'];

export interface SweepOptions {
  /** GGUF file. */
  modelPath: string;
  /** Name written in every record's `model` field (default: the file name without .gguf). */
  modelKey?: string;
  /** Folder of layer<L>.npy probes (with or without JSON sidecars). */
  probesDir: string;
  layers: number[];
  alphas: number[];
  scenarios: string[];
  /** Samples per (layer, scenario, alpha). */
  samples: number;
  maxTokens: number;
  /** Sampling (defaults: the engine's, lib/engine/defaults.ts: temperature 0.7, top-k 50, top-p 1, min-p 0). */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  seed: number;
  /** RUN folder. */
  out: string;
  /** Wrap the prompt in the model's chat template as a user turn (default false: the paper's raw prompt). */
  chat?: boolean;
  /** Record the steered layer's probe projection of every generated token. */
  monitor?: boolean;
  /** Also store the generated token ids (default false: the count only). */
  tokenIds?: boolean;
  /**
   * How probe_score is computed (default 'monitor'): 'monitor' = free, from the live monitor at the
   * steered layer (mean over the generated positions of the unsteered in-context residual: the
   * steering term is subtracted; the residual at the steered block's output does not depend on that
   * block's steering, only on the tokens); 'capture' = a separate capture pass over each generated
   * text alone (its token ids, BOS first when the tokenizer adds one; mean over positions, unsteered,
   * as the paper scores texts; costs ~25% of the sweep's time on a CPU); 'off' (or false) = none.
   * Both scores correlate at r > 0.9 on the planted model (test/cli/sweep.test.ts).
   */
  probeScore?: ProbeScoreMode | boolean;
  /** Generate alpha = 0 once for all layers (default true; the result is identical). */
  shareBaseline?: boolean;
  /** Sequences per batched generation (default and maximum: the engine's limit, engineLimits().maxSequences). */
  maxBatch?: number;
  /**
   * Context tokens allowed per sequence (prompt + new tokens; default: the model's training
   * context). Checked before anything is written; the KV cache holds only what the sweep needs.
   */
  ctxSize?: number;
  /** Replace a sweep of other parameters in `out` (its files move to out/replaced-<time>/) instead of refusing (E_CONFLICT). */
  force?: boolean;
  /** Decode steps per native call (default 8). */
  stepsPerCall?: number;
  threads?: number;
  gpuLayers?: number;
  signal?: AbortSignal;
  /** Progress bar on stderr (default true; EIA_NATIVE_QUIET=1 silences it). */
  progress?: boolean;
  /** Called with each record right after it is appended. */
  onSample?: (record: SweepRecord) => void;
  /** Messages for people (default: stderr unless EIA_NATIVE_QUIET=1). */
  log?: (msg: string) => void;
}

export interface SweepResult {
  out: string;
  manifestPath: string;
  samplesPath: string;
  /** Grid size. */
  total: number;
  /** Grid samples in samples.jsonl now. */
  kept: number;
  /** Grid samples found already finished at the start. */
  skipped: number;
  /** Samples appended by this call. */
  written: number;
  interrupted: boolean;
  /** Torn final line dropped at the start. */
  repairedTornLine: boolean;
  /** Batched generations run and sequences in them. */
  batches: number;
  sequences: number;
  /** Generated tokens (decoded by the engine in this call). */
  tokens: number;
  /** Native time: prompt phase, decode phase; capture pass; appends. */
  promptMs: number;
  decodeMs: number;
  captureMs: number;
  writeMs: number;
  /** Wall time of the generation loops (generation + scoring + writing), and of the whole call. */
  loopMs: number;
  wallMs: number;
  setupMs: number;
}
