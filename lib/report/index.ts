// Reports of a RUN folder: one self-contained HTML file (inline CSS + inline SVG figures) and a
// Markdown file whose figures are SVG files beside it. See data.ts for the files read. Several RUN
// folders (the shards of one sweep) make one report of the sweep they form together.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { packageVersion } from '../util/package.js';
import { EiaError } from '../util/errors.js';
import { readSweepRuns } from '../steering/merge/read.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { loadRun, type RunData } from './data.js';
import { allFigures, type Figure } from './figures.js';
import { renderHtml, renderMarkdown, type RenderContext } from './render.js';

export { loadRun, type RunData } from './data.js';
export { allFigures, type Figure } from './figures.js';
export { renderHtml, renderMarkdown, SYNTHETIC_NOTICE } from './render.js';
export { readGgufStrings } from './gguf-meta.js';

export interface ReportOptions {
  /** HTML output (default RUN/report.html) */
  html?: string;
  /** Markdown output (default RUN/report.md); false = none */
  markdown?: string | false;
  /** timestamp written in the report (default now) */
  generatedAt?: string;
}

export interface ReportResult {
  html: string;
  markdown: string | null;
  /** folder of the Markdown report's SVG files */
  figuresDir: string | null;
  synthetic: boolean;
  syntheticReason: string;
  figures: { id: string; title: string; rendered: boolean; svgs: number; notRun?: string; error?: string }[];
  tables: { table1: number | null; table2: number | null };
  notes: string[];
}

/** Builds the report in memory (of one RUN, or of several read as one sweep: refused as `merge` refuses them). */
export function buildReport(runDir: string | readonly string[], generatedAt = new Date().toISOString()): { run: RunData; figures: Figure[]; ctx: RenderContext; html: string } {
  const dirs = typeof runDir === 'string' ? [runDir] : [...runDir];
  if (dirs.length === 0) throw new EiaError('E_BAD_ARG', 'no RUN folder given');
  const run = dirs.length === 1 ? loadRun(dirs[0]) : loadRun(dirs[0], readSweepRuns(dirs));
  const figures = allFigures(run);
  const ctx: RenderContext = { run, figures, version: packageVersion(), generatedAt };
  return { run, figures, ctx, html: renderHtml(ctx) };
}

/**
 * Writes RUN/report.html and RUN/report.md (+ report-figures/*.svg beside the Markdown). Several RUN
 * folders: the report of the sweep they form, to `html` and `markdown` (both required: it belongs
 * to no single RUN).
 */
export function writeReport(runDir: string | readonly string[], opts: ReportOptions = {}): ReportResult {
  const dirs = typeof runDir === 'string' ? [runDir] : [...runDir];
  if (dirs.length > 1 && (!opts.html || opts.markdown === undefined)) {
    throw new EiaError('E_BAD_ARG', 'a report of several RUNs needs its own HTML and Markdown paths (it belongs to no single RUN)');
  }
  const dir = resolve(dirs[0]);
  const { run, figures, ctx, html } = buildReport(dirs, opts.generatedAt);
  const htmlPath = resolve(opts.html ?? join(dir, 'report.html'));
  mkdirSync(dirname(htmlPath), { recursive: true });
  writeFileAtomic(htmlPath, html);

  let mdPath: string | null = null;
  let figDir: string | null = null;
  if (opts.markdown !== false) {
    mdPath = resolve(opts.markdown ?? join(dir, 'report.md'));
    const mdDir = dirname(mdPath);
    figDir = join(mdDir, `${basename(mdPath).replace(/\.(md|markdown)$/i, '')}-figures`);
    rmSync(figDir, { recursive: true, force: true });
    const rendered = figures.filter((f) => f.svgs.length > 0);
    if (rendered.length) mkdirSync(figDir, { recursive: true });
    const file = (id: string, name: string) => join(figDir!, `${id}${name ? `-${name}` : ''}.svg`);
    for (const f of rendered) for (const s of f.svgs) writeFileSync(file(f.id, s.name), `<?xml version="1.0" encoding="UTF-8"?>\n${s.svg}\n`);
    const md = renderMarkdown(ctx, (id, name) => relative(mdDir, file(id, name)).split(sep).join('/'));
    mkdirSync(mdDir, { recursive: true });
    writeFileAtomic(mdPath, md);
  }
  return {
    html: htmlPath, markdown: mdPath, figuresDir: figDir,
    synthetic: run.synthetic.synthetic, syntheticReason: run.synthetic.reason,
    figures: figures.map((f) => ({
      id: f.id, title: f.title, rendered: f.svgs.length > 0, svgs: f.svgs.length,
      ...(f.notRun !== undefined ? { notRun: f.notRun } : {}), ...(f.error ? { error: f.error } : {}),
    })),
    tables: { table1: run.validation ? run.validation.layers.length : null, table2: run.score ? run.score.rows.length : null },
    notes: run.notes,
  };
}
