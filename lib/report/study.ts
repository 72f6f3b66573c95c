// The report of a study (STUDY/report.html + report.md + report-figures/): the models side by side
// (Table 1, AUROC by relative depth, Table 2), behavioural correlation, cross-model agreement,
// Procrustes transfer, the drift of quantizations of one model, and findings computed from the
// numbers (study-findings.ts). The numbers come from study-results.ts and are written to
// STUDY/results.json first; the HTML is self-contained (inline CSS and SVG, no scripts), as the RUN
// report (render.ts) whose tables and figure frames it shares. Each model's own RUN report is linked.
import * as Plot from '@observablehq/plot';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { readStudyState, STUDY_FILES } from '../io/study-folder.js';
import { RUN_FILES } from '../io/run-folder.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { asIoError } from '../util/io-error.js';
import { packageVersion } from '../util/package.js';
import { loadRun } from './data.js';
import type { Figure } from './figures.js';
import { CSS, htmlFigure, htmlTable, inlineMd, mdTable, notRun, SYNTHETIC_NOTICE, type Table } from './render.js';
import { studyFindings, type Finding } from './study-findings.js';
import { studyResults, type StudyResults } from './study-results.js';
import { esc, PALETTE, renderPlot, type LegendItem } from './svg.js';

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));
const pv = (p: number | null | undefined) => (p === null || p === undefined || !Number.isFinite(p) ? 'n/a' : p < 0.001 ? p.toExponential(2) : p.toFixed(4));
const sd = (x: number | null) => (x === null || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
const ci = (c: [number, number] | null | undefined) => (c ? `[${f3(c[0])}, ${f3(c[1])}]` : 'n/a');

/** The study's parts, read from the folder. */
export interface StudyData {
  dir: string;
  results: StudyResults;
  /** model name -> its RUN's Table 2 rows (layer, scenario, success, baseline) */
  table2: Map<string, { layer: number; scenario: string; success_rate: number; baseline_rate: number }[]>;
  synthetic: boolean;
  findings: Finding[];
}

// ---------------------------------------------------------------------------------------------
// Tables

function modelsTable(d: StudyData): Table {
  const r = d.results;
  return {
    id: 'study-models', caption: 'The models of the study: each ran the whole protocol into its own RUN folder (linked below).',
    head: ['Model', 'Architecture', 'Blocks', 'd_model', 'File type', 'sha256'], numeric: [false, false, true, true, false, false],
    rows: r.models.map((m) => [m.name, m.arch, String(m.n_layer), String(m.n_embd), m.file_type ?? 'n/a', m.sha256.slice(0, 12) + '…']),
  };
}

/** Table 1 side by side: one column per model, one row per measure at its best block. */
function table1Side(d: StudyData): Table | null {
  const ms = d.results.models;
  if (!ms.some((m) => m.best)) return null;
  const row = (label: string, cell: (m: StudyResults['models'][number]) => string) => [label, ...ms.map((m) => (m.best ? cell(m) : 'not run'))];
  return {
    id: 'table1-side', caption: 'Table 1, the models side by side: detection at each model\'s best block (highest test AUROC; best-layer.ts), ' +
      'with the bootstrap CI, both of the paper\'s accuracies, the random-direction baseline, the permutation test and lexical ablation.',
    head: ['', ...ms.map((m) => m.name)], numeric: [false, ...ms.map(() => true)],
    rows: [
      row('Best block', (m) => `${m.best_layer} of ${m.n_layer}`),
      row('Relative depth', (m) => f3(m.depth)),
      row('AUROC', (m) => f3(m.best!.auroc)),
      row('95% CI', (m) => ci(m.best!.ci)),
      row('Accuracy (median thr.)', (m) => f3(m.best!.accuracy_median)),
      row('Accuracy (midpoint thr.)', (m) => f3(m.best!.accuracy_midpoint)),
      row('Random-baseline p', (m) => pv(m.best!.random_baseline_p)),
      row('Random 95th pct', (m) => f3(m.best!.random_p95)),
      row('Permutation p', (m) => pv(m.best!.permutation_p)),
      row('Ablated AUROC', (m) => f3(m.best!.ablation_auroc)),
    ],
  };
}

/** Table 2 side by side: per scenario, each model's mean success over its steered blocks; the headline with its CI. */
function table2Side(d: StudyData): Table | null {
  const ms = d.results.models;
  if (!ms.some((m) => (d.table2.get(m.name) ?? []).length > 0)) return null;
  const scenarios = [...new Set(ms.flatMap((m) => (d.table2.get(m.name) ?? []).map((r) => r.scenario)))];
  const cell = (m: string, scen: string, key: 'success_rate' | 'baseline_rate') => {
    const rows = (d.table2.get(m) ?? []).filter((r) => r.scenario === scen);
    return rows.length ? f3(rows.reduce((s, r) => s + r[key], 0) / rows.length) : '-';
  };
  return {
    id: 'table2-side', caption: 'Table 2, the models side by side: steering success per scenario (the share of non-zero alphas that moved the ' +
      'empathetic-language rate in alpha\'s direction, averaged over the model\'s steered blocks; the blocks are listed), the alpha = 0 baseline ' +
      'rate, and the headline (mean over the model\'s (block, scenario) rows) with its stratified bootstrap 95% CI.',
    head: ['', ...ms.map((m) => m.name)], numeric: [false, ...ms.map(() => true)],
    rows: [
      ['Steered blocks', ...ms.map((m) => (m.steer_layers.length ? m.steer_layers.join(', ') : 'not run'))],
      ...scenarios.map((s) => [`Success: ${s}`, ...ms.map((m) => cell(m.name, s, 'success_rate'))]),
      ...scenarios.map((s) => [`Baseline rate: ${s}`, ...ms.map((m) => cell(m.name, s, 'baseline_rate'))]),
      ['**Headline**', ...ms.map((m) => (m.headline ? `**${f3(m.headline.headline)}**` : 'n/a'))],
      ['95% CI', ...ms.map((m) => (m.headline ? ci([m.headline.lower, m.headline.upper]) : 'n/a'))],
    ],
  };
}

function behaviourTable(d: StudyData): Table | null {
  const r = d.results;
  if (!r.behaviour_texts) return null;
  type B = { layer?: number; n?: number; pearson?: { r: number; p: number }; spearman?: { rho: number; p: number }; binary_accuracy?: { accuracy: number } | null; error?: string };
  return {
    id: 'behaviour', caption: `Behavioural correlation: each model's best-block probe scored on ${r.behaviour_texts.n} rubric-scored texts (${r.behaviour_texts.path}), ` +
      'as `eia-native correlate` computes it: Pearson and Spearman with two-sided p, and the paper\'s 0-vs-2 binary accuracy at the median threshold.',
    head: ['Model', 'Block', 'n', 'Pearson r', 'p', 'Spearman rho', 'p', '0-vs-2 accuracy'], numeric: [false, true, true, true, true, true, true, true],
    rows: r.models.map((m) => {
      const b = m.behaviour as B | null;
      if (!b) return [m.name, '-', '-', 'not measured', '', '', '', ''];
      if (b.error || !b.pearson) return [m.name, String(b.layer ?? '-'), String(b.n ?? '-'), `undefined: ${b.error ?? 'no correlation'}`, '', '', '', ''];
      return [m.name, String(b.layer), String(b.n), f3(b.pearson.r), pv(b.pearson.p), f3(b.spearman?.rho), pv(b.spearman?.p), f3(b.binary_accuracy?.accuracy)];
    }),
  };
}

function agreementTable(d: StudyData): Table | null {
  const r = d.results, names = r.models.map((m) => m.name);
  if (r.agreement.length === 0) return null;
  const get = (a: string, b: string) => r.agreement.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
  return {
    id: 'agreement', caption: 'Cross-model agreement (the paper\'s check): Pearson r (Spearman rho) between two models\' own best-block probe scores on the ' +
      'same test texts, as `eia-native align` reports it.',
    head: ['', ...names], numeric: [false, ...names.map(() => true)],
    rows: names.map((a) => [a, ...names.map((b) => {
      if (a === b) return '-';
      const x = get(a, b);
      return !x ? 'n/a' : x.pearson ? `${f3(x.pearson.r)} (${f3(x.spearman?.rho)})` : `undefined`;
    })]),
  };
}

function transferTable(d: StudyData): Table | null {
  const r = d.results, names = r.models.map((m) => m.name);
  if (r.transfer.length === 0) return null;
  return {
    id: 'transfer', caption: 'Procrustes transfer: the row model\'s best-block probe carried into the column model through an orthogonal map fitted on the ' +
      'train texts (shared k-dimensional PCA space), scored on the column model\'s test texts: carried AUROC (the column model\'s own probe in brackets), as `eia-native align`.',
    head: ['From \\ into', ...names], numeric: [false, ...names.map(() => true)],
    rows: names.map((a) => [a, ...names.map((b) => {
      if (a === b) return '-';
      const x = r.transfer.find((t) => t.a === a && t.b === b);
      return x ? `${f3(x.auroc_carried)} (${f3(x.auroc_native_b)})` : 'n/a';
    })]),
  };
}

function driftTables(drift: StudyResults['drift'][number]): Table[] {
  const out: Table[] = [{
    id: `drift-${drift.reference}`, caption: `Drift per block against ${drift.reference}: the cosine between each model's probe direction and ${drift.reference}'s; ` +
      `each model's own test AUROC [95% CI]; ${drift.reference}'s probe applied to each model's test activations (transfer); and the changes from ${drift.reference}'s own AUROC.`,
    head: ['Block', 'Depth', 'Model', 'File type', 'Cosine', 'Own AUROC', '95% CI', 'Transfer AUROC', 'Δ own', 'Δ transfer'],
    numeric: [true, true, false, false, true, true, false, true, true, true],
    rows: drift.blocks.flatMap((b) => b.rows.map((x) => [String(b.block), f3(b.depth), x.model, x.file_type ?? 'n/a', f3(x.cosine), f3(x.auroc), ci(x.auroc_ci), f3(x.transfer_auroc), sd(x.d_auroc), sd(x.d_transfer)])),
  }];
  if (drift.steering.length) {
    const models = drift.steering[0].rows.map((x) => x.model);
    out.push({
      id: `drift-steering-${drift.reference}`, caption: 'Steering at the same blocks and alphas: per model, the share of samples with empathetic language (keyword rule) ' +
        `and the mean probe score of the generated text at each alpha, all scenarios pooled; in brackets the change from ${drift.reference}.`,
      head: ['Block', 'Alpha', ...models.flatMap((m) => [`${m}: keyword share`, `${m}: probe score`])],
      numeric: [true, true, ...models.flatMap(() => [true, true])],
      rows: drift.steering.flatMap((st) => st.alphas.map((a, i) => [String(st.block), String(a), ...st.rows.flatMap((x) => x.model === drift.reference
        ? [f3(x.keyword_share[i]), f3(x.probe_score[i])]
        : [`${f3(x.keyword_share[i])} (${sd(x.d_keyword_share[i])})`, `${f3(x.probe_score[i])} (${sd(x.d_probe_score[i])})`])])),
    });
  }
  if (drift.headline.length) {
    out.push({
      id: `drift-headline-${drift.reference}`, caption: 'Table 2 headline of each quantization with its stratified bootstrap 95% CI, and the change from the reference.',
      head: ['Model', 'Headline', '95% CI', 'Δ'], numeric: [false, true, false, true],
      rows: drift.headline.map((h) => [h.model, f3(h.headline), ci([h.lower, h.upper]), sd(h.delta)]),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Figures

/** AUROC by relative depth (block / n_layer), all models in one figure. */
export function aurocByDepth(r: StudyResults): Figure {
  const id = 'auroc-by-depth';
  const title = 'Detection: test AUROC by relative depth, all models';
  const data = r.models.flatMap((m) => m.layers.map((l) => ({ model: m.name, depth: l.depth, auroc: l.auroc, lo: l.ci[0], hi: l.ci[1], layer: l.layer, best: l.layer === m.best_layer })));
  if (data.length === 0) return { id, title, caption: '', svgs: [], notRun: 'No model has probes yet.' };
  const names = r.models.map((m) => m.name);
  const range = names.map((_, i) => PALETTE[i % PALETTE.length]);
  const legend: LegendItem[] = [...names.map((n, i) => ({ label: n, color: range[i], shape: 'line' as const })), { label: 'chance (0.5)', color: '#9498a0', shape: 'dash' }];
  const svg = renderPlot({
    width: 720, height: 320, marginLeft: 48,
    x: { domain: [0, 1], label: 'Relative depth (block / blocks)', grid: true },
    y: { domain: [0, 1], grid: true, label: 'Test AUROC' },
    color: { domain: names, range },
    marks: [
      Plot.ruleY([0.5], { stroke: '#9498a0', strokeDasharray: '4 3' }),
      Plot.ruleX(data, { x: 'depth', y1: 'lo', y2: 'hi', stroke: 'model', strokeOpacity: 0.5, strokeWidth: 2 }),
      Plot.line(data, { x: 'depth', y: 'auroc', stroke: 'model', z: 'model', strokeWidth: 1.5 }),
      Plot.dot(data, {
        x: 'depth', y: 'auroc', fill: 'model', r: (d: { best: boolean }) => (d.best ? 6 : 3.5), stroke: 'white',
        title: (d: typeof data[number]) => `${d.model} block ${d.layer} (depth ${f3(d.depth)}): AUROC ${f3(d.auroc)} [${f3(d.lo)}, ${f3(d.hi)}]`,
      }),
    ],
  }, { title, legend });
  return {
    id, title, svgs: [{ name: 'auroc', svg }],
    caption: 'Each model\'s test AUROC at every probed block, against the block\'s relative depth (block / the model\'s blocks) so that models of different depths share one axis; ' +
      'vertical bars are 95% bootstrap CIs, the larger dot is each model\'s best block.',
  };
}

/** Per drift group: the cosine with the reference and the transfer AUROC per block. */
export function driftFigure(r: StudyResults, drift: StudyResults['drift'][number]): Figure {
  const id = `drift-${drift.reference}`;
  const title = `Drift against ${drift.reference}: probe cosine and transfer AUROC per block`;
  const data = drift.blocks.flatMap((b) => b.rows.filter((x) => x.model !== drift.reference)
    .map((x) => ({ block: b.block, model: x.model, cosine: x.cosine, transfer: x.transfer_auroc, own: x.auroc })));
  if (data.length === 0) return { id, title, caption: '', svgs: [], notRun: 'No block was probed by every quantization.' };
  const names = [...new Set(data.map((d) => d.model))];
  const range = names.map((n) => PALETTE[r.models.findIndex((m) => m.name === n) % PALETTE.length]);
  const legend: LegendItem[] = names.map((n, i) => ({ label: n, color: range[i], shape: 'line' as const }));
  const blocks = [...new Set(data.map((d) => d.block))].sort((a, b) => a - b);
  const panel = (y: 'cosine' | 'transfer', label: string, domain: [number, number]) => renderPlot({
    width: 360, height: 240, marginLeft: 48,
    x: { type: 'point', domain: blocks, label: 'Block', padding: 0.5 },
    y: { domain, grid: true, label },
    color: { domain: names, range },
    marks: [
      Plot.line(data, { x: 'block', y, stroke: 'model', z: 'model' }),
      Plot.dot(data, { x: 'block', y, fill: 'model', r: 4, title: (d: typeof data[number]) => `${d.model} block ${d.block}: ${label} ${f3(d[y])}` }),
    ],
  }, { title: `${title}: ${label}`, legend });
  const lowCos = Math.min(0.9, ...data.map((d) => d.cosine));
  return {
    id, title, svgs: [{ name: 'cosine', svg: panel('cosine', 'Cosine with the reference probe', [Math.max(-1, Math.floor(lowCos * 10) / 10), 1]) }, { name: 'transfer', svg: panel('transfer', 'Reference probe AUROC', [0, 1]) }],
    caption: `Left: cosine between each quantization's probe direction and ${drift.reference}'s at the same block. Right: ${drift.reference}'s probe scored on each quantization's test activations.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading, rendering, writing

function readStudy(dir: string): StudyData {
  const state = readStudyState(dir);
  const results = studyResults(dir);
  const table2 = new Map<string, { layer: number; scenario: string; success_rate: number; baseline_rate: number }[]>();
  let synthetic = false;
  for (const m of results.models) {
    const run = join(dir, m.run);
    if (!existsSync(run)) continue;
    const data = loadRun(run);
    table2.set(m.name, (data.score?.rows ?? []).map((r) => ({ layer: r.layer, scenario: r.scenario, success_rate: r.success_rate, baseline_rate: r.baseline_rate })));
    if (data.synthetic.synthetic) synthetic = true;
  }
  if (!synthetic) synthetic = Object.values(state.models).some((f) => f.ggufName.startsWith('eia-synth'));
  return { dir, results, table2, synthetic, findings: studyFindings(results) };
}

export interface Section { id: string; title: string; tables: Table[]; figures: Figure[]; text?: string[]; missing?: string }

function sections(d: StudyData): Section[] {
  const r = d.results;
  const t1 = table1Side(d), t2 = table2Side(d), b = behaviourTable(d), ag = agreementTable(d), tr = transferTable(d);
  const out: Section[] = [
    { id: 'models', title: 'Models', tables: [modelsTable(d)], figures: [] },
    { id: 'detection', title: 'Detection (Table 1)', tables: t1 ? [t1] : [], figures: [aurocByDepth(r)], ...(t1 ? {} : { missing: 'No model has probes yet.' }) },
    { id: 'steering', title: 'Steering (Table 2)', tables: t2 ? [t2] : [], figures: [], ...(t2 ? {} : { missing: 'No model has a scored steering sweep yet.' }) },
    { id: 'behaviour', title: 'Behavioural correlation', tables: b ? [b] : [], figures: [], ...(b ? {} : { missing: 'Not measured: the study was run without rubric-scored texts (give `--texts FILE`: JSONL of {text, score 0/1/2}).' }) },
    { id: 'agreement', title: 'Cross-model agreement', tables: ag ? [ag] : [], figures: [], ...(ag ? {} : { missing: 'Needs two models or more.' }) },
    { id: 'transfer', title: 'Procrustes transfer', tables: tr ? [tr] : [], figures: [], ...(tr ? {} : { missing: 'Needs two models or more.' }) },
  ];
  if (r.drift.length) {
    for (const g of r.drift) {
      out.push({
        id: `drift-${g.reference}`, title: `Quantization drift: ${g.members.join(', ')}`, tables: driftTables(g), figures: [driftFigure(r, g)],
        text: [`These models share architecture, shape and their unquantized weights (output_norm.weight byte for byte): quantizations of one model, ` +
          `compared with ${g.reference}, the one of highest precision.`, ...g.notes],
      });
    }
  }
  return out;
}

function runLinks(d: StudyData): { name: string; href: string | null }[] {
  return d.results.models.map((m) => {
    const html = join(d.dir, m.run, RUN_FILES.report);
    return { name: m.name, href: existsSync(html) ? `${m.run.split(sep).join('/')}/${RUN_FILES.report}` : null };
  });
}

export function renderStudyHtml(d: StudyData, secs: Section[], generatedAt: string): string {
  const parts: string[] = [];
  const names = d.results.models.map((m) => m.name).join(', ');
  parts.push(`<header><h1>Empathy-in-action study: ${esc(names)}</h1>`);
  parts.push(`<p class="sub">STUDY <code>${esc(d.dir)}</code> · eia-native ${esc(packageVersion())} · generated ${esc(generatedAt)}</p>`);
  if (d.synthetic) parts.push(`<div class="synthetic-notice" id="synthetic-notice" role="note">${esc(SYNTHETIC_NOTICE)}</div>`);
  parts.push('</header>');
  parts.push(`<nav aria-label="Contents"><ol><li><a href="#findings">Findings</a></li>${secs.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a></li>`).join('')}<li><a href="#runs">RUN reports</a></li></ol></nav>`);
  parts.push(`<section id="findings"><h2>Findings</h2>${d.findings.length ? `<ul class="findings">${d.findings.map((f) => `<li data-finding="${esc(f.id)}">${inlineMd(f.text)}</li>`).join('')}</ul>` : notRun('No findings: the study has no results yet.')}</section>`);
  for (const s of secs) {
    parts.push(`<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>`);
    for (const t of s.text ?? []) parts.push(`<p>${inlineMd(t)}</p>`);
    if (s.missing) parts.push(notRun(s.missing, `${s.id}-missing`));
    for (const t of s.tables) parts.push(htmlTable(t));
    for (const f of s.figures) parts.push(htmlFigure(f));
    parts.push('</section>');
  }
  parts.push(`<section id="runs"><h2>RUN reports</h2><ul>${runLinks(d).map((l) => `<li>${esc(l.name)}: ${l.href ? `<a href="${esc(l.href)}">${esc(l.href)}</a>` : 'no report yet'}</li>`).join('')}</ul>`);
  if (d.results.notes.length) parts.push(`<div class="notes"><strong>Notes.</strong><ul>${d.results.notes.map((n) => `<li>${inlineMd(n)}</li>`).join('')}</ul></div>`);
  parts.push('</section>');
  parts.push('<footer>Method: Cadile, "Detecting and Steering LLMs\' Empathy in Action" (arXiv 2511.16699). Numbers: STUDY/results.json. Figures: Observable Plot, rendered to SVG in Node.</footer>');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>eia-native study: ${esc(names)}${d.synthetic ? ' (synthetic models)' : ''}</title>
<style>${CSS}
ul.findings li { margin: 4px 0; }
</style>
</head>
<body>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`;
}

export function renderStudyMarkdown(d: StudyData, secs: Section[], generatedAt: string, figureLink: (id: string, name: string) => string): string {
  const out: string[] = [];
  out.push(`# Empathy-in-action study: ${d.results.models.map((m) => m.name).join(', ')}`, '');
  out.push(`STUDY \`${d.dir}\` · eia-native ${packageVersion()} · generated ${generatedAt}`, '');
  if (d.synthetic) out.push(`> **⚠ Synthetic models.** ${SYNTHETIC_NOTICE}`, '');
  out.push('## Findings', '');
  out.push(...(d.findings.length ? d.findings.map((f) => `- ${f.text}`) : ['> **Not run.** No findings: the study has no results yet.']), '');
  for (const s of secs) {
    out.push(`## ${s.title}`, '');
    for (const t of s.text ?? []) out.push(t, '');
    if (s.missing) out.push(`> **Not run.** ${s.missing}`, '');
    for (const t of s.tables) out.push(mdTable(t));
    for (const f of s.figures) {
      out.push(`### ${f.title}`, '');
      if (f.notRun !== undefined) out.push(`> **Not run.** ${f.notRun}`, '');
      else {
        for (const sv of f.svgs) out.push(`![${f.title}${f.svgs.length > 1 ? ` (${sv.name})` : ''}](${figureLink(f.id, sv.name)})`);
        out.push('', f.caption, '');
      }
    }
  }
  out.push('## RUN reports', '', ...runLinks(d).map((l) => `- ${l.name}: ${l.href ? `[${l.href}](${l.href})` : 'no report yet'}`), '');
  if (d.results.notes.length) out.push('**Notes.**', '', ...d.results.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

export interface StudyReportResult {
  html: string;
  markdown: string | null;
  results: string;
  figuresDir: string | null;
  synthetic: boolean;
  findings: Finding[];
  figures: { id: string; rendered: boolean }[];
  tables: string[];
}

/** Computes STUDY/results.json and writes report.html + report.md (+ report-figures/) into the study folder. */
export function writeStudyReport(dir: string, opts: { markdown?: boolean; generatedAt?: string } = {}): StudyReportResult {
  const out = resolve(dir);
  const d = readStudy(out);
  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const resultsPath = join(out, STUDY_FILES.results);
  writeJsonAtomic(resultsPath, d.results);
  const secs = sections(d);
  const htmlPath = join(out, STUDY_FILES.report);
  writeFileAtomic(htmlPath, renderStudyHtml(d, secs, generatedAt));
  const figures = secs.flatMap((s) => s.figures);
  let mdPath: string | null = null, figDir: string | null = null;
  if (opts.markdown !== false) {
    mdPath = join(out, STUDY_FILES.reportMarkdown);
    figDir = join(out, STUDY_FILES.reportFigures);
    try {
      rmSync(figDir, { recursive: true, force: true });
      if (figures.some((f) => f.svgs.length)) mkdirSync(figDir, { recursive: true });
    } catch (e) {
      throw asIoError(e);
    }
    const file = (id: string, name: string) => join(figDir!, `${id}${name ? `-${name}` : ''}.svg`);
    for (const f of figures) for (const s of f.svgs) writeFileAtomic(file(f.id, s.name), `<?xml version="1.0" encoding="UTF-8"?>\n${s.svg}\n`);
    writeFileAtomic(mdPath, renderStudyMarkdown(d, secs, generatedAt, (id, name) => relative(out, file(id, name)).split(sep).join('/')));
  }
  return {
    html: htmlPath, markdown: mdPath, results: resultsPath, figuresDir: figDir, synthetic: d.synthetic, findings: d.findings,
    figures: figures.map((f) => ({ id: f.id, rendered: f.svgs.length > 0 })), tables: secs.flatMap((s) => s.tables.map((t) => t.id)),
  };
}
