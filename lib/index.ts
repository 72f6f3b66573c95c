// eia-native's public API: what a program needs to detect and steer empathy-in-action with a
// local model. Deliberately small (docs/library.md lists it): the engine, probes,
// the statistics results, sweeps, scoring, reports and the model registry. Internal math (linear
// algebra, ranks, random numbers), file plumbing and the CLI stay internal.

// ---- engine: models, contexts, capture, generation with steering and monitors
export { Model, type ModelInfo, type LoadOptions, type ChatMessage } from './engine/model.js';
export { Context, generationContextOptions, type ContextOptions } from './engine/context.js';
export { rows, type Pooling, type CaptureOptions, type CaptureResult } from './engine/capture.js';
export {
  GenerationHandle,
  type GenerateRequest, type SequenceRequest, type SteerTerm, type SteerPositions, type Gate, type Monitor,
  type GenerationEvent, type TokenEvent, type FinishEvent, type AddOptions,
  type SequenceResult, type FinishReason, type GenerationStats,
} from './engine/generate.js';
export { engineLimits, SAMPLING_DEFAULTS, type EngineLimits } from './engine/defaults.js';
export { synth, PLANTED_PROFILES, type PlantedProfile, type SynthOptions, type SynthResult } from './engine/synth.js';
export { writeControlVector, readControlVector, type ControlVector } from './engine/control-vector.js';
export { runtimeInfo, type RuntimeInfo } from './engine/runtime-info.js';
export { EiaError, isEiaError, type ErrorCode } from './util/errors.js';

// ---- probes: datasets, directions, the detection analysis (Table 1), cross-model transfer
export { readPairs, parsePairs, splitPairs, readScoredTexts, type ContrastivePair, type ScoredText } from './probes/dataset.js';
export { trainProbe, probeDirection, scoreWithProbe, type Probe, type ProbeMethod, type TrainOptions } from './probes/probe.js';
export { loadProbe, loadProbes, saveProbe } from './probes/probe-file.js';
export { runProbe, type RunProbeOptions } from './probes/pipeline.js';
export { readValidation, writeProbeRun, type ProbeRun, type ProbeReport, type LayerReport } from './probes/validation.js';
export { ablatePairs } from './probes/ablation.js';
export { checkPlantedControls, type PlantedControls, type ControlCheck } from './probes/planted-controls.js';
export { scoreAgreement, crossModelTransfer, type ScoreAgreement, type CrossModelTransfer } from './probes/crossmodel.js';

// ---- statistics results (the validation figures on scores computed anywhere)
export { auroc, evaluateScores, type ScoreEvaluation } from './stats/auroc.js';
export { bootstrapAuroc, type BootstrapResult } from './stats/bootstrap.js';
export { permutationTestAuroc, type PermutationResult } from './stats/permutation.js';
export { randomDirectionBaseline, summariseBaseline, type BaselineSummary } from './stats/baseline.js';
export { pearson, spearman, binaryAccuracy02, binaryAccuracyAllItems, type CorrelationResult, type BinaryAccuracy, type BinaryConvention } from './stats/correlation.js';
export { correlationReport, type CorrelationReport } from './stats/correlation-report.js';

// ---- steering: scenarios, sweeps, samples, scoring (Table 2)
export { SCENARIOS, STEERING_SCENARIO_IDS, steeringPrompt, loadScenariosFile, type Scenario } from './steering/scenarios.js';
export { runSweep } from './steering/sweep/run.js';
export type { SweepOptions, SweepResult, ProbeScoreMode } from './steering/sweep/options.js';
export type { SweepManifest } from './steering/sweep/manifest.js';
export { parseShard, partitionGrid, type ShardSpec } from './steering/sweep/shard.js';
export { readSweepRuns, type MergedSweep } from './steering/merge/read.js';
export { scoreSweep } from './steering/merge/score.js';
export { writeMergedRun } from './steering/merge/write.js';
export { readSamples, readSamplesJsonl, type SampleRecord, type SweepRecord, type SampleFormat } from './steering/samples.js';
export { scoreSamples, renderTable2Markdown, type ScoreResult, type ScoreOptions, type Table2Row } from './steering/tables.js';
export { scoreSample, type SampleScore } from './steering/scoring.js';
export { generatePairs, type PairsOptions, type PairsResult } from './steering/pairs.js';

// ---- the whole protocol, reports
export { runProtocol, type RunOptions, type RunResult } from './pipeline/run.js';
export { writeReport, type ReportOptions, type ReportResult } from './report/index.js';

// ---- models: registry, cache, downloads, the paper's dataset
export { listModels, findModel, getModel, type ModelEntry } from './models/registry.js';
export { cacheDir, resolveModel } from './models/cache.js';
export { pull, type PullOptions, type PullResult } from './models/pull.js';
export { fetchPaperDataset } from './data/paper-dataset.js';

// ---- files
export { readNpy, writeNpy } from './io/npy.js';

// ---- the OpenAI-compatible server (eia-native serve)
export { createServer, SERVER_DEFAULTS, type ServerOptions, type ServerHandle, type ServerAddress } from './server/index.js';
