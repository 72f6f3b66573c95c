// The playground's browser code in pieces (the whole page is tested in Chromium by
// test/server/playground.test.ts): it imports nothing of lib/ and lib/ nothing of it (it talks to
// the server over HTTP only; docs/architecture.md); the SSE reader gives the same events however the
// body is split; the Share panel's shell quoting survives bash; token text stays readable on every
// colour of the scale (WCAG contrast); the request body puts steering in a gate or not, and the
// compare view's unsteered body keeps the monitors and drops the rest.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { luminance, scaleColour, scalePosition, textColour } from '../../web/playground/src/colour.js';
import { requestBody, requestMonitors, type PageRequest } from '../../web/playground/src/request-body.js';
import { shellQuote } from '../../web/playground/src/share.js';
import { SseParser } from '../../web/playground/src/sse.js';
import { ROOT } from '../helpers/cli.js';
import { importEdges, tsFiles } from '../helpers/imports.js';

describe('the page and lib/ stay apart', () => {
  it('web/playground imports only its own files and its two libraries; lib/ imports nothing of web/', () => {
    const web = importEdges(ROOT, ['web/playground/src']);
    expect(web.length).toBeGreaterThan(10);
    expect(web.filter((e) => !e.to.startsWith('web/playground/src/')).map((e) => `${e.from}:${e.line} ${e.spec}`)).toEqual([]);
    const packages = new Set<string>();
    for (const f of tsFiles(join(ROOT, 'web', 'playground', 'src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/^(?:import|export)\b[^'"\n]*\bfrom\s*['"]([^'".][^'"]*)['"]/gm)) packages.add(m[1]);
    }
    expect([...packages].sort()).toEqual(['d3-scale-chromatic', 'uplot']);
    expect(importEdges(ROOT, ['lib']).filter((e) => e.to.startsWith('web/'))).toEqual([]);
  });
});

describe('SseParser', () => {
  const body = 'data: {"a":1}\n\n: keep-alive\n\ndata: {"b":"x\\ny"}\r\n\r\ndata: [DONE]\n\n';
  const expected = [{ done: false, data: { a: 1 } }, { done: false, data: { b: 'x\ny' } }, { done: true }];

  it('the same events whether the body comes whole, byte by byte, or in random pieces', () => {
    expect(new SseParser().push(body)).toEqual(expected);
    const byByte = new SseParser();
    expect([...body].flatMap((c) => byByte.push(c))).toEqual(expected);
    let seed = 7;
    for (let round = 0; round < 50; round++) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < body.length;) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const n = 1 + (seed % 9);
        got.push(...p.push(body.slice(i, i + n)));
        i += n;
      }
      expect(got).toEqual(expected);
    }
  });
});

describe('shellQuote', () => {
  it('bash reads back every string as it was', () => {
    const strings = [`it's`, `'`, `"$HOME" \`id\` $(id) \\n`, 'line\nbreak\ttab', '{"prompt":"don\'t"}', ''];
    for (const s of strings) {
      expect(execFileSync('bash', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' })).toBe(s);
    }
  });
});

describe('colours', () => {
  it('the scale is centred on the median and clamped; its ends are the scheme\'s ends', () => {
    expect(scalePosition(5, 5, 2)).toBe(0);
    expect(scalePosition(6, 5, 2)).toBe(0.5);
    expect(scalePosition(100, 5, 2)).toBe(1);
    expect(scalePosition(-100, 5, 2)).toBe(-1);
    expect(scalePosition(3, 5, 0)).toBe(0);
    // above the median is red (high red channel), below is blue
    const rgb = (c: string) => c.match(/\d+/g)!.map(Number);
    expect(rgb(scaleColour(1))[0]).toBeGreaterThan(rgb(scaleColour(1))[2]);
    expect(rgb(scaleColour(-1))[2]).toBeGreaterThan(rgb(scaleColour(-1))[0]);
  });

  it('token text keeps a contrast of at least 4.5:1 (WCAG AA) on every colour of the scale', () => {
    let worst = Infinity;
    for (let i = -200; i <= 200; i++) {
      const bg = scaleColour(i / 200);
      const fg = textColour(bg);
      const [a, b] = [luminance(bg), luminance(fg)].sort((x, y) => y - x);
      worst = Math.min(worst, (a + 0.05) / (b + 0.05));
    }
    expect(worst).toBeGreaterThanOrEqual(4.5);
  });
});

describe('requestBody', () => {
  const base: PageRequest = {
    mode: 'completion', prompt: 'Hi', messages: [], maxTokens: 8, temperature: 0.7, seed: 3,
    steering: [{ name: 'p/layer3', scale: 8, first: 3, last: 3, apply: 'all', normalize: false }, { name: 'cv', scale: -2, first: 1, last: 4, apply: 'generated', normalize: true }],
    monitors: [{ name: 'p/layer3', layer: 3 }],
    gate: { enabled: false, name: 'p/layer3', layer: 2, on: -1, off: 1, minHold: 2, budget: null, positions: 'all' },
  };

  it('steering.vectors without a gate; the gate carries them with one; the gate\'s probe joins the monitors', () => {
    const plain = requestBody(base);
    expect(plain.steering).toEqual({ vectors: [
      { name: 'p/layer3', scale: 8, layers: 3, apply: 'all', normalize: false },
      { name: 'cv', scale: -2, layers: [1, 4], apply: 'generated', normalize: true },
    ] });
    expect(plain.gate).toBeUndefined();
    expect(plain).toMatchObject({ prompt: 'Hi', max_tokens: 8, temperature: 0.7, seed: 3, stream: true, return_tokens: true, return_pieces: true });
    const gated = requestBody({ ...base, gate: { ...base.gate, enabled: true } });
    expect(gated.steering).toBeUndefined();
    expect(gated.gate).toEqual({ name: 'p/layer3', layer: 2, on: -1, off: 1, min_hold: 2, positions: 'all', vectors: (plain.steering as { vectors: unknown[] }).vectors });
    expect(gated.monitor).toEqual([{ name: 'p/layer3', layer: 3 }, { name: 'p/layer3', layer: 2 }]);
    expect(requestMonitors({ ...base, gate: { ...base.gate, enabled: true, layer: 3 } })).toHaveLength(1);
  });

  it('the unsteered body (compare) keeps prompt, sampling and monitors, and drops steering and gate', () => {
    const r = { ...base, gate: { ...base.gate, enabled: true } };
    const un = requestBody(r, false);
    expect(un.steering).toBeUndefined();
    expect(un.gate).toBeUndefined();
    const { steering: _s, gate: _g, ...rest } = requestBody(r, true);
    expect(un).toEqual(rest);
    expect(requestBody({ ...base, seed: null }).seed).toBeUndefined();
    expect(requestBody({ ...base, mode: 'chat', messages: [{ role: 'user', content: 'x' }] })).toMatchObject({ messages: [{ role: 'user', content: 'x' }] });
  });
});
