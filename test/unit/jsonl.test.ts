// The one JSON Lines reader (lib/io/jsonl.ts) and its torn-tail policies: 'error' reads a last
// line without its newline as an ordinary line, 'drop' ignores it and says so, 'repair' also cuts
// it off the file. Every error names FILE:LINE.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJsonl, readJsonl } from '../../lib/io/jsonl.js';
import { isEiaError } from '../../lib/util/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'eia-jsonl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WHOLE = '{"a":1}\r\n\n{"a":2}\n';
const TORN = '{"a":1}\n{"a":2}\n{"a":';

describe('parseJsonl', () => {
  it('reads LF and CRLF lines, skips blank ones, and hands each value to `each` with FILE:LINE', () => {
    const seen: string[] = [];
    const r = parseJsonl(WHOLE, 'f.jsonl', { tornTail: 'error', each: (v, where) => { seen.push(where); return (v as { a: number }).a; } });
    expect(r).toEqual({ records: [1, 2], torn: false });
    expect(seen).toEqual(['f.jsonl:1', 'f.jsonl:3']);
  });

  it("'error': a last line without a newline is an ordinary line (valid: kept; invalid: an error naming it)", () => {
    expect(parseJsonl('{"a":1}\n{"a":2}', 'f', { tornTail: 'error' }).records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(() => parseJsonl(TORN, 'f', { tornTail: 'error' })).toThrow(/^f:3: invalid JSON \(a torn last line\?\)/);
  });

  it("'drop': a last line without a newline is ignored and reported, valid or not", () => {
    expect(parseJsonl(TORN, 'f', { tornTail: 'drop' })).toEqual({ records: [{ a: 1 }, { a: 2 }], torn: true });
    expect(parseJsonl('{"a":1}\n{"a":2}', 'f', { tornTail: 'drop' })).toEqual({ records: [{ a: 1 }], torn: true });
    expect(parseJsonl('{"a":1}\n', 'f', { tornTail: 'drop' }).torn).toBe(false);
  });

  it('an invalid line before the last is an error under every policy (E_BAD_ARG, FILE:LINE)', () => {
    for (const tornTail of ['error', 'drop'] as const) {
      let err: unknown;
      try { parseJsonl('{"a":1}\nnot json\n{"a":3}\n', 'f', { tornTail }); } catch (e) { err = e; }
      expect(isEiaError(err, 'E_BAD_ARG'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/^f:2: invalid JSON: /);
    }
  });
});

describe('readJsonl', () => {
  it("'repair' cuts the torn last line off the file; 'drop' leaves the file as it is", () => {
    const f = join(tmp, 'log.jsonl');
    writeFileSync(f, TORN);
    expect(readJsonl(f, { tornTail: 'drop' })).toEqual({ records: [{ a: 1 }, { a: 2 }], torn: true });
    expect(readFileSync(f, 'utf8')).toBe(TORN);
    expect(readJsonl(f, { tornTail: 'repair' })).toEqual({ records: [{ a: 1 }, { a: 2 }], torn: true });
    expect(readFileSync(f, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(readJsonl(f, { tornTail: 'repair' }).torn).toBe(false);
  });

  it('a file that cannot be read is E_IO with the system error as cause', () => {
    let err: unknown;
    try { readJsonl(join(tmp, 'missing.jsonl'), { tornTail: 'error' }); } catch (e) { err = e; }
    expect(isEiaError(err, 'E_IO'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/ENOENT/);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
