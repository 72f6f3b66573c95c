// Only lib/engine loads the native addon (lib/engine/native.ts); everything else goes through its
// typed wrapper. The check is tested on a planted violation first, so a clean result means something.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importEdges, nativeImportViolations } from '../helpers/imports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('native imports', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'eia-native-import-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the check reports an import of native.js from outside lib/engine, and not one from inside', () => {
    for (const d of ['lib/engine', 'lib/steering', 'test']) mkdirSync(join(tmp, d), { recursive: true });
    writeFileSync(join(tmp, 'lib/engine/native.ts'), 'export const addon = 1;\n');
    writeFileSync(join(tmp, 'lib/engine/model.ts'), "import { addon } from './native.js';\nexport const m = addon;\n");
    writeFileSync(join(tmp, 'lib/steering/sweep.ts'), "import type { addon } from '../engine/native.js';\n");
    writeFileSync(join(tmp, 'test/t.test.ts'), "const raw = await import('../lib/engine/native.js');\n");
    expect(nativeImportViolations(importEdges(tmp, ['lib', 'test']))).toEqual([
      'lib/steering/sweep.ts:1 imports ../engine/native.js: only lib/engine may load the addon',
      'test/t.test.ts:1 imports ../lib/engine/native.js: only lib/engine may load the addon',
    ]);
  });

  it('no file in lib/ or test/ outside lib/engine imports lib/engine/native.js', () => {
    const edges = importEdges(ROOT, ['lib', 'test']);
    expect(edges.some((e) => e.to === 'lib/engine/native.ts')).toBe(true);  // the engine's own imports are seen
    expect(nativeImportViolations(edges)).toEqual([]);
  });
});
