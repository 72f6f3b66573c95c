// The public API is deliberate: the root export (lib/index.ts) is small (at most 60 names, for
// embedding), every other entry is a subpath of package.json `exports` (lib/entry/*.ts), and
// docs/library.md lists exactly the names of each entry, no more and no fewer. The built package
// is imported by its own name, as an app would, so `exports` really resolves to what the docs list.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAX_ROOT_NAMES = 60;

/** Names exported by `export { a, type B, c as d } from '…'` and `export type { … } from '…'` statements, each with whether it is a type. */
function exportedNames(src: string): { name: string; type: boolean }[] {
  const names: { name: string; type: boolean }[] = [];
  for (const m of src.matchAll(/^export (type )?\{([^}]*)\} from '[^']+';/gm)) {
    for (const part of m[2].split(',').map((p) => p.trim()).filter(Boolean)) {
      names.push({ name: part.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim(), type: !!m[1] || /^type\s/.test(part) });
    }
  }
  return names;
}

/** docs/library.md: entry ('eia-native', 'eia-native/server', …) -> the backticked names of its table's second column. */
function documentedEntries(doc: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const sections = doc.split(/^### /m).slice(1);
  for (const sec of sections) {
    const m = /^`(eia-native(?:\/[a-z-]+)?)`/.exec(sec);
    if (!m) continue;
    const rows = sec.split('\n').filter((l) => l.startsWith('|')).slice(2);
    out.set(m[1], rows.flatMap((r) => [...r.split('|')[2].matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((x) => x[1])));
  }
  return out;
}

/** package.json `exports`: subpath ('.', './server', …) -> the source file its `import` target is compiled from. */
function packageEntries(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; import: string }> };
  const out = new Map<string, string>();
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;  // ./package.json
    expect(target.types, `${sub}: types next to the code`).toBe(target.import.replace(/\.js$/, '.d.ts'));
    const m = /^\.\/dist\/(.+)\.js$/.exec(target.import);
    expect(m, `${sub}: a file of dist/`).not.toBeNull();
    out.set(sub, join('lib', `${m![1]}.ts`));
  }
  return out;
}

const entryName = (sub: string) => (sub === '.' ? 'eia-native' : `eia-native/${sub.slice(2)}`);

describe('public API', () => {
  const doc = documentedEntries(readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8'));
  const entries = packageEntries();

  it('the root export is small and every name is chosen', () => {
    const index = readFileSync(join(ROOT, 'lib', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/^export \*/m);
    const names = exportedNames(index).map((n) => n.name);
    expect(names.length).toBeGreaterThan(20);  // the parse sees the exports
    expect(names.length, `the root export has ${names.length} names`).toBeLessThanOrEqual(MAX_ROOT_NAMES);
    expect(entries.get('.')).toBe(join('lib', 'index.ts'));
  });

  it('every entry of package.json is listed in docs/library.md with exactly the names its file exports', () => {
    const files = readdirSync(join(ROOT, 'lib', 'entry')).filter((f) => f.endsWith('.ts')).map((f) => join('lib', 'entry', f)).sort();
    expect([...entries.values()].filter((f) => f !== join('lib', 'index.ts')).sort(), 'lib/entry/ files = package.json subpaths').toEqual(files);
    expect([...doc.keys()].sort(), 'docs/library.md sections = package.json entries').toEqual([...entries.keys()].map(entryName).sort());
    const seen = new Map<string, string>();
    for (const [sub, file] of entries) {
      const src = readFileSync(join(ROOT, file), 'utf8');
      expect(src, file).not.toMatch(/^export \*/m);
      expect(src, `${file}: re-exports only`).not.toMatch(/^export (?:const|function|class|interface|type \w+ =|async|default)/m);
      const exported = exportedNames(src).map((n) => n.name);
      const listed = doc.get(entryName(sub))!;
      expect(new Set(exported).size, `${file}: a name exported twice`).toBe(exported.length);
      expect(exported.filter((n) => !listed.includes(n)).sort(), `${file}: exported but not in docs/library.md`).toEqual([]);
      expect(listed.filter((n) => !exported.includes(n)).sort(), `${entryName(sub)}: in docs/library.md but not exported`).toEqual([]);
      for (const n of exported) {
        expect(seen.get(n), `${n} is exported by two entries (one home per name)`).toBeUndefined();
        seen.set(n, entryName(sub));
      }
    }
  });

  it('each subpath resolves by the package name to the listed runtime values (the built dist/, as an app imports it)', async () => {
    const built = [...entries.values()].every((f) => existsSync(join(ROOT, f.replace(/^lib/, 'dist').replace(/\.ts$/, '.js'))));
    expect(built, 'dist/ is built (npm test runs tsc before vitest)').toBe(true);
    const values: Record<string, string[]> = {};
    for (const [sub, file] of entries) values[entryName(sub)] = exportedNames(readFileSync(join(ROOT, file), 'utf8')).filter((n) => !n.type).map((n) => n.name).sort();
    const script = `const out = {};
for (const e of ${JSON.stringify(Object.keys(values))}) out[e] = Object.keys(await import(e)).sort();
process.stdout.write(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual(values);
  });
});
