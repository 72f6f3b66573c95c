// What every bench step shares: the settings, the model under test, the eia-native worker, the
// native tools, the seeded random source (steps draw from it in a fixed order, so every run does
// the same work) and the recorder.
import { engineLimits } from '../engine/defaults.js';
import type { Rng } from '../stats/rng.js';
import type { WorkerClient } from './proc.js';
import type { Recorder } from './recorder.js';
import type { GenSpec } from './worker.js';
import type { BenchSettings } from './workload.js';

/** The model's facts as the worker reports them after loading it. */
export interface ModelFacts { arch: string; nLayer: number; nEmbd: number; nVocab: number; bos: number; addBos: boolean; nParams: number; sizeBytes: number }

export interface BenchContext {
  S: BenchSettings;
  threads: number;
  modelPath: string;
  info: ModelFacts;
  rng: Rng;
  /** The eia-native worker (worker.ts), the model loaded. */
  worker: WorkerClient;
  /** Paths of llama.cpp's tools (null: not built). */
  tools: Record<string, string | null>;
  rec: Recorder;
  log: (msg: string) => void;
  /** Filled in by the steps for the report's settings. */
  captureLayers: number[];
  steerLayer: number | null;
}

/** One sequence of the sweep workload, sampled as the sweep settings say. */
export function genSpec(S: BenchSettings, prompt: number[], alpha: number, seed: number, maxTokens: number): GenSpec {
  return { prompt, alpha, seed, maxTokens, temperature: S.sweep.temperature, topK: S.sweep.topK };
}

/** KV cells for one sequence of `tokens`, rounded up as the engine pads them (the other tools get the same room). */
export function perSeq(tokens: number): number {
  const pad = engineLimits().kvPadding;
  return Math.ceil(tokens / pad) * pad;
}

/** The vocabulary facts randomTokens needs. */
export const vocabOf = (info: ModelFacts) => ({ nVocab: info.nVocab, bos: info.bos, addBos: info.addBos });

/** The last lines of a tool's stderr, for an error message. */
export const stderrTail = (stderr: string, n = 3): string => stderr.trim().split('\n').slice(-n).join(' ');
