// Load bench of `eia-native serve` (issue 16): CLIENTS concurrent streaming clients (the official
// `openai` client), each with its own steering (its own scale and block), TOKENS new tokens per
// request, sent back to back, against the server in its own process (the CLI), on the
// Qwen2.5-0.5B-shaped synthetic model (q8_0, cached; SHAPE=tiny makes the server's own per-token cost
// dominate). The load runs in ROUNDS windows of WINDOW seconds, with a `generate` batch of CLIENTS
// sequences (the same steering, prompt phase included, wall clock, in this process while the server
// idles) before and after each window. Reports:
//   - requests started / finished / failed or short / lost (the last three must be 0);
//   - aggregate tokens/s the clients received, and per window its ratio to the mean of the generate
//     batches on either side (median over windows: a slow stretch of a shared machine hits both sides);
//   - time to first token p50 / p99 (client side: request sent -> first token chunk);
//   - the server's RSS (its /metrics: prom-client's process_resident_memory_bytes) every 5 s of load:
//     high- and low-water marks of the first minute of load and of the last, and their changes.
// Prints one JSON object (also written to OUT when set).
//
// Run (after `npm run build:ts`, which the server process needs):
//   npx vite-node bench/serve-bench.ts   (env: CLIENTS=32 TOKENS=64 ROUNDS=3 WINDOW=60 PROMPT_TOKENS=32 THREADS=<cores> SHAPE=0.5b|tiny OUT=file)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { Model } from '../lib/engine/model.js';
import { generationContextOptions } from '../lib/engine/context.js';
import type { SequenceRequest } from '../lib/engine/generate.js';
import { runtimeInfo } from '../lib/engine/runtime-info.js';
import { synth } from '../lib/engine/synth.js';
import { createRng } from '../lib/stats/rng.js';
import { encodeVectorData } from '../lib/server/vector-data.js';

const CLIENTS = Number(process.env.CLIENTS ?? 32);
const TOKENS = Number(process.env.TOKENS ?? 64);
/** Load windows, each WINDOW seconds, with a generate batch before and after each. */
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WINDOW = Number(process.env.WINDOW ?? 60);
const PROMPT_TOKENS = Number(process.env.PROMPT_TOKENS ?? 32);
const THREADS = Number(process.env.THREADS ?? availableParallelism());
/** '0.5b' (Qwen2.5-0.5B dimensions: the engine dominates) or 'tiny' (n_embd 64: the server's own per-token cost dominates). */
const SHAPE = (process.env.SHAPE ?? '0.5b') as '0.5b' | 'tiny';
const ROOT = new URL('..', import.meta.url).pathname;
const cache = process.env.EIA_BENCH_CACHE ?? join(tmpdir(), 'eia-bench-cache');
mkdirSync(cache, { recursive: true });

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const quantile = (xs: number[], q: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN; };

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first (the server runs as the CLI)');
const modelPath = join(cache, `qwen2-${SHAPE}-q8_0.gguf`);
if (!existsSync(modelPath)) {
  process.stderr.write(`synthesising ${modelPath} ...\n`);
  await synth({ arch: 'qwen2', shape: SHAPE, type: 'q8_0', seed: 1, out: modelPath });
}
const model = await Model.load(modelPath);
const nV = model.info.nVocab;
const rng = createRng(7);
const dir = new Float32Array(model.nEmbd);
{
  let n = 0;
  for (let i = 0; i < dir.length; i++) { dir[i] = rng.normal(); n += dir[i] * dir[i]; }
  for (let i = 0; i < dir.length; i++) dir[i] /= Math.sqrt(n);
}
const dirB64 = encodeVectorData(dir);
const CTX = PROMPT_TOKENS + TOKENS + 8;

/** Client i's steering: its own block and scale. */
const steeringOf = (i: number) => ({ layer: 2 + (i % Math.max(1, model.nLayer - 4)), scale: ((i % 9) - 4) * 0.5 || 0.25 });
const promptOf = (i: number, k: number) => { const r = createRng(1000 + i * 7919 + k); return Array.from({ length: PROMPT_TOKENS }, () => 10 + Math.floor(r.next() * (nV - 10))); };

/** The reference: the same work as one `generate` batch of CLIENTS sequences (wall clock, prompt phase included). */
async function referenceRate(round: number): Promise<number> {
  const ctx = await model.createContext(generationContextOptions(CLIENTS, CTX, THREADS));
  const seqs: SequenceRequest[] = Array.from({ length: CLIENTS }, (_, i) => {
    const s = steeringOf(i);
    return { prompt: Int32Array.from(promptOf(i, 10_000 + round)), temperature: 0.7, topK: 50, seed: i, maxTokens: TOKENS, ignoreEog: true, steer: [{ layer: s.layer, direction: dir, alpha: s.scale }] };
  });
  const t0 = performance.now();
  const res = await ctx.generate({ sequences: seqs }).result();
  const ms = performance.now() - t0;
  ctx.free();
  return res.reduce((a, r) => a + r.tokens.length, 0) / (ms / 1000);
}

async function startServerProcess(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'eia-native.js'), 'serve', '--model', modelPath, '--slots', String(CLIENTS), '--ctx', String(CTX),
    '--threads', String(THREADS), '--port', '0', '--queue', String(CLIENTS)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /on (http:\/\/[^\s]+)\/v1/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  const stop = () => new Promise<void>((resolve) => { child.on('exit', () => resolve()); child.kill('SIGTERM'); });
  return { url, pid: child.pid!, stop };
}

async function serverRss(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

interface RequestRecord { client: number; round: number; ttftMs: number; tokens: number; ok: boolean; error?: string }

const ENV_KEYS = ['CLIENTS', 'TOKENS', 'ROUNDS', 'WINDOW', 'PROMPT_TOKENS', 'THREADS', 'SHAPE', 'MALLOC_MMAP_THRESHOLD_', 'OUT'];
const COMMAND = [...ENV_KEYS.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`), 'npx vite-node bench/serve-bench.ts'].join(' ');
const loadStart = loadavg()[0];
const srv = await startServerProcess();
process.stderr.write(`server ${srv.url} (pid ${srv.pid})\n`);
const clients = Array.from({ length: CLIENTS }, () => new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 600_000 }));
const records: RequestRecord[] = [];
let started = 0;
/** RSS samples against load time (seconds the clients have been sending, summed over windows). */
const rss: { t: number; rss: number }[] = [];
let loadBefore = 0;

/** One load window: every client sends requests back to back until `seconds` have passed, then waits for its last. */
async function loadWindow(round: number, seconds: number): Promise<{ tokens: number; wall: number }> {
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const sampler = setInterval(() => {
    const t = loadBefore + (performance.now() - t0) / 1000;
    void serverRss(srv.url).then((b) => rss.push({ t, rss: b }));
  }, 5000);
  let tokens = 0;
  const clientLoop = async (i: number) => {
    const s = steeringOf(i);
    for (let k = 0; performance.now() < deadline; k++) {
      started++;
      const sent = performance.now();
      const rec: RequestRecord = { client: i, round, ttftMs: NaN, tokens: 0, ok: false };
      try {
        const stream = await clients[i].completions.create({
          model: 'm', prompt: promptOf(i, round * 100_000 + k), max_tokens: TOKENS, temperature: 0.7, top_k: 50, seed: i * 1000 + k, stream: true,
          ignore_eos: true, return_tokens: true, steering: { vectors: [{ data: dirB64, layers: s.layer, scale: s.scale }] },
        } as OpenAI.CompletionCreateParamsStreaming & Record<string, unknown>);
        let finish: string | null = null;
        for await (const chunk of stream) {
          const n = ((chunk as unknown as { tokens?: number[] }).tokens ?? []).length;
          if (n > 0 && rec.tokens === 0) rec.ttftMs = performance.now() - sent;
          rec.tokens += n;
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        rec.ok = rec.tokens === TOKENS && finish === 'length';
        if (!rec.ok) rec.error = `short: ${rec.tokens} tokens, finish ${finish}`;
      } catch (e) {
        rec.error = (e as Error).message;
      }
      tokens += rec.tokens;
      records.push(rec);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => clientLoop(i)));
  const wall = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  loadBefore += wall;
  rss.push({ t: loadBefore, rss: await serverRss(srv.url) });
  return { tokens, wall };
}

// rounds: generate batch, load window, ..., generate batch. A window's ratio is its rate over the mean
// of the batches on either side, so a slow stretch of a shared machine hits both sides of a ratio.
const refs: number[] = [await referenceRate(0)];
const windows: { tokens: number; wall: number; rate: number; ratio: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  process.stderr.write(`round ${r + 1}/${ROUNDS}: generate batch ${r1(refs[r])} tok/s; ${CLIENTS} clients for ${WINDOW} s ...\n`);
  const w = await loadWindow(r, WINDOW);
  refs.push(await referenceRate(r + 1));
  const rate = w.tokens / w.wall;
  windows.push({ ...w, rate, ratio: rate / ((refs[r] + refs[r + 1]) / 2) });
  process.stderr.write(`  server ${r1(rate)} tok/s over ${r1(w.wall)} s; generate batch after ${r1(refs[r + 1])} tok/s; ratio ${r3(windows[r].ratio)}\n`);
}
await srv.stop();
model.free();

const ok = records.filter((r) => r.ok);
const ttft = ok.map((r) => r.ttftMs);
const tokens = records.reduce((a, r) => a + r.tokens, 0);
const wallAll = windows.reduce((a, w) => a + w.wall, 0);
// RSS swings within a wave (KV cells and per-sequence buffers live while it decodes), so minutes of load
// are compared by their high-water and low-water marks, not by one sample each
const window = (from: number, to: number) => rss.filter((x) => x.t >= from && x.t <= to).map((x) => x.rss);
const first = window(0, 60), last = window(loadBefore - 60, loadBefore);
const rt = runtimeInfo();
const report = {
  bench: 'serve',
  command: COMMAND,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, threads: THREADS, load_average_start: r1(loadStart), load_average_end: r1(loadavg()[0]), runtime: rt.runtimePackage ?? rt.runtime, backend: rt.gpu ?? `cpu (${rt.cpuVariant})` },
  settings: {
    model: `qwen2 ${SHAPE}-shaped synthetic, q8_0`, clients: CLIENTS, slots: CLIENTS, tokens_per_request: TOKENS, prompt_tokens: PROMPT_TOKENS,
    rounds: ROUNDS, window_seconds: WINDOW, ctx_per_slot: CTX, steering: 'per client: its own block and scale, inline base64 vector',
    malloc_mmap_threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null,
  },
  requests: { started, finished_ok: ok.length, failed_or_short: records.length - ok.length, lost: started - records.length, errors: [...new Set(records.filter((r) => !r.ok).map((r) => r.error))].slice(0, 5) },
  throughput: {
    aggregate_tok_s: r1(tokens / wallAll),
    ratio_vs_generate_batch: { median: r3(median(windows.map((w) => w.ratio))), rounds: windows.map((w) => r3(w.ratio)) },
    target: 0.85,
    windows: windows.map((w) => ({ server_tok_s: r1(w.rate), seconds: r1(w.wall), tokens: w.tokens })),
    generate_batch_tok_s: refs.map(r1),
  },
  ttft_ms: { p50: r1(quantile(ttft, 0.5)), p99: r1(quantile(ttft, 0.99)), max: r1(Math.max(...ttft)), n: ttft.length },
  rss_mib: {
    load_seconds: r1(loadBefore),
    minute_1: { max: r1(Math.max(...first) / 2 ** 20), min: r1(Math.min(...first) / 2 ** 20) },
    last_minute: { max: r1(Math.max(...last) / 2 ** 20), min: r1(Math.min(...last) / 2 ** 20) },
    change_of_max: r3(Math.max(...last) / Math.max(...first) - 1),
    change_of_min: r3(Math.min(...last) / Math.min(...first) - 1),
    target_abs_change: 0.05,
    samples: rss.map((x) => ({ t: Math.round(x.t), mib: r1(x.rss / 2 ** 20) })),
  },
};
const text = JSON.stringify(report, null, 2);
process.stdout.write(text + '\n');
if (process.env.OUT) writeFileSync(process.env.OUT, text + '\n');
