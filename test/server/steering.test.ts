// Per-request steering and monitors through the server (issue 16, acceptance 2): the same vector by
// name (.npy probe), by inline base64 data, by control-vector GGUF and in EasySteer's request form
// gives the same tokens, equal to the library's; the planted direction raises the empathy-keyword
// share; probe_scores equal the live monitor of `generate`, streamed and whole, also when a request
// brings a monitor the running generation does not have. And the vectors endpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SequenceRequest } from '../../lib/engine/generate.js';
import { fileSha256 } from '../../lib/io/file-hash.js';
import { unitDirection } from '../../lib/probes/direction.js';
import { saveProbe } from '../../lib/probes/probe-file.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { encodeVectorData } from '../../lib/server/vector-data.js';
import { EMPATHY_KEYWORDS } from '../../lib/steering/scoring.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import {
  CVEC_NAME, eventually, libraryRun, OTHER_MODEL_PATH, OTHER_MODEL_PROBE, OTHER_MODEL_SHA, PLANTED_LAYER, plantedSetup, postJson, PROBE_AUROC, PROBE_NAME,
  RAW_NORM, RAW_PROBE_NAME, readSse, SCALED_CVEC_NAME, SCALED_NORM, startServer, type Planted,
} from './server-fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-serve-steer-');
const CTX = 256;
const PROMPT = 'The user is in distress and I must decide what to do.';
let p: Planted;
let server: ServerHandle;
let url: string;

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  p = await plantedSetup(tmp.dir);
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 8, ctx: CTX }));
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

interface Choice { text: string; tokens: number[]; probe_scores?: number[][]; gate?: boolean[] }

async function complete(body: Record<string, unknown>): Promise<Choice> {
  const res = await postJson(`${url}/v1/completions`, { prompt: PROMPT, temperature: 0.8, seed: 9, max_tokens: 32, ignore_eos: true, return_tokens: true, ...body });
  const json = await res.json() as { choices: Choice[]; error?: unknown };
  expect(res.status, JSON.stringify(json.error)).toBe(200);
  return json.choices[0];
}

describe('steering per request', () => {
  it('by name, by inline data, by control-vector GGUF and as EasySteer writes it: the same tokens as the library', async () => {
    const alpha = 5;
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.8, seed: 9, maxTokens: 32, ignoreEog: true, steer: [{ layer: PLANTED_LAYER, direction: p.v, alpha }] });
    const plain = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.8, seed: 9, maxTokens: 32, ignoreEog: true });
    expect(Array.from(ref.tokens), 'the steering changes the tokens (else this test proves nothing)').not.toEqual(Array.from(plain.tokens));
    const byName = await complete({ steering: { vectors: [{ name: PROBE_NAME, scale: alpha }] } });
    const byData = await complete({ steering: { vectors: [{ data: encodeVectorData(p.v), layers: PLANTED_LAYER, scale: alpha }] } });
    const byArray = await complete({ steering: { vectors: [{ data: Array.from(p.v), layers: [PLANTED_LAYER, PLANTED_LAYER], scale: alpha, apply: 'all' }] } });
    const byCvec = await complete({ steering: { vectors: [{ name: CVEC_NAME, scale: alpha }] } });
    const easySteer = await complete({
      steer_vector_request: {
        steer_vector_name: 'empathy', steer_vector_int_id: 1, steer_vector_local_path: join(p.vectorsDir, `${CVEC_NAME}.gguf`),
        scale: alpha, target_layers: [PLANTED_LAYER], prefill_trigger_tokens: [-1], generate_trigger_tokens: [-1], algorithm: 'direct', normalize: false,
      },
    });
    for (const [what, c] of Object.entries({ byName, byData, byArray, byCvec, easySteer })) expect(c.tokens, what).toEqual(Array.from(ref.tokens));
  });

  it('layer ranges, apply and normalize reach the engine as given (= the library with the same terms)', async () => {
    const seq: SequenceRequest = { prompt: PROMPT, temperature: 0.8, seed: 9, maxTokens: 32, ignoreEog: true, steer: [{ layers: [2, 4], direction: p.v, alpha: 3, normalize: true, positions: 'generated' }] };
    const ref = await libraryRun(p.model, CTX, seq);
    const viaRange = await complete({ steering: { vectors: [{ name: PROBE_NAME, layers: [2, 4], scale: 3, normalize: true, apply: 'generated' }] } });
    // EasySteer: a list of blocks, generation-phase trigger only
    const viaTargets = await complete({ steering: { vectors: [{ name: PROBE_NAME, target_layers: [4, 2, 3], scale: 3, normalize: true, generate_trigger_tokens: [-1] }] } });
    expect(viaRange.tokens).toEqual(Array.from(ref.tokens));
    expect(viaTargets.tokens).toEqual(Array.from(ref.tokens));
  });

  it('steering along the planted direction raises the empathy-keyword share', async () => {
    const lexicon = new Set<number>();
    for (let t = 0; t < p.model.info.nVocab; t++) {
      const piece = p.model.tokenPiece(t).toLowerCase();
      if (EMPATHY_KEYWORDS.some((k) => piece.includes(k))) lexicon.add(t);
    }
    const run = async (steering: unknown) => Promise.all(Array.from({ length: 8 }, (_, s) => complete({ seed: s, max_tokens: 48, temperature: 0.7, ...(steering ? { steering } : {}) })));
    const share = (cs: Choice[]) => {
      let hit = 0, n = 0;
      for (const c of cs) for (const t of c.tokens) { n++; if (lexicon.has(t)) hit++; }
      return hit / n;
    };
    const base = share(await run(null));
    const up = share(await run({ vectors: [{ name: PROBE_NAME, scale: 5 }] }));
    const down = share(await run({ vectors: [{ name: PROBE_NAME, scale: -5 }] }));
    console.log(`[serve] empathy-keyword share: alpha -5 ${down.toFixed(3)}, 0 ${base.toFixed(3)}, +5 ${up.toFixed(3)}`);
    expect(up).toBeGreaterThan(base);
    expect(down).toBeLessThan(base);
  });
});

describe('probe_scores', () => {
  it('equal the live monitor of generate: per chunk while streaming, the whole series at the end', async () => {
    const seq: SequenceRequest = { prompt: PROMPT, temperature: 0.8, seed: 4, maxTokens: 24, ignoreEog: true, steer: [{ layer: 2, direction: p.v, alpha: 2 }] };
    const monitors = [{ layer: PLANTED_LAYER, direction: p.v }, { layer: 1, direction: p.v }];
    const ref = await libraryRun(p.model, CTX, seq, monitors);
    const body = {
      prompt: PROMPT, temperature: 0.8, seed: 4, max_tokens: 24, ignore_eos: true, return_tokens: true,
      steering: { vectors: [{ name: PROBE_NAME, layers: 2, scale: 2 }] },
      monitor: [{ name: PROBE_NAME }, { data: encodeVectorData(p.v), layer: 1 }],
    };
    const expected = Array.from({ length: ref.tokens.length }, (_, t) => [ref.scores![0][t], ref.scores![1][t]]);
    const whole = await (await postJson(`${url}/v1/completions`, body)).json() as { probe_scores: number[][]; choices: Choice[] };
    expect(whole.choices[0].tokens).toEqual(Array.from(ref.tokens));
    expect(whole.choices[0].probe_scores).toEqual(expected);
    expect(whole.probe_scores).toEqual(expected);
    const events = await readSse(await postJson(`${url}/v1/completions`, { ...body, stream: true }));
    const chunks = events.filter((e) => e !== '[DONE]') as { probe_scores?: number[][]; tokens?: number[]; choices: { probe_scores?: number[][] }[] }[];
    const streamed = chunks.flatMap((c) => c.probe_scores ?? []);
    // each chunk carries the scores of its own tokens, in the chunk and in its choice
    const withTokens = chunks.filter((c) => c.tokens);
    expect(withTokens.length).toBeGreaterThan(1);
    expect(withTokens.every((c) => c.probe_scores!.length === c.tokens!.length && c.probe_scores!.every((row) => row.length === 2))).toBe(true);
    expect(withTokens.every((c) => JSON.stringify(c.choices[0].probe_scores) === JSON.stringify(c.probe_scores))).toBe(true);
    expect(streamed).toEqual(expected);
    expect(events[events.length - 1]).toBe('[DONE]');
  });

  it('requests with different monitors share the batch: each gets its own scores, the tokens of its lone run, the scores to float rounding', async () => {
    const longSeq: SequenceRequest = { prompt: 'A long answer follows.', temperature: 0.7, seed: 1, maxTokens: 200, ignoreEog: true };
    const refA = await libraryRun(p.model, CTX, longSeq, [{ layer: 4, direction: p.v }]);
    const seqB: SequenceRequest = { prompt: PROMPT, temperature: 0.7, seed: 2, maxTokens: 20, ignoreEog: true };
    const refB = await libraryRun(p.model, CTX, seqB, [{ layer: 5, direction: p.v }, { layer: 1, direction: p.v }]);
    const resA = await postJson(`${url}/v1/completions`, { prompt: longSeq.prompt, temperature: 0.7, seed: 1, max_tokens: 200, ignore_eos: true, stream: true, return_tokens: true, monitor: [{ data: encodeVectorData(p.v), layer: 4 }] });
    let sent: Promise<{ at: number; body: { probe_scores: number[][]; choices: Choice[] } }> | null = null;
    const eventsA = await readSse(resA, () => {
      if (!sent) {
        sent = postJson(`${url}/v1/completions`, { prompt: PROMPT, temperature: 0.7, seed: 2, max_tokens: 20, ignore_eos: true, return_tokens: true, monitor: [{ data: encodeVectorData(p.v), layer: 5 }, { name: PROBE_NAME, layer: 1 }] })
          .then(async (r) => ({ at: performance.now(), body: await r.json() as { probe_scores: number[][]; choices: Choice[] } }));
      }
    });
    const aDone = performance.now();
    const b = await sent!;
    // B did not wait for A: it was answered while A was still decoding
    expect(b.at).toBeLessThan(aDone);
    const chunksA = eventsA.filter((e) => e !== '[DONE]') as { probe_scores?: number[][]; tokens?: number[] }[];
    expect(chunksA.flatMap((c) => c.tokens ?? [])).toEqual(Array.from(refA.tokens));
    expect(b.body.choices[0].tokens).toEqual(Array.from(refB.tokens));
    // a residual row computed in a batch of two and alone differ in the last bits (the matmul's
    // accumulation order depends on the batch): the scores agree to float rounding, not bit for bit
    const relErr = (got: number[][], want: Float32Array[]) => {
      expect(got.length).toBe(want[0].length);
      let worst = 0;
      got.forEach((row, t) => {
        expect(row.length).toBe(want.length);
        row.forEach((x, k) => { worst = Math.max(worst, Math.abs(x - want[k][t]) / Math.max(1, Math.abs(want[k][t]))); });
      });
      return worst;
    };
    const errA = relErr(chunksA.flatMap((c) => c.probe_scores ?? []), refA.scores!);
    const errB = relErr(b.body.probe_scores, refB.scores!);
    console.log(`[serve] probe_scores in a shared batch vs alone: max rel err A ${errA.toExponential(1)}, B ${errB.toExponential(1)}`);
    expect(errA).toBeLessThan(1e-5);
    expect(errB).toBeLessThan(1e-5);
  });
});

describe('the same as the generate command', () => {
  it('`eia-native generate --probe F --monitor L:F --json` (a probe file of norm 3): the same tokens and monitor values as the server with that vector by name', async () => {
    const file = join(p.vectorsDir, `${RAW_PROBE_NAME}.npy`);
    const cli = await runCli(['generate', '-m', p.model.info.path, '--prompt', PROMPT, '--probe', file, '--layer', String(PLANTED_LAYER), '--alphas', '4',
      '--monitor', `${PLANTED_LAYER}:${file}`, '--monitor', `1:${file}`, '--seed', '9', '--temp', '0.8', '-n', '24', '--json', '-t', '1']);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(/has norm 3\.000: it is used as a unit direction/);
    const gen = JSON.parse(cli.stdout.trim().split('\n')[0]) as { tokens: number[]; monitor: { layer: number; scores: number[] }[] };
    const res = await postJson(`${url}/v1/completions`, {
      prompt: PROMPT, seed: 9, temperature: 0.8, max_tokens: 24, return_tokens: true,
      steering: { vectors: [{ name: RAW_PROBE_NAME, scale: 4 }] }, monitor: [{ name: RAW_PROBE_NAME }, { name: RAW_PROBE_NAME, layer: 1 }],
    });
    const body = await res.json() as { choices: Choice[] };
    expect(res.status).toBe(200);
    expect(body.choices[0].tokens).toEqual(gen.tokens);
    const scores = body.choices[0].probe_scores!;
    expect(scores.length).toBe(gen.tokens.length);
    // the command runs in a context of its own size: a residual row may differ in its last bits
    let worst = 0;
    scores.forEach((row, t) => row.forEach((x, k) => { worst = Math.max(worst, Math.abs(x - gen.monitor[k].scores[t]) / Math.max(1, Math.abs(gen.monitor[k].scores[t]))); }));
    console.log(`[serve] probe_scores vs the generate command: max rel err ${worst.toExponential(1)} over ${scores.length} tokens`);
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('the norm rule and the model check (one rule with generate, steer and cvec)', () => {
  interface Answer { choices: Choice[]; warnings?: string[] }
  const ask = async (body: Record<string, unknown>): Promise<Answer> => {
    const res = await postJson(`${url}/v1/completions`, { prompt: PROMPT, temperature: 0.8, seed: 9, max_tokens: 32, ignore_eos: true, return_tokens: true, ...body });
    const json = await res.json() as Answer & { error?: unknown };
    expect(res.status, JSON.stringify(json.error)).toBe(200);
    return json;
  };

  it('a vector of norm other than 1 steers as its unit direction, by inline data, control vector and probe file alike, and the response says so', async () => {
    const alpha = 4;
    const unit = unitDirection(p.v, 'v').direction;
    const ref = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.8, seed: 9, maxTokens: 32, ignoreEog: true, steer: [{ layer: PLANTED_LAYER, direction: unit, alpha }] });
    // what adding the stored vector as it is would give: other tokens (else this test could not fail)
    const asStored = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.8, seed: 9, maxTokens: 32, ignoreEog: true, steer: [{ layer: PLANTED_LAYER, direction: Float32Array.from(p.v, (x) => x * SCALED_NORM), alpha }] });
    expect(Array.from(asStored.tokens)).not.toEqual(Array.from(ref.tokens));
    const byData = await ask({ steering: { vectors: [{ data: encodeVectorData(Float32Array.from(p.v, (x) => x * SCALED_NORM)), layers: PLANTED_LAYER, scale: alpha }] } });
    const byCvec = await ask({ steering: { vectors: [{ name: SCALED_CVEC_NAME, scale: alpha }] } });
    const byFile = await ask({ steering: { vectors: [{ name: RAW_PROBE_NAME, scale: alpha }] } });
    const byUnit = await ask({ steering: { vectors: [{ name: PROBE_NAME, scale: alpha }] } });
    for (const [what, a] of Object.entries({ byData, byCvec, byFile, byUnit })) expect(a.choices[0].tokens, what).toEqual(Array.from(ref.tokens));
    expect(byData.warnings?.join('\n')).toMatch(/steering\.vectors\[0\]\.data has norm 2\.500: it is used as a unit direction/);
    expect(byCvec.warnings?.join('\n')).toMatch(new RegExp(`vector '${SCALED_CVEC_NAME}' block ${PLANTED_LAYER} has norm 2\\.500`));
    expect(byFile.warnings?.join('\n')).toMatch(new RegExp(`vector '${RAW_PROBE_NAME}' has norm ${RAW_NORM.toFixed(3).replace('.', '\\.')}`));
    expect(byUnit.warnings, 'a unit vector brings no note').toBeUndefined();
    // streamed: the note rides in the first chunk only
    const events = (await readSse(await postJson(`${url}/v1/completions`, { prompt: PROMPT, seed: 9, max_tokens: 6, stream: true, steering: { vectors: [{ name: SCALED_CVEC_NAME, scale: alpha }] } })))
      .filter((e) => e !== '[DONE]') as { warnings?: string[] }[];
    expect(events[0].warnings?.join('\n')).toMatch(/has norm 2\.500/);
    expect(events.slice(1).every((e) => e.warnings === undefined)).toBe(true);
  });

  it('a monitor reads the unit direction too: a probe file of norm 3 scores as the unit probe', async () => {
    const unitScores = (await ask({ max_tokens: 12, monitor: [{ name: PROBE_NAME }] })).choices[0].probe_scores!;
    const rawScores = (await ask({ max_tokens: 12, monitor: [{ name: RAW_PROBE_NAME }] })).choices[0].probe_scores!;
    expect(unitScores.length).toBe(12);
    expect(rawScores.length).toBe(12);
    // unit(3v) and v differ by float rounding only; 3v as stored would give three times the scores
    rawScores.forEach((row, t) => expect(Math.abs(row[0] - unitScores[t][0])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(unitScores[t][0]))));
    expect(unitScores.some((row) => Math.abs(row[0]) > 0.1), 'scores large enough to tell 1x from 3x').toBe(true);
  });

  it('a probe trained on another model: a warning in the response (no paths) and in the listing; the served model\'s own probe: none', async () => {
    for (const body of [{ steering: { vectors: [{ name: OTHER_MODEL_PROBE, scale: 2 }] } }, { monitor: [{ name: OTHER_MODEL_PROBE }] }]) {
      const a = await ask({ max_tokens: 4, ...body });
      expect(a.warnings?.join('\n')).toMatch(new RegExp(`vector '${OTHER_MODEL_PROBE}' was trained on another model \\(sha256 ${OTHER_MODEL_SHA.slice(0, 12)}`));
      expect(JSON.stringify(a)).not.toContain('secret-dir');
    }
    const list = await (await fetch(`${url}/v1/steering/vectors`)).json() as { data: { name: string; model_sha256: string | null; warning: string | null }[] };
    const other = list.data.find((v) => v.name === OTHER_MODEL_PROBE)!;
    expect(other.model_sha256).toBe(OTHER_MODEL_SHA);
    expect(other.warning).toMatch(/trained on another model/);
    expect(other.warning).not.toContain(OTHER_MODEL_PATH);
    expect(list.data.find((v) => v.name === PROBE_NAME)!.warning).toBeNull();
    // a probe recording the served model's own sha256: no warning (the check compares, it does not just see a record)
    const own = await fileSha256(p.model.info.path);
    saveProbe(join(p.vectorsDir, 'own'), { direction: p.v, layer: PLANTED_LAYER, pooling: 'mean', method: 'mean-diff', model: { sha256: own }, trainHash: '', nTrain: 0 });
    let res: Response | null = null;
    await eventually(async () => {
      res = await postJson(`${url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, steering: { vectors: [{ name: 'own/layer3', scale: 2 }] } });
      return res.status === 200;
    }, 5000);
    expect(((await res!.json()) as Answer).warnings).toBeUndefined();
  });
});

describe('/v1/steering/vectors', () => {
  it('lists the folder: name, layers, dimensions, method, validation AUROC', async () => {
    const list = await (await fetch(`${url}/v1/steering/vectors`)).json() as { data: Record<string, unknown>[] };
    const probe = list.data.find((v) => v.name === PROBE_NAME)!;
    const cvec = list.data.find((v) => v.name === CVEC_NAME)!;
    expect(probe).toMatchObject({ kind: 'probe', layer: PLANTED_LAYER, layers: [PLANTED_LAYER], dimensions: p.model.nEmbd, method: 'mean-diff', auroc: PROBE_AUROC, compatible: true });
    expect(cvec).toMatchObject({ kind: 'control-vector', layers: [PLANTED_LAYER], dimensions: p.model.nEmbd, auroc: null, compatible: true });
  });

  it('registers a vector in memory or in the folder (persist), usable by name at once', async () => {
    const mem = await postJson(`${url}/v1/steering/vectors`, { name: 'mine/empathy', data: encodeVectorData(p.v), layer: PLANTED_LAYER, method: 'mean-diff' });
    expect(mem.status).toBe(201);
    expect(await mem.json()).toMatchObject({ name: 'mine/empathy', source: 'memory', layers: [PLANTED_LAYER] });
    const kept = await postJson(`${url}/v1/steering/vectors`, { name: 'kept/empathy', data: encodeVectorData(p.v), layer: PLANTED_LAYER, persist: true });
    expect(kept.status).toBe(201);
    expect(existsSync(join(p.vectorsDir, 'kept', 'empathy.npy'))).toBe(true);
    expect(existsSync(join(p.vectorsDir, 'kept', 'empathy.json'))).toBe(true);
    const again = await postJson(`${url}/v1/steering/vectors`, { name: 'mine/empathy', data: encodeVectorData(p.v), layer: 1 });
    expect(again.status).toBe(409);
    const names = ((await (await fetch(`${url}/v1/steering/vectors`)).json()) as { data: { name: string; source: string }[] }).data;
    expect(names.find((v) => v.name === 'kept/empathy')?.source).toBe('folder');
    const ref = await complete({ steering: { vectors: [{ name: PROBE_NAME, scale: 4 }] } });
    expect((await complete({ steering: { vectors: [{ name: 'mine/empathy', scale: 4 }] } })).tokens).toEqual(ref.tokens);
    expect((await complete({ steering: { vectors: [{ name: 'kept/empathy', scale: 4 }] } })).tokens).toEqual(ref.tokens);
    const escape = await postJson(`${url}/v1/steering/vectors`, { name: '../outside', data: encodeVectorData(p.v), layer: 1, persist: true });
    expect(escape.status).toBe(400);
    expect(existsSync(join(p.vectorsDir, '..', 'outside.npy'))).toBe(false);
  });
});
