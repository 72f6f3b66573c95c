// Gated steering per request (issue 16, acceptance 3): a gated request reports for every token whether
// the gate steered it, streamed and whole, and the gate behaves as the engine's (the library run of
// the same gate, itself checked against the hand-run oracle in test/engine/gates.test.ts): same
// tokens, same flags, hysteresis, hold and budget included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gate, SequenceRequest } from '../../lib/engine/generate.js';
import type { ServerHandle } from '../../lib/server/index.js';
import { encodeVectorData } from '../../lib/server/vector-data.js';
import { tempDir } from '../helpers/fixtures.js';
import { gateRule } from '../helpers/gate-rule.js';
import { libraryRun, PLANTED_LAYER, plantedSetup, postJson, PROBE_NAME, readSse, startServer, type Planted } from './server-fixtures.js';

const tmp = tempDir('eia-serve-gate-');
const CTX = 256;
const PROMPT = 'The user is in distress and I must decide what to do.';
const LM = 1;
let p: Planted;
let server: ServerHandle;
let url: string;
let on = 0, off = 0;

beforeAll(async () => {
  p = await plantedSetup(tmp.dir);
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 4, ctx: CTX }));
  // thresholds around the middle of the unsteered projections at the gate's block
  const proj: number[] = [];
  for (let s = 0; s < 4; s++) {
    const r = await libraryRun(p.model, CTX, { prompt: PROMPT, temperature: 0.7, seed: s, maxTokens: 48, ignoreEog: true }, [{ layer: LM, direction: p.v }]);
    proj.push(...r.scores![0]);
  }
  proj.sort((a, b) => a - b);
  on = proj[Math.floor(proj.length * 0.5)];
  off = proj[Math.floor(proj.length * 0.75)];
});
afterAll(async () => {
  await server?.close();
  p?.model.free();
  tmp.cleanup();
});

const cases: { label: string; extra: Partial<Gate>; body: Record<string, unknown> }[] = [
  { label: 'hysteresis', extra: {}, body: {} },
  { label: 'hold 4, budget 10', extra: { minHold: 4, budget: 10 }, body: { min_hold: 4, budget: 10 } },
];

describe('gated requests', () => {
  for (const c of cases) {
    it(`${c.label}: per-token gate flags and tokens equal the library run of the same gate, streamed and whole`, async () => {
      const gate: Gate = { layer: LM, direction: p.v, on, off, positions: 'generated', steer: [{ layer: PLANTED_LAYER, direction: p.v, alpha: 5 }], ...c.extra };
      const seq: SequenceRequest = { prompt: PROMPT, temperature: 0.7, seed: 3, maxTokens: 48, ignoreEog: true, gate };
      const ref = await libraryRun(p.model, CTX, seq);
      const refFlags = Array.from(ref.gate!, (g) => g === 1);
      // the gate really switched in this run (else the comparison would prove little)
      expect(refFlags.some((g) => g) && refFlags.some((g) => !g), `flags ${refFlags.map(Number).join('')}`).toBe(true);
      const body = {
        prompt: PROMPT, temperature: 0.7, seed: 3, max_tokens: 48, ignore_eos: true, return_tokens: true,
        gate: { data: encodeVectorData(p.v), layer: LM, on, off, positions: 'generated', vectors: [{ name: PROBE_NAME, scale: 5 }], ...c.body },
      };
      const whole = await (await postJson(`${url}/v1/completions`, body)).json() as { gate: boolean[]; gate_steered: number; choices: { tokens: number[]; gate: boolean[] }[] };
      expect(whole.choices[0].tokens).toEqual(Array.from(ref.tokens));
      expect(whole.choices[0].gate).toEqual(refFlags);
      expect(whole.gate).toEqual(refFlags);
      expect(whole.gate_steered).toBe(ref.gateSteered);
      const events = (await readSse(await postJson(`${url}/v1/completions`, { ...body, stream: true }))).filter((e) => e !== '[DONE]') as { gate?: boolean[]; tokens?: number[] }[];
      const tokenChunks = events.filter((e) => e.tokens);
      expect(tokenChunks.every((e) => e.gate && e.gate.length === e.tokens!.length)).toBe(true);
      expect(tokenChunks.flatMap((e) => e.gate!)).toEqual(refFlags);
      expect(tokenChunks.flatMap((e) => e.tokens!)).toEqual(Array.from(ref.tokens));
      if (c.extra.budget !== undefined) expect(refFlags.filter((g) => g).length).toBeLessThanOrEqual(c.extra.budget);
    });
  }

  it('the gate oracle: the flags a gated request reports = the gate\'s rule over the unsteered projections of the tokens it fed (Lm == Ls: next token; hold 2, budget 9)', async () => {
    const prompt = Array.from(p.model.tokenize(PROMPT));
    const nP = prompt.length;
    // thresholds: midpoints of gaps between the unsteered run's projections near the 40th / 70th percentiles
    const plain = await libraryRun(p.model, CTX, { prompt: Int32Array.from(prompt), temperature: 0.7, seed: 5, maxTokens: 40, ignoreEog: true }, [{ layer: PLANTED_LAYER, direction: p.v }]);
    const sorted = Array.from(plain.scores![0]).sort((a, b) => a - b);
    const mid = (q: number) => { const i = Math.floor(q * (sorted.length - 1)); return (sorted[i] + sorted[i + 1]) / 2; };
    const [gOn, gOff] = [mid(0.4), mid(0.7)];
    const res = await postJson(`${url}/v1/completions`, {
      prompt, temperature: 0.7, seed: 5, max_tokens: 40, ignore_eos: true, return_tokens: true,
      gate: { name: PROBE_NAME, on: gOn, off: gOff, min_hold: 2, budget: 9, positions: 'generated', vectors: [{ name: PROBE_NAME, layers: [PLANTED_LAYER, PLANTED_LAYER + 1], scale: 6 }] },
    });
    const body = await res.json() as { gate_steered: number; choices: { tokens: number[]; gate: boolean[] }[] };
    expect(res.status).toBe(200);
    const { tokens, gate: flags } = body.choices[0];
    // the unsteered projections at the gate's block of every position the request fed (a capture pass)
    const fed = Int32Array.from([...prompt, ...tokens.slice(0, -1)]);
    const cap = await p.model.createContext({ nCtx: 256, nThreads: 1 });
    const r = await cap.capture([fed], { layers: [PLANTED_LAYER], pool: 'tokens', addSpecial: false });
    cap.free();
    const m = r.data.get(PLANTED_LAYER)!;
    const n = p.model.nEmbd;
    const proj = Array.from({ length: fed.length }, (_, t) => { let x = 0; for (let j = 0; j < n; j++) x += m[t * n + j] * p.v[j]; return x; });
    // capture and generation round differently in the last digits: no projection may sit on a threshold
    const margin = Math.min(...proj.map((x) => Math.min(Math.abs(x - gOn), Math.abs(x - gOff))));
    expect(margin, 'a projection sits on a threshold').toBeGreaterThan(1e-5 * Math.max(...proj.map(Math.abs)));
    const mask = gateRule(proj, { on: gOn, off: gOff, minHold: 2, budget: 9, lagged: true, firstPos: nP });
    const genMask = mask.slice(nP - 1).map((x) => x === 1);
    // it switched, and not everywhere
    expect(genMask.filter((x) => x).length, `flags ${genMask.map(Number).join('')}`).toBeGreaterThan(2);
    expect(genMask.filter((x) => !x).length).toBeGreaterThan(2);
    expect(flags).toEqual(genMask);
    expect(body.gate_steered).toBe(mask.reduce((a, b) => a + b, 0));
    expect(body.gate_steered).toBeLessThanOrEqual(9);
  });

  it('an ungated request carries no gate field', async () => {
    const r = await (await postJson(`${url}/v1/completions`, { prompt: PROMPT, max_tokens: 4 })).json() as Record<string, unknown> & { choices: Record<string, unknown>[] };
    expect(r.gate).toBeUndefined();
    expect(r.choices[0].gate).toBeUndefined();
  });
});
