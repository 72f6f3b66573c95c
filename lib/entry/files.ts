// `eia-native/files`: the file formats a probe or a steering vector travels in: .npy arrays and llama.cpp control-vector GGUFs.
export { readNpy, writeNpy } from '../io/npy.js';
export { writeControlVector, readControlVector, type ControlVector } from '../engine/control-vector.js';
