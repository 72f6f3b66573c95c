// The LLM judge without a model: the rubric file and strict parsing, and the client against local
// HTTP servers of this test's own — one answering in the rubric's format, one answering garbage (a
// rating-less answer, a reply that is not a chat completion), one that never answers (timeout), one
// that answers 429 with Retry-After before 200, and 401/503 — plus the cache: a second run asks
// nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chatCompletionsUrl, JudgeClient, retryAfterMs } from '../../lib/steering/judge/client.js';
import { judgeSamples } from '../../lib/steering/judge/judge.js';
import { fillPrompt, loadRubric, parseRating, RUBRIC_FILE } from '../../lib/steering/judge/rubric.js';
import { harmonicMean } from '../../lib/steering/judge/verdict.js';
import type { SampleRecord } from '../../lib/steering/samples.js';
import { tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-judge-');
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) { s.closeAllConnections(); await new Promise((r) => s.close(r)); }
  tmp.cleanup();
});

type Handler = (body: { model: string; messages: { content: string }[] }, req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A local server; `calls` counts the requests it got. */
async function serve(handler: Handler): Promise<{ url: string; calls: () => number }> {
  let n = 0;
  const s = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      n++;
      expect(req.url).toBe('/v1/chat/completions');
      handler(JSON.parse(data), req, res, n);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`, calls: () => n };
}

const reply = (res: ServerResponse, content: string) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
};

const SAMPLES: SampleRecord[] = [
  { model: 'm', layer: 3, scenario: 'food_delivery', alpha: 0, sample: 0, text: 'I finish the delivery and move on to the next order.' },
  { model: 'm', layer: 3, scenario: 'food_delivery', alpha: 4, sample: 0, text: 'I stop and listen to the user, I care about how they feel.' },
];

describe('rubric', () => {
  it('the rubric file loads: three questions, each with {response}; prompts fill in one pass', () => {
    const r = loadRubric();
    expect(r.path).toBe(RUBRIC_FILE);
    expect(r.concept).toMatch(/empathy in action/i);
    const p = fillPrompt(r, 'instruction', { instruction: 'Do the task.', response: 'a {concept} b' });
    expect(p).toContain('Do the task.');
    expect(p).toContain('a {concept} b');  // the sample's own braces stay as they are
    expect(readFileSync(RUBRIC_FILE, 'utf8')).toContain('## fluency');
    expect(new Set(Object.values(r.hashes)).size).toBe(3);
  });

  it('parses strictly: exactly one Rating: [[0|1|2]], anything else is null', () => {
    expect(parseRating('The concept is clear.\nRating: [[2]]')).toBe(2);
    expect(parseRating('rating: [[ 0 ]]')).toBe(0);
    expect(parseRating('Rating: [[1]] or maybe Rating: [[2]]')).toBeNull();
    expect(parseRating('Rating: [[1]] ... Rating: [[1]]')).toBeNull();
    expect(parseRating('Rating: [[3]]')).toBeNull();
    expect(parseRating('Rating: [[1.5]]')).toBeNull();
    expect(parseRating('Rating: 2')).toBeNull();
    expect(parseRating('I would say 2.')).toBeNull();
    expect(parseRating('')).toBeNull();
  });

  it('harmonic mean as AxBench: 0 when any score is 0', () => {
    expect(harmonicMean([2, 2, 2])).toBe(2);
    expect(harmonicMean([1, 2, 2])).toBeCloseTo(3 / (1 + 0.5 + 0.5), 12);
    expect(harmonicMean([0, 2, 2])).toBe(0);
  });

  it('a damaged rubric file is refused naming the part', () => {
    const bad = join(tmp.dir, 'bad.md');
    writeFileSync(bad, '## concept-description\nx\n## concept\nno placeholder\n## instruction\n{response}\n## fluency\n{response}\n');
    expect(() => loadRubric(bad)).toThrow(/"## concept" has no \{response\}/);
  });
});

describe('judge client against local servers', () => {
  it('URLs: a base …/v1, a server root or the full path', () => {
    expect(chatCompletionsUrl('http://h:1/v1')).toBe('http://h:1/v1/chat/completions');
    expect(chatCompletionsUrl('http://h:1/')).toBe('http://h:1/v1/chat/completions');
    expect(chatCompletionsUrl('https://api.example.com/v1/chat/completions')).toBe('https://api.example.com/v1/chat/completions');
    expect(() => chatCompletionsUrl('not a url')).toThrow(/not a URL/);
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(Date.now() + 3000).toUTCString())).toBeGreaterThan(1000);
    expect(retryAfterMs('86400')).toBe(120_000);
    expect(retryAfterMs('soon')).toBeNull();
  });

  it('rubric answers: every sample scored, the harmonic mean formed; the cache means a second run asks nothing', async () => {
    const seen: string[] = [];
    const s = await serve((body, req, res) => {
      expect(body.model).toBe('judge-1');
      expect(req.headers.authorization).toBe('Bearer k3y');
      const p = body.messages[0].content;
      seen.push(p);
      // steered text: concept 2; baseline: concept 0; relevance 2; fluency 1
      const q = p.includes('[Concept]') ? (p.includes('I care') ? 2 : 0) : p.includes('[Instruction]') ? 2 : 1;
      reply(res, `Explanation here.\nRating: [[${q}]]`);
    });
    const client = new JudgeClient({ url: s.url, model: 'judge-1', apiKey: 'k3y' });
    const cachePath = join(tmp.dir, 'judge.jsonl');
    const run = await judgeSamples(SAMPLES, { client, cachePath, progress: false, concurrency: 3 });
    expect(s.calls()).toBe(6);
    expect(run).toMatchObject({ asked: 6, cached: 0, unparseable: 0, failed: 0 });
    const steered = run.verdicts.get(JSON.stringify(['m', 3, 'food_delivery', 4, 0]))!;
    expect(steered.scores).toEqual({ concept: 2, instruction: 2, fluency: 1 });
    expect(steered.harmonic).toBeCloseTo(harmonicMean([2, 2, 1]), 12);
    expect(run.verdicts.get(JSON.stringify(['m', 3, 'food_delivery', 0, 0]))!.harmonic).toBe(0);
    expect(seen.some((p) => p.includes('What do you do?'))).toBe(true);  // the instruction is the scenario prompt
    const again = await judgeSamples(SAMPLES, { client, cachePath, progress: false });
    expect(s.calls()).toBe(6);
    expect(again).toMatchObject({ asked: 0, cached: 6 });
    expect(again.verdicts.get(JSON.stringify(['m', 3, 'food_delivery', 4, 0]))).toEqual(steered);
    // another judge model is asked again
    const other = await judgeSamples(SAMPLES.slice(0, 1), { client: new JudgeClient({ url: s.url, model: 'judge-1', apiKey: 'k3y' }), cachePath: join(tmp.dir, 'other.jsonl'), progress: false });
    expect(other.asked).toBe(3);
  });

  it('garbage: a rating-less answer is counted unparseable (and cached), a reply that is no chat completion is a failure', async () => {
    const words = await serve((_b, _r, res) => reply(res, 'I think this text is pretty good overall, maybe a two.'));
    const cachePath = join(tmp.dir, 'garbage.jsonl');
    const run = await judgeSamples(SAMPLES, { client: new JudgeClient({ url: words.url, model: 'j' }), cachePath, progress: false });
    expect(run).toMatchObject({ asked: 6, unparseable: 6, failed: 0 });
    for (const v of run.verdicts.values()) {
      expect(v.scores).toEqual({ concept: null, instruction: null, fluency: null });
      expect(v.harmonic).toBeNull();
      expect(v.unparseable).toEqual(['concept', 'instruction', 'fluency']);
    }
    const again = await judgeSamples(SAMPLES, { client: new JudgeClient({ url: words.url, model: 'j' }), cachePath, progress: false });
    expect(again).toMatchObject({ asked: 0, cached: 6, unparseable: 6 });
    expect(words.calls()).toBe(6);

    const junk = await serve((_b, _r, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>oops</html>'); });
    const bad = await judgeSamples(SAMPLES.slice(0, 1), { client: new JudgeClient({ url: junk.url, model: 'j' }), cachePath: join(tmp.dir, 'junk.jsonl'), progress: false });
    expect(bad).toMatchObject({ asked: 3, unparseable: 0, failed: 3 });
    expect(bad.firstFailure).toMatch(/not JSON/);
    expect(junk.calls()).toBe(3);  // not retried: a broken reply will not heal
  });

  it('timeout: a server that never answers fails after the retries, within the time the timeouts allow', async () => {
    const hang = await serve(() => { /* never answers */ });
    const client = new JudgeClient({ url: hang.url, model: 'j', timeoutMs: 300, retries: 1, backoffMs: 10 });
    const t0 = Date.now();
    const run = await judgeSamples(SAMPLES.slice(0, 1), { client, progress: false, concurrency: 3 });
    expect(run).toMatchObject({ asked: 3, failed: 3, unparseable: 0 });
    expect(run.firstFailure).toMatch(/no answer within 300 ms/);
    expect(hang.calls()).toBe(6);
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const v of run.verdicts.values()) expect(v.failed).toEqual(['concept', 'instruction', 'fluency']);
  });

  it('429 then 200: waits what Retry-After says, then succeeds', async () => {
    const times: number[] = [];
    const s = await serve((_b, _r, res, n) => {
      times.push(Date.now());
      if (n === 1) { res.writeHead(429, { 'retry-after': '1' }); res.end('slow down'); return; }
      reply(res, 'Rating: [[2]]');
    });
    const client = new JudgeClient({ url: s.url, model: 'j', backoffMs: 1 });
    const answer = await client.ask('hello');
    expect(answer).toBe('Rating: [[2]]');
    expect(s.calls()).toBe(2);
    expect(client.retried).toBe(1);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(950);
  });

  it('401 is not retried; 503 is retried and then fails naming the status', async () => {
    const denied = await serve((_b, _r, res) => { res.writeHead(401); res.end('bad key'); });
    await expect(new JudgeClient({ url: denied.url, model: 'j' }).ask('x')).rejects.toThrow(/refused the request \(HTTP 401: bad key\)/);
    expect(denied.calls()).toBe(1);
    const down = await serve((_b, _r, res) => { res.writeHead(503); res.end(); });
    await expect(new JudgeClient({ url: down.url, model: 'j', retries: 2, backoffMs: 5 }).ask('x')).rejects.toThrow(/failed after 3 attempts \(last: HTTP 503\)/);
    expect(down.calls()).toBe(3);
  });
});
