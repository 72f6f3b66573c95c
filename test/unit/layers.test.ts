// The layering of lib/ (docs/architecture.md): folders import only folders of a lower rank, so
// there is no upward and no circular import between folders. The checker is tested on a small
// tree with known violations first, so that a clean result on lib/ means something.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importEdges, layerViolations, readRanks } from '../helpers/imports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIB = join(ROOT, 'lib');
const ranks = readRanks(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'));

describe('the import-rule checker', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'eia-layers-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const file = (rel: string, text: string) => {
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    writeFileSync(join(tmp, rel), text);
  };

  it('reports upward, same-rank and facade imports, and nothing else', () => {
    file('util/a.ts', "export const a = 1;\n");
    file('engine/b.ts', "import { a } from '../util/a.js';\nexport const b = a;\n");
    file('stats/c.ts', "import { b } from '../engine/b.js';\nexport const c = b;\n");        // same rank (2): violation
    file('probes/d.ts', "import { b } from '../engine/b.js';\nexport { c } from '../stats/c.js';\n");  // downward: fine
    file('engine/e.ts', "export async function e() { return import('../probes/d.js'); }\n");  // upward (dynamic): violation
    file('steering/f.ts', "import '../index.js';\n");                                          // the facade: violation
    file('index.ts', "export * from './probes/d.js';\n");
    const v = layerViolations(importEdges(tmp), ranks);
    expect(v).toHaveLength(3);
    expect(v[0]).toMatch(/^engine\/e\.ts:1 imports \.\.\/probes\/d\.js: engine\/ \(rank 2\) may only import folders of a lower rank, not probes\/ \(rank 3\)/);
    expect(v[1]).toMatch(/^stats\/c\.ts:1 .*stats\/ \(rank 2\) .* not engine\/ \(rank 2\)/);
    expect(v[2]).toMatch(/^steering\/f\.ts:1 .*facade/);
  });
});

describe('lib/ follows docs/architecture.md', () => {
  it('every folder of lib/ has a rank', () => {
    const folders = readdirSync(LIB, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(folders.filter((f) => !ranks.has(f)), 'folders without a rank').toEqual([]);
  });

  it('no upward, same-rank or circular import between folders', () => {
    const edges = importEdges(LIB);
    expect(edges.length).toBeGreaterThan(300);  // the scan sees lib's imports
    expect(layerViolations(edges, ranks)).toEqual([]);
  });

  it('lib/ imports nothing outside lib/ (scripts/ runs at install time; what both need lives in lib/)', () => {
    const edges = importEdges(LIB);
    const outside = edges.filter((e) => e.to.startsWith('../')).map((e) => `${e.from}:${e.line} imports ${e.spec}`);
    expect(outside).toEqual([]);
    // the scan does see such an import (an edge that leaves the scanned root is reported as '../…')
    expect(importEdges(join(LIB, 'engine')).filter((e) => e.to.startsWith('../')).length).toBeGreaterThan(0);
  });
});
