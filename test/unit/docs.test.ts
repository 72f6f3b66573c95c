// The documentation as a newcomer meets it: a short README that links every doc under docs/, no
// relative link (file or heading anchor) broken anywhere in README.md, docs/ or bench/README.md, and
// no measurement machine named in prose (a benchmark table's own column names it). The link checker
// is tested on a small tree with known broken links first, so that a clean result means something.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenLinks, headingSlugs, linkedFiles, proseOf } from '../helpers/markdown-links.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const docFiles = () => readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => join(DOCS, f)).sort();

/** The docs the README must keep pointing to (issue 24: what moved out of the README lives there). */
const REQUIRED_DOCS = ['cli.md', 'server.md', 'library.md', 'synthetic-models.md', 'scale-out.md', 'performance.md', 'building.md'];

describe('the link checker', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'eia-links-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds missing files and missing anchors, and nothing inside code', () => {
    mkdirSync(join(tmp, 'docs'));
    writeFileSync(join(tmp, 'docs', 'a.md'), '# A doc\n\n## Probe norms (one rule)\n\n## Flags\n\n## Flags\n');
    writeFileSync(join(tmp, 'README.md'), [
      '# R', '',
      '[ok](docs/a.md) [ok](docs/a.md#probe-norms-one-rule) [ok](docs/a.md#flags-1) [ok](#r) [web](https://example.com/x#y)',
      '[gone](docs/b.md)',
      '[bad anchor](docs/a.md#probe-norms)',
      '`[code span](docs/c.md)`',
      '```', '[in a fence](docs/d.md)', '```',
      '[no such heading](#nothing)',
    ].join('\n'));
    expect(brokenLinks(join(tmp, 'README.md'), tmp)).toEqual([
      'README.md:4 docs/b.md (no such file)',
      "README.md:5 docs/a.md#probe-norms (no heading '#probe-norms' in docs/a.md)",
      "README.md:10 #nothing (no heading '#nothing' in README.md)",
    ]);
    expect([...headingSlugs('# `--max-tokens` and ctx\n## Sweeps on many machines\n')]).toEqual(['--max-tokens-and-ctx', 'sweeps-on-many-machines']);
  });
});

describe('README.md and docs/', () => {
  it('the README is short (<= 15 KB)', () => {
    expect(statSync(README).size).toBeLessThanOrEqual(15 * 1024);
  });

  it('the README links every doc under docs/ (and the ones issue 24 moved text into)', () => {
    const linked = new Set(linkedFiles(README).map((f) => resolve(f)));
    const docs = docFiles();
    for (const f of REQUIRED_DOCS) expect(docs, `docs/${f} exists`).toContain(join(DOCS, f));
    expect(docs.filter((f) => !linked.has(resolve(f))).map((f) => f.slice(ROOT.length)), 'docs not linked from the README').toEqual([]);
  });

  it('no relative link is broken (files and heading anchors) in README.md, docs/*.md and bench/README.md', () => {
    const files = [README, ...docFiles(), join(ROOT, 'bench', 'README.md')];
    expect(files.flatMap((f) => brokenLinks(f, ROOT))).toEqual([]);
  });

  it('prose names no measurement machine (a benchmark table names it in its own column)', () => {
    const MACHINE = /\b\d+[- ](?:idle )?cores?\b|\bEPYC\b|\bVM\b|\bH[12]00\b|load average|\bat load \d|on the machine that/i;
    const hits: string[] = [];
    for (const f of [README, ...docFiles()]) {
      proseOf(readFileSync(f, 'utf8')).split('\n').forEach((line, i) => {
        if (!line.trimStart().startsWith('|') && MACHINE.test(line)) hits.push(`${f.slice(ROOT.length)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });
});
