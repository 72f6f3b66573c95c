#!/usr/bin/env node
// Random-weight GGUFs for every architecture llama.cpp implements, for the architecture table
// (docs/architectures.md, test/arch/). llama.cpp's own tests/test-llama-archs.cpp builds a small model
// of each architecture from a fixture and writes them with `-o DIR -s SEED`. It has to be compiled
// from source together with llama.cpp (linked against the prebuilt runtime it fails: "too many
// tensors created"), which takes minutes, so this script runs on its own and never inside a test:
//  1. the pinned source is built by scripts/llama-source-build.mjs in <cache>/arch-models/build-<commit>,
//     patched with scripts/patches/*.patch (the saver's architecture check bypassed: the architectures
//     it refuses are written with the fixture's keys laid over the model's, and kept only when
//     llama.cpp loads them back);
//  2. test-llama-archs is built there once per commit (a changed patch recompiles what it touches);
//  3. the models are written to <cache>/arch-models/models-<commit>-<patch>-s<seed>/ (temp folder,
//     then renamed) with a manifest.json listing each file and its architecture.
// Tests find the folder with archModelsDir() and skip, with the reason, when it is absent. `.ci/run`
// runs this script before `npm test`.
// Usage: node scripts/arch-models.mjs [--seed N] [--out DIR] [--jobs N] [--where]
//   --where  print the models folder (and whether it exists); build nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceBuild, sourceKey } from './llama-source-build.mjs';
import { LLAMA_PIN, eiaCacheRoot } from './vendor-llama.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const patchDir = join(root, 'scripts', 'patches');
/** The seed the table's models are written with (llama.cpp's own CI uses `-o DIR` with a random seed). */
export const ARCH_MODELS_SEED = 42;

const log = (m) => process.stderr.write(`[eia-native arch-models] ${m}\n`);

function patches() {
  return existsSync(patchDir) ? readdirSync(patchDir).filter((f) => f.endsWith('.patch')).sort() : [];
}

/** commit and patch set: what the built tool depends on */
function buildKey() {
  return sourceKey(patches().map((p) => join(patchDir, p)));
}

/** The folder the models of this commit, patch set and seed are written to. */
export function archModelsDir(seed = ARCH_MODELS_SEED) {
  return join(eiaCacheRoot(), 'arch-models', `models-${buildKey()}-s${seed}`);
}

/** The manifest of a written models folder, or null when they have not been written. */
export function archModelsManifest(seed = ARCH_MODELS_SEED) {
  const f = join(archModelsDir(seed), 'manifest.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
}

// Built with the one llama.cpp source build in the cache (scripts/llama-source-build.mjs): static,
// this machine's instruction set, the tests on, the tools off.
function buildTool(jobs) {
  const exe = join('bin', 'test-llama-archs');
  const { build } = llamaSourceBuild({
    name: 'arch-models', patches: patches().map((p) => join(patchDir, p)), jobs, log, targets: ['test-llama-archs'], products: [exe],
    cmakeArgs: ['-DCMAKE_BUILD_TYPE=Release', '-DBUILD_SHARED_LIBS=OFF', '-DLLAMA_BUILD_TESTS=ON', '-DLLAMA_BUILD_TOOLS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF',
      '-DLLAMA_BUILD_SERVER=OFF', '-DLLAMA_BUILD_APP=OFF', '-DLLAMA_OPENSSL=OFF', '-DLLAMA_CURL=OFF', '-DGGML_NATIVE=ON'],
  });
  return join(build, exe);
}

/** Architecture of a written file: llama.cpp names them <arch>-dense.gguf / <arch>-moe.gguf. */
function entryOf(file) {
  const m = /^(.+)-(dense|moe)\.gguf$/.exec(file);
  return m ? { file, arch: m[1], kind: m[2] } : null;
}

export function writeArchModels({ seed = ARCH_MODELS_SEED, out, jobs = cpus().length } = {}) {
  const exe = buildTool(jobs);
  const dest = out ? resolve(out) : archModelsDir(seed);
  if (existsSync(join(dest, 'manifest.json'))) {
    log(`up to date: ${dest}`);
    return dest;
  }
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`writing the models (seed ${seed}) to ${dest}`);
  const t0 = Date.now();
  const r = spawnSync(exe, ['-o', tmp, '-s', String(seed)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`test-llama-archs -o failed (exit ${r.status ?? r.signal})`);
  // the patched tool names the models llama.cpp does not load back (removed): "not written: <arch> <dense|moe>: <why>"
  const notWritten = [...r.stdout.toString().matchAll(/^not written: (\S+) (dense|moe): (.*)$/gm)].map((m) => ({ arch: m[1], kind: m[2], reason: m[3] }));
  for (const n of notWritten) log(`not written: ${n.arch} (${n.kind}): ${n.reason}`);
  const models = readdirSync(tmp).map(entryOf).filter(Boolean).sort((a, b) => a.file.localeCompare(b.file));
  if (models.length === 0) throw new Error('test-llama-archs wrote no models');
  for (const m of models) m.bytes = statSync(join(tmp, m.file)).size;
  const manifest = {
    tool: 'llama.cpp tests/test-llama-archs.cpp', commit: LLAMA_PIN.commit, patches: patches(), build_key: buildKey(),
    seed, written_at: new Date().toISOString(), models, not_written: notWritten,
  };
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dirname(dest), { recursive: true });
  renameSync(tmp, dest);
  log(`${models.length} models written in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${dest}`);
  return dest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const valueOf = (f) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
  const seed = valueOf('--seed') !== undefined ? Number(valueOf('--seed')) : ARCH_MODELS_SEED;
  if (!Number.isInteger(seed) || seed < 0) { log('--seed must be a non-negative integer'); process.exit(2); }
  const jobs = Number(valueOf('--jobs') ?? process.env.EIA_BUILD_JOBS ?? cpus().length);
  if (!Number.isInteger(jobs) || jobs < 1) { log('--jobs must be a positive integer'); process.exit(2); }
  if (argv.includes('--where')) {
    const dir = valueOf('--out') ? resolve(valueOf('--out')) : archModelsDir(seed);
    process.stdout.write(`${dir}${existsSync(join(dir, 'manifest.json')) ? '' : ' (not written yet)'}\n`);
    process.exit(0);
  }
  try {
    process.stdout.write(writeArchModels({ seed, out: valueOf('--out'), jobs }) + '\n');
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
