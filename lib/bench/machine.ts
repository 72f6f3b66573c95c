// What the bench ran on: CPU, cores, memory, backend, llama.cpp commit, eia-native version.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { runtimeInfo } from '../engine/runtime-info.js';
import { packageVersion } from '../util/package.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  available_parallelism: number;
  memory_gib: number;
  platform: string;
  arch: string;
  node: string;
  /** prebuilt (node-llama-cpp's libraries) or source (compiled here). */
  runtime: 'prebuilt' | 'source';
  runtime_package: string | null;
  /** The backend that runs the model: the GPU backend in use, else cpu. */
  backend: string;
  cpu_variant: string | null;
  gpu: string | null;
  devices: string[];
  llama_cpp_commit: string;
  llama_cpp_source: string;
  eia_native_version: string;
  threads: number;
  /** 1-minute load average when the bench started and when it ended (a busy machine skews every figure). */
  load_average: { start: number; end: number | null };
}

function cpuModel(): string {
  const model = cpus()[0]?.model?.trim();
  if (model) return model;
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch { /* not Linux */ }
  return 'unknown';
}

export function machineInfo(threads: number): MachineInfo {
  const b = runtimeInfo();
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    available_parallelism: availableParallelism(),
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    runtime: b.runtime,
    runtime_package: b.runtimePackage,
    backend: b.gpu ?? 'cpu',
    cpu_variant: b.cpuVariant,
    gpu: b.gpu,
    devices: b.devices.map((d) => `${d.name} (${d.description})`),
    llama_cpp_commit: b.llamaCommit,
    llama_cpp_source: b.llamaSource,
    eia_native_version: packageVersion(),
    threads,
    load_average: { start: Math.round(loadavg()[0] * 100) / 100, end: null },
  };
}

/** The 1-minute load average now. */
export function loadAverage(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}
