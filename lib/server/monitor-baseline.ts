// The unsteered baseline of a monitor: the median (and quartiles) of its projection over the neutral
// sentence's tokens (probes/neutral-rows.ts) on the served model with no steering. The playground
// centres its colour scale on it; any client may ask (POST /v1/monitors/baseline).
// A block's rows are captured once, on first use, in a small context of their own (so the open
// generation is never touched) and kept (tokens x n_embd floats per block); captures run one at a
// time, so no number of requests makes the server hold more than one extra context.
import type { Model } from '../engine/model.js';
import { neutralRows, projectionSummary, type ProjectionSummary } from '../probes/neutral-rows.js';

export class MonitorBaselines {
  private readonly rows = new Map<number, Float32Array[]>();
  /** The capture running now (and every one queued behind it). */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly model: Model, private readonly threads?: number) {}

  /** Summaries for each (layer, direction), in order; captures the blocks not seen before (one pass). */
  async summaries(reads: readonly { layer: number; direction: Float32Array; label: string }[]): Promise<ProjectionSummary[]> {
    const missing = [...new Set(reads.map((r) => r.layer))].filter((l) => !this.rows.has(l));
    if (missing.length > 0) {
      const run = this.chain.then(async () => {
        const still = missing.filter((l) => !this.rows.has(l));
        if (still.length === 0) return;
        for (const [l, rs] of await neutralRows(this.model, still, this.threads)) this.rows.set(l, rs);
      });
      this.chain = run.catch(() => {});
      await run;
    }
    return reads.map((r) => projectionSummary(this.rows.get(r.layer)!, r.direction, r.label));
  }

  /** Resolves when no capture is running (close() waits for it before it frees the model). */
  idle(): Promise<void> {
    return this.chain.then(() => {});
  }
}
