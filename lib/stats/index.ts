// Public statistics API: everything a validation or benchmark script needs, from one import.
export { createRng, type Rng } from './rng.js';
export { mean, stdPop, median, percentile, percentileSorted, type Numbers } from './descriptive.js';
export { averageRanks, argsort } from './ranks.js';
export {
  auroc, aurocFromClasses, accuracyAtMedian, accuracyAtMidpoint, classStats, evaluateScores, splitByClass,
  type Labels, type ClassStats, type ThresholdAccuracy, type ScoreEvaluation,
} from './auroc.js';
export { bootstrapAuroc, bootstrapCI, bootstrapMean, type BootstrapOptions, type BootstrapResult } from './bootstrap.js';
export { randomDirectionBaseline, summariseBaseline, randomUnitDirection, type BaselineSummary, type BaselineOptions } from './baseline.js';
export { permutationTestAuroc, type PermutationResult } from './permutation.js';
export {
  pearson, spearman, correlationTTest, binaryAccuracy02, binaryAccuracyAllItems, BINARY_CONVENTIONS,
  type CorrelationResult, type BinaryAccuracy, type BinaryConvention,
} from './correlation.js';
export { correlationReport, type CorrelationReport, type PublishedCorrelation } from './correlation-report.js';
export {
  scoreAgreement, fitProcrustes, mapAToB, mapBToA, carryDirection, crossModelTransfer,
  type ScoreAgreement, type ProcrustesAlignment, type CrossModelTransfer,
} from './crossmodel.js';
export { jacobiSvd, symmetricEigen, type Mat } from './linalg.js';
