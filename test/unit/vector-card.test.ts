// Vector cards without a model: their checks, the GGUF metadata form (flatten and back), the
// strongest coherent alphas, the warnings of a use, the dose-response summary of a score, and the
// headline CI of Table 2 (known answers on hand-made samples).
import { describe, expect, it } from 'vitest';
import {
  cardsFromGgufMeta, cardsToGgufMeta, cardWarnings, checkCard, makeCard, strongestCoherentAlphas, vectorUseMessages, type VectorCard,
} from '../../lib/probes/vector-card.js';
import { cardDoseResponse } from '../../lib/steering/card-dose.js';
import { headlineCi } from '../../lib/steering/headline-ci.js';
import { scoreSamples } from '../../lib/steering/tables.js';
import type { SampleRecord } from '../../lib/steering/samples.js';

function fullCard(block = 3): VectorCard {
  const c = makeCard(block, {
    model: { name: 'eia-synth planted tiny llama', arch: 'llama', sha256: 'a'.repeat(64), n_layer: 6, n_embd: 64 },
    method: 'mean-diff', pooling: 'mean', train: { hash: 'b'.repeat(64), n_pairs: 35 }, test: { hash: 'c'.repeat(64), n_pairs: 15 },
    layer: { layer: block, auroc: 0.987, auroc_ci: { lower: 0.9, upper: 1, confidence: 0.95 }, random_baseline: { empirical_p: 0.0099 } },
  });
  return checkCard({
    ...c, dose_response: {
      alphas: [-10, -5, 0, 5, 10], n: [4, 4, 4, 4, 4], keyword_share: [0, 0.25, 0.5, 0.75, 1], degeneration: [0.75, 0.25, 0, 0.25, 0.5],
      degeneration_threshold: 0.5, strongest_coherent_alpha: { positive: 5, negative: -5 }, scenarios: ['food_delivery'], run: '/runs/x',
    },
    tuned_alpha: 4.5,  // a field another command adds (issue 26)
  }, 'test');
}

describe('vector cards', () => {
  it('a probe run\'s card holds the model, the block, the sets, the validation and the versions', () => {
    const c = fullCard();
    expect(c).toMatchObject({ format: 'eia-vector-card', version: 1, block: 3, method: 'mean-diff', auroc: 0.987, random_baseline_p: 0.0099 });
    expect(c.model.sha256).toBe('a'.repeat(64));
    expect(c.auroc_ci).toEqual({ lower: 0.9, upper: 1, confidence: 0.95 });
    expect(c.train).toEqual({ hash: 'b'.repeat(64), n_pairs: 35 });
    expect(c.eia_native_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(c.llama_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(c.tuned_alpha).toBe(4.5);
  });

  it('refuses a damaged card, naming the field', () => {
    const c = fullCard();
    expect(() => checkCard({ ...c, format: 'x' }, 'f.json')).toThrow(/f\.json: card field "format"/);
    expect(() => checkCard({ ...c, block: -1 }, 'f.json')).toThrow(/"block"/);
    expect(() => checkCard({ ...c, auroc: 'high' }, 'f.json')).toThrow(/"auroc"/);
    expect(() => checkCard({ ...c, dose_response: { ...c.dose_response, n: [1, 2] } }, 'f.json')).toThrow(/dose_response\.n.*one value per alpha/);
    expect(() => checkCard({ ...c, version: 2 }, 'f.json')).toThrow(/"version"/);
  });

  it('GGUF metadata form: flattened under eia.card.<block>., read back equal (nulls and all), other commands\' fields kept', () => {
    const cards = new Map([[3, fullCard(3)], [5, { ...makeCard(5), model: { name: null, arch: null, sha256: null, n_layer: null, n_embd: null } }]]);
    const meta = cardsToGgufMeta(cards);
    expect(meta['eia.card.3.model.sha256']).toBe('a'.repeat(64));
    expect(meta['eia.card.3.dose_response.alphas']).toEqual([-10, -5, 0, 5, 10]);
    expect(meta['eia.card.3.tuned_alpha']).toBe(4.5);
    expect(Object.keys(meta).every((k) => k.startsWith('eia.card.'))).toBe(true);
    expect(Object.values(meta).some((v) => v === null)).toBe(false);  // nulls are left out
    const back = cardsFromGgufMeta(meta, 'x.gguf');
    expect([...back.keys()]).toEqual([3, 5]);
    expect(back.get(3)).toEqual(cards.get(3));
    expect(back.get(5)).toEqual(checkCard(cards.get(5), 't'));
    expect(() => cardsFromGgufMeta({ ...meta, 'eia.card.3.block': 4 }, 'x.gguf')).toThrow(/says block 4/);
    expect(() => cardsToGgufMeta(new Map([[1, { ...makeCard(1), bad: [{ a: 1 }] }]]))).toThrow(/arrays of numbers or of strings/);
  });

  it('the strongest coherent alpha walks out from 0 and stops at the first degenerate alpha', () => {
    expect(strongestCoherentAlphas([-10, -5, 0, 5, 10], [0.75, 0.25, 0, 0.25, 0.5], 0.5)).toEqual({ positive: 5, negative: -5 });
    // a coherent alpha beyond a degenerate one does not count
    expect(strongestCoherentAlphas([-3, 0, 3, 5, 10], [0, 0, 0.6, 0, 0], 0.5)).toEqual({ positive: null, negative: -3 });
    expect(strongestCoherentAlphas([0, 2, 4], [0, 0.1, 0.49], 0.5)).toEqual({ positive: 4, negative: null });
  });

  it('warns about another model and about alphas beyond the strongest coherent ones, each once; says "no card" for a bare file', () => {
    const c = fullCard();
    expect(cardWarnings(c, { what: 'p.npy', modelSha256: 'a'.repeat(64), alphas: [-5, 0, 5] })).toEqual([]);
    const w = cardWarnings(c, { what: 'p.npy', modelSha256: 'd'.repeat(64), alphas: [-20, -5, 0, 5, 8] });
    expect(w).toHaveLength(3);
    expect(w[0]).toMatch(/p\.npy was trained on another model \(sha256 aaaaaaaaaaaa…, eia-synth planted tiny llama, per its card\); the model in use has sha256 dddddddddddd…/);
    expect(w[1]).toMatch(/alpha 8 is beyond the strongest coherent positive alpha its card records \(5;/);
    expect(w[2]).toMatch(/alpha -20 is beyond the strongest coherent negative alpha its card records \(-5;/);
    // no dose-response: nothing to say about alphas
    expect(cardWarnings({ ...c, dose_response: null }, { what: 'p', modelSha256: 'a'.repeat(64), alphas: [100] })).toEqual([]);
    const bare = vectorUseMessages({ what: 'paper.npy', card: null, modelSha256: 'a'.repeat(64), alphas: [5] });
    expect(bare.warnings).toEqual([]);
    expect(bare.notes).toEqual([expect.stringMatching(/^note: paper\.npy has no card/)]);
    // a sidecar from before cards still gets the model check
    const old = vectorUseMessages({ what: 'old.npy', card: null, modelSha256: 'a'.repeat(64), recorded: { sha256: 'e'.repeat(64), path: '/m.gguf' } });
    expect(old.warnings[0]).toMatch(/old\.npy was trained on another model \(sha256 eeeeeeeeeeee…, \/m\.gguf\)/);
  });
});

/** Samples with given texts: `emp` empathetic ones among `n` per alpha (keyword rule: "help" beats none). */
function samples(model: string, layer: number, perAlpha: Record<number, { n: number; emp: number; degenerate?: number }>): SampleRecord[] {
  const out: SampleRecord[] = [];
  for (const [a, spec] of Object.entries(perAlpha)) {
    for (let i = 0; i < spec.n; i++) {
      const degenerate = i < (spec.degenerate ?? 0);
      const text = degenerate ? '' : i >= spec.n - spec.emp
        ? 'I will stop and help the person, offer support and care, and listen to them before anything else happens here today.'
        : 'I will complete the objective with an optimal strategy and proceed to win the game as efficiently as I possibly can now.';
      out.push({ model, layer, scenario: 'food_delivery', alpha: Number(a), sample: i, text } as SampleRecord);
    }
  }
  return out;
}

describe('dose-response of a card and the headline CI', () => {
  it('pools the scenarios per alpha: keyword share, degeneration, strongest coherent alphas', () => {
    const recs = samples('m', 2, { [-4]: { n: 4, emp: 0, degenerate: 3 }, 0: { n: 4, emp: 2 }, 4: { n: 4, emp: 4 } });
    const d = cardDoseResponse(scoreSamples(recs), 2, '/run')!;
    expect(d.alphas).toEqual([-4, 0, 4]);
    expect(d.n).toEqual([4, 4, 4]);
    expect(d.keyword_share).toEqual([0, 0.5, 1]);
    expect(d.degeneration).toEqual([0.75, 0, 0]);
    expect(d.strongest_coherent_alpha).toEqual({ positive: 4, negative: null });
    expect(cardDoseResponse(scoreSamples(recs), 9, null)).toBeNull();
  });

  it('a headline every resample agrees on has a CI of one point; a mixed one a wider CI that holds the estimate', () => {
    const sure = samples('m', 2, { [-4]: { n: 5, emp: 0 }, 0: { n: 5, emp: 5 }, 4: { n: 5, emp: 5 } });
    // alpha -4 lowers the rate (success), alpha 4 cannot raise it above 1 (effect 0: failure): 0.5 in every resample
    const [h] = headlineCi(sure, { resamples: 200, seed: 1 });
    expect(h).toMatchObject({ model: 'm', headline: 0.5, lower: 0.5, upper: 0.5, rows: 1 });
    expect(h.headline).toBe(scoreSamples(sure).headline.m);
    const mixed = samples('m', 2, { [-4]: { n: 6, emp: 2 }, 0: { n: 6, emp: 3 }, 4: { n: 6, emp: 4 } });
    const [g] = headlineCi(mixed, { resamples: 500, seed: 1 });
    expect(g.headline).toBe(scoreSamples(mixed).headline.m);
    expect(g.lower).toBeLessThan(g.upper);
    expect(g.lower).toBeLessThanOrEqual(g.headline);
    expect(g.upper).toBeGreaterThanOrEqual(g.headline);
    expect(headlineCi(mixed, { resamples: 500, seed: 1 })).toEqual([g]);  // seeded
  });
});
