// The native tools the bench runs: llama.cpp's own yardsticks (llama-bench, llama-batched-bench),
// built from the vendored source against the very llama.cpp libraries the engine uses, so every
// ratio is like for like. They are compiled on first use (about a minute; `npm test` builds them in
// its pre-step) and cached in build/bin.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package.js';
import { EiaError } from '../util/errors.js';

export type NativeTool = 'llama-bench' | 'llama-batched-bench' | 'eia-bench';

export function toolPath(name: NativeTool): string {
  return join(packageRoot, 'build', 'bin', process.platform === 'win32' ? `${name}.exe` : name);
}

/** Paths of the tools, building the missing ones first (one build, with a progress line). */
export function ensureTools(names: NativeTool[], log: (m: string) => void): Record<NativeTool, string> {
  const missing = names.filter((n) => !existsSync(toolPath(n)));
  if (missing.length > 0) {
    log(`bench: building ${missing.join(', ')} against the engine's llama.cpp libraries (first use, about a minute)`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [join(packageRoot, 'scripts', 'build.mjs'), '--quiet', '--targets', missing.join(',')], {
      cwd: packageRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
    });
    const still = missing.filter((n) => !existsSync(toolPath(n)));
    if (r.status !== 0 || still.length > 0) {
      throw new EiaError('E_RUNTIME', `building ${missing.join(', ')} failed (exit ${r.status ?? r.signal}): ${(r.stderr || '').trim().split('\n').slice(-5).join(' | ')}`);
    }
    log(`bench: built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return Object.fromEntries(names.map((n) => [n, toolPath(n)])) as Record<NativeTool, string>;
}
