// The public API is deliberate: lib/index.ts exports exactly the names the README's Library
// section lists (its "What `import … from 'eia-native'` offers" table), no more and no fewer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Names exported by `export { a, type B, c as d } from '…'` and `export type { … } from '…'` statements. */
function exportedNames(src: string): string[] {
  const names: string[] = [];
  for (const m of src.matchAll(/^export (?:type )?\{([^}]*)\} from '[^']+';/gm)) {
    for (const part of m[1].split(',').map((p) => p.trim()).filter(Boolean)) {
      names.push(part.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim());
    }
  }
  return names;
}

/** Backticked names in the rows of the README table that follows the "offers" line. */
function readmeNames(readme: string): string[] {
  const start = readme.indexOf("What `import … from 'eia-native'` offers");
  expect(start, 'the README lists the public API').toBeGreaterThan(0);
  const rows = readme.slice(start).split('\n').slice(2).filter((l, i, all) => l.startsWith('|') && all.slice(0, i).every((x) => x.startsWith('|')));
  return rows.slice(2).flatMap((r) => [...r.split('|')[2].matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]));
}

describe('public API', () => {
  it('lib/index.ts exports exactly what the README lists', () => {
    const index = readFileSync(join(ROOT, 'lib', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/^export \*/m);  // every name is chosen, none comes in wholesale
    const exported = exportedNames(index);
    const listed = readmeNames(readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8'));
    expect(exported.length).toBeGreaterThan(50);
    expect(new Set(exported).size, 'a name exported twice').toBe(exported.length);
    expect([...exported].filter((n) => !listed.includes(n)).sort(), 'exported but not in the README').toEqual([]);
    expect([...listed].filter((n) => !exported.includes(n)).sort(), 'in the README but not exported').toEqual([]);
  });
});
