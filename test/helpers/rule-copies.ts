// Finds copies of a rule's code outside its one home: each rule is a set of signatures (regular
// expressions over code with its comments removed); a hit is file:line and the line. Used by
// test/unit/one-validator.test.ts, like test/helpers/imports.ts is used by the layer test.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface Rule { name: string; signatures: RegExp[] }
export interface Hit { rule: string; file: string; line: number; text: string }

/** Source files below `dir` with one of `exts` (node_modules, build outputs and vendored code skipped). */
export function sourceFiles(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!['node_modules', 'build', 'dist', 'vendor'].includes(e.name)) out.push(...sourceFiles(p, exts));
    } else if (exts.some((x) => e.name.endsWith(x)) && !e.name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/** The code of a C-like source with comments blanked out (line numbers kept). */
export function withoutComments(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .split('\n')
    .map((l) => l.replace(/(^|[^:'"`\\])\/\/.*$/, '$1'))
    .join('\n');
}

/** Every line of `files` (paths relative to `root`, posix separators) that matches a signature of a rule. */
export function ruleHits(root: string, files: readonly string[], rules: readonly Rule[]): Hit[] {
  const hits: Hit[] = [];
  for (const f of files) {
    const rel = relative(root, f).split(sep).join('/');
    withoutComments(readFileSync(f, 'utf8')).split('\n').forEach((text, i) => {
      for (const r of rules) if (r.signatures.some((s) => s.test(text))) hits.push({ rule: r.name, file: rel, line: i + 1, text: text.trim() });
    });
  }
  return hits;
}
