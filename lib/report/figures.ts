// The report's figures, each rendered to inline SVG by Observable Plot (lib/report/svg.ts). A
// figure whose data is missing comes back as a "not run" note with the reason, never an error.

import * as Plot from '@observablehq/plot';
import type { RunData, ValidationLayer } from './data.js';
import { alphaColors, PALETTE, renderPlot, type LegendItem } from './svg.js';
import { conceptFluency, hasQuality, steerabilityFigure, tuneSearch } from './quality.js';

/** One figure of the report. */
export interface Figure {
  id: string;
  title: string;
  caption: string;
  /** the SVGs (one, or small multiples), each standalone; empty when not rendered */
  svgs: { name: string; svg: string }[];
  /** why the figure is absent (data missing), when it is */
  notRun?: string;
  /** set when drawing failed (a bug or malformed data), with the message */
  error?: string;
}

const PROBE = '#4269d0';
const GREY = '#9498a0';
const ABL = '#efb118';
const BAD = '#d62728';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

function figure(id: string, title: string, caption: string, svgs: Figure['svgs'], notRun?: string): Figure {
  return notRun !== undefined ? { id, title, caption, svgs: [], notRun } : { id, title, caption, svgs };
}

/** Series name of a (model, layer): "L12", or "model L12" when a RUN holds several models. */
function seriesName(models: Set<string>, model: string, layer: number): string {
  return models.size > 1 ? `${model} L${layer}` : `L${layer}`;
}

function seriesLegend(names: string[]): { domain: string[]; range: string[]; items: LegendItem[] } {
  const range = names.map((_, i) => PALETTE[i % PALETTE.length]);
  return { domain: names, range, items: names.map((n, i) => ({ label: n, color: range[i], shape: 'line' as const })) };
}

// ---------------------------------------------------------------------------------------------
// Detection

/** AUROC per layer with the bootstrap CI, the random baseline's 95th percentile and the ablation AUROC. */
// Test AUROC per layer on [0, 1] with the chance line: the frame both AUROC figures share.
function aurocByLayerPlot(layers: number[], marks: Plot.Markish[], opts: Parameters<typeof renderPlot>[1]): string {
  return renderPlot({
    width: Math.max(420, Math.min(760, 120 + layers.length * 70)), height: 300, marginLeft: 48,
    x: { type: 'point', domain: layers, label: 'Layer (decoder block)', padding: 0.5 },
    y: { domain: [0, 1], grid: true, label: 'Test AUROC' },
    marks: [Plot.ruleY([0.5], { stroke: GREY, strokeDasharray: '4 3' }), ...marks],
  }, opts);
}

export function aurocByLayer(run: RunData): Figure {
  const id = 'auroc-by-layer';
  const title = 'Detection: test AUROC by layer';
  const v = run.validation;
  if (!v || v.layers.length === 0) return figure(id, title, '', [], 'Probes not run (no probes/validation.json).');
  const layers = v.layers;
  const ciLevel = Math.round((layers[0].auroc_ci?.confidence ?? 0.95) * 100);
  const data = layers.map((l) => ({
    layer: l.layer, auroc: l.auroc, lo: l.auroc_ci?.lower ?? l.auroc, hi: l.auroc_ci?.upper ?? l.auroc,
    p95: l.random_baseline?.p95, ablation: l.ablation?.auroc, best: l.layer === v.best_layer,
  }));
  const hasBase = data.some((d) => d.p95 !== undefined);
  const hasAbl = data.some((d) => d.ablation !== undefined);
  const legend: LegendItem[] = [{ label: `probe AUROC (${ciLevel}% bootstrap CI)`, color: PROBE, shape: 'dot' }];
  if (hasBase) legend.push({ label: 'random directions, 95th percentile', color: GREY, shape: 'diamond' });
  if (hasAbl) legend.push({ label: 'after lexical ablation', color: ABL, shape: 'diamond' });
  legend.push({ label: 'chance (0.5)', color: GREY, shape: 'dash' });
  const svg = aurocByLayerPlot(data.map((d) => d.layer), [
    Plot.ruleX(data, { x: 'layer', y1: 'lo', y2: 'hi', stroke: PROBE, strokeWidth: 2 }),
    Plot.line(data, { x: 'layer', y: 'auroc', stroke: PROBE, strokeOpacity: 0.5 }),
    ...(hasBase ? [Plot.dot(data.filter((d) => d.p95 !== undefined), { x: 'layer', y: 'p95', symbol: 'diamond2', stroke: GREY, r: 5 })] : []),
    ...(hasAbl ? [Plot.dot(data.filter((d) => d.ablation !== undefined), { x: 'layer', y: 'ablation', symbol: 'diamond2', stroke: ABL, r: 5, dx: 8 })] : []),
    Plot.dot(data, {
      x: 'layer', y: 'auroc', fill: PROBE, r: (d: { best: boolean }) => (d.best ? 6 : 4), stroke: 'white',
      title: (d: typeof data[number]) => `layer ${d.layer}: AUROC ${f3(d.auroc)} [${f3(d.lo)}, ${f3(d.hi)}]`,
    }),
    Plot.text(data.filter((d) => d.best), { x: 'layer', y: 'auroc', text: () => 'best', dy: -12, fill: PROBE }),
  ], { title, legend });
  return figure(id, title,
    `Test AUROC of the probe at each probed layer (empathic = positive class), with its ${ciLevel}% stratified bootstrap CI; ` +
    `the best layer is the larger dot.${hasBase ? ' Diamonds: 95th percentile of random unit directions scored the same way.' : ''}` +
    `${hasAbl ? ' Yellow diamonds: AUROC on the lexically ablated test texts.' : ''}`, [{ name: 'auroc', svg }]);
}

/** The random-direction baseline: a histogram per layer when the per-direction AUROCs exist, else a summary strip. */
export function randomBaseline(run: RunData): Figure {
  const id = 'random-baseline';
  const title = 'Detection: probe vs. random directions';
  const v = run.validation;
  if (!v) return figure(id, title, '', [], 'Probes not run (no probes/validation.json).');
  const layers = v.layers.filter((l) => l.random_baseline);
  if (layers.length === 0) return figure(id, title, '', [], 'Random baseline not run (the probe stage ran with no random directions).');
  const withAurocs = layers.filter((l) => Array.isArray(l.random_baseline!.aurocs) && l.random_baseline!.aurocs!.length > 0);
  const n = layers[0].random_baseline!.n;
  if (withAurocs.length > 0) {
    const legend: LegendItem[] = [
      { label: `${n} random directions`, color: GREY },
      { label: 'probe', color: BAD, shape: 'line' },
      { label: '95th percentile', color: '#333333', shape: 'dash' },
    ];
    const svgs = withAurocs.map((l: ValidationLayer) => {
      const b = l.random_baseline!;
      const t = `L${l.layer}${l.layer === v.best_layer ? ' (best)' : ''}: probe ${f3(b.probe_auroc)}, z ${b.z === null ? 'n/a' : b.z.toFixed(2)}, p ${b.empirical_p.toFixed(3)}`;
      return {
        name: `layer${l.layer}`,
        svg: renderPlot({
          width: 360, height: 220, marginLeft: 40,
          x: { domain: [0, 1], label: 'AUROC' },
          y: { grid: true, label: 'Directions' },
          marks: [
            Plot.rectY(b.aurocs!, Plot.binX({ y: 'count' }, { x: (d: number) => d, thresholds: 20, domain: [0, 1], fill: GREY, inset: 0.5 } as never)),
            Plot.ruleY([0]),
            Plot.ruleX([b.p95], { stroke: '#333333', strokeDasharray: '4 3' }),
            Plot.ruleX([b.probe_auroc], { stroke: BAD, strokeWidth: 2.5 }),
          ],
        }, { title: `${title}, layer ${l.layer}`, legend, legendTitle: t }),
      };
    });
    return figure(id, title, `Histogram of the test AUROCs of ${n} seeded Gaussian unit directions (the paper's control), with the probe's AUROC (red) ` +
      'and the baseline\'s 95th percentile (dashed) per layer; z = (probe - mean) / std, p = empirical (1 + #>=) / (n + 1).', svgs);
  }
  // Summary only (validation.json without per-direction AUROCs).
  const data = layers.map((l) => ({ layer: l.layer, ...l.random_baseline! }));
  const legend: LegendItem[] = [
    { label: 'random: min-max', color: GREY, shape: 'line' },
    { label: 'random: mean ± std', color: '#c6c9ce' },
    { label: 'random: median', color: '#333333', shape: 'dot' },
    { label: 'random: 95th pct', color: '#333333', shape: 'diamond' },
    { label: 'probe', color: BAD, shape: 'dot' },
  ];
  const svg = aurocByLayerPlot(data.map((d) => d.layer), [
    Plot.ruleX(data, { x: 'layer', y1: 'min', y2: 'max', stroke: GREY }),
    Plot.ruleX(data, { x: 'layer', y1: (d: typeof data[number]) => Math.max(0, d.mean - d.std), y2: (d: typeof data[number]) => Math.min(1, d.mean + d.std), stroke: '#c6c9ce', strokeWidth: 10 }),
    Plot.dot(data, { x: 'layer', y: 'median', fill: '#333333', r: 3 }),
    Plot.dot(data, { x: 'layer', y: 'p95', symbol: 'diamond2', stroke: '#333333', r: 5 }),
    Plot.dot(data, {
      x: 'layer', y: 'probe_auroc', fill: BAD, r: 5, stroke: 'white',
      title: (d: typeof data[number]) => `layer ${d.layer}: probe ${f3(d.probe_auroc)}, random mean ${f3(d.mean)}, p95 ${f3(d.p95)}, z ${d.z === null ? 'n/a' : d.z.toFixed(2)}`,
    }),
  ], { title, legend });
  return figure(id, title, `Summary of the test AUROCs of ${n} seeded Gaussian unit directions per layer (range, mean ± std, median, 95th percentile) ` +
    'with the probe\'s AUROC in red. (validation.json carries no per-direction AUROCs, so the histogram is shown as this summary.)', [{ name: 'summary', svg }]);
}

/** Probe scores of the test texts per class, one beeswarm per layer. */
export function scoreDistributions(run: RunData): Figure {
  const id = 'score-distributions';
  const title = 'Detection: probe scores of the test texts by class';
  const v = run.validation;
  if (!v) return figure(id, title, '', [], 'Probes not run (no probes/validation.json).');
  const layers = v.layers.filter((l) => l.scores && Array.isArray(l.scores.emp) && Array.isArray(l.scores.non) && l.scores.emp.length + l.scores.non.length > 0);
  if (layers.length === 0) return figure(id, title, '', [], 'validation.json holds no per-text test scores (layers[].scores).');
  const classes = ['empathic', 'non-empathic'];
  const colors = ['#3ca951', '#ff725c'];
  const legend: LegendItem[] = [
    { label: 'empathic', color: colors[0], shape: 'dot' },
    { label: 'non-empathic', color: colors[1], shape: 'dot' },
    { label: 'median threshold', color: '#333333', shape: 'dash' },
  ];
  const svgs = layers.map((l) => {
    const pts = [...l.scores.emp.map((s) => ({ cls: classes[0], score: s })), ...l.scores.non.map((s) => ({ cls: classes[1], score: s }))];
    return {
      name: `layer${l.layer}`,
      svg: renderPlot({
        width: 360, height: 220, marginLeft: 84, marginRight: 12, marginBottom: 36,
        x: { label: 'Probe score (dot with the probe direction)', nice: true },
        color: { domain: classes, range: colors },
        marks: [
          Plot.ruleX([l.threshold_median], { stroke: '#333333', strokeDasharray: '4 3' }),
          Plot.dot(pts, Plot.dodgeY({ anchor: 'middle', padding: 1 }, { x: 'score', fy: 'cls', fill: 'cls', r: 3, title: (d: { score: number }) => f3(d.score) })),
        ],
        fy: { domain: classes, label: null, axis: 'left' },
      }, { title: `${title}, layer ${l.layer}`, legend, legendTitle: `L${l.layer} (AUROC ${f3(l.auroc)})` }),
    };
  });
  return figure(id, title, 'Each dot is one test text scored by the layer\'s probe (pooled activation · probe direction); ' +
    'the dashed line is the median threshold used for the paper\'s accuracy.', svgs);
}

// ---------------------------------------------------------------------------------------------
// Steering

/** Empathetic-language rate vs alpha, one panel per scenario, one line per layer. */
export function doseResponseRate(run: RunData): Figure {
  const id = 'dose-response-rate';
  const title = 'Steering: rate of empathetic language vs. alpha';
  const s = run.score;
  if (!s || s.rows.length === 0) return figure(id, title, '', [], 'Steering not run (no score.json or samples.jsonl).');
  const models = new Set(s.rows.map((r) => r.model));
  const names = [...new Set(s.rows.map((r) => seriesName(models, r.model, r.layer)))];
  const pal = seriesLegend(names);
  const scen = [...new Set(s.rows.map((r) => r.scenario))];
  const alphas = [...new Set(s.rows.flatMap((r) => r.conditions.map((c) => c.alpha)))];
  const span = alphas.length > 1 ? Math.max(...alphas) - Math.min(...alphas) : 1;
  // Small horizontal offsets keep layers with equal rates visible.
  const off = (name: string) => (names.indexOf(name) - (names.length - 1) / 2) * span * 0.01;
  const data = s.rows.flatMap((r) => r.conditions.map((c) => {
    const series = seriesName(models, r.model, r.layer);
    return { scenario: r.scenario, series, alpha: c.alpha, x: c.alpha + off(series), rate: c.empathy_rate, n: c.n };
  }));
  const svg = renderPlot({
    width: Math.max(480, Math.min(1100, 80 + scen.length * 260)), height: 300, marginTop: 30, marginLeft: 48,
    x: { label: 'Steering strength alpha', nice: true },
    y: { domain: [0, 1], grid: true, label: 'Rate of empathetic language' },
    fx: { domain: scen, label: null },
    color: { domain: pal.domain, range: pal.range },
    marks: [
      Plot.frame({ stroke: '#dddddd' }),
      Plot.ruleX([0], { stroke: '#cccccc' }),
      Plot.line(data, { x: 'x', y: 'rate', stroke: 'series', fx: 'scenario' }),
      Plot.dot(data, { x: 'x', y: 'rate', stroke: 'series', fill: 'white', fx: 'scenario', r: 3, title: (d: typeof data[number]) => `${d.series} alpha ${d.alpha}: ${f3(d.rate)} (n ${d.n})` }),
    ],
  }, { title, legend: pal.items, legendTitle: 'Steered layer' });
  return figure(id, title, 'Share of samples with empathetic language (the paper\'s keyword rule) at each alpha; alpha = 0 is the unsteered baseline. ' +
    'Steering succeeds for an alpha when the rate moves in alpha\'s direction from the baseline.', [{ name: 'rate', svg }]);
}

/** Mean probe score of the generated texts vs alpha with bootstrap CIs. */
export function doseResponseProbe(run: RunData): Figure {
  const id = 'dose-response-probe';
  const title = 'Steering: probe score of the generated text vs. alpha';
  const s = run.score;
  if (!s || s.rows.length === 0) return figure(id, title, '', [], 'Steering not run (no score.json or samples.jsonl).');
  const series = s.dose_response_series ?? {};
  const models = new Set(s.rows.map((r) => r.model));
  const data = Object.entries(series).flatMap(([scenario, list]) => list.flatMap((d) => d.points.map((p) => ({
    scenario, series: seriesName(models, d.model, d.layer), alpha: p.alpha, mean: p.mean, lo: p.ci[0], hi: p.ci[1], n: p.n, slope: d.slope,
  }))));
  if (data.length === 0) return figure(id, title, '', [], 'The samples carry no probe scores (the sweep ran with probe scores off).');
  const names = [...new Set(data.map((d) => d.series))];
  const pal = seriesLegend(names);
  const scen = [...new Set(data.map((d) => d.scenario))];
  // Small horizontal offsets so the CIs of different layers at one alpha do not overlap.
  const alphas = [...new Set(data.map((d) => d.alpha))].sort((a, b) => a - b);
  const span = alphas.length > 1 ? alphas[alphas.length - 1] - alphas[0] : 1;
  const off = (name: string) => (names.indexOf(name) - (names.length - 1) / 2) * span * 0.012;
  const pts = data.map((d) => ({ ...d, x: d.alpha + off(d.series) }));
  const level = Math.round(((s.dose_response?.[0]?.level) ?? 0.95) * 100);
  const svg = renderPlot({
    width: Math.max(480, Math.min(1100, 80 + scen.length * 260)), height: 300, marginTop: 30, marginLeft: 56,
    x: { label: 'Steering strength alpha', nice: true },
    y: { grid: true, label: 'Mean probe score of the text', nice: true },
    fx: { domain: scen, label: null },
    color: { domain: pal.domain, range: pal.range },
    marks: [
      Plot.frame({ stroke: '#dddddd' }),
      Plot.ruleX(pts, { x: 'x', y1: 'lo', y2: 'hi', stroke: 'series', fx: 'scenario', strokeWidth: 1.5 }),
      Plot.line(pts, { x: 'x', y: 'mean', stroke: 'series', fx: 'scenario', strokeOpacity: 0.7 }),
      Plot.dot(pts, { x: 'x', y: 'mean', fill: 'series', fx: 'scenario', r: 3, title: (d: typeof pts[number]) => `${d.series} alpha ${d.alpha}: ${f3(d.mean)} [${f3(d.lo)}, ${f3(d.hi)}], n ${d.n}; slope ${d.slope.toPrecision(3)}` }),
    ],
  }, { title, legend: pal.items, legendTitle: 'Steered layer' });
  return figure(id, title, `Mean probe score (unsteered capture of the generated text, scored by the steered layer's probe) at each alpha with ` +
    `its ${level}% bootstrap CI; a probe-based behaviour measure beside the keyword rule.`, [{ name: 'probe', svg }]);
}

/** The alpha = 0 behaviour per scenario: empathetic language, coherence, scenario context, degeneration. */
export function baselineBehaviour(run: RunData): Figure {
  const id = 'baseline-behaviour';
  const title = 'Baseline behaviour per scenario (alpha = 0)';
  const s = run.score;
  if (!s || s.rows.length === 0) return figure(id, title, '', [], 'Steering not run (no score.json or samples.jsonl).');
  const measures = ['empathetic language', 'coherent', 'scenario context', 'degenerate'];
  const acc = new Map<string, { n: number; sums: number[] }>();
  for (const r of s.rows) {
    const c = r.conditions.find((x) => x.alpha === 0);
    if (!c) continue;
    const key = r.scenario;
    const a = acc.get(key) ?? { n: 0, sums: [0, 0, 0, 0] };
    const vals = [c.empathy_rate, c.coherent_rate, c.context_rate, c.degeneration?.any ?? 0];
    vals.forEach((v, i) => (a.sums[i] += v * c.n));
    a.n += c.n;
    acc.set(key, a);
  }
  if (acc.size === 0) return figure(id, title, '', [], 'No alpha = 0 samples in this RUN.');
  const scen = [...acc.keys()];
  const data = scen.flatMap((sc) => measures.map((m, i) => ({ scenario: sc, measure: m, rate: acc.get(sc)!.sums[i] / acc.get(sc)!.n })));
  const colors = ['#4269d0', '#3ca951', '#efb118', '#ff725c'];
  const legend = measures.map((m, i) => ({ label: m, color: colors[i] }));
  const svg = renderPlot({
    width: Math.max(420, Math.min(1000, 80 + scen.length * 200)), height: 280, marginTop: 30, marginLeft: 48,
    x: { domain: measures, axis: null, padding: 0.15 },
    y: { domain: [0, 1], grid: true, label: 'Share of alpha = 0 samples' },
    fx: { domain: scen, label: null, padding: 0.1 },
    color: { domain: measures, range: colors },
    marks: [
      Plot.barY(data, { fx: 'scenario', x: 'measure', y: 'rate', fill: 'measure', title: (d: typeof data[number]) => `${d.scenario}, ${d.measure}: ${f3(d.rate)}` }),
      Plot.text(data, { fx: 'scenario', x: 'measure', y: 'rate', text: (d: typeof data[number]) => d.rate.toFixed(2), dy: -7 }),
      Plot.ruleY([0]),
    ],
  }, { title, legend });
  return figure(id, title, 'The unsteered behaviour per scenario: share of samples with empathetic language (the baseline rate of Table 2), ' +
    'coherent samples, samples that mention the scenario (≥ 2 markers), and degenerate samples (empty, repetitive or non-text).', [{ name: 'baseline', svg }]);
}

// ---------------------------------------------------------------------------------------------
// Monitoring

/** Up to `k` alphas spread over the range, always with 0 and the extremes. */
function pickAlphas(alphas: number[], k = 5): number[] {
  const a = [...new Set(alphas)].sort((x, y) => x - y);
  if (a.length <= k) return a;
  const out = new Set<number>([a[0], a[a.length - 1]]);
  if (a.includes(0)) out.add(0);
  const neg = a.filter((x) => x < 0), pos = a.filter((x) => x > 0);
  if (neg.length > 1) out.add(neg[Math.floor(neg.length / 2)]);
  if (pos.length > 1) out.add(pos[Math.floor((pos.length - 1) / 2)]);
  return [...out].sort((x, y) => x - y).slice(0, k + 1);
}

interface MonitorLike { layer?: number; steer_offset?: number; scores?: unknown }

/** Per-token probe projection over the generated tokens, for a few alphas; one plot per steered layer, one panel per scenario. */
export function monitorTraces(run: RunData): Figure {
  const id = 'monitor-traces';
  const title = 'Monitoring: per-token probe projection while generating';
  const samples = run.samples;
  if (!samples || samples.length === 0) return figure(id, title, '', [], 'Steering not run (no samples.jsonl).');
  const mon = samples.filter((s) => {
    const m = s.monitor as MonitorLike | undefined;
    return m && Array.isArray(m.scores) && m.scores.length > 0;
  });
  if (mon.length === 0) return figure(id, title, '', [], 'The samples carry no monitor traces (the sweep ran without monitoring).');
  const model = mon[0].model;
  const mine = mon.filter((s) => s.model === model);
  const layers = [...new Set(mine.map((s) => s.layer))].sort((a, b) => a - b).slice(0, 4);
  const scen = [...new Set(mine.map((s) => s.scenario))];
  const alphas = pickAlphas(mine.map((s) => s.alpha));
  const labels = alphas.map((a) => `alpha ${a > 0 ? '+' : ''}${a}`);
  const colors = alphaColors(alphas);
  const legend: LegendItem[] = labels.map((l, i) => ({ label: l, color: colors[i], shape: 'line' }));
  const svgs = layers.map((layer) => {
    const data: { scenario: string; alpha: string; t: number; v: number }[] = [];
    for (const sc of scen) {
      for (const [i, a] of alphas.entries()) {
        const cands = mine.filter((s) => s.layer === layer && s.scenario === sc && s.alpha === a).sort((x, y) => x.sample - y.sample);
        const s = cands[0];
        if (!s) continue;
        const m = s.monitor as MonitorLike;
        const off = typeof m.steer_offset === 'number' ? m.steer_offset : 0;
        (m.scores as unknown[]).forEach((v, t) => {
          if (typeof v === 'number' && Number.isFinite(v)) data.push({ scenario: sc, alpha: labels[i], t, v: v - off });
        });
      }
    }
    return {
      name: `layer${layer}`,
      svg: renderPlot({
        width: Math.max(480, Math.min(1100, 80 + scen.length * 260)), height: 260, marginTop: 30, marginLeft: 56,
        x: { label: 'Generated token', nice: true },
        y: { grid: true, label: `Projection on the L${layer} probe`, nice: true },
        fx: { domain: scen, label: null },
        color: { domain: labels, range: colors },
        marks: [
          Plot.frame({ stroke: '#dddddd' }),
          Plot.line(data, { x: 't', y: 'v', stroke: 'alpha', z: 'alpha', fx: 'scenario', strokeWidth: 1.5 }),
        ],
      }, { title: `${title}, layer ${layer}`, legend, legendTitle: `Steered and monitored layer ${layer}:` }),
    };
  });
  return figure(id, title, 'The live monitor: the steered layer\'s probe projection of each generated token (first sample of each condition), for a few alphas. ' +
    'The constant offset the steering vector itself adds (alpha·|d|²) is subtracted, so the lines show the model\'s own state.', svgs);
}

/** Every figure of the report, in report order. */
export function allFigures(run: RunData): Figure[] {
  const makers = [aurocByLayer, randomBaseline, scoreDistributions, doseResponseRate, doseResponseProbe, baselineBehaviour, monitorTraces];
  // the quality and tuning figures exist only where their data does (a RUN without them reports as before)
  if (hasQuality(run)) makers.push(conceptFluency, steerabilityFigure);
  if (run.tune) makers.push(tuneSearch);
  return makers.map((make) => {
    try {
      return make(run);
    } catch (err) {
      const name = make.name;
      return { id: name, title: name, caption: '', svgs: [], error: `figure could not be drawn: ${(err as Error).message}` };
    }
  });
}
