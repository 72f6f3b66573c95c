// What this build is: llama.cpp commit, GPU switch, registered backends and devices.
import { addon } from './native.js';
import { LLAMA_PIN } from './llama-pin.js';

export interface BuildInfo {
  llamaCommit: string;
  llamaSource: string;
  gpu: string;
  backends: string[];
  devices: string[];
  systemInfo: string;
}

export function buildInfo(): BuildInfo {
  const b = addon().info();
  return { ...b, llamaSource: `${LLAMA_PIN.npmPackage}@${LLAMA_PIN.version} llama/gitRelease.bundle` };
}
