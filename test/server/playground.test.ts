// The playground in real Chromium (issue 27's acceptance), on the planted model: load the page, pick
// the layer probe as monitor, move its scale slider to +8, stream a completion; the DOM's tokens,
// scores and colours equal what the stream carried (colours recomputed here from the streamed
// probe_scores and the server's unsteered median); the compare view streams both columns at once
// and its steered column has the higher empathy-keyword share; a scale beyond the bound shows the
// server's 400 message, a full queue its 429; the gate's steered tokens are marked; the Share panel's
// curl command and JavaScript code reproduce the page's request; every control is reachable by
// keyboard and labelled (axe-core, bundled from npm, plus a Tab walk); with --api-key the page asks
// for the key once and keeps it in sessionStorage only. Page weight and time to first render are
// printed (EIA_PLAYGROUND_SCREENSHOT=FILE also saves a screenshot for the docs).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { interpolateRdBu } from 'd3-scale-chromatic';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerHandle } from '../../lib/server/index.js';
import { EMPATHY_KEYWORDS } from '../../lib/steering/scoring.js';
import { ensureChromium, launchChromium } from '../helpers/chromium.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { CVEC_NAME, PLANTED_LAYER, plantedSetup, postJson, PROBE_NAME, startServer, type Planted } from './server-fixtures.js';

const chrome = await ensureChromium();
if ('skip' in chrome) process.stderr.write(`[playground] SKIPPING the browser checks: ${chrome.skip}\n`);

const tmp = tempDir('eia-playground-');
const KEY = 'the-playground-key';
const SEED = 7;
let p: Planted;
let server: ServerHandle, keyed: ServerHandle, narrow: ServerHandle;
let url: string, keyedUrl: string, narrowUrl: string;
let context: BrowserContext;
let close: () => Promise<void>;

interface Chunk { tokens?: number[]; pieces?: string[]; probe_scores?: number[][]; gate?: boolean[]; choices: { text?: string }[] }

/** The data events of an SSE body. */
function sseChunks(text: string): Chunk[] {
  return text.split('\n\n').map((f) => f.trim()).filter((f) => f.startsWith('data: ') && f !== 'data: [DONE]').map((f) => JSON.parse(f.slice(6)) as Chunk);
}

/** Console errors, page errors, failed requests and requests to anywhere but the server. */
async function openPage(base: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  page.on('requestfailed', (r) => { if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on('request', (r) => { if (!r.url().startsWith(base + '/')) problems.push(`request to another origin: ${r.url()}`); });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  return { page, problems };
}

const ready = (page: Page) => page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
const runsDone = (page: Page, n: number) => page.waitForSelector(`body[data-runs="${n}"]`, { timeout: 120_000 });

/** The DOM's tokens of a column: id, scores, gate state, colours. */
async function columnTokens(page: Page, column: string) {
  return page.$$eval(`.column[data-column="${column}"] span.tok`, (spans) => spans.map((s) => {
    const el = s as HTMLElement;
    const cs = getComputedStyle(el);
    return {
      id: Number(el.dataset.token), scores: el.dataset.scores ? JSON.parse(el.dataset.scores) as number[] : [],
      gate: el.dataset.gate ?? null, background: cs.backgroundColor, colour: cs.color, text: el.textContent ?? '',
    };
  }));
}

async function baselineMedian(base: string, headers: Record<string, string> = {}): Promise<number> {
  const r = await postJson(`${base}/v1/monitors/baseline`, { monitor: [{ name: PROBE_NAME, layer: PLANTED_LAYER }] }, headers);
  return ((await r.json()) as { data: { median: number }[] }).data[0].median;
}

/** What the page must show for a score: RdBu at 0.5 - t/2, t = (s - m) / h clamped (docs/playground.md). */
function expectedColour(s: number, median: number, h: number): string {
  const t = h > 0 ? Math.max(-1, Math.min(1, (s - median) / h)) : 0;
  return interpolateRdBu(0.5 - t / 2);
}

const monitorButton = (name: string) => `button[data-action="monitor"][data-vector="${name}"]`;
const steerButton = (name: string) => `button[data-action="steer"][data-vector="${name}"]`;
const entry = (name: string) => `#steering-list li[data-vector="${name}"]`;

/** Picks the planted probe as monitor and steering vector, slider at `scale`, and the sampling fields. */
async function setUp(page: Page, scale: number, maxTokens = 40): Promise<void> {
  await page.click(monitorButton(PROBE_NAME));
  await page.click(steerButton(PROBE_NAME));
  const slider = page.locator(`${entry(PROBE_NAME)} input[type="range"]`);
  await slider.fill(String(scale));
  expect(await page.locator(`${entry(PROBE_NAME)} input.scale`).inputValue()).toBe(String(scale));
  await page.fill('#max-tokens', String(maxTokens));
  await page.fill('#temperature', '0.8');
  await page.fill('#seed', String(SEED));
}

beforeAll(async () => {
  if ('skip' in chrome) return;
  p = await plantedSetup(tmp.dir);
  ({ server, url } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 4, ctx: 256 }));
  ({ server: keyed, url: keyedUrl } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 1, ctx: 128, apiKey: KEY }));
  // one slot, no queue: a second request gets 429
  ({ server: narrow, url: narrowUrl } = await startServer({ model: p.model, vectors: p.vectorsDir, slots: 1, queue: 0, ctx: 1024 }));
  ({ context, close } = await launchChromium(chrome.path));
});
afterAll(async () => {
  await close?.();
  await Promise.all([server?.close({ drainMs: 0 }), keyed?.close({ drainMs: 0 }), narrow?.close({ drainMs: 0 })]);
  p?.model.free();
  tmp.cleanup();
});

describe.skipIf('skip' in chrome)('the playground in Chromium', () => {
  let page: Page;
  let problems: string[];
  let streamed: Chunk[];

  it('loads from the server alone; monitor + slider at +8 + a streamed completion: the DOM\'s tokens, scores and colours are the stream\'s', async () => {
    ({ page, problems } = await openPage(url));
    await ready(page);
    const timing = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      ready: performance.getEntriesByName('eia-ready')[0]?.startTime ?? null,
    }));
    console.log(`[playground] first contentful paint ${timing.fcp?.toFixed(0)} ms, page ready (limits and vectors loaded and shown) ${timing.ready?.toFixed(0)} ms after navigation start`);
    await setUp(page, 8);
    const response = page.waitForResponse((r) => r.url() === `${url}/v1/completions` && r.request().method() === 'POST');
    await page.click('#run');
    const res = await response;
    await runsDone(page, 1);
    expect(res.status()).toBe(200);
    const sent = JSON.parse(res.request().postData() ?? '{}') as Record<string, unknown>;
    expect(sent.steering).toEqual({ vectors: [{ name: PROBE_NAME, scale: 8, layers: PLANTED_LAYER, apply: 'all', normalize: false }] });
    expect(sent.monitor).toEqual([{ name: PROBE_NAME, layer: PLANTED_LAYER }]);
    streamed = sseChunks(await res.text());
    const tokens = streamed.flatMap((c) => c.tokens ?? []);
    const scores = streamed.flatMap((c) => c.probe_scores ?? []);
    expect(tokens.length).toBe(40);
    const dom = await columnTokens(page, 'main');
    expect(dom.map((t) => t.id)).toEqual(tokens);
    expect(dom.map((t) => t.scores)).toEqual(scores);
    expect(dom.map((t) => t.text).join('')).toBe(streamed.flatMap((c) => c.pieces ?? []).join('').replace(/\n/g, '↵\n').replace(/\t/g, '⇥'));
    // the colours, recomputed from the stream and the server's baseline
    const median = await baselineMedian(url);
    const h = Math.max(...scores.map((s) => Math.abs(s[0] - median)));
    expect(dom.map((t) => t.background)).toEqual(scores.map((s) => expectedColour(s[0], median, h)));
    expect(new Set(dom.map((t) => t.background)).size, 'the scores differ, so must the colours').toBeGreaterThan(1);
    // the token farthest from the median takes the end of the scale
    const far = scores.reduce((best, s, i) => (Math.abs(s[0] - median) > Math.abs(scores[best][0] - median) ? i : best), 0);
    expect(dom[far].background).toBe(interpolateRdBu(scores[far][0] > median ? 0 : 1));
    expect(Number(await page.getAttribute('#legend', 'data-median'))).toBe(median);
    // hover: the token's score and the median
    const third = page.locator('.column[data-column="main"] span.tok').nth(2);
    await third.hover();
    const tip = await page.locator('#tooltip').innerText();
    expect(tip).toContain(`token 3 (id ${tokens[2]})`);
    expect(tip).toContain(`${PROBE_NAME} @ block ${PLANTED_LAYER}: ${Number(scores[2][0].toPrecision(4))}`);
    expect(tip).toContain('unsteered median');
    // the chart: one line for the one monitor
    expect(await page.locator('#chart-legend li').count()).toBe(1);
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('Share: the curl command and the JavaScript openai code reproduce the page\'s request', async () => {
    const curl = await page.locator('#share-curl').innerText();
    const js = await page.locator('#share-js').innerText();
    const python = await page.locator('#share-python').innerText();
    expect(curl).not.toContain('authorization');  // this server needs no key
    const run = (cmd: string, args: string[]) => new Promise<string>((resolve, reject) => {
      execFile(cmd, args, { cwd: ROOT, maxBuffer: 1 << 24, timeout: 120_000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)));
    });
    const viaCurl = sseChunks(await run('bash', ['-c', curl]));
    expect(viaCurl.flatMap((c) => c.tokens ?? [])).toEqual(streamed.flatMap((c) => c.tokens ?? []));
    expect(viaCurl.flatMap((c) => c.probe_scores ?? [])).toEqual(streamed.flatMap((c) => c.probe_scores ?? []));
    const text = viaCurl.map((c) => c.choices[0]?.text ?? '').join('');
    const viaJs = await run(process.execPath, ['--input-type=module', '-e', js]);
    expect(viaJs).toBe(text + '\n');
    // the Python code is not run here (no Python openai client); it names the same fields
    expect(python).toContain('client.completions.create(');
    expect(python).toContain(`seed=${SEED},`);
    expect(python).toMatch(/extra_body=\{[\s\S]*"steering": \{/);
    expect(python).toMatch(/extra_body=\{[\s\S]*"monitor": \[/);
  });

  it('compare: both columns stream at once (two requests in the batch), the steered one has the higher empathy-keyword share', async () => {
    const times: { start: number; end: number }[] = [];
    const starts = new Map<unknown, number>();
    const onReq = (r: { url(): string; method(): string }) => { if (r.url().endsWith('/v1/completions')) starts.set(r, Date.now()); };
    const onDone = (r: { url(): string }) => { if (starts.has(r)) times.push({ start: starts.get(r)!, end: Date.now() }); };
    page.on('request', onReq);
    page.on('requestfinished', onDone);
    await page.fill('#max-tokens', '64');
    await page.click('#compare');
    await runsDone(page, 2);
    page.off('request', onReq);
    page.off('requestfinished', onDone);
    expect(times).toHaveLength(2);
    expect(Math.max(...times.map((t) => t.start)), 'the second request started before the first ended').toBeLessThan(Math.min(...times.map((t) => t.end)));
    const lexicon = new Set<number>();
    for (let t = 0; t < p.model.info.nVocab; t++) {
      const piece = p.model.tokenPiece(t).toLowerCase();
      if (EMPATHY_KEYWORDS.some((k) => piece.includes(k))) lexicon.add(t);
    }
    const share = (ts: { id: number }[]) => ts.filter((t) => lexicon.has(t.id)).length / ts.length;
    const steered = await columnTokens(page, 'steered');
    const unsteered = await columnTokens(page, 'unsteered');
    expect(steered).toHaveLength(64);
    expect(unsteered).toHaveLength(64);
    console.log(`[playground] compare, seed ${SEED}, scale +8: empathy-keyword share steered ${share(steered).toFixed(3)}, unsteered ${share(unsteered).toFixed(3)}`);
    expect(share(steered)).toBeGreaterThan(share(unsteered));
    // the unsteered column is a plain request with the same seed
    const plain = await (await postJson(`${url}/v1/completions`, {
      prompt: await page.inputValue('#prompt'), max_tokens: 64, temperature: 0.8, seed: SEED, return_tokens: true,
    })).json() as { choices: { tokens: number[] }[] };
    expect(unsteered.map((t) => t.id)).toEqual(plain.choices[0].tokens.slice(0, 64));
    // one colour scale for both columns: centred on the median, half-width from both
    const median = await baselineMedian(url);
    const all = [...steered, ...unsteered];
    const h = Math.max(...all.map((t) => Math.abs(t.scores[0] - median)));
    expect(all.map((t) => t.background)).toEqual(all.map((t) => expectedColour(t.scores[0], median, h)));
    expect(await page.locator('#chart-legend li').count()).toBe(2);
    if (process.env.EIA_PLAYGROUND_SCREENSHOT) {
      // the controls, both columns and the chart (the Share panel below is left out)
      await page.setViewportSize({ width: 1280, height: 1490 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: process.env.EIA_PLAYGROUND_SCREENSHOT });
    }
    expect(problems).toEqual([]);
  });

  it('a scale beyond the bound: the page marks it and shows the server\'s 400 message', async () => {
    const limits = await (await fetch(`${url}/v1/limits`)).json() as { alpha_bound: { blocks: { max_abs_scale: number }[] } };
    const over = Math.ceil(limits.alpha_bound.blocks[PLANTED_LAYER].max_abs_scale) + 1;
    await page.fill(`${entry(PROBE_NAME)} input.scale`, String(over));
    expect(await page.getAttribute(`${entry(PROBE_NAME)} input.scale`, 'aria-invalid')).toBe('true');
    const response = page.waitForResponse((r) => r.url() === `${url}/v1/completions`);
    await page.click('#run');
    const res = await response;
    expect(res.status()).toBe(400);
    const serverMessage = ((await res.json()) as { error: { message: string } }).error.message;
    expect(serverMessage).toMatch(/beyond the bound/);
    await page.waitForSelector('#error:not([hidden])');
    const shown = await page.locator('#error').innerText();
    expect(shown).toContain('400 alpha_out_of_range');
    expect(shown).toContain(serverMessage);
    await page.fill(`${entry(PROBE_NAME)} input.scale`, '8');
    // the browser logs the refused request itself; nothing else went wrong
    expect(problems.filter((x) => !/status of 400/.test(x))).toEqual([]);
    problems.length = 0;
  });

  it('several vectors at once, each with its blocks, apply and normalize: the request carries them all, the server takes it', async () => {
    await page.click(steerButton(CVEC_NAME));
    const cv = entry(CVEC_NAME);
    await page.locator(`${cv} input[type="range"]`).fill('-2');
    await page.fill(`${cv} input[id$="-first"]`, '2');
    await page.fill(`${cv} input[id$="-last"]`, '4');
    await page.selectOption(`${cv} select`, 'generated');
    await page.check(`${cv} input[type="checkbox"]`);
    // the control vector holds block 3 only: its bound is block 3's
    expect(await page.locator(`${cv} [id$="-bound"]`).innerText()).toMatch(/\|scale\| ≤ \d/);
    const response = page.waitForResponse((r) => r.url() === `${url}/v1/completions` && r.request().method() === 'POST');
    const runs = Number(await page.getAttribute('body', 'data-runs'));
    await page.fill('#max-tokens', '8');
    await page.click('#run');
    const res = await response;
    await runsDone(page, runs + 1);
    expect(res.status()).toBe(200);
    expect((JSON.parse(res.request().postData() ?? '{}') as { steering: unknown }).steering).toEqual({ vectors: [
      { name: PROBE_NAME, scale: 8, layers: PLANTED_LAYER, apply: 'all', normalize: false },
      { name: CVEC_NAME, scale: -2, layers: [2, 4], apply: 'generated', normalize: true },
    ] });
    expect(await columnTokens(page, 'main')).toHaveLength(8);
    await page.click(`${cv} button.remove`);
    expect(await page.locator('#steering-list li').count()).toBe(1);
    await page.fill('#max-tokens', '40');
  });

  it('the gate: its steered tokens are marked as the stream says, its thresholds in the chart\'s legend, its state on hover', async () => {
    await page.check('#gate-on');
    await page.selectOption('#gate-name', PROBE_NAME);
    await page.fill('#gate-layer', '2');
    // always below `on`: the gate steers until its budget of 5 generated tokens is spent
    await page.fill('#gate-on-threshold', '1000');
    await page.fill('#gate-off-threshold', '2000');
    await page.fill('#gate-budget', '5');
    await page.selectOption('#gate-positions', 'generated');
    await page.fill('#max-tokens', '16');
    const response = page.waitForResponse((r) => r.url() === `${url}/v1/completions` && r.request().method() === 'POST');
    const runs = Number(await page.getAttribute('body', 'data-runs'));
    await page.click('#run');
    const res = await response;
    await runsDone(page, runs + 1);
    const sent = JSON.parse(res.request().postData() ?? '{}') as { gate?: { vectors: unknown[]; budget: number }; steering?: unknown; monitor: unknown[] };
    expect(sent.steering).toBeUndefined();
    expect(sent.gate!.budget).toBe(5);
    expect(sent.gate!.vectors).toHaveLength(1);
    // the gate's probe at its block joins the monitors (its line carries the thresholds)
    expect(sent.monitor).toEqual([{ name: PROBE_NAME, layer: PLANTED_LAYER }, { name: PROBE_NAME, layer: 2 }]);
    const chunks = sseChunks(await res.text());
    const gate = chunks.flatMap((c) => c.gate ?? []);
    expect(gate.filter(Boolean).length).toBeGreaterThan(0);
    expect(gate.filter((g) => !g).length).toBeGreaterThan(0);
    const dom = await columnTokens(page, 'main');
    expect(dom.map((t) => t.gate)).toEqual(gate.map((g) => (g ? '1' : '0')));
    expect(await page.locator('.column[data-column="main"] span.tok.gated').count()).toBe(gate.filter(Boolean).length);
    expect(await page.locator('#chart-legend').innerText()).toMatch(/gate thresholds: on below 1000, off above 2000/);
    const firstGated = gate.indexOf(true);
    await page.locator('.column[data-column="main"] span.tok').nth(firstGated).hover();
    expect(await page.locator('#tooltip').innerText()).toContain('gate: steered this token');
    await page.uncheck('#gate-on');
    expect(problems).toEqual([]);
  });

  it('chat: a turn streams from /v1/chat/completions with the messages, joins the conversation; Stop cancels a run', async () => {
    await page.check('input[name="mode"][value="chat"]');
    await page.fill('#system', 'You are kind.');
    await page.fill('#message', 'I feel lost today.');
    await page.fill('#max-tokens', '12');
    const response = page.waitForResponse((r) => r.url() === `${url}/v1/chat/completions`);
    const runs = Number(await page.getAttribute('body', 'data-runs'));
    await page.click('#run');
    const res = await response;
    await runsDone(page, runs + 1);
    const sent = JSON.parse(res.request().postData() ?? '{}') as { messages: unknown[]; steering?: unknown };
    expect(sent.messages).toEqual([{ role: 'system', content: 'You are kind.' }, { role: 'user', content: 'I feel lost today.' }]);
    expect(sent.steering).toBeDefined();
    const chunks = sseChunks(await res.text());
    const dom = await columnTokens(page, 'main');
    expect(dom.map((t) => t.id)).toEqual(chunks.flatMap((c) => c.tokens ?? []));
    expect(dom).toHaveLength(12);
    const reply = chunks.map((c) => (c.choices[0] as { delta?: { content?: string } })?.delta?.content ?? '').join('');
    expect(await page.locator('#transcript').innerText()).toContain(`assistant: ${reply.trim()}`.slice(0, 40));
    expect(await page.inputValue('#message')).toBe('');
    // the next turn carries the conversation
    await page.fill('#message', 'Thanks.');
    expect(await page.locator('#share-curl').innerText()).toContain(JSON.stringify({ role: 'assistant', content: reply }).slice(0, 30));
    // Stop: a long run is cancelled, the column says so, no error is shown
    await page.check('input[name="mode"][value="completion"]');
    await page.fill('#max-tokens', '240');
    await page.click('#run');
    await page.click('#stop');  // as soon as it is enabled: the request is on its way
    await runsDone(page, runs + 2);
    expect(await page.locator('.column[data-column="main"] .col-status').innerText()).toBe('stopped');
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('.column[data-column="main"] span.tok').count()).toBeLessThan(240);
    await page.fill('#max-tokens', '40');
    expect(problems).toEqual([]);
  });

  it('keyboard: every control is reachable with Tab and labelled (axe-core: no violations)', async () => {
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(axe);
    const result = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[]; passes: { id: string }[] }> } })
        .axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return { violations: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), passes: r.passes.map((x) => x.id) };
    });
    expect(result.violations).toEqual([]);
    expect(result.passes).toEqual(expect.arrayContaining(['label', 'button-name', 'color-contrast']));
    // a Tab walk from the top reaches every enabled control on show
    // a radio group is one Tab stop (the arrow keys move within it): its radios share an id here
    const controls = await page.$$eval('input, select, textarea, button, [tabindex="0"], summary', (els) => [...new Set(els
      .filter((e) => !(e as HTMLInputElement).disabled && (e as HTMLElement).offsetParent !== null && !e.closest('dialog'))
      .map((e, i) => {
        const id = (e as HTMLInputElement).type === 'radio' ? `radio:${(e as HTMLInputElement).name}` : String(i);
        (e as HTMLElement).dataset.tabId = id;
        return id;
      }))]);
    await page.focus('body');
    const reached = new Set<string>();
    for (let i = 0; i < controls.length * 2 + 10; i++) {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.tabId ?? null);
      if (id !== null) reached.add(id);
    }
    expect(controls.length).toBeGreaterThan(25);
    expect(controls.filter((c) => !reached.has(c))).toEqual([]);
    // tokens can be read from the keyboard: focus the column, arrow to a token, its scores are announced
    await page.focus('.column[data-column="main"] .tokens');
    await page.keyboard.press('ArrowRight');
    expect(await page.locator('#announce').innerText()).toMatch(/^token 1 \(id \d+\)/);
  });

  it('a full queue: the page shows the server\'s 429 message and waits for Retry-After', async () => {
    const { page: p2, problems: pr2 } = await openPage(narrowUrl);
    await ready(p2);
    const ac = new AbortController();
    // the one slot is taken by a long request
    const busy = await postJson(`${narrowUrl}/v1/completions`, { prompt: 'Hello', max_tokens: 900, ignore_eos: true, stream: true }, {}, ac.signal);
    try {
      const response = p2.waitForResponse((r) => r.url() === `${narrowUrl}/v1/completions`);
      await p2.click('#run');
      const res = await response;
      expect(res.status()).toBe(429);
      const msg = ((await res.json()) as { error: { message: string } }).error.message;
      await p2.waitForSelector('#error:not([hidden])');
      expect(await p2.locator('#error').innerText()).toContain(msg);
      expect(await p2.locator('#run').isDisabled()).toBe(true);
      expect(await p2.locator('#run').innerText()).toMatch(/retry in \d+ s/);
    } finally {
      ac.abort();
      await busy.body?.cancel().catch(() => {});
    }
    // the 429 is the expected failed resource load; nothing else went wrong
    expect(pr2.filter((x) => !/status of 429/.test(x))).toEqual([]);
    await p2.close();
  });

  it('with --api-key: the page asks once (the server\'s message), keeps the key in sessionStorage only, and works', async () => {
    expect((await fetch(`${keyedUrl}/v1/limits`)).status).toBe(401);
    const { page: p3, problems: pr3 } = await openPage(keyedUrl);
    await p3.waitForSelector('#key-dialog[open]');
    expect(await p3.locator('#key-message').innerText()).toMatch(/missing API key/);
    await p3.fill('#key-input', 'wrong');
    await p3.click('#key-submit');
    await p3.waitForFunction(() => /incorrect API key/.test(document.getElementById('key-message')?.textContent ?? ''));
    await p3.fill('#key-input', KEY);
    await p3.click('#key-submit');
    await ready(p3);
    expect(await p3.locator('#model-line').innerText()).toMatch(/blocks/);
    const storage = await p3.evaluate(() => ({ session: { ...sessionStorage }, local: localStorage.length, cookie: document.cookie, url: location.href }));
    expect(Object.values(storage.session)).toEqual([KEY]);
    expect(storage.local).toBe(0);
    expect(storage.cookie).toBe('');
    expect(storage.url).not.toContain(KEY);
    await setUp(p3, 8, 8);
    await p3.click('#run');
    await runsDone(p3, 1);
    expect((await columnTokens(p3, 'main')).length).toBe(8);
    const curl = await p3.locator('#share-curl').innerText();
    expect(curl).toContain('authorization: Bearer $EIA_NATIVE_API_KEY');
    expect(curl).not.toContain(KEY);
    // a reload keeps the key for this tab: no second question
    await p3.reload();
    await ready(p3);
    expect(await p3.locator('#key-dialog').getAttribute('open')).toBeNull();
    expect(pr3.filter((x) => !/status of 401/.test(x))).toEqual([]);
    await p3.close();
  });
});
