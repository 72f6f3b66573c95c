// The load figures of bench/serve-vs-llama-server.ts (lib/bench/serve-load.ts): quantiles, TTFT, the
// per-token inter-token latency of chunked streams, window rates, per-round ratios and RSS change.
import { describe, expect, it } from 'vitest';
import { chunkGapsMs, itlMs, medianRoundRatio, quantile, rssChange, summariseWindow, summariseWindows, ttftMs, type StreamRecord } from '../../lib/bench/serve-load.js';
import { createRng } from '../../lib/stats/rng.js';

/** A request whose tokens arrive at the given times, `per` tokens to a chunk. */
function stream(sentMs: number, tokenTimes: number[], per = 1, ok = true): StreamRecord {
  const chunks = [];
  for (let i = 0; i < tokenTimes.length; i += per) chunks.push({ atMs: tokenTimes[Math.min(tokenTimes.length - 1, i + per - 1)], tokens: Math.min(per, tokenTimes.length - i) });
  return { sentMs, chunks, ok };
}

describe('quantile (nearest rank)', () => {
  it('agrees with counting on random data: at least q of the values are at or below it, fewer below', () => {
    const rng = createRng(3);
    for (let t = 0; t < 50; t++) {
      const xs = Array.from({ length: 1 + Math.floor(rng.next() * 300) }, () => Math.floor(rng.next() * 50));
      for (const q of [0.01, 0.5, 0.9, 0.99, 1]) {
        const v = quantile(xs, q);
        expect(xs.filter((x) => x <= v).length).toBeGreaterThanOrEqual(Math.ceil(q * xs.length));
        expect(xs.filter((x) => x < v).length).toBeLessThan(Math.ceil(q * xs.length));
      }
    }
  });
  it('ignores non-finite values and gives NaN for none', () => {
    expect(quantile([Number.NaN, 2, Infinity, 1], 0.5)).toBe(1);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('per-request figures', () => {
  it('TTFT is sent -> first chunk with a token; chunks without tokens do not count', () => {
    const r: StreamRecord = { sentMs: 100, chunks: [{ atMs: 150, tokens: 0 }, { atMs: 180, tokens: 2 }], ok: true };
    expect(ttftMs(r)).toBe(80);
    expect(ttftMs({ sentMs: 0, chunks: [], ok: false })).toBeNaN();
  });
  it('ITL: one value per token after the first chunk; a chunk of k tokens shares its gap evenly', () => {
    // tokens every 10 ms, delivered 1 per chunk and 4 per chunk: the same mean per-token latency
    const times = Array.from({ length: 17 }, (_, i) => 1000 + 10 * i);
    const one = itlMs(stream(0, times, 1));
    expect(one).toHaveLength(16);
    for (const x of one) expect(x).toBeCloseTo(10, 9);
    const four = itlMs(stream(0, times, 4));
    // chunks end at tokens 4, 8, 12, 16 and 17: gaps 40, 40, 40 and 10 for 4, 4, 4 and 1 tokens
    expect(four).toHaveLength(13);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(four) * four.length).toBeCloseTo(times[16] - times[3], 9);
    expect(chunkGapsMs(stream(0, times, 4))).toEqual([40, 40, 40, 10]);
  });
});

describe('windows and rounds', () => {
  it('a window counts every token received over its wall time, and latencies of the requests that finished', () => {
    const a = stream(0, [100, 110, 120]);
    const b = stream(0, [300, 310], 1, false);
    const s = summariseWindow([a, b], 2000);
    expect(s.tokens).toBe(5);
    expect(s.tokS).toBeCloseTo(2.5, 12);
    expect(s.requests).toBe(2);
    expect(s.failed).toBe(1);
    expect(s.ttftMs.n).toBe(1);
    expect(s.ttftMs.p50).toBe(100);
    expect(s.itlMs.n).toBe(2);
    expect(s.tokensPerChunk).toBe(1);
  });
  it('lead requests (staggered arrivals) count their tokens but not their latencies', () => {
    const lead = { ...stream(0, [500, 510]), lead: true };
    const a = stream(1000, [1050, 1060, 1070]);
    const s = summariseWindow([lead, a], 2000);
    expect(s.tokens).toBe(5);
    expect(s.ok).toBe(2);
    expect(s.ttftMs.n).toBe(1);
    expect(s.ttftMs.p50).toBe(50);
    expect(s.itlMs.n).toBe(2);
    expect(s.tokensPerChunk).toBe(1);
  });
  it('pooled windows add their tokens and wall times', () => {
    const w1 = { records: [stream(0, [10, 20])], wallMs: 1000 };
    const w2 = { records: [stream(0, [10, 20, 30, 40])], wallMs: 3000 };
    const s = summariseWindows([w1, w2]);
    expect(s.tokens).toBe(6);
    expect(s.tokS).toBeCloseTo(1.5, 12);
  });
  it('a ratio is the median of per-round ratios, skipping rounds without a reference', () => {
    const r = medianRoundRatio([90, 50, 100, 7], [100, 100, 80, 0]);
    expect(r.rounds).toEqual([0.9, 0.5, 1.25]);
    expect(r.median).toBe(0.9);
  });
});

describe('rssChange', () => {
  it('compares the high- and low-water marks of the first and the last minute of load', () => {
    const samples = Array.from({ length: 91 }, (_, i) => ({ t: 2 * i, bytes: (100 + (i % 3) + (i >= 60 ? 10 : 0)) * 2 ** 20 }));
    const c = rssChange(samples)!;
    expect(c.loadSeconds).toBe(180);
    expect(c.minute1).toEqual({ max: 102 * 2 ** 20, min: 100 * 2 ** 20 });
    expect(c.lastMinute).toEqual({ max: 112 * 2 ** 20, min: 110 * 2 ** 20 });
    expect(c.changeOfMax).toBeCloseTo(112 / 102 - 1, 12);
    expect(c.changeOfMin).toBeCloseTo(0.1, 12);
  });
  it('is null under two minutes of load (the two minutes would overlap)', () => {
    expect(rssChange([{ t: 0, bytes: 1 }, { t: 100, bytes: 2 }])).toBeNull();
    expect(rssChange([])).toBeNull();
  });
});
