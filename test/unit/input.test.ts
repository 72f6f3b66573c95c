// The one reader of inputs (lib/io/input.ts): every input is bounded, a larger one is refused by
// name (E_BAD_ARG) without filling memory: a sparse 3 GiB file before any byte is read, a device or
// a pipe as soon as the limit is passed (issue 23: /dev/zero read until memory ran out; a file over
// 2 GiB gave E_INTERNAL with no path).
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readBounded, readTextFile } from '../../lib/io/input.js';
import { readJsonl } from '../../lib/io/jsonl.js';
import { EiaError } from '../../lib/util/errors.js';
import { tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-input-');
afterAll(() => tmp.cleanup());

function refusal(f: () => unknown): EiaError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EiaError);
    return e as EiaError;
  }
  throw new Error('expected a refusal');
}

describe('bounded inputs', () => {
  it('a 3 GiB file (sparse) is refused by name before it is read, by every reader of text files', () => {
    const big = join(tmp.dir, 'big.jsonl');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 3 * 1024 ** 3);
    closeSync(fd);
    const t0 = Date.now();
    for (const f of [() => readBounded(big), () => readTextFile(big), () => readJsonl(big, { tornTail: 'error' })]) {
      const e = refusal(f);
      expect(e.code).toBe('E_BAD_ARG');
      expect(e.message).toMatch(/big\.jsonl is 3221225472 bytes, larger than 256 MiB, the most eia-native reads from one input/);
    }
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('/dev/zero (endless) is refused once the limit is passed', () => {
    const e = refusal(() => readBounded('/dev/zero', 4 * 1024 * 1024));
    expect(e.code).toBe('E_BAD_ARG');
    expect(e.message).toMatch(/^\/dev\/zero is larger than 4 MiB/);
  });

  it('an endless pipe on stdin is refused, naming the reader (in a child, reading the built code: stdin is the process\'s own)', () => {
    const input = fileURLToPath(new URL('../../dist/io/input.js', import.meta.url));
    const code = `import(${JSON.stringify(input)}).then((m) => { try { m.readInputText('-', '--input'); console.log('read'); } catch (e) { console.log(e.code + ' ' + e.message); } })`;
    const r = spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} -e ${JSON.stringify(code)} < /dev/zero`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout.trim(), r.stderr).toMatch(/^E_BAD_ARG --input <stdin> is larger than 256 MiB/);
  });

  it('an input within the limit is read whole; a folder is refused', () => {
    const f = join(tmp.dir, 'small.txt');
    writeFileSync(f, 'héllo\n'.repeat(1000));
    expect(readTextFile(f)).toBe('héllo\n'.repeat(1000));
    expect(refusal(() => readBounded(tmp.dir)).message).toMatch(/is a folder, not a file/);
  });
});
