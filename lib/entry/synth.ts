// `eia-native/synth`: synthetic GGUF models, the planted-concept model and the paper's controls measured on it (docs/synthetic-models.md).
export { synth, PLANTED_PROFILES, type PlantedProfile, type SynthOptions, type SynthResult } from '../engine/synth.js';
export { checkPlantedControls, type PlantedControls, type ControlCheck } from '../probes/planted-controls.js';
