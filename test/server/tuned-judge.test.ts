// The server and issue 26: `scale: "tuned"` steers with the alpha `tune` recorded in a probe's
// sidecar (the same tokens as that alpha written out; 400 no_tuned_scale where there is none), the
// vectors listing shows it; and the LLM judge run against `eia-native serve` on the planted model,
// whose answers hold no rating: every one is counted as unparseable and reported, none guessed, and
// `score --judge` finishes cleanly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSha256 } from '../../lib/io/file-hash.js';
import { loadProbe } from '../../lib/probes/probe-file.js';
import { writeTunedAlpha } from '../../lib/probes/tuned-alpha.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { JudgeClient } from '../../lib/steering/judge/client.js';
import { judgeSamples } from '../../lib/steering/judge/judge.js';
import type { SampleRecord } from '../../lib/steering/samples.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { CVEC_NAME, OTHER_MODEL_PROBE, PLANTED_LAYER, plantedSetup, postJson, PROBE_NAME, startServer, type Planted } from './server-fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-tuned-judge-');
const TUNED = 4.5;
let p: Planted;
let server: ServerHandle;
let url: string;

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  p = await plantedSetup(tmp.dir);
  const npy = join(p.vectorsDir, `${PROBE_NAME}.npy`);
  writeTunedAlpha(npy, loadProbe(npy), {
    alpha: TUNED, layer: PLANTED_LAYER, objective: 'keyword_share', max_ppl_ratio: 1.5, model_sha256: await fileSha256(p.model.info.path),
    tune_json: '/somewhere/tune.json', created_at: '2026-01-01T00:00:00Z',
  });
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 4, ctx: 1024 }));
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

const PROMPT = 'The user is in distress and I must decide what to do.';
async function complete(scale: unknown, name = PROBE_NAME): Promise<{ status: number; body: any }> {
  const res = await postJson(`${url}/v1/completions`, { prompt: PROMPT, temperature: 0.8, seed: 4, max_tokens: 24, ignore_eos: true, return_tokens: true, steering: { vectors: [{ name, scale }] } });
  return { status: res.status, body: await res.json() };
}

describe('scale: "tuned"', () => {
  it('steers with the probe\'s tuned alpha: the same tokens as the alpha written out, not those of another', async () => {
    const tuned = await complete('tuned');
    const explicit = await complete(TUNED);
    const other = await complete(TUNED / 3);
    expect(tuned.status, JSON.stringify(tuned.body.error)).toBe(200);
    expect(tuned.body.choices[0].tokens).toEqual(explicit.body.choices[0].tokens);
    expect(tuned.body.choices[0].tokens).not.toEqual(other.body.choices[0].tokens);
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

  it('the vectors listing shows the tuned alpha', async () => {
    const list = await (await fetch(`${url}/v1/steering/vectors`)).json() as { data: { name: string; tuned: { alpha: number; layer: number } | null }[] };
    expect(list.data.find((v) => v.name === PROBE_NAME)!.tuned).toMatchObject({ alpha: TUNED, layer: PLANTED_LAYER });
    expect(list.data.find((v) => v.name === CVEC_NAME)!.tuned).toBeNull();
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
