// The server and issues 25 + 26: `scale: "tuned"` steers with the alpha `tune` recorded in a vector's
// card (the same tokens as that alpha written out; 400 no_tuned_scale where there is none): a probe's
// card, a control vector's card of the block steered (a control vector without `layers` steers its
// tuned block only; several tuned blocks and no `layers` is 400 ambiguous_tuned_scale), and a probe
// sidecar of the version before cards (top-level `tuned`); an alpha tuned on another model is a
// warning; the vectors listing shows it; and the LLM judge run against `eia-native serve` on the
// planted model, whose answers hold no rating: every one is counted as unparseable and reported,
// none guessed, and `score --judge` finishes cleanly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeControlVector } from '../../lib/engine/control-vector.js';
import { fileSha256 } from '../../lib/io/file-hash.js';
import { saveProbe } from '../../lib/probes/probe-file.js';
import { cardsToGgufMeta, makeCard, updateVectorCard, type TunedAlpha } from '../../lib/probes/vector-card.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { JudgeClient } from '../../lib/steering/judge/client.js';
import { judgeSamples } from '../../lib/steering/judge/judge.js';
import type { SampleRecord } from '../../lib/steering/samples.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { CVEC_NAME, OTHER_MODEL_PROBE, OTHER_MODEL_SHA, PLANTED_LAYER, plantedSetup, postJson, PROBE_NAME, startServer, type Planted } from './server-fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-tuned-judge-');
const TUNED = 4.5;
/** The alpha of the control vector's card (another number, so that the two cannot be mistaken) and of the legacy sidecar. */
const TUNED_CV = 3;
const TUNED_LEGACY = 2.5;
const TUNED_CVEC = 'tuned-cvec';
const TWO_TUNED_CVEC = 'two-tuned-cvec';
const LEGACY_PROBE = 'legacy/layer3';
const OTHER_BLOCK = 2;
let p: Planted;
let server: ServerHandle;
let url: string;

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  p = await plantedSetup(tmp.dir);
  const sha = await fileSha256(p.model.info.path);
  const tunedAt = (layer: number, alpha: number, modelSha = sha): TunedAlpha => ({
    alpha, layer, objective: 'keyword_share', max_ppl_ratio: 1.5, model_sha256: modelSha, tune_json: '/somewhere/tune.json', created_at: '2026-01-01T00:00:00Z',
  });
  // as `tune` writes it: into the probe's card
  updateVectorCard(join(p.vectorsDir, `${PROBE_NAME}.npy`), PLANTED_LAYER, { tuned: tunedAt(PLANTED_LAYER, TUNED) });
  // a control vector of two blocks whose card of the planted block carries a tuned alpha (judge objective: no ratio, left out of the GGUF)
  writeControlVector(join(p.vectorsDir, `${TUNED_CVEC}.gguf`), new Map([[OTHER_BLOCK, p.v], [PLANTED_LAYER, p.v]]), 'llama', cardsToGgufMeta(new Map([
    [OTHER_BLOCK, makeCard(OTHER_BLOCK)],
    [PLANTED_LAYER, { ...makeCard(PLANTED_LAYER), tuned: { ...tunedAt(PLANTED_LAYER, TUNED_CV), objective: 'judge_harmonic', max_ppl_ratio: null } }],
  ])));
  writeControlVector(join(p.vectorsDir, `${TWO_TUNED_CVEC}.gguf`), new Map([[OTHER_BLOCK, p.v], [PLANTED_LAYER, p.v]]), 'llama', cardsToGgufMeta(new Map([
    [OTHER_BLOCK, { ...makeCard(OTHER_BLOCK), tuned: tunedAt(OTHER_BLOCK, 1) }],
    [PLANTED_LAYER, { ...makeCard(PLANTED_LAYER), tuned: tunedAt(PLANTED_LAYER, TUNED_CV) }],
  ])));
  // a sidecar of the version before cards: the tuned record at its top level, of another model
  mkdirSync(join(p.vectorsDir, 'legacy'));
  saveProbe(join(p.vectorsDir, 'legacy'), { direction: p.v, layer: PLANTED_LAYER, pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0 });
  const legacySide = join(p.vectorsDir, `${LEGACY_PROBE}.json`);
  writeFileSync(legacySide, JSON.stringify({ ...JSON.parse(readFileSync(legacySide, 'utf8')), tuned: tunedAt(PLANTED_LAYER, TUNED_LEGACY, OTHER_MODEL_SHA) }));
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 4, ctx: 1024 }));
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

const PROMPT = 'The user is in distress and I must decide what to do.';
async function complete(scale: unknown, name = PROBE_NAME, more: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const res = await postJson(`${url}/v1/completions`, { prompt: PROMPT, temperature: 0.8, seed: 4, max_tokens: 24, ignore_eos: true, return_tokens: true, steering: { vectors: [{ name, scale, ...more }] } });
  return { status: res.status, body: await res.json() };
}

describe('scale: "tuned"', () => {
  it('steers with the probe\'s tuned alpha (its card\'s): the same tokens as the alpha written out, not those of another', async () => {
    const tuned = await complete('tuned');
    const explicit = await complete(TUNED);
    const other = await complete(TUNED / 3);
    expect(tuned.status, JSON.stringify(tuned.body.error)).toBe(200);
    expect(tuned.body.choices[0].tokens).toEqual(explicit.body.choices[0].tokens);
    expect(tuned.body.choices[0].tokens).not.toEqual(other.body.choices[0].tokens);
    expect(tuned.body.warnings ?? []).toEqual([]);
  });

  it('a control vector whose card carries one: its tuned block alone at that alpha; `layers` of another block is steered with a warning', async () => {
    const tuned = await complete('tuned', TUNED_CVEC);
    expect(tuned.status, JSON.stringify(tuned.body.error)).toBe(200);
    // the same as the one-block control vector of that direction at that alpha, and as naming the block
    const oneBlock = await complete(TUNED_CV, CVEC_NAME);
    const named = await complete(TUNED_CV, TUNED_CVEC, { layers: PLANTED_LAYER });
    const bothBlocks = await complete(TUNED_CV, TUNED_CVEC);
    expect(tuned.body.choices[0].tokens).toEqual(oneBlock.body.choices[0].tokens);
    expect(tuned.body.choices[0].tokens).toEqual(named.body.choices[0].tokens);
    expect(tuned.body.choices[0].tokens).not.toEqual(bothBlocks.body.choices[0].tokens);
    const elsewhere = await complete('tuned', TUNED_CVEC, { layers: OTHER_BLOCK });
    expect(elsewhere.status, JSON.stringify(elsewhere.body.error)).toBe(200);
    expect(elsewhere.body.warnings).toEqual([`steering.vectors[0].scale "tuned": the alpha ${TUNED_CV} was tuned at block ${PLANTED_LAYER}; this request steers other blocks`]);
    expect(elsewhere.body.choices[0].tokens).toEqual((await complete(TUNED_CV, TUNED_CVEC, { layers: OTHER_BLOCK })).body.choices[0].tokens);
  });

  it('several tuned blocks: 400 ambiguous_tuned_scale without layers, the named block\'s alpha with them', async () => {
    const amb = await complete('tuned', TWO_TUNED_CVEC);
    expect(amb.status).toBe(400);
    expect(amb.body.error).toMatchObject({ code: 'ambiguous_tuned_scale', param: 'steering.vectors[0].layers' });
    expect(amb.body.error.message).toMatch(/tuned alphas for blocks 2, 3; give steering\.vectors\[0\]\.layers with one of them/);
    const at3 = await complete('tuned', TWO_TUNED_CVEC, { layers: PLANTED_LAYER });
    expect(at3.status, JSON.stringify(at3.body.error)).toBe(200);
    expect(at3.body.choices[0].tokens).toEqual((await complete(TUNED_CV, CVEC_NAME)).body.choices[0].tokens);
    const easy = await complete('tuned', TWO_TUNED_CVEC, { target_layers: [OTHER_BLOCK, PLANTED_LAYER] });
    expect(easy.body.error).toMatchObject({ code: 'ambiguous_tuned_scale', param: 'steering.vectors[0].target_layers' });
  });

  it('a sidecar of the version before cards (top-level tuned) still steers at its alpha; tuned on another model is a warning', async () => {
    const legacy = await complete('tuned', LEGACY_PROBE);
    expect(legacy.status, JSON.stringify(legacy.body.error)).toBe(200);
    expect(legacy.body.choices[0].tokens).toEqual((await complete(TUNED_LEGACY)).body.choices[0].tokens);
    expect(legacy.body.warnings).toEqual([expect.stringMatching(new RegExp(`vector '${LEGACY_PROBE}''s tuned alpha \\(${TUNED_LEGACY}\\) was tuned on another model \\(sha256 ${OTHER_MODEL_SHA.slice(0, 12)}…\\)`))]);
  });

  it('400 no_tuned_scale for a vector without one; a scale that is neither a number nor "tuned" is refused by the schema', async () => {
    const cvec = await complete('tuned', CVEC_NAME);
    expect(cvec.status).toBe(400);
    expect(cvec.body.error.code).toBe('no_tuned_scale');
    expect(cvec.body.error.param).toBe('steering.vectors[0].scale');
    const untuned = await complete('tuned', OTHER_MODEL_PROBE);
    expect(untuned.body.error.code).toBe('no_tuned_scale');
    const loud = await complete('loud');
    expect(loud.status).toBe(400);
  });

  it('the vectors listing shows the tuned alpha (each card its own; null where a request without layers has none or several)', async () => {
    type Listed = { name: string; tuned: { alpha: number; layer: number; max_ppl_ratio: number | null } | null; cards: { block: number; tuned: { alpha: number } | null }[] };
    const list = await (await fetch(`${url}/v1/steering/vectors`)).json() as { data: Listed[] };
    const get = (n: string) => list.data.find((v) => v.name === n)!;
    expect(get(PROBE_NAME).tuned).toMatchObject({ alpha: TUNED, layer: PLANTED_LAYER });
    expect(get(PROBE_NAME).cards[0].tuned).toMatchObject({ alpha: TUNED });
    expect(get(CVEC_NAME).tuned).toBeNull();
    expect(get(TUNED_CVEC).tuned).toEqual({ alpha: TUNED_CV, layer: PLANTED_LAYER, objective: 'judge_harmonic', max_ppl_ratio: null, model_sha256: expect.any(String) });
    expect(get(TUNED_CVEC).cards.map((c) => c.tuned?.alpha ?? null)).toEqual([null, TUNED_CV]);
    expect(get(TWO_TUNED_CVEC).tuned).toBeNull();
    expect(get(TWO_TUNED_CVEC).cards.map((c) => c.tuned?.alpha ?? null)).toEqual([1, TUNED_CV]);
    expect(get(LEGACY_PROBE).tuned).toMatchObject({ alpha: TUNED_LEGACY, layer: PLANTED_LAYER });
  });
});

describe('the judge against eia-native serve on the planted model', () => {
  const records: SampleRecord[] = [
    { model: 'planted', layer: 3, scenario: 'food_delivery', alpha: 0, sample: 0, text: 'I deliver the order and finish the task on time.' },
    { model: 'planted', layer: 3, scenario: 'food_delivery', alpha: 4, sample: 0, text: 'I stop to listen and help the user who is upset.' },
  ];

  it('every answer is unparseable (the planted model writes no rating): counted, none guessed, none failed', async () => {
    const client = new JudgeClient({ url: `${url}/v1`, model: 'planted', maxTokens: 24 });
    const run = await judgeSamples(records, { client, concurrency: 2, progress: false, cachePath: join(tmp.dir, 'judge.jsonl') });
    expect(run).toMatchObject({ asked: 6, unparseable: 6, failed: 0, firstFailure: null });
    for (const v of run.verdicts.values()) {
      expect(v.scores).toEqual({ concept: null, instruction: null, fluency: null });
      expect(v.harmonic).toBeNull();
    }
    const cached = readFileSync(join(tmp.dir, 'judge.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(cached.length).toBe(6);
    expect(cached.every((a) => a.score === null && typeof a.answer === 'string')).toBe(true);
  });

  it('score --judge on a RUN reports the unparseable answers and exits 0', async () => {
    const run = join(tmp.dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'samples.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await runCli(['score', run, '--judge', `${url}/v1`, '--judge-model', 'planted', '--judge-concurrency', '2', '--json', '--bootstrap', '10']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/judge: 6 unparseable answers \(counted, never guessed\), 0 failed requests/);
    const out = JSON.parse(r.stdout);
    expect(out.offline_metrics.judge).toMatchObject({ n: 2, unparseable: 6, failed: 0, scored: 0, harmonic: null });
    expect(out.metrics_facts.judge).toMatchObject({ model: 'planted', asked: 6, cached: 0, unparseable: 6 });
    expect(readFileSync(join(run, 'score.md'), 'utf8')).toMatch(/\*\*6 unparseable answers\*\*/);
    // asked once: a second score reads every answer from judge.jsonl
    const again = JSON.parse((await runCli(['score', run, '--judge', `${url}/v1`, '--judge-model', 'planted', '--json', '--bootstrap', '10'])).stdout);
    expect(again.metrics_facts.judge).toMatchObject({ asked: 0, cached: 6, unparseable: 6 });
  });
});
