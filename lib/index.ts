// eia-native's root export, for embedding in Node apps: load a model, capture and generate with
// steering, gates and monitors; train and use probes; the statistics of the detection analysis;
// steering sweeps and their scoring; EiaError. Kept under 60 names (test/unit/public-api.test.ts);
// the rest of the public API lives in subpath entries (lib/entry/: `eia-native/server`,
// `eia-native/report`, …). docs/library.md lists every name of every entry.

// ---- engine: models, contexts, capture, generation with steering and monitors
export { Model, type ModelInfo, type LoadOptions, type ChatMessage } from './engine/model.js';
export { Context, generationContextOptions, type ContextOptions, type ResidualSupport } from './engine/context.js';
export { rows, type Pooling, type CaptureOptions, type CaptureResult } from './engine/capture.js';
export {
  GenerationHandle,
  type GenerateRequest, type SequenceRequest, type SteerTerm, type SteerPositions, type Gate, type Monitor,
  type GenerationEvent, type TokenEvent, type FinishEvent, type AddOptions,
  type SequenceResult, type FinishReason, type GenerationStats,
} from './engine/generate.js';
export { engineLimits, SAMPLING_DEFAULTS, type EngineLimits } from './engine/defaults.js';
export { EiaError, FieldError, isEiaError, type ErrorCode } from './util/errors.js';

// ---- probes: pairs, directions, the detection analysis (Table 1)
export { readPairs, type ContrastivePair } from './probes/dataset.js';
export { trainProbe, type Probe } from './probes/probe.js';
export { loadProbe, saveProbe } from './probes/probe-file.js';
export { runProbe, type RunProbeOptions } from './probes/pipeline.js';
export type { ProbeRun } from './probes/validation.js';

// ---- statistics (the validation figures on scores computed anywhere)
export { auroc } from './stats/auroc.js';
export { bootstrapAuroc, type BootstrapResult } from './stats/bootstrap.js';
export { permutationTestAuroc, type PermutationResult } from './stats/permutation.js';
export { randomDirectionBaseline } from './stats/baseline.js';
export { pearson, spearman, type CorrelationResult } from './stats/correlation.js';

// ---- steering sweeps and their scoring (Table 2)
export { runSweep } from './steering/sweep/run.js';
export type { SweepOptions, SweepResult } from './steering/sweep/options.js';
export { readSamplesJsonl, type SampleRecord } from './steering/samples.js';
export { scoreSamples, type ScoreResult } from './steering/tables.js';
