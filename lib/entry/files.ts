// `eia-native/files`: the file formats a probe or a steering vector travels in: .npy arrays and llama.cpp control-vector GGUFs,
// and the vector cards they carry (what a vector is, which model it is of, how strongly it steers coherently: docs/study.md).
export { readNpy, writeNpy } from '../io/npy.js';
export { writeControlVector, readControlVector, type ControlVector } from '../engine/control-vector.js';
export { readVectorCards, readTunedAlphas, updateVectorCard, cardWarnings, type TunedAlpha, type VectorCard } from '../probes/vector-card.js';
