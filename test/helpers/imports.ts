// The import graph of lib/ for the layering tests: every relative import (static, re-export,
// dynamic) of every .ts file, resolved to the file it names. Plain text scanning: lib/ uses only
// `import … from '…'`, `export … from '…'` and `import('…')` with string literals.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface ImportEdge {
  /** Importing file, relative to the scanned root (posix separators). */
  from: string;
  /** Imported file, relative to the root ('../x' when outside it). */
  to: string;
  /** The specifier as written. */
  spec: string;
  line: number;
}

const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/g;

export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const posix = (p: string) => p.split(sep).join('/');

/** Relative imports of every .ts file in `dirs` (default: all of `root`), paths relative to `root`. */
export function importEdges(root: string, dirs: readonly string[] = ['.']): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of dirs.flatMap((d) => tsFiles(join(root, d)))) {
    readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
      for (const m of text.matchAll(SPEC)) {
        const spec = m[1];
        if (!spec.startsWith('.')) continue;  // node: builtins and packages
        const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
        edges.push({ from: posix(relative(root, file)), to: posix(relative(root, target)), spec, line: i + 1 });
      }
    });
  }
  return edges;
}

/** The top folder of a path relative to the root ('' for a file at the root, '..' outside it). */
export function folderOf(rel: string): string {
  if (rel.startsWith('../')) return '..';
  const i = rel.indexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/**
 * Layer ranks from the table in docs/architecture.md: rows `| RANK | \`folder\`, \`folder\` | … |`.
 * The document is the one statement of the rule; the test enforces what it says.
 */
export function readRanks(doc: string): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const m of doc.matchAll(/^\|\s*(\d+)\s*\|([^|]+)\|/gm)) {
    for (const f of m[2].matchAll(/`lib\/([a-z-]+)\/`/g)) ranks.set(f[1], Number(m[1]));
  }
  return ranks;
}

/**
 * Imports that break the layering: between two folders, the target's rank must be lower than
 * the importer's (a folder may import itself). Same rank counts as a violation (siblings stay
 * independent), so no cycle between folders can exist. Files outside the root (scripts/) are not
 * layers and are not checked; lib/index.ts (root) is the facade: it may import any folder, and
 * nothing may import it.
 */
export function layerViolations(edges: readonly ImportEdge[], ranks: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const a = folderOf(e.from), b = folderOf(e.to);
    if (b === '..' || a === b || a === '') continue;
    const where = `${e.from}:${e.line} imports ${e.spec}`;
    if (b === '') { out.push(`${where}: nothing in lib/ may import the facade lib/${e.to}`); continue; }
    const ra = ranks.get(a), rb = ranks.get(b);
    if (ra === undefined || rb === undefined) { out.push(`${where}: folder ${ra === undefined ? a : b}/ has no rank in docs/architecture.md`); continue; }
    if (rb >= ra) out.push(`${where}: ${a}/ (rank ${ra}) may only import folders of a lower rank, not ${b}/ (rank ${rb})`);
  }
  return out;
}

/** Imports of the native addon's loader (lib/engine/native.ts) from any file outside lib/engine (paths relative to the repository). */
export function nativeImportViolations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((e) => e.to === 'lib/engine/native.ts' && !e.from.startsWith('lib/engine/'))
    .map((e) => `${e.from}:${e.line} imports ${e.spec}: only lib/engine may load the addon`);
}
