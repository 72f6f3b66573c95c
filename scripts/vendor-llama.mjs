#!/usr/bin/env node
// Materialises the pinned llama.cpp source into vendor/llama.cpp (git-ignored).
// Source of truth: the git bundle shipped inside the npm package node-llama-cpp@3.21.1.
// The tarball's sha512 integrity and the bundle's commit are both pinned. The prebuilt runtime is the
// same release, so these headers describe exactly the libraries a prebuilt build links against.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LLAMA_PIN = {
  npmPackage: 'node-llama-cpp',
  version: '3.21.1',
  integrity: 'sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg==',
  bundlePath: 'package/llama/gitRelease.bundle',
  commit: '80fb11ac73e66d89eae2c6a91d8a77428fa733ed',
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vendorDir = join(root, 'vendor', 'llama.cpp');
const stampFile = join(root, 'vendor', 'llama.cpp.stamp');
/** eia-native's cache root for build-time files (the library's rule: lib/models/cache.ts). */
export function eiaCacheRoot() {
  return process.env.EIA_NATIVE_HOME
    ? process.env.EIA_NATIVE_HOME
    : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'eia-native');
}
const cacheDir = join(eiaCacheRoot(), 'vendor-cache');

const log = (m) => process.stderr.write(`[eia-native vendor] ${m}\n`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }).toString();

function stampValue() {
  return LLAMA_PIN.commit;
}

function sriOf(file) {
  return 'sha512-' + createHash('sha512').update(readFileSync(file)).digest('base64');
}

function fetchTarball() {
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, `${LLAMA_PIN.npmPackage}-${LLAMA_PIN.version}.tgz`);
  if (existsSync(tgz) && sriOf(tgz) === LLAMA_PIN.integrity) return tgz;
  log(`fetching ${LLAMA_PIN.npmPackage}@${LLAMA_PIN.version} from the npm registry`);
  const tmp = join(cacheDir, `tmp-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  run('npm', ['pack', `${LLAMA_PIN.npmPackage}@${LLAMA_PIN.version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
  const got = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  if (!got) throw new Error('npm pack produced no tarball');
  const sri = sriOf(join(tmp, got));
  if (sri !== LLAMA_PIN.integrity) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`integrity mismatch for ${LLAMA_PIN.npmPackage}@${LLAMA_PIN.version}: got ${sri}, pinned ${LLAMA_PIN.integrity}`);
  }
  renameSync(join(tmp, got), tgz);
  rmSync(tmp, { recursive: true, force: true });
  return tgz;
}

export function materialise() {
  const want = stampValue();
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === want && existsSync(join(vendorDir, 'CMakeLists.txt'))) {
    return { dir: vendorDir, commit: LLAMA_PIN.commit, fresh: false };
  }
  const tgz = fetchTarball();
  const work = join(cacheDir, `extract-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', work, LLAMA_PIN.bundlePath]);
  rmSync(vendorDir, { recursive: true, force: true });
  mkdirSync(dirname(vendorDir), { recursive: true });
  log(`cloning llama.cpp ${LLAMA_PIN.commit.slice(0, 10)} into vendor/llama.cpp`);
  run('git', ['clone', '--quiet', '--no-checkout', join(work, LLAMA_PIN.bundlePath), vendorDir]);
  run('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', LLAMA_PIN.commit], { cwd: vendorDir });
  rmSync(work, { recursive: true, force: true });
  writeFileSync(stampFile, want + '\n');
  return { dir: vendorDir, commit: LLAMA_PIN.commit, fresh: true };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = materialise();
  log(`${r.fresh ? 'materialised' : 'up to date'}: ${r.dir} @ ${r.commit.slice(0, 10)}`);
}
