// The CLI tests run the compiled CLI (bin/eia-native.js -> dist/). `npm test` compiles lib/ once
// before vitest starts, so no test compiles anything; a test file run on its own after a change to
// lib/ fails here, at once and naming the stale files, instead of testing yesterday's code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** lib/ sources whose compiled file in dist/ is missing or older than the source (relative paths). */
export function staleDistFiles(root = ROOT): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const src = join(dir, e.name);
      if (e.isDirectory()) { walk(src); continue; }
      if (e.name.endsWith('.d.ts') || e.name.endsWith('.d.mts')) continue;
      const out = e.name.endsWith('.ts') ? e.name.replace(/\.ts$/, '.js') : e.name.endsWith('.mjs') ? e.name : null;
      if (out === null) continue;
      const built = join(root, 'dist', relative(join(root, 'lib'), dir), out);
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(src).mtimeMs) stale.push(relative(root, src));
    }
  };
  walk(join(root, 'lib'));
  return stale;
}

/** Throws when dist/ does not hold the current lib/ (see the module comment). */
export function requireFreshDist(root = ROOT): void {
  const stale = staleDistFiles(root);
  if (stale.length > 0) {
    throw new Error(`dist/ is older than lib/ (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? `, … ${stale.length} files` : ''}): ` +
      'run `npx tsc -p tsconfig.json` first (npm test does it before vitest)');
  }
}
