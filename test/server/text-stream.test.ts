// What a stream shows of the text: never a stop string (nor the start of one that later completes),
// characters split over byte tokens only once whole, and in the end exactly the engine's final text.
import { describe, expect, it } from 'vitest';
import { TextStream } from '../../lib/server/text-stream.js';

// a toy vocabulary: words, and the three bytes of '€' (E2 82 AC) as byte tokens
const BYTES: Record<number, number[]> = { 1: [0xe2], 2: [0x82], 3: [0xac] };
const WORDS: Record<number, string> = { 10: ' Hello', 11: ' wor', 12: 'ld', 13: ' END', 14: 'ING', 15: ' E', 16: 'N', 17: 'D' };
const bytesOf = (t: number) => BYTES[t] ?? [...Buffer.from(WORDS[t], 'utf8')];
const piece = (t: number) => Buffer.from(bytesOf(t)).toString('utf8');  // what the engine's token event carries
const detok = (ts: number[]) => Buffer.from(ts.flatMap(bytesOf)).toString('utf8');

function run(tokens: number[], stops: string[], finalText: string): { deltas: string[]; shown: string } {
  const s = new TextStream(detok, stops);
  const deltas = tokens.map((t) => s.push(t, piece(t)));
  deltas.push(s.finish(finalText));
  return { deltas, shown: deltas.join('') };
}

describe('TextStream', () => {
  it('passes plain text through at once', () => {
    const { deltas, shown } = run([10, 11, 12], [], ' Hello world');
    expect(deltas).toEqual([' Hello', ' wor', 'ld', '']);
    expect(shown).toBe(' Hello world');
  });

  it('a character split over byte tokens appears whole, when its last byte arrives', () => {
    expect(piece(1)).toBe('\uFFFD');
    const { deltas, shown } = run([10, 1, 2, 3, 11], [], ' Hello€ wor');
    expect(deltas).toEqual([' Hello', '', '', '€', ' wor', '']);
    expect(shown).toBe(' Hello€ wor');
  });

  it('holds back a possible start of a stop string and never shows the stop string', () => {
    // stop ' END' arrives as ' E' 'N' 'D'; the engine cuts the final text before it
    const { deltas, shown } = run([10, 15, 16, 17], [' END'], ' Hello');
    expect(deltas).toEqual([' Hello', '', '', '', '']);
    expect(shown).toBe(' Hello');
  });

  it('releases a held tail once it can no longer become a stop string', () => {
    const { deltas, shown } = run([10, 13, 14], [' ENDX'], ' Hello ENDING');
    expect(deltas).toEqual([' Hello', '', ' ENDING', '']);
    expect(shown).toBe(' Hello ENDING');
  });

  it('at the finish, what was held comes out (length/eog: the engine text is everything)', () => {
    const { deltas, shown } = run([10, 15], [' END'], ' Hello E');
    expect(deltas).toEqual([' Hello', '', ' E']);
    expect(shown).toBe(' Hello E');
  });
});
