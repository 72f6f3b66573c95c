// Reports of a RUN folder: one self-contained HTML file (inline CSS + inline SVG figures) and a
// Markdown file whose figures are SVG files beside it. See data.ts for the files read. Several RUN
// folders (the shards of one sweep) make one report of the sweep they form together.

import { mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { RUN_FILES } from '../io/run-folder.js';
import { packageVersion } from '../util/package.js';
import { EiaError } from '../util/errors.js';
import { readSweepRuns } from '../steering/merge/read.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { asIoError } from '../util/io-error.js';
import { loadRun, type RunData } from './data.js';
import { allFigures, type Figure } from './figures.js';
import { renderHtml, renderMarkdown, type RenderContext } from './render.js';

export { loadRun, type RunData } from './data.js';
export { allFigures, type Figure } from './figures.js';
export { renderHtml, renderMarkdown, SYNTHETIC_NOTICE } from './render.js';
export { readGgufStrings } from './gguf-meta.js';

export interface ReportOptions {
  /** Folder the report goes to: report.html, report.md and report-figures/ (default: the RUN folder). */
  outDir?: string;
  /** Also write report.md and its SVG figures (default true). */
  markdown?: boolean;
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
  /** Why the RUN's score.json was not used (data.ts), or null. */
  scoreIgnored: string | null;
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
 * Writes OUT/report.html and OUT/report.md (+ report-figures/*.svg beside it); OUT is the RUN folder
 * unless outDir says otherwise. Several RUN folders (the shards of one sweep): the report of the
 * sweep they form, into outDir (required: it belongs to no single RUN).
 */
export function writeReport(runDir: string | readonly string[], opts: ReportOptions = {}): ReportResult {
  const dirs = typeof runDir === 'string' ? [runDir] : [...runDir];
  if (dirs.length > 1 && !opts.outDir) {
    throw new EiaError('E_BAD_ARG', 'outDir: a report of several RUNs needs its own folder (it belongs to no single RUN)');
  }
  const dir = resolve(dirs[0] ?? '.');
  const { run, figures, ctx, html } = buildReport(dirs, opts.generatedAt);
  const outDir = resolve(opts.outDir ?? dir);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw asIoError(e);
  }
  const htmlPath = join(outDir, RUN_FILES.report);
  writeFileAtomic(htmlPath, html);

  let mdPath: string | null = null;
  let figDir: string | null = null;
  if (opts.markdown !== false) {
    mdPath = join(outDir, RUN_FILES.reportMarkdown);
    figDir = join(outDir, RUN_FILES.reportFigures);
    rmSync(figDir, { recursive: true, force: true });
    const rendered = figures.filter((f) => f.svgs.length > 0);
    if (rendered.length) mkdirSync(figDir, { recursive: true });
    const file = (id: string, name: string) => join(figDir!, `${id}${name ? `-${name}` : ''}.svg`);
    for (const f of rendered) for (const s of f.svgs) writeFileAtomic(file(f.id, s.name), `<?xml version="1.0" encoding="UTF-8"?>\n${s.svg}\n`);
    const md = renderMarkdown(ctx, (id, name) => relative(outDir, file(id, name)).split(sep).join('/'));
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
    scoreIgnored: run.scoreIgnored,
    notes: run.notes,
  };
}
