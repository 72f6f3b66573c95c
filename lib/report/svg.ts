// Rendering Observable Plot charts to SVG strings in Node: Plot builds its DOM in a linkedom
// document (no browser, no canvas), and we add an in-SVG legend so every SVG stands alone (in the
// HTML report and as a file beside the Markdown report).

import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { EiaError } from '../util/errors.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Categorical palette (Observable's "observable10"). */
export const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5', '#9c6b4e', '#9498a0'];

let doc: Document | null = null;

/** The linkedom document Plot renders into (one per process; Plot only creates detached nodes). */
export function plotDocument(): Document {
  if (!doc) doc = parseHTML('<!doctype html><html><head></head><body></body></html>').document as unknown as Document;
  return doc;
}

/** One legend entry drawn inside the SVG. */
export interface LegendItem {
  label: string;
  color: string;
  /** swatch shape: a filled square (default), a line, a dashed line or a dot */
  shape?: 'square' | 'line' | 'dash' | 'dot' | 'diamond';
}

/** Space a legend needs at the top of a plot of the given width (rows of 16 px). */
export function legendHeight(items: readonly LegendItem[], width: number, title?: string): number {
  return items.length === 0 ? 0 : layoutLegend(items, width, title).rows * 16 + 8;
}

function textWidth(s: string): number {
  return s.length * 6.2 + 4; // 10 px system-ui, generous
}

function layoutLegend(items: readonly LegendItem[], width: number, title?: string) {
  const pos: { x: number; row: number }[] = [];
  let x = title ? textWidth(title) + 6 : 0;
  let row = 0;
  for (const it of items) {
    const w = 16 + textWidth(it.label) + 10;
    if (x > 0 && x + w > width - 8) { row++; x = 0; }
    pos.push({ x, row });
    x += w;
  }
  return { pos, rows: row + 1 };
}

function el(d: Document, name: string, attrs: Record<string, string | number>): Element {
  const e = d.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Draws a legend at the top-left of an SVG made by Plot (which must leave legendHeight() of top margin). */
export function addLegend(svg: Element, items: readonly LegendItem[], width: number, title?: string): void {
  if (items.length === 0) return;
  const d = plotDocument();
  const { pos } = layoutLegend(items, width, title);
  const g = el(d, 'g', { 'aria-label': 'legend', 'font-size': 10, 'text-anchor': 'start', transform: 'translate(8,4)' });
  if (title) {
    const t = el(d, 'text', { x: 0, y: 10, 'font-weight': 'bold' });
    t.textContent = title;
    g.appendChild(t);
  }
  items.forEach((it, i) => {
    const { x, row } = pos[i];
    const y = row * 16;
    const shape = it.shape ?? 'square';
    if (shape === 'line' || shape === 'dash') {
      g.appendChild(el(d, 'line', { x1: x, x2: x + 12, y1: y + 6.5, y2: y + 6.5, stroke: it.color, 'stroke-width': 2, ...(shape === 'dash' ? { 'stroke-dasharray': '3 2' } : {}) }));
    } else if (shape === 'dot') {
      g.appendChild(el(d, 'circle', { cx: x + 6, cy: y + 6.5, r: 4, fill: it.color }));
    } else if (shape === 'diamond') {
      g.appendChild(el(d, 'path', { d: `M${x + 6},${y + 1.5}L${x + 11},${y + 6.5}L${x + 6},${y + 11.5}L${x + 1},${y + 6.5}Z`, fill: 'none', stroke: it.color, 'stroke-width': 1.5 }));
    } else {
      g.appendChild(el(d, 'rect', { x, y: y + 1.5, width: 11, height: 11, fill: it.color }));
    }
    const t = el(d, 'text', { x: x + 16, y: y + 10 });
    t.textContent = it.label;
    g.appendChild(t);
  });
  svg.appendChild(g);
}

/** Options of {@link renderPlot}. */
export interface RenderOptions {
  legend?: LegendItem[];
  legendTitle?: string;
  /** accessible title of the SVG */
  title: string;
}

/**
 * Renders a Plot spec to a standalone SVG string: an outer <svg> (xmlns, role="img", <title>)
 * holding the legend band on top and Plot's own <svg> below it, so the legend never collides with
 * Plot's axis labels. Plot's own legends are not used (its ramp legend needs a canvas).
 */
export function renderPlot(spec: Plot.PlotOptions, opts: RenderOptions): string {
  const d = plotDocument();
  const width = spec.width ?? 640;
  const items = opts.legend ?? [];
  const lh = legendHeight(items, width, opts.legendTitle);
  const inner = Plot.plot({ ...spec, width, document: d }) as unknown as Element;
  if (inner.tagName.toLowerCase() !== 'svg') throw new EiaError('E_INTERNAL', 'Plot returned a figure, not an SVG (a Plot legend was requested?)');
  const height = Number(inner.getAttribute('height'));
  if (!(height > 0)) throw new EiaError('E_INTERNAL', 'Plot returned an SVG without a height');
  const outer = el(d, 'svg', {
    xmlns: SVG_NS, role: 'img', width, height: height + lh, viewBox: `0 0 ${width} ${height + lh}`,
    'font-family': 'system-ui, sans-serif', 'font-size': 10, fill: 'currentColor',
  });
  // Plot's class carries its stylesheet (display:block, height:auto, max-width:100%, text white-space):
  // move it to the outer SVG so the nested one keeps its fixed size.
  outer.setAttribute('class', `${inner.getAttribute('class') ?? ''} eia-plot`.trim());
  inner.removeAttribute('class');
  inner.setAttribute('x', '0');
  inner.setAttribute('y', String(lh));
  inner.setAttribute('overflow', 'visible');
  const t = el(d, 'title', {});
  t.textContent = opts.title;
  outer.appendChild(t);
  addLegend(outer, items, width, opts.legendTitle);
  outer.appendChild(inner);
  return outer.outerHTML;
}

/** Colors for steering strengths: blues for alpha < 0, grey for 0, reds for alpha > 0 (stronger = darker). */
export function alphaColors(alphas: readonly number[]): string[] {
  const neg = alphas.filter((a) => a < 0).sort((a, b) => a - b);
  const pos = alphas.filter((a) => a > 0).sort((a, b) => a - b);
  const mix = (c1: string, c2: string, t: number) => {
    const p = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
    const [a, b] = [p(c1), p(c2)];
    return '#' + a.map((v, i) => Math.round(v + (b[i] - v) * t).toString(16).padStart(2, '0')).join('');
  };
  return alphas.map((a) => {
    if (a === 0) return '#555555';
    if (a < 0) {
      const i = neg.indexOf(a);
      return mix('#08306b', '#6baed6', neg.length > 1 ? i / (neg.length - 1) : 0.3);
    }
    const i = pos.indexOf(a);
    return mix('#fc9272', '#99000d', pos.length > 1 ? i / (pos.length - 1) : 0.7);
  });
}

/** Escapes text for HTML. */
export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
