// Public probe API: datasets, activation rows and probe directions.
export {
  parsePairs, readPairs, parseScoredTexts, readScoredTexts, splitPairs, datasetHash,
  type ContrastivePair, type ScoredText,
} from './dataset.js';
export { checkRows, scoreRows, dot, norm, type Rows } from './activations.js';
export {
  meanDiffDirection, pcaDirection, logisticDirection, fitLogistic, probeDirection, trainProbe, scoreWithProbe,
  saveProbe, loadProbe, loadProbes,
  type Probe, type ProbeMethod, type TrainOptions, type DirectionOptions, type LogisticFit,
} from './probe.js';
