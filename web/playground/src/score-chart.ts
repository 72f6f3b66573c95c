// The live line chart (uPlot, ~20 KB gzipped: a small chart library made for streaming data): x is
// the token's position, y its projection; one line per monitor and per column (the unsteered column
// dashed). The gate's on/off thresholds are drawn as horizontal lines on the gate probe's scale, and
// the tokens the gate steered are marked with triangles along the bottom. The legend is ours (a list
// beside the canvas), so it reads well to screen readers.
import uPlot from 'uplot';
import { h } from './dom.js';

export interface ChartLine { label: string; colour: string; dashed: boolean; values: number[]; gate: boolean[] | null }
export interface ChartGate { on: number; off: number }

/** Line colours: Okabe–Ito, readable by people with colour-vision deficiencies. */
export const LINE_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export class ScoreChart {
  private plot: uPlot | null = null;
  private lines: ChartLine[] = [];
  private gate: ChartGate | null = null;
  private readonly observer: ResizeObserver;

  constructor(private readonly host: HTMLElement, private readonly legend: HTMLElement) {
    this.observer = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.observer.observe(host);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(240, this.host.clientWidth), height: 220 };
  }

  /** Starts over with these lines (empty values) and thresholds. */
  reset(lines: ChartLine[], gate: ChartGate | null): void {
    this.lines = lines;
    this.gate = gate;
    this.plot?.destroy();
    this.plot = null;
    this.legend.replaceChildren(...lines.map((l) => {
      const swatch = h('span', { class: l.dashed ? 'swatch dashed' : 'swatch' });
      swatch.style.borderColor = l.colour;  // CSSOM, not a style attribute: the page's CSP allows no inline styles
      return h('li', {}, swatch, l.label);
    }));
    if (gate) this.legend.append(h('li', {}, h('span', { class: 'swatch threshold' }), `gate thresholds: on below ${gate.on}, off above ${gate.off}; ▲ = token the gate steered`));
    if (lines.length === 0) return;
    const gateRef = () => this.gate;
    const linesRef = () => this.lines;
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false } },
      axes: [{ label: 'token', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }, { label: 'projection' }],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.colour, width: 2, dash: l.dashed ? [6, 4] : undefined, spanGaps: false, points: { show: false } }))],
      hooks: {
        draw: [(u: uPlot) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const g = gateRef();
          ctx.save();
          if (g) {
            ctx.setLineDash([2, 3]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            for (const [v, c] of [[g.on, '#7a0177'], [g.off, '#555555']] as const) {
              const y = u.valToPos(v, 'y', true);
              if (y < top || y > top + height) continue;
              ctx.strokeStyle = c;
              ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + width, y); ctx.stroke();
            }
            ctx.setLineDash([]);
          }
          // gated tokens: a triangle at the bottom per steered position, in the line's colour
          linesRef().forEach((l, k) => {
            if (!l.gate) return;
            ctx.fillStyle = l.colour;
            const s = 5 * devicePixelRatio, base = top + height - 2 * devicePixelRatio - k * s * 1.4;
            l.gate.forEach((on, x) => {
              if (!on) return;
              const px = u.valToPos(x, 'x', true);
              ctx.beginPath(); ctx.moveTo(px, base - s); ctx.lineTo(px - s / 2, base); ctx.lineTo(px + s / 2, base); ctx.closePath(); ctx.fill();
            });
          });
          ctx.restore();
        }],
      },
    };
    this.plot = new uPlot(opts, this.data(), this.host);
  }

  private data(): uPlot.AlignedData {
    const n = Math.max(0, ...this.lines.map((l) => l.values.length));
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = this.lines.map((l) => Array.from({ length: n }, (_, i) => (i < l.values.length ? l.values[i] : null)));
    return [xs, ...ys] as uPlot.AlignedData;
  }

  /** Redraws with the lines' current values (called as tokens arrive). */
  update(): void {
    if (!this.plot) return;
    this.plot.setData(this.data());
    const g = this.gate;
    if (g && this.plot.scales.y.min !== undefined && this.plot.scales.y.max !== undefined) {
      const min = Math.min(this.plot.scales.y.min, g.on), max = Math.max(this.plot.scales.y.max, g.off);
      if (min < this.plot.scales.y.min! || max > this.plot.scales.y.max!) this.plot.setScale('y', { min, max });
    }
  }
}
