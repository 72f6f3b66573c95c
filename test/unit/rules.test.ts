// The shared rules of issue 14, each in its one library home: the probe-norm rule
// (probes/direction.ts), the best-layer ranking (probes/best-layer.ts), the steering-strength bound
// and the context fit (engine/validate.ts, the one validator of issue 24), one count per sample key
// (steering/samples.ts), --force moving results aside (io/run-folder.ts), and library errors in the
// CLI's flag names (cli/flags.ts, inFlagWords: FieldErrors rendered, never rewritten).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../lib/io/npy.js';
import { moveAside } from '../../lib/io/run-folder.js';
import { bestLayers, dPrime, rankLayers } from '../../lib/probes/best-layer.js';
import { MAX_NORM, MIN_NORM, normNote, unitDirection } from '../../lib/probes/direction.js';
import { loadProbe, saveProbe } from '../../lib/probes/probe-file.js';
import { probeModelMismatch } from '../../lib/probes/probe-model.js';
import { ALPHA_BOUND_FACTOR, checkAlphas, checkContextFit } from '../../lib/engine/validate.js';
import { dropDuplicateSamples, parseSamplesJsonl, sampleKey } from '../../lib/steering/samples.js';
import { inFlagWords, intFlag } from '../../lib/cli/flags.js';
import { badField, EiaError } from '../../lib/util/errors.js';
import { tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-rules-');
afterAll(() => tmp.cleanup());

describe('probe norms: one rule (unit direction, the norm kept as scale)', () => {
  it('unitDirection normalises, keeps a unit vector as stored, and refuses NaN and zero', () => {
    const u = unitDirection(new Float32Array([3, 4]), 'p');
    expect(u.norm).toBe(5);
    expect(Array.from(u.direction)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const unit = new Float32Array([0.6, 0.8]);
    expect(unitDirection(unit, 'p').direction).toBe(unit);  // already unit: used as stored, not re-rounded
    expect(() => unitDirection(new Float32Array([1, NaN]), 'p.npy')).toThrow(/p\.npy: the direction holds NaN or infinity/);
    expect(() => unitDirection(new Float32Array(3), 'p.npy')).toThrow(/zero vector/);
    expect(normNote(1.0002, 'x')).toBeNull();
    expect(normNote(7, 'probes/layer3.npy')).toMatch(/probes\/layer3\.npy has norm 7\.000: it is used as a unit direction/);
  });

  it('a norm whose square float32 cannot hold is refused; the bounds themselves are accepted (issue 23)', () => {
    const scaled = (norm: number) => new Float32Array(64).fill(norm / 8);
    expect(() => unitDirection(scaled(3e38), 'p.npy')).toThrow(/p\.npy: the direction's norm 3\.000e\+38 overflows 32-bit floats/);
    expect(() => unitDirection(scaled(1e-42), 'p.npy')).toThrow(/p\.npy: the direction's norm 9\.\d+e-43 underflows 32-bit floats/);
    expect(() => unitDirection(scaled(1e20), 'p')).toThrow(/overflows/);
    expect(() => unitDirection(scaled(1e-20), 'p')).toThrow(/underflows/);
    for (const n of [MIN_NORM * 1.01, 1e-10, 7, 1e10, MAX_NORM * 0.99]) expect(unitDirection(scaled(n), 'p').norm / n).toBeCloseTo(1, 5);
    // the bounds: the square of each is a normal float32
    expect(Math.fround(MIN_NORM ** 2)).toBe(2 ** -126);
    expect(Number.isFinite(Math.fround((MAX_NORM * 0.999999) ** 2))).toBe(true);
  });

  it('a x7 probe file loads as its unit direction with scale 7; saving keeps the scale in the sidecar', () => {
    const dir = join(tmp.dir, 'x7');
    const v = new Float32Array([0, 7, 0, 0]);
    const saved = saveProbe(dir, { direction: v, layer: 3, pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0 });
    expect(Array.from(readNpy(saved.npyPath).data)).toEqual([0, 1, 0, 0]);  // the file holds the unit direction
    expect(JSON.parse(readFileSync(saved.jsonPath, 'utf8')).scale).toBe(7);
    const p = loadProbe(saved.npyPath);
    expect(Array.from(p.direction)).toEqual([0, 1, 0, 0]);
    expect(p.scale).toBe(7);
    // a bare .npy (the paper's form, no sidecar) of norm 7: unit direction, scale 7
    const bare = join(tmp.dir, 'bare');
    mkdirSync(bare);
    writeNpy(join(bare, 'layer2.npy'), new Float32Array([0, 0, 7, 0]), [4]);
    const b = loadProbe(join(bare, 'layer2.npy'));
    expect(Array.from(b.direction)).toEqual([0, 0, 1, 0]);
    expect(b.scale).toBe(7);
    expect(b.layer).toBe(2);
  });
});

describe('best layer: one tie-break', () => {
  // AUROC ties everywhere; raw separation and d' disagree (layer 0 separates most but spreads most)
  const L = [
    { layer: 0, auroc: 1, separation: 10, std_emp: 10, std_non: 10 },
    { layer: 3, auroc: 1, separation: 2, std_emp: 0.5, std_non: 0.5 },
    { layer: 5, auroc: 1, separation: 3, std_emp: 0.5, std_non: 0.5 },
    { layer: 1, auroc: 0.9, separation: 50, std_emp: 0.1, std_non: 0.1 },
  ];
  it('ranks by AUROC, then d\', then the lower layer; the best layer is always among the best n', () => {
    expect(rankLayers(L).map((l) => l.layer)).toEqual([5, 3, 0, 1]);
    expect(dPrime(L[0])).toBe(1);
    for (let n = 1; n <= 4; n++) expect(bestLayers(L, n)).toContain(rankLayers(L)[0].layer);
    expect(bestLayers(L, 2)).toEqual([3, 5]);
    // equal AUROC and d': the lower layer
    expect(rankLayers([{ layer: 4, auroc: 1, separation: 1, std_emp: 0, std_non: 0 }, { layer: 2, auroc: 1, separation: 1, std_emp: 0, std_non: 0 }])[0].layer).toBe(2);
  });
});

describe('steering strength bound', () => {
  const norms = new Map([[2, 14.76], [3, 0.2]]);
  it(`|alpha| <= ${ALPHA_BOUND_FACTOR} x the block's residual norm`, () => {
    expect(() => checkAlphas([-10, 0, 10], [2], norms, 'alphas')).not.toThrow();
    expect(() => checkAlphas([1476], [2], norms, 'alphas')).not.toThrow();
    expect(() => checkAlphas([1e30], [2], norms, 'alphas')).toThrow(/^alphas: 1e\+30 is beyond the bound at block 2: \|alpha\| <= 100 x the block's residual norm \(14\.76\) = 1476$/);
    expect(() => checkAlphas([-21], [2, 3], norms, 'alphas')).toThrow(/-21 is beyond the bound at block 3/);
    expect(() => checkAlphas([Number.NaN], [2], norms, 'steer[0].alpha')).toThrow(/^steer\[0\]\.alpha must be a finite number$/);
    // without residual norms (the bare engine API) only finiteness is checked
    expect(() => checkAlphas([1e30], [2], undefined, 'alphas')).not.toThrow();
  });
});

describe('context fit', () => {
  it('prompt + new tokens must fit ctxSize (default: the training context); the last sampled token needs no cell', () => {
    expect(() => checkContextFit(100, 1948, undefined, 2048)).not.toThrow();
    expect(() => checkContextFit(100, 1949, undefined, 2048)).toThrow(/^maxTokens: the prompt \(100 tokens\) \+ 1949 new tokens exceed the context of 2048 tokens per sequence \(the model's training context; a larger ctxSize allows more\)$/);
    expect(() => checkContextFit(100, 5000, 8192, 2048)).not.toThrow();
    expect(() => checkContextFit(100, 1e9, 2 ** 31, 2048)).toThrow(/engine's largest context/);
  });
});

describe('one count per sample key', () => {
  it('drops repeated keys (the first line is kept) and counts them; -0 and 0 are one alpha', () => {
    const rec = (alpha: number, sample: number, text: string) => JSON.stringify({ model: 'm', layer: 2, scenario: 's', alpha, sample, text });
    const recs = parseSamplesJsonl([rec(0, 0, 'a'), rec(-0, 0, 'b'), rec(5, 0, 'c'), rec(5, 1, 'd'), rec(5, 0, 'e')].join('\n') + '\n');
    const { records, duplicates } = dropDuplicateSamples(recs);
    expect(duplicates).toBe(2);
    expect(records.map((r) => r.text)).toEqual(['a', 'c', 'd']);
    expect(sampleKey(recs[0])).toBe(sampleKey(recs[1]));
  });
});

describe('--force moves results aside, nothing is deleted', () => {
  it('moves the existing ones of the names into replaced-<time>/ keeping their paths', () => {
    const dir = join(tmp.dir, 'run');
    mkdirSync(join(dir, 'probes'), { recursive: true });
    writeFileSync(join(dir, 'probes', 'layer1.npy'), 'x');
    writeFileSync(join(dir, 'samples.jsonl'), 'y');
    const said = moveAside(dir, ['probes', 'manifest.json', 'samples.jsonl'], new Date('2025-02-03T04:05:06.789Z'));
    expect(said).toMatch(/^moved probes, samples\.jsonl to .*replaced-2025-02-03T04-05-06-789Z$/);
    expect(readdirSync(dir).sort()).toEqual(['replaced-2025-02-03T04-05-06-789Z']);
    expect(readFileSync(join(dir, 'replaced-2025-02-03T04-05-06-789Z', 'probes', 'layer1.npy'), 'utf8')).toBe('x');
    expect(moveAside(dir, ['nothing-here'])).toBe('');
    expect(existsSync(join(dir, 'nothing-here'))).toBe(false);
  });
});

describe('probe of another model', () => {
  it('warns when the sidecar\'s model sha256 differs from the model in use', () => {
    expect(probeModelMismatch({ model: { sha256: 'a'.repeat(64), path: '/m/other.gguf' } }, 'b'.repeat(64), 'probes/layer3.npy'))
      .toMatch(/^warning: probes\/layer3\.npy was trained on another model \(sha256 aaaaaaaaaaaa…, \/m\/other\.gguf\); the model in use has sha256 bbbbbbbbbbbb…$/);
    expect(probeModelMismatch({ model: { sha256: 'a'.repeat(64) } }, 'a'.repeat(64), 'p')).toBeNull();
    expect(probeModelMismatch({ model: {} }, 'a'.repeat(64), 'p')).toBeNull();
  });
});

describe('CLI messages in flag names', () => {
  it('renders a FieldError with the command\'s flags (paths with indices too), leaving other errors alone', () => {
    let fit: unknown;
    try { checkContextFit(9, 5, undefined, 8); } catch (x) { fit = x; }
    expect((fit as Error).message).toBe("maxTokens: the prompt (9 tokens) + 5 new tokens exceed the context of 8 tokens per sequence (the model's training context; a larger ctxSize allows more)");
    const e = inFlagWords(fit, { maxTokens: '--max-tokens', ctxSize: '--ctx-size' });
    expect((e as EiaError).code).toBe('E_BAD_ARG');
    expect((e as Error).message).toBe("--max-tokens: the prompt (9 tokens) + 5 new tokens exceed the context of 8 tokens per sequence (the model's training context; a larger --ctx-size allows more)");
    const alpha = badField('gate.steer[2].alpha', 'alpha_out_of_range', (n) => `${n('gate.steer[2].alpha')}: too strong`);
    expect((inFlagWords(alpha, { 'gate.steer[].alpha': '--gate-steer' }) as Error).message).toBe('--gate-steer: too strong');
    // a library error that is no FieldError names no option: it passes as it is (no word is rewritten)
    const plain = new EiaError('E_BAD_ARG', 'maxTokens: x');
    expect(inFlagWords(plain, { maxTokens: '--max-tokens' })).toBe(plain);
    expect(() => intFlag(-1, '--seed', 0)).toThrow('--seed must be a non-negative integer, got -1');
    expect(() => intFlag(1e9, '--permutations', 0, 1_000_000)).toThrow('--permutations is at most 1000000, got 1000000000');
    expect(() => intFlag(1.5, '--samples', 1)).toThrow('--samples must be a positive integer, got 1.5');
  });
});
