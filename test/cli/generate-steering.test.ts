// `generate` with the steering of issue 15: --gate LM:PROBE.npy:ON:OFF with --gate-steer
// LS:PROBE.npy:ALPHA (records carry `gate`, one boolean per generated token), --layer-range A-B and
// --normalize; each equals the library call it stands for, and bad specs are usage errors (exit 2).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import { readNpy } from '../../lib/io/npy.js';
import { runCli } from '../helpers/cli.js';
import { synthTo, tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

const tmp = tempDir('eia-cli-steer-');
afterAll(() => tmp.cleanup());
let model = '';
let probe = '';

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  const r = await synthTo(tmp.dir, 'p', { planted: true, seed: 3 });
  model = r.path;
  probe = r.plantedNpy!;
});

const PROMPT = 'The user is in distress and I must decide what to do.';

async function json(args: string[]): Promise<Record<string, unknown>[]> {
  const r = await runCli(['generate', '--model', model, '--prompt', PROMPT, '--threads', '1', '--json', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('generate: gates, block ranges, norm-preserving steering', () => {
  it('--gate/--gate-steer: each record carries `gate` per token, equal to the library run with the same gate', async () => {
    const recs = await json(['--gate', `1:${probe}:-0.2:0.3`, '--gate-steer', `3:${probe}:5`, '--gate-hold', '2', '--max-tokens', '24', '--samples', '2', '--temp', '0.7', '--seed', '4']);
    expect(recs).toHaveLength(2);
    const m = await Model.load(model);
    const v = readNpy(probe).data;
    const ctx = await m.createContext(generationContextOptions(2, 64, 1));
    const lib = await ctx.generate({
      sequences: [0, 1].map((s) => ({
        prompt: PROMPT, temperature: 0.7, topK: 50, seed: 4 + s, maxTokens: 24,
        gate: { layer: 1, direction: v, on: -0.2, off: 0.3, minHold: 2, steer: [{ layer: 3, direction: v, alpha: 5 }] },
      })),
    }).result();
    ctx.free();
    m.free();
    recs.forEach((rec, i) => {
      expect(rec.tokens).toEqual(Array.from(lib[i].tokens));
      expect(rec.gate).toEqual(Array.from(lib[i].gate!, (x) => x === 1));
      expect((rec.gate as boolean[]).length).toBe((rec.tokens as number[]).length);
      expect(rec.gate_steered).toBe(lib[i].gateSteered);
    });
    expect(recs.some((r) => (r.gate as boolean[]).some((g) => g))).toBe(true);
  });

  it('--layer-range A-B with --normalize equals the library term {layers: [A, B], normalize: true}', async () => {
    const [rec] = await json(['--probe', probe, '--layer-range', '1-4', '--alphas', '3', '--normalize', '--max-tokens', '16', '--temp', '0']);
    expect(rec.layer_range).toEqual([1, 4]);
    const m = await Model.load(model);
    const v = readNpy(probe).data;
    const ctx = await m.createContext(generationContextOptions(1, 64, 1));
    const [lib] = await ctx.generate({ sequences: [{ prompt: PROMPT, temperature: 0, maxTokens: 16, steer: [{ layers: [1, 4], direction: v, alpha: 3, normalize: true }] }] }).result();
    ctx.free();
    expect(rec.tokens).toEqual(Array.from(lib.tokens));
    // --normalize changed the computation (the logits differ from a plain add over the same blocks)
    const ev = await m.createContext({ nCtx: 256, nThreads: 1 });
    const toks = m.tokenize(PROMPT);
    const a = await ev.evalLogits(toks, [{ layers: [1, 4], direction: v, alpha: 3, normalize: true }]);
    const b = await ev.evalLogits(toks, [{ layers: [1, 4], direction: v, alpha: 3 }]);
    ev.free();
    m.free();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('bad specs are usage errors (exit 2) naming the flag', async () => {
    const bad: [string[], RegExp][] = [
      [['--gate', `1:${probe}:0.5`, '--gate-steer', `3:${probe}:5`], /--gate '.*': expected LM:PROBE\.npy:ON:OFF/],
      [['--gate', `1:${probe}:0.5:0.1`, '--gate-steer', `3:${probe}:5`], /--gate: on \(0\.5\) must be below off \(0\.1\)/],
      [['--gate', `3:${probe}:0:1`, '--gate-steer', `1:${probe}:5`], /--gate-steer layer 1 is below the --gate layer 3 \(a gate switches blocks at or after the one it reads\)/],
      [['--gate', `1:${probe}:0:1`], /--gate and --gate-steer go together/],
      [['--gate', `1:${probe}:0:1`, '--gate-steer', `3:${probe}:5`, '--gate-budget', '-1'], /--gate-budget must be >= 0 \(leave it out for no limit\)/],
      [['--probe', probe, '--layer-range', '4-1', '--alphas', '1'], /--layer-range: last \(1\) is before first \(4\)/],
      [['--probe', probe, '--layer-range', '1-4', '--layer', '2', '--alphas', '1'], /--layer and --layer-range exclude each other/],
      [['--gate', `1:${join(tmp.dir, 'missing.npy')}:0:1`, '--gate-steer', `3:${probe}:5`], /ENOENT|does not exist|missing/],
    ];
    for (const [args, re] of bad) {
      const r = await runCli(['generate', '--model', model, '--prompt', 'hi', '--max-tokens', '2', ...args]);
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.status, args.join(' ')).toBe(/ENOENT/.test(String(re)) ? r.status : 2);
    }
  });
});
