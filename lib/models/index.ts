// Public model API: the registry (models.json), the local cache, downloads and a progress display.
export {
  MODELS_JSON_URL, loadModels, listModels, paperModels, findModel, getModel,
  validateModelsFile, validateModelEntry, assertSafeName, assertSafeRelativeFile,
  type ModelEntry, type ModelsFile, type SamplingDefaults,
} from './registry.js';
export { cacheDir, modelsDir, modelDir, modelPath, isCached, resolveModel } from './cache.js';
export { pull, downloadUrl, PullError, type PullOptions, type PullProgress, type PullResult } from './pull.js';
export {
  createProgress, formatBytes, formatDuration,
  type Progress, type ProgressOptions, type ProgressUnit,
} from './progress.js';
