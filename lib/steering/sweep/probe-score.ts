// Probe scores of finished samples: each cell's probe_score is dot(mean activation of the
// generated text at the cell's layer, the layer's probe direction), unsteered. 'capture' re-reads
// the generated tokens alone in one capture pass over a batch of finished samples (all needed
// layers at once); 'monitor' takes it free from the live monitor of the steered generation, with
// the steering term subtracted (the residual at a steered block's output depends only on the tokens).
import type { Context } from '../../engine/context.js';
import type { SequenceResult } from '../../engine/generate.js';
import type { Model } from '../../engine/model.js';
import { PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import type { Probe } from '../../probes/probe.js';
import { dot } from '../../stats/rows.js';
import { cellKey, sorted, type GridCell, type Unit } from './plan.js';

/** A finished sequence and the unit it generated. */
export interface Finished { unit: Unit; res: SequenceResult }

/** What the live monitor adds to a cell's projections: alpha * |d|^2 when the steered layer is the cell's. */
export function steerOffset(unit: Unit, cell: GridCell, probes: ReadonlyMap<number, Probe>): number {
  if (unit.steerLayer !== cell.layer) return 0;
  const d = probes.get(cell.layer)!.direction;
  return cell.alpha * dot(d, d);
}

/** Capture-pass scores of the finished samples, keyed by cellKey. */
export async function captureScores(capCtx: Context, model: Model, done: readonly Finished[], probes: ReadonlyMap<number, Probe>): Promise<Map<string, number>> {
  const scores = new Map<string, number>();
  const needLayers = sorted([...new Set(done.flatMap((d) => d.unit.cells.map((c) => c.layer)))]);
  // the exact generated tokens (re-tokenising the text gives the same ids save for rare non-canonical splits)
  const bos = model.info.addBos && model.info.bos >= 0 ? [model.info.bos] : [];
  const idx = done.map((d, i) => (bos.length + d.res.tokens.length > 0 ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) return scores;
  const toks = idx.map((i) => Int32Array.from([...bos, ...done[i].res.tokens]));
  const cap = await capCtx.capture(toks, { layers: needLayers, pool: 'mean', truncate: PAPER_MAX_TOKENS, addSpecial: false });
  idx.forEach((di, i) => {
    for (const c of done[di].unit.cells) {
      const row = cap.data.get(c.layer)!.subarray(i * cap.nEmbd, (i + 1) * cap.nEmbd);
      scores.set(cellKey(c), dot(row, probes.get(c.layer)!.direction));
    }
  });
  return scores;
}

/** Live-monitor scores of the finished samples (mean over generated tokens minus the steering term), keyed by cellKey. */
export function monitorScores(done: readonly Finished[], monitorLayers: readonly number[], probes: ReadonlyMap<number, Probe>): Map<string, number> {
  const scores = new Map<string, number>();
  for (const { unit, res } of done) {
    const n = res.tokens.length;
    if (n === 0 || !res.scores) continue;
    for (const c of unit.cells) {
      const sc = res.scores[monitorLayers.indexOf(c.layer)];
      let sum = 0;
      for (let t = 0; t < n; t++) sum += sc[t];
      scores.set(cellKey(c), sum / n - steerOffset(unit, c, probes));
    }
  }
  return scores;
}
