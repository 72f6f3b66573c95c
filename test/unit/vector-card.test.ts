// Vector cards without a model: their checks, the GGUF metadata form (flatten and back), the
// strongest coherent alphas, the warnings of a use, the tuned alpha as a card field (checked, in
// both forms, chosen for a use, written into a sidecar's card; a sidecar of the version before cards
// still read), the dose-response summary of a score, and the headline CI of Table 2 (known answers
// on hand-made samples).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readControlVector, writeControlVector } from '../../lib/engine/control-vector.js';
import { writeNpy } from '../../lib/io/npy.js';
import { ensureProbeSidecar, loadProbe, saveProbe } from '../../lib/probes/probe-file.js';
import {
  cardLines, cardsFromGgufMeta, cardsToGgufMeta, cardWarnings, checkCard, chooseTuned, makeCard, readTunedAlphas, readVectorCards, strongestCoherentAlphas,
  updateVectorCard, vectorUseMessages, type TunedAlpha, type VectorCard,
} from '../../lib/probes/vector-card.js';
import { probeRunCardFields } from '../../lib/probes/validation.js';
import { tempDir, unitRandom } from '../helpers/fixtures.js';
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

const tunedAt = (layer: number, alpha: number, ratio: number | null = 1.5): TunedAlpha => ({
  alpha, layer, objective: 'keyword_share', max_ppl_ratio: ratio, model_sha256: 'a'.repeat(64), tune_json: '/t/tune.json', created_at: '2026-01-01T00:00:00Z',
});

describe('the tuned alpha in the card', () => {
  const tmp = tempDir('eia-card-tuned-');
  afterAll(() => tmp.cleanup());

  it('is a checked card field (null when absent), printed by cardLines, and travels through the GGUF form with a null ratio read back as null', () => {
    expect(makeCard(2).tuned).toBeNull();
    expect(checkCard({ ...makeCard(2), tuned: undefined }, 't').tuned).toBeNull();
    const withRatio = checkCard({ ...fullCard(3), tuned: tunedAt(3, 5.715) }, 't');
    const judged = checkCard({ ...fullCard(4), tuned: { ...tunedAt(4, 2), objective: 'judge_harmonic', max_ppl_ratio: null } }, 't');
    expect(withRatio.tuned).toEqual(tunedAt(3, 5.715));
    const meta = cardsToGgufMeta(new Map([[3, withRatio], [4, judged]]));
    expect(meta['eia.card.3.tuned.alpha']).toBe(5.715);
    expect(meta['eia.card.3.tuned.max_ppl_ratio']).toBe(1.5);
    expect('eia.card.4.tuned.max_ppl_ratio' in meta).toBe(false);  // GGUF holds no null
    const back = cardsFromGgufMeta(meta, 'x.gguf');
    expect(back.get(3)!.tuned).toEqual(tunedAt(3, 5.715));
    expect(back.get(4)!.tuned).toEqual({ ...tunedAt(4, 2), objective: 'judge_harmonic', max_ppl_ratio: null });
    expect(back.get(4)).toEqual(judged);
    const lines = cardLines(withRatio).join('\n');
    expect(lines).toMatch(/ {2}tuned {5}alpha 5\.715 \(keyword_share, perplexity ratio <= 1\.5; model sha256 aaaaaaaaaaaa…; \/t\/tune\.json\)/);
    expect(cardLines(judged).join('\n')).toMatch(/tuned {5}alpha 2 \(judge_harmonic; /);
    expect(cardLines(makeCard(1)).join('\n')).toMatch(/tuned {5}not tuned/);
  });

  it('a damaged tuned field is E_BAD_ARG naming the field, in a sidecar card and in GGUF metadata', () => {
    const c = fullCard(3);
    const bad = (tuned: unknown) => () => checkCard({ ...c, tuned }, 'f.json');
    expect(bad({ ...tunedAt(3, 1), alpha: 'strong' })).toThrow(/f\.json: card field "tuned\.alpha" must be a finite number/);
    expect(bad({ ...tunedAt(3, 1), alpha: null })).toThrow(/"tuned\.alpha"/);
    expect(bad({ ...tunedAt(3, 1), layer: 4 })).toThrow(/"tuned\.layer" must be the card's block \(3\)/);
    expect(bad({ ...tunedAt(3, 1), max_ppl_ratio: 'x' })).toThrow(/"tuned\.max_ppl_ratio" must be a number or null/);
    expect(bad({ ...tunedAt(3, 1), model_sha256: 7 })).toThrow(/"tuned\.model_sha256"/);
    expect(bad({ ...tunedAt(3, 1), objective: undefined })).toThrow(/"tuned\.objective"/);
    expect(bad(4.5)).toThrow(/"tuned" must be an object or null/);
    try { bad({ ...tunedAt(3, 1), alpha: 'strong' })(); } catch (e) { expect((e as { code?: string }).code).toBe('E_BAD_ARG'); }
    const meta = cardsToGgufMeta(new Map([[3, { ...c, tuned: tunedAt(3, 2) }]]));
    expect(() => cardsFromGgufMeta({ ...meta, 'eia.card.3.tuned.alpha': 'x' }, 'v.gguf')).toThrow(/v\.gguf \(block 3\): card field "tuned\.alpha" must be a finite number/);
  });

  it('chooseTuned: the steered block\'s own, the only one (said to be of another block), none, or ambiguous', () => {
    const t2 = tunedAt(2, 4), t5 = tunedAt(5, 7);
    expect(chooseTuned([], null)).toEqual({ kind: 'none' });
    expect(chooseTuned([], [2])).toEqual({ kind: 'none' });
    expect(chooseTuned([t2], null)).toEqual({ kind: 'found', tuned: t2, otherBlocks: false });
    expect(chooseTuned([t2], [2])).toEqual({ kind: 'found', tuned: t2, otherBlocks: false });
    expect(chooseTuned([t2], [3])).toEqual({ kind: 'found', tuned: t2, otherBlocks: true });
    expect(chooseTuned([t2], [2, 3])).toEqual({ kind: 'found', tuned: t2, otherBlocks: true });
    expect(chooseTuned([t2, t5], [5])).toEqual({ kind: 'found', tuned: t5, otherBlocks: false });
    expect(chooseTuned([t2, t5], null)).toEqual({ kind: 'ambiguous', blocks: [2, 5] });
    expect(chooseTuned([t2, t5], [3])).toEqual({ kind: 'ambiguous', blocks: [2, 5] });
    expect(chooseTuned([t2, t5], [2, 3, 4, 5])).toEqual({ kind: 'ambiguous', blocks: [2, 5] });
  });

  it('written into a probe\'s card with updateVectorCard: every other sidecar field kept; a bare .npy gets a sidecar and card first (its norm kept)', () => {
    const dir = join(tmp.dir, 'w');
    const d = unitRandom(16, 1);
    saveProbe(dir, { direction: d, layer: 2, pooling: 'mean', method: 'mean-diff', model: { sha256: 'b'.repeat(64) }, trainHash: 'h', nTrain: 10, card: makeCard(2, { method: 'mean-diff' }) });
    const npy = join(dir, 'layer2.npy');
    const before = JSON.parse(readFileSync(join(dir, 'layer2.json'), 'utf8'));
    updateVectorCard(npy, 2, { tuned: tunedAt(2, 3.5) });
    const after = JSON.parse(readFileSync(join(dir, 'layer2.json'), 'utf8'));
    const { card: _a, ...restAfter } = after;
    const { card: _b, ...restBefore } = before;
    expect(restAfter).toEqual(restBefore);
    expect(after.card.tuned).toEqual(tunedAt(2, 3.5));
    expect(after.card.method).toBe('mean-diff');
    expect(readVectorCards(npy).get(2)!.tuned).toEqual(tunedAt(2, 3.5));
    expect(readTunedAlphas(npy)).toEqual([tunedAt(2, 3.5)]);
    expect(loadProbe(npy).tuned).toEqual(tunedAt(2, 3.5));
    // the paper's kind of file: no sidecar, a norm of 7 (its magnitude)
    const bare = join(tmp.dir, 'paper', 'layer4.npy');
    mkdirSync(join(tmp.dir, 'paper'));
    writeNpy(bare, d.map((x) => 7 * x), [16]);
    expect(readTunedAlphas(bare)).toEqual([]);
    const scaleBefore = loadProbe(bare).scale!;
    const side = ensureProbeSidecar(bare);
    expect(ensureProbeSidecar(bare)).toBe(side);  // an existing sidecar is left as it is
    updateVectorCard(bare, 4, { tuned: tunedAt(4, 2) });
    const p = loadProbe(bare);
    expect(p.scale).toBeCloseTo(scaleBefore, 5);
    expect(scaleBefore).toBeCloseTo(7, 4);
    expect(p.card!.tuned).toEqual(tunedAt(4, 2));
    expect(p.card!.method).toBe('mean-diff');
    expect(p.tuned).toEqual(tunedAt(4, 2));
  });

  it('a sidecar of the version before cards carried it (top-level `tuned`) is still read, and the next update moves it into the card', () => {
    const dir = join(tmp.dir, 'legacy');
    const d = unitRandom(16, 2);
    // no card at all (a paper probe that tune gave a sidecar), and a card beside a top-level tuned (a probe of issue 25 + 26 before this change)
    saveProbe(dir, { direction: d, layer: 1, pooling: 'mean', method: 'mean-diff', model: { sha256: 'c'.repeat(64) }, trainHash: '', nTrain: 0 });
    saveProbe(dir, { direction: d, layer: 3, pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0, card: makeCard(3) });
    for (const l of [1, 3]) {
      const f = join(dir, `layer${l}.json`);
      writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), tuned: tunedAt(l, l + 0.5) }));
    }
    const n1 = join(dir, 'layer1.npy'), n3 = join(dir, 'layer3.npy');
    expect(readTunedAlphas(n1)).toEqual([tunedAt(1, 1.5)]);
    expect(loadProbe(n1).tuned).toEqual(tunedAt(1, 1.5));
    expect(readVectorCards(n1).size).toBe(0);  // still a file without a card
    expect(readTunedAlphas(n3)).toEqual([tunedAt(3, 3.5)]);
    expect(readVectorCards(n3).get(3)!.tuned).toEqual(tunedAt(3, 3.5));
    // a damaged legacy record names the field
    const f3 = join(dir, 'layer3.json');
    const good = readFileSync(f3, 'utf8');
    writeFileSync(f3, JSON.stringify({ ...JSON.parse(good), tuned: { ...tunedAt(3, 1), alpha: 'x' } }));
    expect(() => loadProbe(n3)).toThrow(/layer3\.json: field "tuned\.alpha" must be a finite number/);
    writeFileSync(f3, good);
    // an update of another field moves the record into the card and drops the top-level one
    updateVectorCard(n1, 1, { auroc: 0.9 });
    updateVectorCard(n3, 3, { auroc: 0.8 });
    for (const [n, l] of [[n1, 1], [n3, 3]] as const) {
      const side = JSON.parse(readFileSync(join(dir, `layer${l}.json`), 'utf8'));
      expect(side.tuned).toBeUndefined();
      expect(side.card.tuned).toEqual(tunedAt(l, l + 0.5));
      expect(readTunedAlphas(n)).toEqual([tunedAt(l, l + 0.5)]);
    }
    // the made card holds what the sidecar knew
    expect(readVectorCards(n1).get(1)!.model.sha256).toBe('c'.repeat(64));
  });

  it('a card-less sidecar in a probe run gets its card from validation.json (probeRunCardFields) with the patch, keeping an older top-level tuned', () => {
    const dir = join(tmp.dir, 'run-probes');
    const d = unitRandom(16, 5);
    for (const l of [1, 2]) saveProbe(dir, { direction: d, layer: l, pooling: 'mean', method: 'mean-diff', model: {}, trainHash: 'h', nTrain: 4 });
    const f2 = join(dir, 'layer2.json');
    writeFileSync(f2, JSON.stringify({ ...JSON.parse(readFileSync(f2, 'utf8')), tuned: tunedAt(2, 2.5) }));
    const report = {
      model: { path: '/m.gguf', sha256: 'd'.repeat(64), arch: 'llama', n_layer: 6, n_embd: 16 }, method: 'mean-diff', pooling: 'mean',
      train: { hash: 'h', n_pairs: 2 }, test: { hash: 't', n_pairs: 2 }, layers: [{ layer: 1, auroc: 0.8 }, { layer: 2, auroc: 0.9 }],
    } as unknown as Parameters<typeof probeRunCardFields>[0];
    expect(probeRunCardFields(report, 3)).toEqual({});
    expect(probeRunCardFields(null, 1)).toEqual({});
    expect('tuned' in probeRunCardFields(report, 1)).toBe(false);
    updateVectorCard(join(dir, 'layer1.npy'), 1, { ...probeRunCardFields(report, 1), tuned: tunedAt(1, 4) });
    updateVectorCard(join(dir, 'layer2.npy'), 2, { ...probeRunCardFields(report, 2), auroc: 0.9 });
    const c1 = readVectorCards(join(dir, 'layer1.npy')).get(1)!, c2 = readVectorCards(join(dir, 'layer2.npy')).get(2)!;
    expect(c1).toMatchObject({ auroc: 0.8, model: { sha256: 'd'.repeat(64) }, tuned: tunedAt(1, 4) });
    expect(c2).toMatchObject({ auroc: 0.9, tuned: tunedAt(2, 2.5) });
  });

  it('a control vector carries one per block; updateVectorCard writes a block\'s tuned into its eia.card metadata', () => {
    const f = join(tmp.dir, 'cv.gguf');
    writeControlVector(f, new Map([[1, unitRandom(16, 3)], [2, unitRandom(16, 4)]]), 'llama', cardsToGgufMeta(new Map([[1, makeCard(1)], [2, makeCard(2)]])));
    expect(readTunedAlphas(f)).toEqual([]);
    updateVectorCard(f, 2, { tuned: tunedAt(2, 6, null) });
    expect(readTunedAlphas(f)).toEqual([tunedAt(2, 6, null)]);
    expect(readControlVector(f).meta['eia.card.2.tuned.alpha']).toBe(6);
    updateVectorCard(f, 1, { tuned: tunedAt(1, 3) });
    expect(readTunedAlphas(f).map((t) => t.layer)).toEqual([1, 2]);
    expect(chooseTuned(readTunedAlphas(f), null).kind).toBe('ambiguous');
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
