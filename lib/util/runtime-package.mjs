// The prebuilt llama.cpp runtime: node-llama-cpp's per-platform packages, which ship the shared
// libraries of exactly the llama.cpp release vendored here (v0.4.0, commit 80fb11a). package.json
// lists them as optionalDependencies pinned to RUNTIME_VERSION, so npm fetches only those whose
// os/cpu/libc match. Used by scripts/build.mjs (what to link) and written into the runtime manifest
// next to the addon (what lib/engine/native.ts checks and which GPU packages it hands the loader).
//
// Plain JavaScript (types in JSDoc) because scripts/build.mjs imports it during `npm install`, before
// `prepare` has compiled lib/ to dist/; tsc (allowJs) copies it to dist/util/ for the library.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const RUNTIME_SCOPE = '@node-llama-cpp';
export const RUNTIME_VERSION = '3.21.1';

// platform-arch -> the package with the core libraries and CPU backends, and the GPU packages whose
// backend libraries the loader may add (in the order it tries them).
const PLATFORMS = {
  'linux-x64': { cpu: 'linux-x64', gpu: ['linux-x64-cuda', 'linux-x64-cuda-ext', 'linux-x64-vulkan'] },
  'linux-arm64': { cpu: 'linux-arm64', gpu: [] },
  'darwin-arm64': { cpu: 'mac-arm64-metal', gpu: [] },
  'darwin-x64': { cpu: 'mac-x64', gpu: [] },
};

function glibc() {
  // the Linux packages are built against glibc; musl (Alpine) needs a source build
  const header = process.report?.getReport?.().header;
  return !!header?.glibcVersionRuntime;
}

/**
 * The runtime packages for this platform, or null when none is published for it.
 * @param {string} [platform]
 * @param {string} [arch]
 * @returns {{ cpu: string, gpu: string[] } | null}
 */
export function runtimePackages(platform = process.platform, arch = process.arch) {
  const p = /** @type {Record<string, { cpu: string, gpu: string[] }>} */ (PLATFORMS)[`${platform}-${arch}`];
  if (!p || (platform === 'linux' && !glibc())) return null;
  return { cpu: `${RUNTIME_SCOPE}/${p.cpu}`, gpu: p.gpu.map((g) => `${RUNTIME_SCOPE}/${g}`) };
}

/**
 * The folder holding a runtime package's libraries (`bins/<name>`), resolved from `fromDir` the way
 * Node resolves dependencies (hoisted or nested), or null when the package is not installed.
 * @param {string} pkg
 * @param {string} fromDir
 * @returns {string | null}
 */
export function runtimeLibDir(pkg, fromDir) {
  let entry;
  try {
    // the packages export only their entry point, not package.json: resolve that and walk up
    entry = createRequire(join(fromDir, 'package.json')).resolve(pkg);
  } catch {
    return null;
  }
  for (let d = dirname(entry); d !== dirname(d); d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj) && JSON.parse(readFileSync(pj, 'utf8')).name === pkg) return join(d, 'bins', pkg.slice(RUNTIME_SCOPE.length + 1));
  }
  return null;
}
