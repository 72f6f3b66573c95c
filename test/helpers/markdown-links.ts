// Relative links of Markdown files and whether they resolve: the file exists and, with an anchor,
// the target has a heading of that slug (GitHub's rule). Used by test/unit/docs.test.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The text outside fenced code blocks (links and headings inside code are not links or headings). */
export function proseOf(md: string): string {
  let fence: string | null = null;
  return md.split('\n').map((line) => {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m) {
      if (fence === null) fence = m[1][0];
      else if (m[1][0] === fence) fence = null;
      return '';
    }
    return fence === null ? line : '';
  }).join('\n');
}

/** GitHub's heading anchors: lowercase, markup and punctuation dropped, spaces to '-'; repeats get -1, -2 … */
export function headingSlugs(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseOf(md).split('\n')) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Link targets of `[text](target)` in the prose (inline code spans dropped), with their line numbers. */
export function linksOf(md: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  proseOf(md).split('\n').forEach((line, i) => {
    const plain = line.replace(/`[^`]*`/g, '');
    for (const m of plain.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** Broken relative links of the Markdown file `file` as 'file:line target (why)'; absolute URLs are not followed. */
export function brokenLinks(file: string, root: string): string[] {
  const md = readFileSync(file, 'utf8');
  const where = relative(root, file);
  const broken: string[] = [];
  for (const { target, line } of linksOf(md)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;  // http:, https:, mailto:
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const dest = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(dest)) { broken.push(`${where}:${line} ${target} (no such file)`); continue; }
    if (anchor === undefined) continue;
    if (statSync(dest).isDirectory() || !dest.endsWith('.md')) { broken.push(`${where}:${line} ${target} (an anchor into a file that is not Markdown)`); continue; }
    if (!headingSlugs(readFileSync(dest, 'utf8')).has(anchor)) broken.push(`${where}:${line} ${target} (no heading '#${anchor}' in ${relative(root, dest)})`);
  }
  return broken;
}

/** The relative Markdown files a Markdown file links to (resolved from its folder, anchors dropped). */
export function linkedFiles(file: string): string[] {
  return linksOf(readFileSync(file, 'utf8'))
    .map((l) => l.target.split('#')[0])
    .filter((t) => t !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(t))
    .map((t) => join(dirname(file), decodeURIComponent(t)));
}
