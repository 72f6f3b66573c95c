// `eia-native/steering`: scenarios, a sweep's shards and several RUNs merged as one sweep, samples
// and their scoring in detail, contrastive pair generation, and the whole protocol of `eia-native run`.
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
