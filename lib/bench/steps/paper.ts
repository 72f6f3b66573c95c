// Bench step: the paper's computation pattern (one sample at a time, no KV cache, probing with a
// forward pass per text and layer) vs eia-native's way (one batched generation, one capture pass)
// on the same grid and engine (paper_method_vs_eia: below 1 = eia-native is faster).
import type { BenchContext } from '../context.js';
import { vocabOf } from '../context.js';
import { alternate, median, medianRatio, type Pair } from '../stats.js';
import type { PaperGrid } from '../worker.js';
import { randomTokens, spreadLayers } from '../workload.js';

export async function paperStep(b: BenchContext): Promise<void> {
  const { rec, worker: w } = b;
  try {
    const P = b.S.paper;
    const vocab = vocabOf(b.info);
    const ids = Array.from({ length: P.texts }, () => randomTokens(b.rng, Math.ceil(P.textTokens * 1.5), vocab));
    const grid: PaperGrid = {
      alphas: P.alphas, samples: P.samples, prompt: randomTokens(b.rng, P.promptTokens, vocab), genTokens: P.genTokens,
      layer: Math.floor(b.info.nLayer / 2), probeLayers: spreadLayers(b.info.nLayer, P.probeLayers),
      texts: (await w.request<string[]>('texts', { ids })).result, textTokens: P.textTokens,
    };
    await w.request('eiaMethod', { grid });  // warm-up (the paper side is warm from the steps before)
    const pairs: Pair[] = [];
    for (let r = 0; r < P.rounds; r++) {
      const ms: Record<string, number> = {};
      for (const side of alternate(r, 'paperMethod', 'eiaMethod')) {
        const res = await w.request<{ ms: number; generateMs: number; captureMs: number }>(side, { grid });
        const paper = side === 'paperMethod';
        rec.workerPeak(paper ? 'paper_method' : 'eia_method', res);
        ms[side] = res.result.ms;
        rec.push(paper ? 'paper_method_ms' : 'eia_method_ms', res.result.ms);
        rec.push(paper ? 'paper_method_generate_ms' : 'eia_method_generate_ms', res.result.generateMs);
      }
      // rate(paper) / rate(eia) for the same work = eia time / paper time
      pairs.push({ a: ms.eiaMethod, b: ms.paperMethod });
      b.log(`bench: paper round ${r + 1}/${P.rounds}: paper pattern ${(ms.paperMethod / 1000).toFixed(2)} s vs eia-native ${(ms.eiaMethod / 1000).toFixed(2)} s`);
    }
    for (const k of ['paper_method_ms', 'eia_method_ms', 'paper_method_generate_ms', 'eia_method_generate_ms']) rec.rates[k] = median(rec.rounds[k]);
    rec.ratios.paper_method_vs_eia = medianRatio(pairs);
    rec.rates.eia_speedup_over_paper_method = 1 / rec.ratios.paper_method_vs_eia;
  } catch (e) {
    rec.fail('paper_method_vs_eia', e);
  }
}
