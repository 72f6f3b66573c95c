// The report's sections on steering quality and tuning: the offline metrics of `score --metrics`
// (concept vs fluency per block and alpha, steerability per prompt) and the search of `tune` (its
// path over concept vs fluency, the frontier, the choice, the held-out validation). Each appears
// only when its data exists (score.json's offline_metrics, tune.json), so a RUN without them reports
// exactly as before.
import * as Plot from '@observablehq/plot';
import type { RunData } from './data.js';
import type { Figure } from './figures.js';
import type { Table } from './render.js';
import { PALETTE, renderPlot, type LegendItem } from './svg.js';

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3));
const GREY = '#9498a0';
const CHOSEN = '#d62728';

function layerLegend(layers: number[]): { domain: string[]; range: string[]; items: LegendItem[] } {
  const domain = layers.map((l) => `L${l}`);
  const range = domain.map((_, i) => PALETTE[i % PALETTE.length]);
  return { domain, range, items: domain.map((d, i) => ({ label: d, color: range[i], shape: 'dot' as const })) };
}

/** Whether the RUN has offline metrics to show. */
export const hasQuality = (run: RunData): boolean => !!run.score?.offline_metrics;

export function conceptFluency(run: RunData): Figure {
  const id = 'concept-fluency';
  const title = 'Steering quality: concept vs. fluency per block and alpha';
  const m = run.score!.offline_metrics!;
  const pts = m.points.filter((p) => p.ppl_ratio !== null);
  if (pts.length === 0) return { id, title, caption: '', svgs: [], notRun: 'Fluency was not measured (score ran with --judge alone, without --metrics).' };
  const layers = [...new Set(pts.map((p) => p.layer))].sort((a, b) => a - b);
  const pal = layerLegend(layers);
  const data = pts.map((p) => ({ ...p, series: `L${p.layer}` })).sort((a, b) => a.layer - b.layer || a.alpha - b.alpha);
  const svg = renderPlot({
    width: 640, height: 360, marginLeft: 56, marginTop: 20,
    x: { label: 'Perplexity ratio to the unsteered text (fluency cost)', nice: true, grid: true },
    y: { label: 'Keyword share (concept)', nice: true, grid: true },
    color: { domain: pal.domain, range: pal.range },
    marks: [
      Plot.ruleX([1], { stroke: GREY, strokeDasharray: '4 3' }),
      Plot.line(data, { x: 'ppl_ratio', y: 'keyword_share', stroke: 'series', z: 'series', strokeOpacity: 0.5 }),
      Plot.dot(data, { x: 'ppl_ratio', y: 'keyword_share', fill: 'series', r: 3.5, title: (d: typeof data[number]) => `block ${d.layer}, alpha ${d.alpha}: keyword share ${f3(d.keyword_share)}, perplexity ratio ${f3(d.ppl_ratio)} (n ${d.n})` }),
      Plot.text(data, { x: 'ppl_ratio', y: 'keyword_share', text: (d: typeof data[number]) => String(d.alpha), dy: -8, fontSize: 9, fill: 'series' }),
    ],
  }, { title, legend: pal.items, legendTitle: 'Steered block' });
  return { id, title, caption: 'Each dot is one (block, alpha) over every scenario: its keyword share (empathy-keyword occurrences per word) against the geometric mean ' +
    'of its samples\' perplexity ratios (the steered text\'s perplexity under the unsteered model over its unsteered partner\'s). Labels: alpha.', svgs: [{ name: 'scatter', svg }] };
}

export function steerabilityFigure(run: RunData): Figure {
  const id = 'steerability';
  const title = 'Steerability: share of steered samples per prompt that moved against alpha';
  const st = run.score!.offline_metrics!.steerability;
  if (st.per_prompt.length === 0) return { id, title, caption: '', svgs: [], notRun: 'No steered sample has an unsteered partner (alpha = 0 with the same block, scenario and sample index).' };
  const layers = [...new Set(st.per_prompt.map((p) => p.layer))].sort((a, b) => a - b);
  const data = st.per_prompt.map((p) => ({ ...p, block: `L${p.layer}` }));
  const med = st.distribution.map((d) => ({ block: `L${d.layer}`, median: d.median }));
  const svg = renderPlot({
    width: Math.max(360, Math.min(900, 100 + layers.length * 70)), height: 280, marginLeft: 56, marginTop: 20,
    x: { domain: layers.map((l) => `L${l}`), label: 'Steered block', padding: 0.4 },
    y: { domain: [0, 1], grid: true, label: 'Share moved against alpha' },
    marks: [
      Plot.dot(data, { x: 'block', y: 'share_against', r: 4, fill: PALETTE[0], fillOpacity: 0.7, title: (d: typeof data[number]) => `${d.scenario}, block ${d.layer}: ${d.against}/${d.n} against (${d.measure})` }),
      Plot.tickY(med, { x: 'block', y: 'median', stroke: CHOSEN, strokeWidth: 2 }),
    ],
  }, { title, legend: [{ label: 'one prompt', color: PALETTE[0], shape: 'dot' }, { label: 'median over prompts', color: CHOSEN, shape: 'line' }] });
  return { id, title, caption: 'Per prompt (scenario), the share of its steered samples whose concept (probe projection, else keyword share) moved against the sign of alpha ' +
    'compared with the unsteered sample drawn with the same seed; one dot per prompt, so the spread over prompts shows, not only the mean.', svgs: [{ name: 'strip', svg }] };
}

export function qualityTables(run: RunData): Table[] {
  const m = run.score!.offline_metrics!;
  const judged = m.judge !== undefined;
  const head = ['Model', 'Block', 'Alpha', 'n', 'Keyword rate', 'Keyword share', 'Probe mean', 'Perplexity', 'Perplexity ratio'];
  if (judged) head.push('Judge harmonic mean', 'Unparseable');
  const points: Table = {
    id: 'offline-metrics', caption: `Offline metrics per (block, alpha), all scenarios. Perplexity ratio: to ${m.fluency_reference}.`, head,
    numeric: head.map((_, i) => i > 0),
    rows: m.points.map((p) => {
      const r = [p.model, String(p.layer), String(p.alpha), String(p.n), f3(p.keyword_rate), f3(p.keyword_share), f3(p.probe_mean), f3(p.perplexity), f3(p.ppl_ratio)];
      if (judged) r.push(f3(p.judge?.harmonic), String(p.judge?.unparseable ?? 0));
      return r;
    }),
  };
  const st: Table = {
    id: 'steerability-table', caption: 'Steerability: per prompt, the share of steered samples that moved against alpha; its distribution over prompts per block.',
    head: ['Model', 'Block', 'Prompts', 'Min', 'Q1', 'Median', 'Q3', 'Max', 'Mean'], numeric: [false, true, true, true, true, true, true, true, true],
    rows: m.steerability.distribution.map((d) => [d.model, String(d.layer), String(d.prompts), f3(d.min), f3(d.q1), f3(d.median), f3(d.q3), f3(d.max), f3(d.mean)]),
  };
  return [points, st];
}

/** The judge's totals as a sentence (null without a judge). */
export function judgeStatement(run: RunData): string | null {
  const m = run.score?.offline_metrics;
  const f = run.score?.metrics_facts?.judge;
  if (!m?.judge) return null;
  return `**LLM judge${f ? ` (${f.model} at ${f.endpoint})` : ''}:** ${m.judge.n} samples judged; **${m.judge.unparseable} unparseable answers** (counted, never guessed), ` +
    `${m.judge.failed} failed requests; mean harmonic mean ${f3(m.judge.harmonic)} over the ${m.judge.scored} samples whose three answers parsed.`;
}

// ---------------------------------------------------------------------------------------------
// Tuning

export function tuneSearch(run: RunData): Figure {
  const id = 'tune-search';
  const title = 'Tuning: the search path over concept vs. fluency';
  const t = run.tune!;
  const judge = t.objective === 'judge_harmonic';
  const pts = t.search.points.map((p, i) => ({ ...p, i, frontier: t.search.frontier.includes(i), chosen: p.layer === t.layer && p.alpha === t.alpha && p.stage !== 'baseline' }))
    .filter((p) => p.ppl_ratio !== null && (judge ? p.objective !== null : true));
  if (pts.length === 0) return { id, title, caption: '', svgs: [], notRun: 'No point of the search has a perplexity ratio.' };
  const layers = [...new Set(pts.map((p) => p.layer))].sort((a, b) => a - b);
  const pal = layerLegend(layers);
  const y = judge ? 'objective' : 'keyword_share';
  const data = pts.map((p) => ({ ...p, series: `L${p.layer}` }));
  const front = data.filter((p) => p.frontier).sort((a, b) => a.ppl_ratio! - b.ppl_ratio!);
  const legend: LegendItem[] = [...pal.items, { label: 'frontier', color: '#333333', shape: 'line' }, { label: 'chosen', color: CHOSEN, shape: 'dot' }];
  if (t.max_ppl_ratio !== null) legend.push({ label: `fluency limit ${t.max_ppl_ratio}`, color: CHOSEN, shape: 'dash' });
  const svg = renderPlot({
    width: 680, height: 380, marginLeft: 56, marginTop: 20,
    x: { label: 'Perplexity ratio to the unsteered text (fluency cost)', nice: true, grid: true },
    y: { label: judge ? 'Judge harmonic mean (objective)' : 'Keyword share (objective)', nice: true, grid: true },
    color: { domain: pal.domain, range: pal.range },
    marks: [
      ...(t.max_ppl_ratio !== null ? [Plot.ruleX([t.max_ppl_ratio], { stroke: CHOSEN, strokeDasharray: '5 4' })] : []),
      Plot.line(front, { x: 'ppl_ratio', y, stroke: '#333333', curve: 'step-after', strokeWidth: 1.5 }),
      Plot.dot(data, {
        x: 'ppl_ratio', y, fill: 'series', r: 4, stroke: (d: typeof data[number]) => (d.feasible || d.stage === 'baseline' ? 'white' : '#333333'),
        symbol: (d: typeof data[number]) => (d.stage === 'fine' ? 'diamond' : d.stage === 'baseline' ? 'square' : 'circle'),
        title: (d: typeof data[number]) => `round ${d.round} (${d.stage}): block ${d.layer}, alpha ${d.alpha}: keyword share ${f3(d.keyword_share)}, ` +
          `perplexity ratio ${f3(d.ppl_ratio)}${d.judge_harmonic !== null ? `, judge ${f3(d.judge_harmonic)}` : ''}${d.feasible || d.stage === 'baseline' ? '' : ' (over the limit)'}`,
      }),
      Plot.dot(data.filter((d) => d.chosen), { x: 'ppl_ratio', y, r: 9, stroke: CHOSEN, strokeWidth: 2 }),
      Plot.text(data, { x: 'ppl_ratio', y, text: (d: typeof data[number]) => String(d.round), dx: 8, dy: -6, fontSize: 8, fill: '#555555' }),
    ],
  }, { title, legend, legendTitle: 'Tried block' });
  return { id, title, caption: `Every point tune evaluated on the train prompts (${t.parameters.train.join(', ')}): circles coarse, diamonds fine, the square the unsteered ` +
    `baseline; small numbers give the round. The line joins the frontier (no tried point is at least as fluent with more concept); the ring marks the choice` +
    `${t.max_ppl_ratio !== null ? `; points right of the dashed line break the fluency limit` : ''}.`, svgs: [{ name: 'path', svg }] };
}

export function tuneTables(run: RunData): Table[] {
  const t = run.tune!;
  const path: Table = {
    id: 'tune-path', caption: `The search path: ${t.search.points.length} points, ${t.tokens.search} generated tokens (validation ${t.tokens.validation}; budget ${t.tokens.budget}).`,
    head: ['Round', 'Stage', 'Block', 'Alpha', 'n', 'Keyword share', 'Keyword rate', 'Perplexity ratio', 'Judge', 'Feasible', 'Tokens'],
    numeric: [true, false, true, true, true, true, true, true, true, false, true],
    rows: t.search.points.map((p) => [String(p.round), p.stage, String(p.layer), String(p.alpha), String(p.n), f3(p.keyword_share), f3(p.keyword_rate), f3(p.ppl_ratio),
      f3(p.judge_harmonic), p.stage === 'baseline' ? '-' : p.feasible ? 'yes' : 'no', String(p.tokens)]),
  };
  const out = [path];
  const v = t.validation;
  if (v) {
    const ci = (x: { estimate: number; lower: number; upper: number } | null) => (x ? `${f3(x.estimate)} [${f3(x.lower)}, ${f3(x.upper)}]` : '-');
    out.push({
      id: 'tune-validation', caption: `Held-out validation of block ${t.layer}, alpha ${t.alpha} on ${v.prompts.join(', ')} (${v.n} steered samples; ${Math.round(v.confidence * 100)}% bootstrap CIs).`,
      head: ['Measure', 'Value'], numeric: [false, true],
      rows: [
        ['Keyword share, steered', ci(v.keyword_share)], ['Keyword share, unsteered', ci(v.baseline_keyword_share)], ['Effect (paired difference)', ci(v.effect)],
        ['Perplexity ratio', ci(v.ppl_ratio)], ['Probe projection', ci(v.probe_mean)], ['Judge harmonic mean', ci(v.judge_harmonic)],
        ['Within the fluency limit', v.fluent ? 'yes' : '**no**'], ['Effect CI above 0', v.effect_above_zero ? 'yes' : '**no**'],
        ['Steerability (moved against alpha, per prompt)', v.steerability.map((s) => `${s.scenario} ${s.against}/${s.n}`).join('; ') || '-'],
      ],
    });
  }
  return out;
}

export function tuneStatement(run: RunData): string {
  const t = run.tune!;
  const stops = t.search.stopped.map((s) => (s.layer >= 0 ? `block ${s.layer} after round ${s.round - 1}: ${s.reason}` : s.reason));
  return t.layer === null
    ? `**No choice:** ${t.reason}.`
    : `**Chosen: block ${t.layer}, alpha ${t.alpha}**: ${t.reason}.${t.card ? ` The alpha is recorded in the vector card of \`${t.card}\` (\`card.tuned\`; \`generate --alphas tuned\`, \`"scale": "tuned"\`).` : ''}` +
      `${stops.length ? ` Stopped: ${stops.join('; ')}.` : ''}`;
}
