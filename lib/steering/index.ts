// Public surface of behaviour scoring for steered generations (the paper's Table 2 and our extras).

export * from './scenarios.js';
export * from './scoring.js';
export * from './samples.js';
export * from './dose-response.js';
export * from './tables.js';
