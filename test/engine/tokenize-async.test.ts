// Model.tokenizeAsync (the tokenizer on the thread pool: what the server uses for prompts from
// outside) and Model.minTokens (the size bound the server refuses huge prompts by, before any
// tokenisation): the same tokens as tokenize(), the event loop free meanwhile, and a bound that
// never exceeds the real count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import { isEiaError } from '../../lib/util/errors.js';
import { synthTo, tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-tokenize-async-');
let model: Model;

beforeAll(async () => {
  model = await Model.load((await synthTo(tmp.dir, 'tok', { planted: true, seed: 3 })).path);
});
afterAll(() => {
  model?.free();
  tmp.cleanup();
});

/** Seeded texts: vocabulary pieces, runs of whitespace, special tokens' text, non-ASCII characters. */
function texts(n: number, seed: number): string[] {
  let s = seed >>> 0;
  const rnd = (k: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % k; };
  const pieces = Array.from({ length: 300 }, (_, i) => model.tokenPiece((i * 16 + 3) % model.info.nVocab));
  const extra = ['   ', '\n\n\t', 'é', '日本語', '🙂', '<s>', '</s>', '<|begin_of_text|>', 'x', ''];
  return Array.from({ length: n }, () => Array.from({ length: 1 + rnd(60) }, () => (rnd(4) === 0 ? extra[rnd(extra.length)] : pieces[rnd(pieces.length)])).join(''));
}

describe('tokenizeAsync', () => {
  it('gives exactly the tokens of tokenize(), raw and with special tokens parsed', async () => {
    for (const t of [...texts(40, 7), 'The user is in distress and I', '']) {
      for (const parseSpecial of [false, true]) {
        const sync = model.tokenize(t, { addSpecial: true, parseSpecial });
        expect(Array.from(await model.tokenizeAsync(t, { addSpecial: true, parseSpecial })), JSON.stringify(t)).toEqual(Array.from(sync));
      }
    }
  });

  it('keeps the event loop running while it tokenises 4 MB (tokenize() holds it for seconds)', async () => {
    const big = 'hello world how are you '.repeat(170_000);
    const worst: number[] = [];
    // a gap can also come from the OS not scheduling the process on a loaded machine: up to 3 tries
    for (let attempt = 0; attempt < 3; attempt++) {
      let last = performance.now();
      let gap = 0;
      const timer = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; }, 5);
      const tokens = await model.tokenizeAsync(big);
      clearInterval(timer);
      expect(tokens.length).toBeGreaterThan(170_000 * 5);
      worst.push(gap);
      if (gap < 200) break;
    }
    console.log(`tokenizeAsync of 4 MB: longest event-loop gap per attempt ${worst.map((g) => `${g.toFixed(0)} ms`).join(', ')}`);
    expect(Math.min(...worst)).toBeLessThan(200);  // the synchronous call holds the loop for seconds
  });

  it('rejects what tokenize() rejects, with the same codes', async () => {
    let err: unknown = null;
    try { await model.tokenizeAsync(42 as unknown as string); } catch (e) { err = e; }
    expect(isEiaError(err, 'E_BAD_ARG') && /text must be a string/.test((err as Error).message), String(err)).toBe(true);
    const m2 = await Model.load(model.info.path);
    m2.free();
    err = null;
    try { await m2.tokenizeAsync('hi'); } catch (e) { err = e; }
    expect(isEiaError(err, 'E_STATE'), String(err)).toBe(true);
  });
});

describe('minTokens', () => {
  it('reports the vocabulary facts it rests on', () => {
    expect(model.info.vocabType).toBe('spm');
    // the longest piece, special tokens rendered as their text
    let longest = 0;
    for (let t = 0; t < model.info.nVocab; t++) longest = Math.max(longest, Buffer.byteLength(model.detokenize([t], { unparseSpecial: true })) );
    expect(model.info.maxTokenBytes).toBeGreaterThanOrEqual(longest - 1);  // detokenize drops a leading space
    expect(model.info.maxTokenBytes).toBeGreaterThan(0);
  });

  it('never exceeds the real token count (raw and special-parsed), and grows with the text', () => {
    for (const t of texts(300, 11)) {
      const least = model.minTokens(t);
      for (const parseSpecial of [false, true]) expect(least, JSON.stringify(t)).toBeLessThanOrEqual(model.tokenize(t, { addSpecial: false, parseSpecial }).length);
    }
    // several texts together (a chat's messages): at most the tokens of their concatenation
    const parts = texts(5, 3);
    expect(model.minTokens(parts)).toBeLessThanOrEqual(model.tokenize(parts.join(''), { addSpecial: false }).length);
    // a long text gets a bound near its size over the longest token, far above a slot
    const big = 'x'.repeat(100_000);
    expect(model.minTokens(big)).toBe(Math.ceil(100_000 / Math.max(model.info.maxTokenBytes, 4)));
    expect(model.minTokens('')).toBe(0);
  });
});
