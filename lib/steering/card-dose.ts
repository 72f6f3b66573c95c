// The dose-response part of a vector card (probes/vector-card.ts): what a scored steering sweep
// showed at one block, all its scenarios pooled (keyword share and degeneration per alpha, the
// strongest coherent alpha on each side), and writing it into the cards of the probes the sweep used.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { probeRunCardFields, readValidation } from '../probes/validation.js';
import { readVectorCards, strongestCoherentAlphas, updateVectorCard, type CardDoseResponse } from '../probes/vector-card.js';
import { DEGEN_CONDITION_SHARE } from './scoring.js';
import type { ScoreResult } from './tables.js';

/** The dose-response summary of `layer` in a score (null when the score has no row of that layer). */
export function cardDoseResponse(score: Pick<ScoreResult, 'rows'>, layer: number, run: string | null): CardDoseResponse | null {
  const rows = score.rows.filter((r) => r.layer === layer);
  if (rows.length === 0) return null;
  const byAlpha = new Map<number, { n: number; keyword: number; degen: number }>();
  for (const r of rows) {
    for (const c of r.conditions) {
      const a = byAlpha.get(c.alpha) ?? { n: 0, keyword: 0, degen: 0 };
      a.n += c.n;
      a.keyword += c.empathy_rate * c.n;
      a.degen += (c.degeneration?.any ?? 0) * c.n;
      byAlpha.set(c.alpha, a);
    }
  }
  const alphas = [...byAlpha.keys()].sort((x, y) => x - y);
  const n = alphas.map((a) => byAlpha.get(a)!.n);
  const keyword = alphas.map((a, i) => byAlpha.get(a)!.keyword / n[i]);
  const degeneration = alphas.map((a, i) => byAlpha.get(a)!.degen / n[i]);
  return {
    alphas, n, keyword_share: keyword, degeneration, degeneration_threshold: DEGEN_CONDITION_SHARE,
    strongest_coherent_alpha: strongestCoherentAlphas(alphas, degeneration, DEGEN_CONDITION_SHARE),
    scenarios: [...new Set(rows.map((r) => r.scenario))], run,
  };
}

/**
 * Writes the dose-response of every steered layer into the card of its probe in `probesDir`
 * (layer<L>.npy's sidecar). A sidecar without a card gets one first, from the folder's
 * validation.json when it has the block (else of what the sidecar records). Returns the layers whose cards were written.
 */
export function recordDoseResponse(probesDir: string, score: Pick<ScoreResult, 'rows'>, runDir: string | null): number[] {
  const validationPath = join(probesDir, 'validation.json');
  const validation = existsSync(validationPath) ? readValidation(validationPath) : null;
  const written: number[] = [];
  for (const layer of [...new Set(score.rows.map((r) => r.layer))].sort((a, b) => a - b)) {
    const npy = join(probesDir, `layer${layer}.npy`);
    if (!existsSync(npy) || !existsSync(join(probesDir, `layer${layer}.json`))) continue;
    const dose = cardDoseResponse(score, layer, runDir);
    if (!dose) continue;
    const have = readVectorCards(npy).get(layer);
    if (have && JSON.stringify(have.dose_response) === JSON.stringify(dose)) continue;  // a resumed run: the card already says this
    // a sidecar without a card gets one of its run's validation (else of what the sidecar records) first
    updateVectorCard(npy, layer, { ...(have ? {} : probeRunCardFields(validation, layer)), dose_response: dose });
    written.push(layer);
  }
  return written;
}
