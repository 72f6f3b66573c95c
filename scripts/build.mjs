#!/usr/bin/env node
// The one build path: materialise the pinned llama.cpp (scripts/vendor-llama.mjs), then let
// cmake-js configure and build CMakeLists.txt into build/ (incremental: a second run only
// rebuilds what changed). EIA_GPU=cpu|cuda|metal picks the backend (Metal by default on macOS).
// Flags: --quiet (print the build log only on failure), --sanitize (ASan/LSan build into build-asan/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { materialise } from './vendor-llama.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quiet = args.has('--quiet');
const sanitize = args.has('--sanitize');
const log = (m) => process.stderr.write(`[eia-native build] ${m}\n`);

const gpu = process.env.EIA_GPU || (process.platform === 'darwin' ? 'metal' : 'cpu');
if (!['cpu', 'cuda', 'metal'].includes(gpu)) {
  log(`EIA_GPU must be cpu, cuda or metal (got '${gpu}')`);
  process.exit(2);
}

materialise();

// Node's own headers ship with most installs (e.g. /usr/include/node); point cmake-js at them so
// that building needs no download.
if (!process.env.npm_config_nodedir) {
  const guess = resolve(dirname(process.execPath), '..');
  if (existsSync(join(guess, 'include', 'node', 'node_api.h'))) process.env.npm_config_nodedir = guess;
}

const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const outDir = sanitize ? 'build-asan' : 'build';
const cmakeArgs = ['build', '--out', outDir, '--config', sanitize ? 'RelWithDebInfo' : 'Release', `--CDEIA_GPU=${gpu}`];
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
if (has('ccache')) {
  // cache object files across clones (CI checks out fresh trees): key on paths relative to the root
  cmakeArgs.push('--CDCMAKE_C_COMPILER_LAUNCHER=ccache', '--CDCMAKE_CXX_COMPILER_LAUNCHER=ccache');
  process.env.CCACHE_BASEDIR = root;
  process.env.CCACHE_NOHASHDIR = 'true';
}
if (sanitize) cmakeArgs.push('--CDEIA_SANITIZE=ON', '--CDEIA_BUILD_LLAMA_TOOLS=OFF');
if (process.env.EIA_BUILD_JOBS) cmakeArgs.push('--parallel', process.env.EIA_BUILD_JOBS);

const t0 = Date.now();
const r = spawnSync(process.execPath, [cmakeJs, ...cmakeArgs], {
  cwd: root,
  stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  env: process.env,
  maxBuffer: 256 * 1024 * 1024,
});
if (r.status !== 0) {
  if (quiet) {
    process.stderr.write(r.stdout?.toString() ?? '');
    process.stderr.write(r.stderr?.toString() ?? '');
  }
  log(`build failed (exit ${r.status})`);
  process.exit(r.status || 1);
}
mkdirSync(join(root, outDir), { recursive: true });
writeFileSync(join(root, outDir, 'eia-build.json'), JSON.stringify({ gpu, sanitize, builtAt: new Date().toISOString() }, null, 2));
if (!quiet) log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s (${outDir}/, EIA_GPU=${gpu})`);
