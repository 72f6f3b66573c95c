#!/usr/bin/env node
// The one build path (npm install, npm test's pre-step, `npm run build`, node-gyp through binding.gyp).
//  1. materialise the pinned llama.cpp source (scripts/vendor-llama.mjs): headers always, and the
//     sources of llama.cpp's own yardstick tools;
//  2. EIA_BUILD=prebuilt (default): find node-llama-cpp's package for this platform
//     (lib/util/runtime-package.mjs) and link against its shared libraries; EIA_BUILD=source: compile
//     llama.cpp too (EIA_GPU=cpu|cuda|metal picks the backend compiled in);
//  3. cmake-js configures CMakeLists.txt into build/ and builds the addon; more targets on request;
//  4. writes build/Release/eia-runtime.json, which lib/engine reads before loading the addon.
// Flags: --quiet (print the build log only on failure); --targets a,b (also build these CMake
// targets); --for-tests (the addon, the native test/bench/synth/device-check tools, llama.cpp's yardsticks, and
// the sanitizer build: everything `npm test` runs, so no test ever compiles); --sanitize (ASan/UBSan
// build of our C++ and the native tests into build-asan/; a source build instruments llama.cpp too).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LLAMA_PIN, materialise } from './vendor-llama.mjs';
import { RUNTIME_VERSION, runtimeLibDir, runtimePackages } from '../lib/util/runtime-package.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (f) => argv.includes(f);
const valueOf = (f) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] ?? '' : undefined; };
const quiet = flag('--quiet');
const forTests = flag('--for-tests');
const log = (m) => process.stderr.write(`[eia-native build] ${m}\n`);
const die = (m, code = 1) => { log(m); process.exit(code); };

const mode = process.env.EIA_BUILD || 'prebuilt';
if (!['prebuilt', 'source'].includes(mode)) die(`EIA_BUILD must be prebuilt or source (got '${mode}')`, 2);
const gpu = process.env.EIA_GPU || (process.platform === 'darwin' ? 'metal' : 'cpu');
if (mode === 'source' && !['cpu', 'cuda', 'metal'].includes(gpu)) die(`EIA_GPU must be cpu, cuda or metal for a source build (got '${gpu}')`, 2);

const extraTargets = (valueOf('--targets') ?? '').split(',').filter(Boolean);
if (forTests) extraTargets.push('eia-native-test', 'eia-device-check', 'eia-bench', 'eia-synth', 'eia-synth-check', 'llama-bench', 'llama-batched-bench');
const sanitize = flag('--sanitize') || forTests;

const t0 = Date.now();
materialise();

// ---- where llama.cpp comes from
const cmakeDefs = [`EIA_LLAMA=${mode}`];
const manifest = { mode, llama: LLAMA_PIN, builtAt: new Date().toISOString() };
if (mode === 'prebuilt') {
  const pkgs = runtimePackages();
  if (!pkgs) die(`no prebuilt llama.cpp runtime is published for ${process.platform}-${process.arch}; build from source: EIA_BUILD=source npm install`);
  const libDir = runtimeLibDir(pkgs.cpu, root);
  if (!libDir || !existsSync(libDir)) {
    die(`the prebuilt llama.cpp runtime ${pkgs.cpu}@${RUNTIME_VERSION} is not installed (npm installs it as an optional dependency; ` +
      `was it skipped with --omit=optional or --no-optional?). Reinstall, or build llama.cpp from source: EIA_BUILD=source npm install`);
  }
  cmakeDefs.push(`EIA_LLAMA_LIB_DIR=${libDir}`);
  // what the libraries were when we linked: a truncated or altered file is refused before the
  // dynamic loader maps it (a truncated mapping kills the process with SIGBUS)
  const libs = {};
  for (const f of readdirSync(libDir).filter((x) => /\.(so|dylib|dll)$/.test(x))) {
    const core = /^(lib)?(llama|ggml)(\.[a-z]+)?\.v\d|^(lib)?ggml-base\.|^(lib)?llama-common\./.test(f);
    libs[f] = { size: statSync(join(libDir, f)).size, ...(core ? { sha256: createHash('sha256').update(readFileSync(join(libDir, f))).digest('hex') } : {}) };
  }
  Object.assign(manifest, { runtimePackage: pkgs.cpu, runtimeVersion: RUNTIME_VERSION, libDir, gpuPackages: pkgs.gpu, libs });
} else {
  cmakeDefs.push(`EIA_GPU=${gpu}`);
  Object.assign(manifest, { gpu });
}

// Node's own headers ship with most installs (e.g. /usr/include/node); point cmake-js at them so
// that building needs no download.
if (!process.env.npm_config_nodedir) {
  const guess = resolve(dirname(process.execPath), '..');
  if (existsSync(join(guess, 'include', 'node', 'node_api.h'))) process.env.npm_config_nodedir = guess;
}
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (has('ccache')) {
  // cache object files across clones (CI checks out fresh trees): key on paths relative to the root
  cmakeDefs.push('CMAKE_C_COMPILER_LAUNCHER=ccache', 'CMAKE_CXX_COMPILER_LAUNCHER=ccache');
  process.env.CCACHE_BASEDIR = root;
  process.env.CCACHE_NOHASHDIR = 'true';
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: process.env, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) {
    if (quiet) {
      process.stderr.write(r.stdout?.toString() ?? '');
      process.stderr.write(r.stderr?.toString() ?? '');
    }
    die(`${what} failed (exit ${r.status ?? r.signal})`, r.status || 1);
  }
}

// ---- the addon (cmake-js supplies Node's headers), then any further targets in the same tree
const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const jobs = process.env.EIA_BUILD_JOBS ? ['--parallel', process.env.EIA_BUILD_JOBS] : [];
run(process.execPath, [cmakeJs, 'build', '--out', 'build', '--config', 'Release', ...cmakeDefs.map((d) => `--CD${d}`), ...jobs], 'cmake-js build');
mkdirSync(join(root, 'build', 'Release'), { recursive: true });
writeFileSync(join(root, 'build', 'Release', 'eia-runtime.json'), JSON.stringify(manifest, null, 2) + '\n');
if (extraTargets.length) run('cmake', ['--build', 'build', '--config', 'Release', '--target', ...extraTargets, ...jobs], `build of ${extraTargets.join(', ')}`);

// ---- sanitizer build: our C++ (and llama.cpp itself only in a source build) under ASan + UBSan
if (sanitize) {
  const gen = has('ninja') ? ['-G', 'Ninja'] : [];
  run('cmake', ['-S', '.', '-B', 'build-asan', ...gen, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DEIA_SANITIZE=ON', ...cmakeDefs.map((d) => `-D${d}`)], 'sanitizer configure');
  run('cmake', ['--build', 'build-asan', '--target', 'eia-native-test', ...jobs], 'sanitizer build');
}
if (!quiet) log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s (EIA_BUILD=${mode}${mode === 'source' ? `, EIA_GPU=${gpu}` : ''}${extraTargets.length ? `; targets ${extraTargets.join(', ')}` : ''}${sanitize ? '; build-asan' : ''})`);
