// The one ranking of detection layers, used wherever a "best" layer is chosen (validation.json's
// best_layer, the layers `run`/`demo` steer, the report's bold row): the highest test AUROC; ties
// broken by the larger standardised separation d' = (mean_emp - mean_non) / sqrt((std_emp^2 +
// std_non^2) / 2), then by the lower (earlier) layer. One rule, so that the best detection layer
// is always among the steered ones.
import type { LayerReport } from './validation.js';

type Ranked = Pick<LayerReport, 'layer' | 'auroc' | 'separation' | 'std_emp' | 'std_non'>;

/** Standardised separation d' (infinite for separated classes without spread). */
export function dPrime(r: Ranked): number {
  const s = Math.sqrt((r.std_emp ** 2 + r.std_non ** 2) / 2);
  return s > 0 ? r.separation / s : r.separation > 0 ? Infinity : r.separation < 0 ? -Infinity : 0;
}

/** Layers best first (see the module comment). */
export function rankLayers<T extends Ranked>(layers: readonly T[]): T[] {
  return [...layers].sort((a, b) => b.auroc - a.auroc || dPrime(b) - dPrime(a) || a.layer - b.layer);
}

/** The `n` best layers (at least 1), ascending. */
export function bestLayers(layers: readonly Ranked[], n: number): number[] {
  return rankLayers(layers).slice(0, Math.max(1, n)).map((l) => l.layer).sort((a, b) => a - b);
}
