// node-llama-cpp for the bench, installed on demand into the cache (never a dependency of
// eia-native): `npm install --no-save --ignore-scripts` of node-llama-cpp@3.21.1 (the release whose
// llama.cpp bundle eia-native vendors) and its prebuilt binaries package for this platform, so
// nothing is compiled and no install script downloads anything.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../models/cache.js';
import { RUNTIME_VERSION, runtimePackages } from '../util/runtime-package.mjs';

/** The node-llama-cpp release whose prebuilt libraries eia-native itself links against. */
export const NLC_VERSION = RUNTIME_VERSION;

/** Where the bench's extra packages live: $EIA_NATIVE_BENCH_DEPS, else <cache>/bench-deps. */
export function benchDepsDir(env: NodeJS.ProcessEnv = process.env): string {
  const o = env.EIA_NATIVE_BENCH_DEPS;
  return o && o.trim() !== '' ? o : join(cacheDir(env), 'bench-deps');
}

/** node-llama-cpp's prebuilt-binaries package for this platform (CPU build), or null if it ships none. */
export function prebuiltPackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string | null {
  return runtimePackages(platform, arch)?.cpu ?? null;
}

/** The installed node-llama-cpp entry point, when its version is the pinned one. */
export function findNodeLlamaCpp(dir = benchDepsDir()): { entry: string; version: string } | null {
  const pkg = join(dir, 'node_modules', 'node-llama-cpp', 'package.json');
  if (!existsSync(pkg)) return null;
  try {
    const version = JSON.parse(readFileSync(pkg, 'utf8')).version as string;
    if (version !== NLC_VERSION) return null;
    const entry = join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
    return existsSync(entry) ? { entry, version } : null;
  } catch {
    return null;
  }
}

/**
 * Finds node-llama-cpp, installing it when missing (unless EIA_NATIVE_BENCH_INSTALL=0). Resolves
 * with the entry point, or with the reason it is unavailable.
 */
export async function ensureNodeLlamaCpp(log: (msg: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<{ entry: string; version: string } | { reason: string }> {
  const dir = benchDepsDir(env);
  const found = findNodeLlamaCpp(dir);
  if (found) return found;
  if (env.EIA_NATIVE_BENCH_INSTALL === '0') return { reason: `node-llama-cpp@${NLC_VERSION} is not installed in ${dir} and EIA_NATIVE_BENCH_INSTALL=0 forbids installing it` };
  const prebuilt = prebuiltPackage();
  if (!prebuilt) return { reason: `node-llama-cpp ships no prebuilt binaries for ${process.platform}-${process.arch}` };
  mkdirSync(dir, { recursive: true });
  const pj = join(dir, 'package.json');
  if (!existsSync(pj)) writeFileSync(pj, JSON.stringify({ name: 'eia-native-bench-deps', private: true, description: 'installed on demand by `eia-native bench`' }, null, 2) + '\n');
  const args = ['install', '--prefix', dir, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=optional', '--loglevel=error',
    `node-llama-cpp@${NLC_VERSION}`, `${prebuilt}@${NLC_VERSION}`];
  log(`bench: installing node-llama-cpp@${NLC_VERSION} (+ ${prebuilt}) into ${dir} for the comparison (once)`);
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const child = spawn(npm, args, { stdio: ['ignore', 'ignore', 'pipe'], shell: process.platform === 'win32' });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    child.on('error', (e) => resolve({ code: -1, err: e.message }));
    child.on('close', (code) => resolve({ code, err }));
  });
  if (r.code !== 0) return { reason: `installing node-llama-cpp@${NLC_VERSION} failed (npm exit ${r.code}): ${r.err.trim().split('\n').slice(-3).join(' ')}` };
  return findNodeLlamaCpp(dir) ?? { reason: `node-llama-cpp@${NLC_VERSION} still missing from ${dir} after npm install` };
}
