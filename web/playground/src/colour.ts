// The token colours: a diverging scale (ColorBrewer's RdBu, d3-scale-chromatic) centred on the
// monitor's unsteered median m (POST /v1/monitors/baseline), symmetric with half-width h = the largest
// |score - m| among the tokens on show, so the most extreme token takes the full colour. Above the
// median is red, below is blue. Text is black or white, whichever contrasts more with the background.
import { interpolateRdBu } from 'd3-scale-chromatic';

/** Position on the scale: (score - m) / h clamped to [-1, 1] (0 when h is 0). */
export function scalePosition(score: number, median: number, halfWidth: number): number {
  if (!(halfWidth > 0)) return 0;
  return Math.max(-1, Math.min(1, (score - median) / halfWidth));
}

/** The background of a token at scale position t (RdBu runs red at 0 to blue at 1). */
export function scaleColour(t: number): string {
  return interpolateRdBu(0.5 - t / 2);
}

/** WCAG relative luminance of an `rgb(r, g, b)` colour. */
export function luminance(rgb: string): number {
  const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(rgb);
  if (!m) return 1;
  const lin = (c: number) => { const x = c / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(Number(m[1])) + 0.7152 * lin(Number(m[2])) + 0.0722 * lin(Number(m[3]));
}

/** Black or white text on `background`: the one with the higher contrast ratio (>= 4.58:1 either way). */
export function textColour(background: string): string {
  const l = luminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? 'rgb(0, 0, 0)' : 'rgb(255, 255, 255)';
}

/** The half-width for a set of scores: max |score - m| (0 for none). */
export function halfWidth(scores: Iterable<number>, median: number): number {
  let h = 0;
  for (const s of scores) h = Math.max(h, Math.abs(s - median));
  return h;
}
