// HTML and Markdown renderings of a RUN: run summary (with the synthetic-model notice), the paper's
// Table 1 (detection per layer) and Table 2 (steering success per (model, layer, scenario)), the
// controls, and the figures (inline SVG in HTML; SVG files linked from Markdown).

import type { RunData } from './data.js';
import type { Figure } from './figures.js';
import { esc } from './svg.js';
import { hasQuality, judgeStatement, qualityTables, tuneStatement, tuneTables } from './quality.js';

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : !Number.isFinite(x) ? (x > 0 ? 'inf' : x < 0 ? '-inf' : 'n/a') : x.toFixed(3));
const pv = (p: number) => (p < 0.001 ? p.toExponential(2) : p.toFixed(4));

/** The plain statement shown at the top of a report on a synthetic model. */
export const SYNTHETIC_NOTICE = 'This report is about a SYNTHETIC model (made by eia-native synth with a planted concept direction), ' +
  'not a real language model. It checks that the pipeline works; its numbers say nothing about real LLMs.';

/** A table: header cells, rows of cells, which columns are numeric (right-aligned). */
export interface Table {
  id: string;
  caption: string;
  head: string[];
  rows: string[][];
  numeric: boolean[];
  /** cell text is Markdown-bold in Markdown and <strong> in HTML when wrapped in ** ** */
}

// ---------------------------------------------------------------------------------------------
// Tables

/** Table 1: detection per layer (the paper's columns plus the bootstrap CI and both accuracies). */
export function table1(run: RunData): Table | null {
  const v = run.validation;
  if (!v || v.layers.length === 0) return null;
  const model = run.modelName;
  const lvl = Math.round((v.layers[0].auroc_ci?.confidence ?? 0.95) * 100);
  return {
    id: 'table1',
    caption: `Table 1. Detection per layer: probe (${v.method}, ${v.pooling} pooling) trained on ${v.train?.n_pairs ?? '?'} pairs, validated on ${v.test?.n_pairs ?? '?'} test pairs ` +
      `(empathic = positive class). Best layer in bold.`,
    head: ['Model', 'Layer', 'AUROC', `${lvl}% CI`, 'Acc. (median thr.)', 'Acc. (midpoint thr.)', 'Mean emp', 'Mean non', 'Std emp', 'Std non', 'Separation'],
    numeric: [false, true, true, false, true, true, true, true, true, true, true],
    rows: v.layers.map((l) => [
      model, l.layer === v.best_layer ? `**${l.layer}**` : String(l.layer), f3(l.auroc),
      l.auroc_ci ? `[${f3(l.auroc_ci.lower)}, ${f3(l.auroc_ci.upper)}]` : 'n/a',
      f3(l.accuracy_median), f3(l.accuracy_midpoint), f3(l.mean_emp), f3(l.mean_non), f3(l.std_emp), f3(l.std_non), f3(l.separation),
    ]),
  };
}

/** Controls per layer: random baseline, permutation test, lexical ablation (those present). */
export function controlsTable(run: RunData): Table | null {
  const v = run.validation;
  if (!v) return null;
  const base = v.layers.some((l) => l.random_baseline), perm = v.layers.some((l) => l.permutation), abl = v.layers.some((l) => l.ablation);
  if (!base && !perm && !abl) return null;
  const head = ['Layer'];
  const numeric = [true];
  if (base) { head.push('Random mean', 'Random std', 'Random 95th pct', 'z', 'Empirical p'); numeric.push(true, true, true, true, true); }
  if (perm) { head.push('Permutation p'); numeric.push(true); }
  if (abl) { head.push('Ablated AUROC', 'Ablated separation'); numeric.push(true, true); }
  const n = v.layers.find((l) => l.random_baseline)?.random_baseline?.n;
  const np = v.layers.find((l) => l.permutation)?.permutation?.permutations;
  const parts = [];
  if (base) parts.push(`random baseline = ${n} seeded Gaussian unit directions (std ddof 0, 95th percentile linear)`);
  if (perm) parts.push(`permutation p = ${np} label shuffles, one-sided`);
  if (abl && v.ablation) parts.push(`lexical ablation: ${v.ablation.source}`);
  return {
    id: 'controls', caption: `Controls per layer: ${parts.join('; ')}.`, head, numeric,
    rows: v.layers.map((l) => {
      const r = [String(l.layer)];
      if (base) {
        const b = l.random_baseline;
        r.push(...(b ? [f3(b.mean), f3(b.std), f3(b.p95), b.z === null ? 'n/a' : b.z.toFixed(2), pv(b.empirical_p)] : ['-', '-', '-', '-', '-']));
      }
      if (perm) r.push(l.permutation ? pv(l.permutation.p) : '-');
      if (abl) r.push(...(l.ablation ? [f3(l.ablation.auroc), f3(l.ablation.separation)] : ['-', '-']));
      return r;
    }),
  };
}

/**
 * The controls at the best layer in one plain statement: does the probe beat random directions,
 * is the permutation test significant, does lexical ablation lower (without erasing) detection.
 * Thresholds: above the random directions' 95th percentile; p <= 0.01; ablated AUROC below the
 * original and >= 0.7 ("not erased").
 */
export function controlsStatement(run: RunData): string | null {
  const v = run.validation;
  const l = v?.layers.find((x) => x.layer === v.best_layer);
  if (!v || !l || (!l.random_baseline && !l.permutation && !l.ablation)) return null;
  const parts: string[] = [];
  const b = l.random_baseline;
  if (b) {
    const beats = l.auroc > b.p95;
    parts.push(`the probe's AUROC ${f3(l.auroc)} is ${beats ? '**above**' : '**not above**'} the 95th percentile ${f3(b.p95)} of ${b.n} random directions ` +
      `(their mean ${f3(b.mean)}, std ${f3(b.std)}; z ${b.z === null ? 'n/a' : b.z.toFixed(2)}, empirical p ${pv(b.empirical_p)})` +
      (beats ? '' : ': at this layer the probe is not distinguishable from random directions'));
  }
  if (l.permutation) parts.push(`the label-permutation test gives p ${pv(l.permutation.p)} (${l.permutation.p <= 0.01 ? 'significant' : 'not significant'} at 0.01)`);
  if (l.ablation) {
    const a = l.ablation.auroc;
    const verdict = a >= l.auroc ? 'does not lower detection' : a >= 0.7 ? 'lowers detection without erasing it' : 'largely erases detection';
    parts.push(`lexical ablation ${verdict} (AUROC ${f3(a)} on the ablated test texts)`);
  }
  return `**Controls at the best layer (${l.layer}):** ${parts.join('; ')}.`;
}

/** Table 2: steering success per (model, layer, scenario), the paper's layout. */
export function table2(run: RunData): Table | null {
  const s = run.score;
  if (!s || s.rows.length === 0) return null;
  return {
    id: 'table2',
    caption: 'Table 2. Steering success per (model, layer, scenario): share of the non-zero alphas whose empathetic-language rate moved in alpha\'s ' +
      'direction from the alpha = 0 baseline (a zero effect counts as success for a negative alpha).',
    head: ['Model', 'Layer', 'Scenario', 'Steering success rate', 'Baseline empathy rate', 'Alphas'],
    numeric: [false, true, false, true, true, true],
    rows: s.rows.map((r) => [r.model, String(r.layer), r.scenario, f3(r.success_rate), f3(r.baseline_rate), String(r.num_alphas)]),
  };
}

export function headlineTable(run: RunData): Table | null {
  const s = run.score;
  if (!s || !s.headline || Object.keys(s.headline).length === 0) return null;
  return {
    id: 'headline', caption: 'Headline: mean steering success over each model\'s (layer, scenario) rows.',
    head: ['Model', 'Mean steering success'], numeric: [false, true],
    rows: Object.entries(s.headline).map(([m, v]) => [m, f3(v)]),
  };
}

/** Per-condition detail of Table 2 (rates, effect, success, degeneration). */
export function conditionsTable(run: RunData): Table | null {
  const s = run.score;
  if (!s || s.rows.length === 0) return null;
  return {
    id: 'conditions', caption: 'Per condition: empathetic-language rate, effect vs. alpha = 0, success, coherence, scenario context, degeneration; mean probe score where recorded.',
    head: ['Model', 'Layer', 'Scenario', 'Alpha', 'n', 'Empathy rate', 'Effect', 'Success', 'Coherent', 'Context', 'Degenerate', 'Probe score'],
    numeric: [false, true, false, true, true, true, true, false, true, true, true, true],
    rows: s.rows.flatMap((r) => r.conditions.map((c) => {
      const p = r.dose_response?.series?.find((x) => x.alpha === c.alpha);
      return [r.model, String(r.layer), r.scenario, String(c.alpha), String(c.n), f3(c.empathy_rate), f3(c.effect),
        c.success === null ? '-' : c.success ? 'yes' : 'no', f3(c.coherent_rate), f3(c.context_rate),
        c.degenerate ? `**${f3(c.degeneration?.any ?? 0)}**` : f3(c.degeneration?.any ?? 0), p ? f3(p.mean) : '-'];
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Run summary

function short(v: unknown, max = 160): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Key facts of the run as [label, value] pairs. */
export function runFacts(run: RunData): [string, string][] {
  const out: [string, string][] = [['Model', run.modelName]];
  const m = run.manifest?.model;
  const v = run.validation?.model;
  const path = m?.path ?? v?.path ?? (typeof run.run?.model === 'string' ? run.run.model : run.run?.model?.path);
  if (path) out.push(['Model file', String(path)]);
  const arch = m?.arch ?? v?.arch;
  if (arch) out.push(['Architecture', `${arch}, ${m?.n_layer ?? v?.n_layer ?? '?'} blocks, d_model ${m?.n_embd ?? v?.n_embd ?? '?'}`]);
  const sha = m?.sha256 ?? v?.sha256;
  if (sha) out.push(['Model sha256', sha]);
  out.push(['Synthetic', `${run.synthetic.synthetic ? 'yes' : 'no'} (${run.synthetic.reason})`]);
  if (run.validation) {
    const vv = run.validation;
    out.push(['Probes', `layers ${vv.layers.map((l) => l.layer).join(', ')}; ${vv.method}; best layer ${vv.best_layer} (AUROC ${f3(vv.best_auroc)}); seed ${vv.seed}`]);
  }
  const p = run.manifest?.parameters;
  if (p) {
    out.push(['Steering sweep', `layers ${p.layers.join(', ')}; alphas ${p.alphas.join(', ')}; scenarios ${p.scenarios.join(', ')}; ` +
      `${p.samples} samples per condition, up to ${p.max_tokens} tokens, temperature ${p.temperature}, seed ${p.seed}` +
      `${p.chat ? ', chat template' : ', raw prompt'}${p.monitor ? ', monitored' : ''}`]);
  }
  if (run.sweepParts) out.push(['Sweep parts', run.sweepParts]);
  if (run.score) out.push(['Samples scored', `${run.score.num_samples} (from ${run.scoreSource})`]);
  if (run.manifest?.llama_commit) out.push(['llama.cpp', run.manifest.llama_commit]);
  if (run.manifest?.package_version) out.push(['eia-native', run.manifest.package_version]);
  if (run.manifest?.created_at) out.push(['Sweep started', run.manifest.created_at]);
  const stages = run.run?.stages;
  if (stages && typeof stages === 'object') {
    for (const [k, val] of Object.entries(stages as Record<string, unknown>)) out.push([`Stage ${k}`, short(val)]);
  } else if (stages !== undefined) {
    out.push(['Stages', short(stages)]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTML

/** The reports' stylesheet (inline in every HTML report). */
export const CSS = `
:root { color-scheme: light; --fg: #1d1f23; --muted: #5b616b; --line: #e2e4e8; --accent: #4269d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.synthetic-notice { border: 2px solid #c2410c; background: #fff7ed; color: #7c2d12; padding: 12px 16px; border-radius: 6px; margin: 12px 0 20px; font-weight: 600; }
.notes { border-left: 4px solid #efb118; background: #fffbeb; padding: 8px 14px; margin: 12px 0; }
.not-run { border: 1px dashed #b8bcc4; background: #f7f8fa; color: var(--muted); padding: 10px 14px; border-radius: 6px; margin: 10px 0; }
.error { border: 1px solid #d62728; background: #fef2f2; color: #7f1d1d; padding: 10px 14px; border-radius: 6px; margin: 10px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; font-size: 14px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
nav ol { columns: 2; font-size: 14px; }
a { color: var(--accent); }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 4px 0 8px; font-size: 13.5px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f5f6f8; font-weight: 600; }
td.num, th.num { text-align: right; }
tbody tr:hover { background: #fafbfc; }
figure.eia-figure { margin: 16px 0 28px; }
figure.eia-figure .plots { display: flex; flex-wrap: wrap; gap: 12px; }
figure.eia-figure svg { max-width: 100%; height: auto; background: #fff; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; max-width: 900px; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 48px; color: var(--muted); font-size: 12.5px; }
`;

export function inlineMd(s: string): string {
  // escaped text with **bold** and `code`
  return esc(s).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>').replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function htmlTable(t: Table): string {
  const th = t.head.map((h, i) => `<th scope="col"${t.numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${r.map((c, i) => `<td${t.numeric[i] ? ' class="num"' : ''}>${inlineMd(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table id="${esc(t.id)}"><caption>${inlineMd(t.caption)}</caption>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${rows}\n</tbody></table></div>`;
}

export function notRun(text: string, id?: string): string {
  return `<div class="not-run"${id ? ` id="${esc(id)}"` : ''} data-not-run><strong>Not run.</strong> ${inlineMd(text)}</div>`;
}

/** A section's main table and its companion (when there is one), rendered; null when the main table is missing. */
function sectionTables(main: Table | null, companion: () => Table | null, render: (t: Table) => string): string[] | null {
  if (!main) return null;
  const c = companion();
  return c ? [render(main), render(c)] : [render(main)];
}

export function htmlFigure(f: Figure): string {
  if (f.error) return `<figure class="eia-figure" id="fig-${esc(f.id)}" data-figure="${esc(f.id)}" data-error><h3>${esc(f.title)}</h3><div class="error">${esc(f.error)}</div></figure>`;
  if (f.notRun !== undefined) return `<section class="eia-figure-missing" id="fig-${esc(f.id)}" data-figure-missing="${esc(f.id)}"><h3>${esc(f.title)}</h3>${notRun(f.notRun)}</section>`;
  return `<figure class="eia-figure" id="fig-${esc(f.id)}" data-figure="${esc(f.id)}"><h3>${esc(f.title)}</h3>\n<div class="plots">\n${f.svgs.map((s) => s.svg).join('\n')}\n</div>\n` +
    `<figcaption>${inlineMd(f.caption)}</figcaption></figure>`;
}

export interface RenderContext {
  run: RunData;
  figures: Figure[];
  version: string;
  generatedAt: string;
}

function byId(figs: Figure[], id: string): Figure {
  return figs.find((f) => f.id === id) ?? { id, title: id, caption: '', svgs: [], notRun: 'not available' };
}

/** The whole report as one self-contained HTML document (inline CSS and SVG; no scripts, no external resources). */
export function renderHtml(ctx: RenderContext): string {
  const { run, figures } = ctx;
  const fig = (id: string) => htmlFigure(byId(figures, id));
  const parts: string[] = [];
  parts.push(`<header><h1>Empathy-in-action report: ${esc(run.modelName)}</h1>`);
  parts.push(`<p class="sub">RUN <code>${esc(run.dir)}</code> · eia-native ${esc(ctx.version)} · generated ${esc(ctx.generatedAt)}</p>`);
  if (run.synthetic.synthetic) parts.push(`<div class="synthetic-notice" id="synthetic-notice" role="note">${esc(SYNTHETIC_NOTICE)}</div>`);
  parts.push('</header>');
  const extraNav = (hasQuality(run) ? '<li><a href="#quality">Steering quality</a></li>' : '') + (run.tune ? '<li><a href="#tuning">Tuning</a></li>' : '');
  parts.push('<nav aria-label="Contents"><ol><li><a href="#run">Run</a></li><li><a href="#detection">Detection (Table 1)</a></li>' +
    `<li><a href="#steering">Steering (Table 2)</a></li>${extraNav}<li><a href="#monitoring">Monitoring</a></li></ol></nav>`);

  parts.push('<section id="run"><h2>Run</h2><dl class="facts">' +
    runFacts(run).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('') + '</dl>');
  if (run.notes.length) parts.push(`<div class="notes"><strong>Notes on the input.</strong><ul>${run.notes.map((n) => `<li>${inlineMd(n)}</li>`).join('')}</ul></div>`);
  parts.push('</section>');

  const cs = controlsStatement(run);
  parts.push('<section id="detection"><h2>Detection</h2>',
    ...(sectionTables(table1(run), () => controlsTable(run), htmlTable)
      ?? [notRun('Probes not run: this RUN has no `probes/validation.json` (the probe stage writes it into RUN/probes).', 'table1-missing')]),
    ...(cs && table1(run) ? [`<p class="controls-statement" id="controls-statement">${inlineMd(cs)}</p>`] : []),
    fig('auroc-by-layer'), fig('random-baseline'), fig('score-distributions'), '</section>');

  parts.push('<section id="steering"><h2>Steering</h2>',
    ...(sectionTables(table2(run), () => headlineTable(run), htmlTable)
      ?? [notRun('Steering not run: this RUN has no `score.json` or `samples.jsonl` (the steering sweep writes samples.jsonl into RUN; scoring writes score.json).', 'table2-missing')]),
    fig('dose-response-rate'), fig('dose-response-probe'), fig('baseline-behaviour'));
  const ct = conditionsTable(run);
  if (ct) parts.push(`<details><summary>Per-condition detail (${ct.rows.length} conditions)</summary>${htmlTable(ct)}</details>`);
  parts.push('</section>');

  if (hasQuality(run)) {
    const js = judgeStatement(run);
    parts.push('<section id="quality"><h2>Steering quality</h2>', ...qualityTables(run).map(htmlTable), ...(js ? [`<p id="judge-statement">${inlineMd(js)}</p>`] : []),
      fig('concept-fluency'), fig('steerability'), '</section>');
  }
  if (run.tune) {
    parts.push('<section id="tuning"><h2>Tuning</h2>', `<p id="tune-statement">${inlineMd(tuneStatement(run))}</p>`, fig('tune-search'),
      ...tuneTables(run).map(htmlTable), '</section>');
  }

  parts.push('<section id="monitoring"><h2>Monitoring</h2>', fig('monitor-traces'), '</section>');

  parts.push(`<footer>Method: Cadile, "Detecting and Steering LLMs' Empathy in Action" (arXiv 2511.16699). Inputs read from the RUN: ` +
    `${run.sources.length ? run.sources.map((s) => `<code>${esc(s)}</code>`).join(', ') : 'none'}. Figures: Observable Plot, rendered to SVG in Node.</footer>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>eia-native report: ${esc(run.modelName)}${run.synthetic.synthetic ? ' (synthetic model)' : ''}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Markdown

export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function mdTable(t: Table): string {
  const lines = [`*${t.caption}*`, '', `| ${t.head.map(mdCell).join(' | ')} |`, `| ${t.numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`];
  for (const r of t.rows) lines.push(`| ${r.map(mdCell).join(' | ')} |`);
  return lines.join('\n') + '\n';
}

/**
 * The report as Markdown. `figureLink(figureId, svgName)` gives the relative path of each SVG file
 * (written beside the Markdown by the caller).
 */
export function renderMarkdown(ctx: RenderContext, figureLink: (id: string, name: string) => string): string {
  const { run, figures } = ctx;
  const out: string[] = [];
  const fig = (id: string) => {
    const f = byId(figures, id);
    out.push(`### ${f.title}`, '');
    if (f.error) out.push(`> **Error:** ${f.error}`, '');
    else if (f.notRun !== undefined) out.push(`> **Not run.** ${f.notRun}`, '');
    else {
      for (const s of f.svgs) out.push(`![${f.title}${f.svgs.length > 1 ? ` (${s.name})` : ''}](${figureLink(f.id, s.name)})`);
      out.push('', f.caption, '');
    }
  };
  out.push(`# Empathy-in-action report: ${run.modelName}`, '');
  out.push(`RUN \`${run.dir}\` · eia-native ${ctx.version} · generated ${ctx.generatedAt}`, '');
  if (run.synthetic.synthetic) out.push(`> **⚠ Synthetic model.** ${SYNTHETIC_NOTICE}`, '');
  out.push('## Run', '');
  for (const [k, v] of runFacts(run)) out.push(`- **${k}:** ${mdCell(v)}`);
  out.push('');
  if (run.notes.length) out.push('**Notes on the input.**', '', ...run.notes.map((n) => `- ${n}`), '');

  out.push('## Detection', '');
  out.push(...(sectionTables(table1(run), () => controlsTable(run), mdTable) ?? ['> **Not run.** Probes not run: this RUN has no `probes/validation.json`.', '']));
  const mdControls = controlsStatement(run);
  if (mdControls && table1(run)) out.push(mdControls, '');
  fig('auroc-by-layer'); fig('random-baseline'); fig('score-distributions');

  out.push('## Steering', '');
  out.push(...(sectionTables(table2(run), () => headlineTable(run), mdTable) ?? ['> **Not run.** Steering not run: this RUN has no `score.json` or `samples.jsonl`.', '']));
  fig('dose-response-rate'); fig('dose-response-probe'); fig('baseline-behaviour');
  const ct = conditionsTable(run);
  if (ct) out.push(mdTable(ct));

  if (hasQuality(run)) {
    out.push('## Steering quality', '', ...qualityTables(run).map(mdTable));
    const js = judgeStatement(run);
    if (js) out.push(js, '');
    fig('concept-fluency'); fig('steerability');
  }
  if (run.tune) {
    out.push('## Tuning', '', tuneStatement(run), '');
    fig('tune-search');
    out.push(...tuneTables(run).map(mdTable));
  }

  out.push('## Monitoring', '');
  fig('monitor-traces');
  out.push(`Inputs: ${run.sources.length ? run.sources.map((s) => `\`${s}\``).join(', ') : 'none'}.`, '');
  return out.join('\n');
}
