// `eia-native/probes`: the detection analysis in detail: pair files, probe estimators and files,
// validation files, lexical ablation, behavioural correlation, cross-model transfer, and the
// statistics behind them.
export { parsePairs, splitPairs, readScoredTexts, type ScoredText } from '../probes/dataset.js';
export { probeDirection, scoreWithProbe, type ProbeMethod, type TrainOptions } from '../probes/probe.js';
export { loadProbes } from '../probes/probe-file.js';
export { readValidation, writeProbeRun, type ProbeReport, type LayerReport } from '../probes/validation.js';
export { ablatePairs } from '../probes/ablation.js';
export { scoreAgreement, crossModelTransfer, type ScoreAgreement, type CrossModelTransfer } from '../probes/crossmodel.js';
export { evaluateScores, type ScoreEvaluation } from '../stats/auroc.js';
export { summariseBaseline, type BaselineSummary } from '../stats/baseline.js';
export { binaryAccuracy02, binaryAccuracyAllItems, type BinaryAccuracy, type BinaryConvention } from '../stats/correlation.js';
export { correlationReport, type CorrelationReport } from '../stats/correlation-report.js';
