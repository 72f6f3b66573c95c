#!/usr/bin/env node
// Random-weight GGUFs for every architecture llama.cpp implements, for the architecture table
// (docs/architectures.md, test/arch/). llama.cpp's own tests/test-llama-archs.cpp builds a small model
// of each architecture from a fixture and writes them with `-o DIR -s SEED`. It has to be compiled
// from source together with llama.cpp (linked against the prebuilt runtime it fails: "too many
// tensors created"), which takes minutes, so this script runs on its own and never inside a test:
//  1. the pinned source (scripts/vendor-llama.mjs) is copied out of the repo into
//     <cache>/arch-models/build-<commit>/src and patched with scripts/patches/*.patch (the saver's
//     architecture check bypassed: the architectures it refuses are written with the fixture's keys
//     laid over the model's, and kept only when llama.cpp loads them back);
//  2. test-llama-archs is built there once per commit (a changed patch recompiles what it touches);
//  3. the models are written to <cache>/arch-models/models-<commit>-<patch>-s<seed>/ (temp folder,
//     then renamed) with a manifest.json listing each file and its architecture.
// Tests find the folder with archModelsDir() and skip, with the reason, when it is absent. `.ci/run`
// runs this script before `npm test`.
// Usage: node scripts/arch-models.mjs [--seed N] [--out DIR] [--jobs N] [--where]
//   --where  print the models folder (and whether it exists); build nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LLAMA_PIN, eiaCacheRoot, materialise } from './vendor-llama.mjs';

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
  const h = createHash('sha256');
  for (const f of patches()) h.update(f).update('\0').update(readFileSync(join(patchDir, f)));
  return `${LLAMA_PIN.commit.slice(0, 12)}-${h.digest('hex').slice(0, 8)}`;
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

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** Files a patch changes ("+++ b/path" lines). */
function patchedFiles(patchText) {
  return [...patchText.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]);
}

// The build folder is kept per llama.cpp commit; a changed patch set re-extracts the source (git
// archive stamps every file with the commit's time, so the build does not see it as changed) and
// touches the files the old and new patches change, so that only those are compiled again.
function buildTool(jobs) {
  let base = join(eiaCacheRoot(), 'arch-models', `build-${LLAMA_PIN.commit.slice(0, 12)}`);
  if (existsSync(base)) base = realpathSync(base);  // the build's commands hold the paths it was configured with
  const exe = join(base, 'build', 'bin', 'test-llama-archs');
  const key = buildKey();
  const builtStamp = join(base, 'built-with');
  if (existsSync(exe) && existsSync(builtStamp) && readFileSync(builtStamp, 'utf8').trim() === key) return exe;
  const src = join(base, 'src');
  const patchStamp = join(base, 'patched-with.json');
  const before = existsSync(patchStamp) ? JSON.parse(readFileSync(patchStamp, 'utf8')) : null;
  if (!before || before.key !== key || !existsSync(join(src, 'CMakeLists.txt'))) {
    const { dir: vendorDir } = materialise();
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    log(`copying llama.cpp ${LLAMA_PIN.commit.slice(0, 10)} to ${src}`);
    const tar = execFileSync('git', ['-C', vendorDir, 'archive', '--format=tar', LLAMA_PIN.commit], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', src], { input: tar });
    const files = new Set(before?.files ?? []);
    for (const p of patches()) {
      log(`applying ${p}`);
      const text = readFileSync(join(patchDir, p), 'utf8');
      for (const f of patchedFiles(text)) files.add(f);
      run('patch', ['-p1', '--forward', '--quiet', '-i', join(patchDir, p)], { cwd: src });
    }
    const now = new Date();
    for (const f of files) if (existsSync(join(src, f))) utimesSync(join(src, f), now, now);
    writeFileSync(patchStamp, JSON.stringify({ key, files: [...files] }) + '\n');
  }
  const build = join(base, 'build');
  const gen = spawnSync('sh', ['-c', 'command -v ninja'], { stdio: 'ignore' }).status === 0 ? ['-G', 'Ninja'] : [];
  log(`configuring (build folder ${build})`);
  run('cmake', ['-S', src, '-B', build, ...gen, '-DCMAKE_BUILD_TYPE=Release', '-DBUILD_SHARED_LIBS=OFF',
    '-DLLAMA_BUILD_TESTS=ON', '-DLLAMA_BUILD_TOOLS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF', '-DLLAMA_BUILD_SERVER=OFF',
    '-DLLAMA_BUILD_APP=OFF', '-DLLAMA_OPENSSL=OFF', '-DLLAMA_CURL=OFF', '-DGGML_NATIVE=ON'], { stdio: ['ignore', 'ignore', 'inherit'] });
  log(`building test-llama-archs with ${jobs} jobs (llama.cpp from source: many minutes on a small machine)`);
  const t0 = Date.now();
  run('cmake', ['--build', build, '--target', 'test-llama-archs', '--parallel', String(jobs)]);
  log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (!existsSync(exe)) throw new Error(`the build produced no ${exe}`);
  writeFileSync(builtStamp, key + '\n');
  return exe;
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
