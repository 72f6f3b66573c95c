// `eia-native/pull`: the model registry (models.json), the cache, downloads, and the paper's dataset fetched by pin.
export { pull, type PullOptions, type PullResult } from '../models/pull.js';
export { listModels, findModel, getModel, type ModelEntry } from '../models/registry.js';
export { cacheDir, resolveModel } from '../models/cache.js';
export { fetchPaperDataset } from '../data/paper-dataset.js';
