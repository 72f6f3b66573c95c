#!/usr/bin/env node
// llama-server, the yardstick of bench/serve-vs-llama-server.ts, built once per commit from the pinned
// llama.cpp source in the eia-native cache (scripts/llama-source-build.mjs: <cache>/llama-server/
// build-<commit>/), never by `npm test`. The configuration is the layout of llama.cpp's release builds
// and of the prebuilt runtime eia-native links against (@node-llama-cpp/<platform>): shared libraries,
// ggml's own thread pool (no OpenMP), and the CPU backend as loadable variants (libggml-cpu-<variant>.so)
// of which ggml loads the one with the highest ggml_backend_score, as eia-native's runtime does. So
// both servers run the kernels of the same CPU variant from the same source; only the compiler may
// differ (the llama-batched-bench built here against eia-native's build/bin/llama-batched-bench
// measures that). Only the variants asked for are compiled (each is a few minutes; llama.cpp's own
// CMake compiles all of them for any target, which scripts/patches/llama-server/ggml-cpu-variants.patch
// makes a list: EIA_CPU_VARIANTS).
//
// llama-server loads its backends from its executable's folder, so `variantDir(v)` makes a folder
// holding hard links of the executables and that one variant: the way to force a variant, as
// EIA_NATIVE_BACKEND_DIR forces one for eia-native. `variantDir(v, build, lib)` puts another build
// of that variant there instead: the prebuilt runtime's (the same commit, so the same backend
// interface), which makes the two servers' kernels the same binary. The bench uses it where this
// build's variant cannot run: GCC 12.2's `sapphirerapids` variant dies with SIGILL at its first AMX
// instruction on a Sapphire Rapids VM where the runtime's runs.
//
// Usage: node scripts/llama-server.mjs --variants haswell,sapphirerapids [--jobs N] [--where]
//   prints the folder of each variant (llama-server and llama-batched-bench in it).
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceBuild, sourceBuildDir } from './llama-source-build.mjs';

const PATCHES = [join(dirname(fileURLToPath(import.meta.url)), 'patches', 'llama-server', 'ggml-cpu-variants.patch')];
const log = (m) => process.stderr.write(`[eia-native llama-server] ${m}\n`);
const EXES = ['llama-server', 'llama-batched-bench'];
/** The shared libraries the executables load (through their build-tree RPATH). */
const CORE_LIBS = ['libllama.so', 'libggml.so', 'libggml-base.so'];

const CMAKE_ARGS = ['-DCMAKE_BUILD_TYPE=Release', '-DBUILD_SHARED_LIBS=ON', '-DGGML_BACKEND_DL=ON', '-DGGML_CPU_ALL_VARIANTS=ON', '-DGGML_NATIVE=OFF',
  '-DGGML_OPENMP=OFF', '-DLLAMA_BUILD_COMMON=ON', '-DLLAMA_BUILD_TOOLS=ON', '-DLLAMA_BUILD_SERVER=ON', '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF', '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF', '-DLLAMA_BUILD_APP=OFF', '-DLLAMA_CURL=OFF',
  '-DLLAMA_OPENSSL=OFF'];

const VARIANT_RE = /^[a-z0-9_.]+$/;

/** The build folder (exists or not). */
export function llamaServerBuildDir() {
  return join(sourceBuildDir('llama-server'), 'build');
}

/** Builds llama-server, llama-batched-bench and the CPU variants `variants` (once); returns the build folder. */
export function buildLlamaServer({ variants, jobs = cpus().length }) {
  if (!Array.isArray(variants) || variants.length === 0) throw new Error('buildLlamaServer needs the CPU variants to compile (e.g. ["haswell"])');
  for (const v of variants) if (!VARIANT_RE.test(v)) throw new Error(`not a CPU variant name: '${v}'`);
  const want = [...new Set(variants)].sort();
  const { build } = llamaSourceBuild({
    name: 'llama-server', cmakeArgs: [...CMAKE_ARGS, `-DEIA_CPU_VARIANTS=${want.join(';')}`], patches: PATCHES, jobs, log,
    targets: [...EXES, ...want.map((v) => `ggml-cpu-${v}`)],
    products: [...EXES, ...CORE_LIBS, ...want.map((v) => `libggml-cpu-${v}.so`)].map((f) => join('bin', f)),
  });
  return build;
}

/**
 * A folder where llama-server and llama-batched-bench find only CPU variant `variant`: hard links of
 * the executables and of that variant's library (made fresh each call: a rebuild replaces the files).
 * `lib`: another build of the variant's library to use instead of this build's (copied in).
 */
export function variantDir(variant, build = llamaServerBuildDir(), lib = undefined) {
  if (!VARIANT_RE.test(variant)) throw new Error(`not a CPU variant name: '${variant}'`);
  const bin = join(build, 'bin');
  const name = `libggml-cpu-${variant}.so`;
  const own = join(bin, name);
  if (!lib && !existsSync(own)) throw new Error(`the llama-server build has no CPU variant ${variant} (${own}); build it with --variants ${variant}`);
  if (lib && !existsSync(lib)) throw new Error(`no such CPU variant library: ${lib}`);
  const dir = join(build, 'variants', lib ? `${variant}-external` : variant);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of EXES) linkSync(join(bin, f), join(dir, f));
  if (lib) {
    copyFileSync(lib, join(dir, name));
    // it needs libggml-base.so by that name beside it (its RUNPATH is $ORIGIN; this build's executables
    // loaded the same library under its soname, which the loader does not match to that name)
    symlinkSync(join(bin, 'libggml-base.so'), join(dir, 'libggml-base.so'));
  } else {
    linkSync(own, join(dir, name));
  }
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const valueOf = (f) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
  const variants = (valueOf('--variants') ?? '').split(',').filter(Boolean);
  const jobs = Number(valueOf('--jobs') ?? process.env.EIA_BUILD_JOBS ?? cpus().length);
  if (!Number.isInteger(jobs) || jobs < 1) { log('--jobs must be a positive integer'); process.exit(2); }
  if (variants.length === 0) { log('--variants a,b is required (the CPU variants to compile: eia-native info names the one this machine runs)'); process.exit(2); }
  try {
    if (argv.includes('--where')) {
      const b = llamaServerBuildDir();
      for (const v of variants) process.stdout.write(`${v}: ${join(b, 'variants', v)}${existsSync(join(b, 'bin', `libggml-cpu-${v}.so`)) ? '' : ' (not built yet)'}\n`);
      process.exit(0);
    }
    const build = buildLlamaServer({ variants, jobs });
    for (const v of variants) process.stdout.write(`${v}: ${variantDir(v, build)}\n`);
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
