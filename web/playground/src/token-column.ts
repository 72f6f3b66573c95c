// One column of streamed tokens: each token a span holding its piece, its scores on every monitor and
// its gate state (data attributes, for the tooltip and for anyone checking the page), coloured by
// the chosen monitor's score (colour.ts). The column's tokens can be inspected with the keyboard too:
// the token area takes focus, and the arrow keys move from token to token.
import { scaleColour, scalePosition, textColour } from './colour.js';
import { fmt, h } from './dom.js';

export interface TokenRecord { id: number; piece: string; scores: number[]; gate: boolean | null }

export interface Inspector { show(col: TokenColumn, index: number, anchor: HTMLElement, byKeyboard: boolean): void; hide(): void }

/** A piece as shown: newlines and tabs visible, nothing collapsed. */
function shown(piece: string): string {
  return piece.replace(/\n/g, '↵\n').replace(/\t/g, '⇥');
}

export class TokenColumn {
  readonly root: HTMLElement;
  readonly tokens: TokenRecord[] = [];
  private readonly area: HTMLElement;
  private readonly status: HTMLElement;
  private readonly spans: HTMLSpanElement[] = [];
  private current = -1;

  constructor(readonly key: 'main' | 'steered' | 'unsteered', title: string, private readonly inspector: Inspector) {
    const headingId = `col-${key}-h`;
    this.status = h('p', { class: 'muted col-status' }, 'waiting…');
    this.area = h('div', {
      class: 'tokens', tabindex: 0, role: 'log', 'aria-labelledby': headingId,
      'aria-describedby': `col-${key}-help`,
    });
    this.root = h('section', { class: 'column', 'data-column': key },
      h('h3', { id: headingId }, title),
      this.status,
      this.area,
      h('p', { id: `col-${key}-help`, class: 'sr-only' }, 'Use the left and right arrow keys to read each token\'s scores.'));
    this.area.addEventListener('mouseover', (e) => {
      const t = (e.target as HTMLElement).closest('span.tok') as HTMLSpanElement | null;
      if (t) this.inspector.show(this, Number(t.dataset.index), t, false);
    });
    this.area.addEventListener('mouseleave', () => this.inspector.hide());
    this.area.addEventListener('blur', () => this.inspector.hide());
    this.area.addEventListener('keydown', (e) => this.key_(e));
  }

  private key_(e: KeyboardEvent): void {
    const n = this.spans.length;
    if (n === 0) return;
    let i = this.current;
    if (e.key === 'ArrowRight') i = Math.min(n - 1, i + 1);
    else if (e.key === 'ArrowLeft') i = Math.max(0, i < 0 ? 0 : i - 1);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = n - 1;
    else if (e.key === 'Escape') { this.inspector.hide(); return; }
    else return;
    e.preventDefault();
    this.spans[this.current]?.classList.remove('current');
    this.current = i;
    this.spans[i].classList.add('current');
    this.inspector.show(this, i, this.spans[i], true);
  }

  setStatus(text: string): void { this.status.textContent = text; }

  /** Appends tokens; returns their spans. */
  append(ts: TokenRecord[]): void {
    for (const t of ts) {
      const i = this.tokens.length;
      this.tokens.push(t);
      const span = h('span', { class: t.gate ? 'tok gated' : 'tok', 'data-index': i, 'data-token': t.id }, shown(t.piece));
      if (t.scores.length > 0) span.dataset.scores = JSON.stringify(t.scores);
      if (t.gate !== null) span.dataset.gate = t.gate ? '1' : '0';
      this.spans.push(span);
      this.area.append(span);
    }
  }

  /** Colours every token by monitor `m` on the scale centred on `median` with half-width `hw` (no monitor: plain). */
  recolour(m: number, median: number | null, hw: number): void {
    for (let i = 0; i < this.spans.length; i++) {
      const span = this.spans[i];
      const s = this.tokens[i].scores[m];
      if (m < 0 || median === null || s === undefined) {
        span.style.backgroundColor = '';
        span.style.color = '';
        delete span.dataset.score;
        continue;
      }
      const bg = scaleColour(scalePosition(s, median, hw));
      span.style.backgroundColor = bg;
      span.style.color = textColour(bg);
      span.dataset.score = String(s);
    }
  }

  /** The tooltip's lines for token i. */
  describe(i: number, monitorNames: string[], medians: (number | null)[]): string[] {
    const t = this.tokens[i];
    const lines = [`token ${i + 1} (id ${t.id}): ${JSON.stringify(t.piece)}`];
    t.scores.forEach((s, k) => {
      const m = medians[k];
      lines.push(`${monitorNames[k] ?? `monitor ${k + 1}`}: ${fmt(s)}${m !== null && m !== undefined ? ` (unsteered median ${fmt(m)})` : ''}`);
    });
    if (t.gate !== null) lines.push(t.gate ? 'gate: steered this token' : 'gate: not steering');
    return lines;
  }
}
