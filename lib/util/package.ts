// This package's own facts: where it is installed and its version (package.json), for the CLI's
// --version, run manifests, reports and the bench. The one reader of package.json.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (works from lib/util/*.ts under vitest and from dist/util/*.js). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

let version: string | null = null;

/** The `version` of package.json, or 'unknown' when it cannot be read (a damaged install). */
export function packageVersion(): string {
  if (version === null) {
    try {
      version = String(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
