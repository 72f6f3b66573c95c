// `eia-native/runtime`: which llama.cpp runs (prebuilt or source), its backends and devices (`eia-native info`).
export { runtimeInfo, type RuntimeInfo } from '../engine/runtime-info.js';
