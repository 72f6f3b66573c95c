// The one llama.cpp source build in the eia-native cache (outside the repo), for tools that must be
// compiled together with llama.cpp rather than linked against the prebuilt runtime: llama.cpp's own
// tests/test-llama-archs (scripts/arch-models.mjs) and llama-server (scripts/llama-server.mjs, the
// serving yardstick of bench/serve-vs-llama-server.ts). Bench and build scripts only: `npm test`
// never compiles through here. Each caller names its folder and its configuration:
//  1. the pinned source (scripts/vendor-llama.mjs) is copied out of the repo into
//     <cache>/<name>/build-<commit>/src (git archive) and patched with the caller's patch files;
//  2. cmake configures it into .../build with the caller's flags, and builds the caller's targets;
//  3. a stamp (built-with) records commit, patches, flags and targets: a second call with the same
//     key returns at once.
// A changed patch set re-extracts the source (git archive stamps every file with the commit's time,
// so the build does not see it as changed) and touches the files the old and new patches change, so
// that only those are compiled again. The build folder keeps the paths it was configured with (a
// symlinked folder is resolved first).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LLAMA_PIN, eiaCacheRoot, materialise } from './vendor-llama.mjs';

/** commit and patch set: what the extracted source depends on ("<commit12>-<sha256 of the patches, 8>") */
export function sourceKey(patchFiles = []) {
  const h = createHash('sha256');
  for (const f of patchFiles) h.update(basename(f)).update('\0').update(readFileSync(f));
  return `${LLAMA_PIN.commit.slice(0, 12)}-${h.digest('hex').slice(0, 8)}`;
}

/** The build's base folder for `name` (<cache>/<name>/build-<commit12>), symlinks resolved. */
export function sourceBuildDir(name) {
  const base = join(eiaCacheRoot(), name, `build-${LLAMA_PIN.commit.slice(0, 12)}`);
  return existsSync(base) ? realpathSync(base) : base;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** Files a patch changes ("+++ b/path" lines). */
function patchedFiles(patchText) {
  return [...patchText.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]);
}

/**
 * Builds `targets` of the pinned llama.cpp in <cache>/<name>/build-<commit>/build (once per key).
 * @param {object} o
 * @param {string} o.name          cache folder of this build (e.g. 'arch-models', 'llama-server')
 * @param {string[]} o.cmakeArgs   configure flags (-D...), part of the key
 * @param {string[]} o.targets     cmake targets, part of the key
 * @param {string[]} [o.patches]   patch files applied to the source (-p1), part of the key
 * @param {string[]} [o.products]  paths relative to the build folder that must exist afterwards
 * @param {number} o.jobs          parallel compile jobs
 * @param {(m: string) => void} o.log
 * @returns {{ base: string, build: string, key: string }}
 */
export function llamaSourceBuild({ name, cmakeArgs, targets, patches = [], products = [], jobs, log }) {
  const base = sourceBuildDir(name);
  const build = join(base, 'build');
  const srcKey = sourceKey(patches);
  const key = `${srcKey}-${createHash('sha256').update(JSON.stringify({ cmakeArgs, targets })).digest('hex').slice(0, 8)}`;
  const builtStamp = join(base, 'built-with');
  const have = () => products.every((p) => existsSync(join(build, p)));
  if (existsSync(builtStamp) && readFileSync(builtStamp, 'utf8').trim() === key && have()) return { base, build, key };
  const src = join(base, 'src');
  const patchStamp = join(base, 'patched-with.json');
  const before = existsSync(patchStamp) ? JSON.parse(readFileSync(patchStamp, 'utf8')) : null;
  if (!before || before.key !== srcKey || !existsSync(join(src, 'CMakeLists.txt'))) {
    const { dir: vendorDir } = materialise();
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    log(`copying llama.cpp ${LLAMA_PIN.commit.slice(0, 10)} to ${src}`);
    const tar = execFileSync('git', ['-C', vendorDir, 'archive', '--format=tar', LLAMA_PIN.commit], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', src], { input: tar });
    const files = new Set(before?.files ?? []);
    for (const p of patches) {
      log(`applying ${basename(p)}`);
      const text = readFileSync(p, 'utf8');
      for (const f of patchedFiles(text)) files.add(f);
      run('patch', ['-p1', '--forward', '--quiet', '-i', p], { cwd: src });
    }
    const now = new Date();
    for (const f of files) if (existsSync(join(src, f))) utimesSync(join(src, f), now, now);
    writeFileSync(patchStamp, JSON.stringify({ key: srcKey, files: [...files] }) + '\n');
  }
  const gen = spawnSync('sh', ['-c', 'command -v ninja'], { stdio: 'ignore' }).status === 0 ? ['-G', 'Ninja'] : [];
  log(`configuring (build folder ${build})`);
  run('cmake', ['-S', src, '-B', build, ...gen, ...cmakeArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
  log(`building ${targets.join(', ')} with ${jobs} jobs (llama.cpp from source: many minutes on a small machine)`);
  const t0 = Date.now();
  run('cmake', ['--build', build, '--target', ...targets, '--parallel', String(jobs)]);
  log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const missing = products.filter((p) => !existsSync(join(build, p)));
  if (missing.length) throw new Error(`the build produced no ${missing.map((p) => join(build, p)).join(', ')}`);
  writeFileSync(builtStamp, key + '\n');
  return { base, build, key };
}
