// eia-native's public API: everything the CLI does, importable with types.
export { Model, type ModelInfo, type LoadOptions, type ChatMessage } from './engine/model.js';
export { Context, type ContextOptions } from './engine/context.js';
export { capture, row, rows, POOLINGS, type Pooling, type CaptureOptions, type CaptureResult } from './engine/capture.js';
export {
  startGeneration, generationContextOptions, GenerationHandle,
  type GenerateRequest, type SequenceRequest, type SteerTerm, type SteerPositions, type Monitor, type TokenEvent,
  type SequenceResult, type FinishReason, type GenerationStats,
} from './engine/generate.js';
export { synth, SYNTH_ARCHES, SYNTH_SHAPES, SYNTH_TYPES, PLANTED_PROFILES, type PlantedProfile, type SynthOptions, type SynthResult } from './engine/synth.js';
export { checkPlantedControls, plantedControlsLines, type PlantedControls, type ControlCheck } from './probes/planted-controls.js';
export { writeControlVector, readControlVector, loadControlVectorWithLlama, type ControlVector } from './engine/control-vector.js';
export { readGgufTensor } from './engine/gguf.js';
export { runtimeInfo, llamaPin, type RuntimeInfo, type BackendLoad } from './engine/runtime-info.js';

export { readNpy, writeNpy, parseNpy, encodeNpy, writeFileAtomic } from './io/npy.js';
export { readJsonl, JsonlAppender } from './io/jsonl.js';
export { fileSha256 } from './io/file-hash.js';

export * from './stats/index.js';
export {
  parsePairs, readPairs, parseScoredTexts, readScoredTexts, splitPairs, datasetHash, type ContrastivePair,
} from './probes/dataset.js';
export * from './probes/probe.js';
export { runProbe, writeProbeRun, ablatePairs, ablateText, type RunProbeOptions, type ProbeRun, type ProbeReport, type LayerReport } from './probes/pipeline.js';
export { probeReportMarkdown } from './probes/report-table.js';

export * from './steering/index.js';
export { runSweep, sweepGrid, type SweepOptions, type SweepResult, type SweepRecord, type SweepManifest } from './steering/sweep.js';
export { runProtocol, bestLayers, type RunOptions, type RunResult } from './pipeline/run.js';
export { fetchPaperDataset, PAPER_DATASET } from './data/paper-dataset.js';

export * from './models/index.js';
export { writeReport, buildReport, type ReportOptions, type ReportResult } from './report/index.js';
