// `eia-native/steering`: scenarios, a sweep's shards and several RUNs merged as one sweep, samples
// and their scoring in detail, the offline steering metrics and the LLM judge (docs/tune.md),
// contrastive pair generation, the whole protocol of `eia-native run` and the block-and-alpha search
// of `eia-native tune`.
export { SCENARIOS, STEERING_SCENARIO_IDS, steeringPrompt, loadScenariosFile, type Scenario } from '../steering/scenarios.js';
export type { ProbeScoreMode } from '../steering/sweep/options.js';
export type { SweepManifest } from '../steering/sweep/manifest.js';
export { parseShard, partitionGrid, type ShardSpec } from '../steering/sweep/shard.js';
export { readSweepRuns, type MergedSweep } from '../steering/merge/read.js';
export { scoreSweep } from '../steering/merge/score.js';
export { writeMergedRun } from '../steering/merge/write.js';
export { readSamples, type SweepRecord, type SampleFormat } from '../steering/samples.js';
export type { ScoreOptions, Table2Row } from '../steering/tables.js';
export { scoreSample, type SampleScore } from '../steering/scoring.js';
export { generatePairs, type PairsOptions, type PairsResult } from '../steering/pairs.js';
export { runProtocol, type RunOptions, type RunResult } from '../pipeline/run.js';
export { computeSampleMetrics, type SampleMetrics } from '../steering/metrics/compute.js';
export { summarizeMetrics, type OfflineMetrics } from '../steering/metrics/summary.js';
export { JudgeClient } from '../steering/judge/client.js';
export { judgeSamples } from '../steering/judge/judge.js';
export type { JudgeVerdict } from '../steering/judge/verdict.js';
export { runTune, type TuneOptions, type TuneResult } from '../pipeline/tune/index.js';
