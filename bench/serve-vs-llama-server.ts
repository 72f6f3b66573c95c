// eia-native serve against llama-server (issue 28): the same model, slots, context per slot and
// threads, driven by the same N concurrent streaming clients (the official `openai` client, POST
// /v1/completions, fixed token-id prompts and lengths, ignore_eos), in alternating windows:
//   1. llama-server plain                        (llama_server)
//   2. eia-native plain                          (plain)
//   3. eia-native, every request its own steering vector (its own direction, block and scale) (steered)
//   4. the same plus a monitor probe per request (steered_monitored)
//   5. the same with the steering behind a probe gate (steered_monitored_gated)
// Arrivals (ARRIVALS): `staggered` (default) -- client i's first request of a window asks for i/N of
// the tokens, so from then on the clients' requests arrive spread over a request's lifetime, the
// same way on both servers (the offsets are in tokens, not in time); those lead requests count
// towards tok/s but not towards latencies (lib/bench/serve-load.ts). `lockstep` -- every request of
// the same length from the start: the clients start, and while no request fails stay, in waves of N
// (N prompts arrive together, so TTFT is a wave's prompt phase).
// For each N (NS), both servers start once; each round runs one window of every configuration, the
// order reversed on odd rounds, so a slow stretch of a shared machine hits neighbouring windows alike.
// A configuration's figure is the median over rounds; a ratio is the median of per-round ratios.
// Reports aggregate tok/s, TTFT, inter-token latency (lib/bench/serve-load.ts defines them), tokens
// per chunk, and each server's RSS (/proc/<pid>/status VmRSS every 2 s of its load).
//
// llama-server is built once from the pinned llama.cpp source in the eia-native cache
// (scripts/llama-server.mjs: shared libraries, loadable CPU variants), and both servers run the same
// CPU variant: the one eia-native's runtime picks here, or VARIANT (eia-native through
// EIA_NATIVE_BACKEND_DIR, llama-server through a folder holding only that variant). KERNELS=1 (default)
// first compares llama-batched-bench of that build against the one built on eia-native's libraries
// (same variant): how far the two builds' kernels differ, apart from either server. LLAMA_CPU=runtime
// gives llama-server the prebuilt runtime's library of the variant instead of its own build's (the
// same kernels, byte for byte, on both sides; where the source build's variant cannot run, e.g. its
// AMX code on this Sapphire Rapids VM).
//
// Run: npx vite-node bench/serve-vs-llama-server.ts   (needs `npm run build:ts`: eia-native serve runs as the CLI)
// env: NS=8,32 TOKENS=64 PROMPT_TOKENS=32 ROUNDS=3 WINDOW=60 THREADS=<cores> VARIANT=<cpu variant> ARRIVALS=staggered|lockstep LLAMA_CPU=source|runtime
//      CONFIGS=llama_server,plain,steered,steered_monitored,steered_monitored_gated KERNELS=1 OUT=file JOBS=<build jobs>
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { buildLlamaServer, variantDir } from '../scripts/llama-server.mjs';
import { batchedBenchTgRate } from '../lib/bench/parse.js';
import { runTool } from '../lib/bench/proc.js';
import { benchModel } from '../lib/bench/run.js';
import { medianRoundRatio, rssChange, summariseWindow, summariseWindows, type RssSample, type StreamRecord, type WindowSummary } from '../lib/bench/serve-load.js';
import { median } from '../lib/bench/stats.js';
import { toolPath } from '../lib/bench/tools.js';
import { engineLimits } from '../lib/engine/defaults.js';
import { Model } from '../lib/engine/model.js';
import { runtimeInfo } from '../lib/engine/runtime-info.js';
import { createRng } from '../lib/stats/rng.js';
import { encodeVectorData } from '../lib/server/vector-data.js';

const CONFIG_NAMES = ['llama_server', 'plain', 'steered', 'steered_monitored', 'steered_monitored_gated'] as const;
type ConfigName = (typeof CONFIG_NAMES)[number];

const env = process.env;
const NS = (env.NS ?? '8,32').split(',').map(Number);
const TOKENS = Number(env.TOKENS ?? 64);
const PROMPT_TOKENS = Number(env.PROMPT_TOKENS ?? 32);
const ROUNDS = Number(env.ROUNDS ?? 3);
const WINDOW = Number(env.WINDOW ?? 60);
const THREADS = Number(env.THREADS ?? availableParallelism());
const KERNELS = (env.KERNELS ?? '1') !== '0';
const ARRIVALS = env.ARRIVALS ?? 'staggered';
const LLAMA_CPU = env.LLAMA_CPU ?? 'source';
if (LLAMA_CPU !== 'source' && LLAMA_CPU !== 'runtime') throw new Error(`LLAMA_CPU must be source or runtime (got ${LLAMA_CPU})`);
if (ARRIVALS !== 'staggered' && ARRIVALS !== 'lockstep') throw new Error(`ARRIVALS must be staggered or lockstep (got ${ARRIVALS})`);
const CONFIGS = (env.CONFIGS ? env.CONFIGS.split(',') : [...CONFIG_NAMES]) as ConfigName[];
for (const c of CONFIGS) if (!CONFIG_NAMES.includes(c)) throw new Error(`unknown configuration '${c}' (CONFIGS: ${CONFIG_NAMES.join(', ')})`);
for (const n of NS) if (!Number.isInteger(n) || n < 1) throw new Error(`NS must be positive integers (got ${env.NS})`);
const ROOT = new URL('..', import.meta.url).pathname;
const log = (m: string) => process.stderr.write(`[serve-vs-llama-server] ${m}\n`);
const r1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first (the server runs as the CLI)');
const rt = runtimeInfo();
if (rt.runtime !== 'prebuilt' || !rt.libDir) throw new Error('this bench pins both servers to one CPU variant of the prebuilt runtime; this build is a source build');
const VARIANT: string = env.VARIANT ?? rt.cpuVariant ?? '';
if (!VARIANT) throw new Error('the runtime reports no CPU variant: set VARIANT');
const eiaLib = join(rt.libDir, `libggml-cpu-${VARIANT}.so`);
if (!existsSync(eiaLib)) throw new Error(`the prebuilt runtime has no CPU variant ${VARIANT} (${eiaLib})`);
// eia-native's backend folder: only that variant
const eiaBackendDir = mkdtempSync(join(tmpdir(), `eia-variant-${VARIANT}-`));
symlinkSync(eiaLib, join(eiaBackendDir, `libggml-cpu-${VARIANT}.so`));
const eiaEnv = { ...env, EIA_GPU: 'cpu', EIA_NATIVE_BACKEND_DIR: eiaBackendDir };

const NEEDS_LLAMA = KERNELS || CONFIGS.includes('llama_server');
if (NEEDS_LLAMA) log(`building llama-server (CPU variant ${VARIANT}) from the pinned llama.cpp source in the cache (once)`);
const llamaBuild = NEEDS_LLAMA ? buildLlamaServer({ variants: [VARIANT], jobs: env.JOBS ? Number(env.JOBS) : undefined }) : '';
const llamaDir = NEEDS_LLAMA ? variantDir(VARIANT, llamaBuild, LLAMA_CPU === 'runtime' ? eiaLib : undefined) : '';
const modelPath = (await benchModel('0.5b', log)).path;
const model = await Model.load(modelPath);  // memory-mapped: its facts only, freed at once
const nLayer = model.nLayer, nEmbd = model.nEmbd, nVocab = model.info.nVocab;
model.free();
const { kvPadding } = engineLimits();
const CTX = PROMPT_TOKENS + TOKENS + 8;
const CTX_SLOT = Math.ceil(CTX / kvPadding) * kvPadding;  // what eia-native gives each slot

// ---- per-client work: prompts, steering, monitor, gate ---------------------------------------------
const unit = (seed: number) => {
  const r = createRng(seed);
  const v = new Float32Array(nEmbd);
  let n = 0;
  for (let i = 0; i < nEmbd; i++) { v[i] = r.normal(); n += v[i] * v[i]; }
  for (let i = 0; i < nEmbd; i++) v[i] /= Math.sqrt(n);
  return encodeVectorData(v);
};
const maxN = Math.max(...NS);
const steerDir = Array.from({ length: maxN }, (_, i) => unit(100 + i));  // every client its own direction
const gateDir = Array.from({ length: maxN }, (_, i) => unit(5000 + i));
const monitorDir = unit(7);
const layerOf = (i: number) => 2 + (i % Math.max(1, nLayer - 4));
const scaleOf = (i: number) => ((i % 9) - 4) * 0.5 || 0.25;
const promptOf = (i: number, k: number) => { const r = createRng(1000 + i * 7919 + k); return Array.from({ length: PROMPT_TOKENS }, () => 10 + Math.floor(r.next() * (nVocab - 10))); };
// the gate steers while the projection at its block is below `on`, until it rises above `off`
const GATE = { on: 0, off: 0.05 };

function body(config: ConfigName, i: number, k: number, maxTokens: number): Record<string, unknown> {
  const b: Record<string, unknown> = {
    model: 'm', prompt: promptOf(i, k), max_tokens: maxTokens, temperature: 0.7, top_k: 50, top_p: 1, min_p: 0, seed: i * 100_003 + k,
    stream: true, ignore_eos: true,
  };
  if (config === 'llama_server') return { ...b, timings_per_token: true };  // predicted_n per chunk: its tokens
  b.return_tokens = true;
  const vec = { data: steerDir[i], layers: layerOf(i), scale: scaleOf(i) };
  if (config === 'steered' || config === 'steered_monitored') b.steering = { vectors: [vec] };
  if (config === 'steered_monitored' || config === 'steered_monitored_gated') b.monitor = [{ data: monitorDir, layer: layerOf(i) }];
  if (config === 'steered_monitored_gated') b.gate = { data: gateDir[i], layer: Math.max(0, layerOf(i) - 1), on: GATE.on, off: GATE.off, vectors: [vec] };
  return b;
}

// ---- processes ----------------------------------------------------------------------------------
interface Server { name: 'llama-server' | 'eia-native'; url: string; proc: ChildProcess; command: string; stop: () => Promise<void> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill('SIGTERM');
  });
}

async function startEia(n: number): Promise<Server> {
  const args = [join(ROOT, 'bin', 'eia-native.js'), 'serve', '--model', modelPath, '--slots', String(n), '--ctx-size', String(CTX), '--threads', String(THREADS),
    '--port', '0', '--queue', String(n), '--no-ui'];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: eiaEnv });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /on (http:\/\/[^\s]+)\/v1/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`eia-native serve exited (${code}): ${err.slice(-2000)}`)));
  });
  return { name: 'eia-native', url, proc, command: `EIA_NATIVE_BACKEND_DIR=<${VARIANT} only> node ${args.slice(0).join(' ')}`.replace(ROOT, ''), stop: stopper(proc) };
}

async function startLlama(n: number): Promise<Server> {
  const port = await freePort();
  const exe = join(llamaDir, 'llama-server');
  const args = ['-m', modelPath, '-np', String(n), '-c', String(n * CTX_SLOT), '-t', String(THREADS), '-tb', String(THREADS), '--no-kv-unified',
    '-fa', 'auto', '--host', '127.0.0.1', '--port', String(port)];
  const proc = spawn(exe, args, { cwd: llamaDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => { err = (err + d).slice(-20_000); });
  let exited: string | null = null;
  proc.once('exit', (code, sig) => { exited = `llama-server exited (${code ?? sig}): ${err.slice(-2000)}`; });
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  for (;;) {
    if (exited) throw new Error(exited);
    if (performance.now() - t0 > 300_000) throw new Error(`llama-server did not become ready in 300 s: ${err.slice(-2000)}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!/CPU backend|load_backend|libggml-cpu/i.test(err) || !err.includes(VARIANT)) log(`note: llama-server's log does not name the ${VARIANT} variant`);
  return { name: 'llama-server', url, proc, command: `${exe.replace(llamaBuild, '<build>')} ${args.join(' ')}`, stop: stopper(proc) };
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

// ---- clients ------------------------------------------------------------------------------------
/** Tokens a chunk carries: eia-native's `tokens` (return_tokens), llama-server's timings.predicted_n (timings_per_token). */
function chunkTokens(chunk: Record<string, unknown>, state: { predicted: number }): number {
  if (Array.isArray(chunk.tokens)) return chunk.tokens.length;
  const t = chunk.timings as { predicted_n?: number } | undefined;
  if (t && typeof t.predicted_n === 'number') {
    const n = t.predicted_n - state.predicted;
    state.predicted = t.predicted_n;
    return n;
  }
  return 0;  // e.g. the last chunk (finish reason only): a request that comes back short is reported as such
}

async function oneRequest(client: OpenAI, config: ConfigName, i: number, k: number, maxTokens: number): Promise<StreamRecord> {
  const rec: StreamRecord = { sentMs: performance.now(), chunks: [], ok: false };
  const state = { predicted: 0 };
  try {
    const stream = await client.completions.create(body(config, i, k, maxTokens) as unknown as OpenAI.CompletionCreateParamsStreaming);
    let finish: string | null = null;
    for await (const chunk of stream) {
      const n = chunkTokens(chunk as unknown as Record<string, unknown>, state);
      if (n > 0) rec.chunks.push({ atMs: performance.now(), tokens: n });
      finish = chunk.choices?.[0]?.finish_reason ?? finish;
    }
    const got = rec.chunks.reduce((a, c) => a + c.tokens, 0);
    rec.ok = got === maxTokens && finish === 'length';
    if (!rec.ok) rec.error = `short: ${got} of ${maxTokens} tokens, finish ${finish}`;
  } catch (e) {
    rec.error = (e as Error).message.slice(0, 300);
  }
  return rec;
}

interface WindowRun { config: ConfigName; round: number; records: StreamRecord[]; wallMs: number; summary: WindowSummary; loadBefore: number; loadAfter: number }

/** N clients send requests back to back for `seconds`, then wait for their last; RSS sampled meanwhile. */
async function loadWindow(srv: Server, clients: OpenAI[], config: ConfigName, round: number, seconds: number, rss: RssSample[], loadClock: { s: number }): Promise<WindowRun> {
  const loadBefore = loadavg()[0];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const pid = srv.proc.pid!;
  const sample = () => rss.push({ t: loadClock.s + (performance.now() - t0) / 1000, bytes: rssBytes(pid) });
  sample();
  const timer = setInterval(sample, 2000);
  const records: StreamRecord[] = [];
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; performance.now() < deadline; k++) {
      const lead = ARRIVALS === 'staggered' && k === 0 && i > 0;
      const rec = await oneRequest(c, config, i, round * 1_000_000 + k, lead ? Math.max(1, Math.round((TOKENS * i) / clients.length)) : TOKENS);
      if (lead) rec.lead = true;
      records.push(rec);
    }
  }));
  const wallMs = performance.now() - t0;
  clearInterval(timer);
  loadClock.s += wallMs / 1000;
  sample();
  return { config, round, records, wallMs, summary: summariseWindow(records, wallMs), loadBefore, loadAfter: loadavg()[0] };
}

async function warmUp(clients: OpenAI[], config: ConfigName): Promise<void> {
  const recs = await Promise.all(clients.map((c, i) => oneRequest(c, config, i, 999_999_999, 8)));
  const bad = recs.filter((r) => !r.ok);
  if (bad.length) throw new Error(`warm-up of ${config} failed: ${bad[0].error}`);
}

// ---- kernels: llama-batched-bench of both builds, same variant, alternating -----------------------
async function kernelCheck(): Promise<Record<string, unknown>> {
  const args = (n: number) => ['-m', modelPath, '-c', String(n * 256), '-b', '2048', '-ub', '512', '-npp', String(PROMPT_TOKENS), '-ntg', '32', '-npl', String(n),
    '-t', String(THREADS), '-fa', 'auto', '-pps', '--output-format', 'jsonl'];
  const n = Math.max(...NS);
  const sides = {
    eia_libraries: { file: toolPath('llama-batched-bench'), env: eiaEnv, cwd: ROOT },
    source_build: { file: join(llamaDir, 'llama-batched-bench'), env: { ...env }, cwd: llamaDir },
  };
  if (!existsSync(sides.eia_libraries.file)) return { skipped: `${sides.eia_libraries.file} is not built (npm run build)` };
  const rates: Record<string, number[]> = { eia_libraries: [], source_build: [] };
  for (let r = 0; r < 3; r++) {
    const order = r % 2 === 0 ? (['eia_libraries', 'source_build'] as const) : (['source_build', 'eia_libraries'] as const);
    for (const s of order) {
      const run = await runTool(sides[s].file, args(n), { env: sides[s].env });
      if (run.code !== 0) throw new Error(`llama-batched-bench (${s}) exited ${run.code}: ${run.stderr.slice(-1000)}`);
      rates[s].push(batchedBenchTgRate(run.stdout + '\n' + run.stderr, n));
    }
    log(`kernels round ${r + 1}/3: S_TG at ${n} sequences: eia-native's libraries ${rates.eia_libraries[r].toFixed(1)}, source build ${rates.source_build[r].toFixed(1)} tok/s`);
  }
  const ratio = medianRoundRatio(rates.source_build, rates.eia_libraries);
  return {
    what: `llama-batched-bench S_TG, ${n} sequences, ${PROMPT_TOKENS}-token shared prompt, 32 new tokens, CPU variant ${VARIANT}, 3 alternating rounds`,
    eia_libraries_tok_s: rates.eia_libraries.map(r1), source_build_tok_s: rates.source_build.map(r1),
    source_vs_eia_libraries: { median: r3(ratio.median), rounds: ratio.rounds.map(r3) },
  };
}

// ---- the run ------------------------------------------------------------------------------------
const startedAt = new Date().toISOString();
const loadStart = loadavg();
const kernels = KERNELS ? await kernelCheck() : { skipped: 'KERNELS=0' };
const perN: Record<string, unknown> = {};
const commands: Record<string, string> = {};
for (const n of NS) {
  log(`N = ${n}: starting both servers (${n} slots, ${CTX_SLOT} tokens of context per slot, ${THREADS} threads, CPU variant ${VARIANT})`);
  const llama = CONFIGS.includes('llama_server') ? await startLlama(n) : null;
  const eia = CONFIGS.some((c) => c !== 'llama_server') ? await startEia(n) : null;
  if (llama) commands.llama_server = llama.command;
  if (eia) commands.eia_native = eia.command;
  const clientsOf = (s: Server) => Array.from({ length: n }, () => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 900_000 }));
  const clients = { 'llama-server': llama ? clientsOf(llama) : [], 'eia-native': eia ? clientsOf(eia) : [] };
  const serverOf = (c: ConfigName) => (c === 'llama_server' ? llama! : eia!);
  const rss: Record<string, RssSample[]> = { 'llama-server': [], 'eia-native': [] };
  const clock: Record<string, { s: number }> = { 'llama-server': { s: 0 }, 'eia-native': { s: 0 } };
  const windows: WindowRun[] = [];
  try {
    for (const c of CONFIGS) await warmUp(clients[serverOf(c).name], c);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
      for (const c of order) {
        const s = serverOf(c);
        const w = await loadWindow(s, clients[s.name], c, r, WINDOW, rss[s.name], clock[s.name]);
        windows.push(w);
        log(`N=${n} round ${r + 1}/${ROUNDS} ${c}: ${w.summary.tokS.toFixed(1)} tok/s, TTFT p50 ${w.summary.ttftMs.p50.toFixed(0)} ms, ITL p50 ${w.summary.itlMs.p50.toFixed(1)} ms, ` +
          `${w.summary.ok}/${w.summary.requests} ok, load ${w.loadBefore.toFixed(1)} -> ${w.loadAfter.toFixed(1)}`);
      }
    }
  } finally {
    await llama?.stop();
    await eia?.stop();
  }
  const byConfig = Object.fromEntries(CONFIGS.map((c) => {
    const ws = windows.filter((w) => w.config === c);
    const pooled = summariseWindows(ws);
    return [c, {
      tok_s: { median: r1(median(ws.map((w) => w.summary.tokS))), rounds: ws.map((w) => r1(w.summary.tokS)) },
      ttft_ms: { p50: r1(pooled.ttftMs.p50), p99: r1(pooled.ttftMs.p99), p50_rounds: ws.map((w) => r1(w.summary.ttftMs.p50)) },
      itl_ms: { p50: r1(pooled.itlMs.p50), p99: r1(pooled.itlMs.p99) },
      chunk_gap_ms: { p50: r1(pooled.chunkGapMs.p50), p99: r1(pooled.chunkGapMs.p99) },
      tokens_per_chunk: r3(pooled.tokensPerChunk),
      requests: { sent: pooled.requests, ok: pooled.ok, failed_or_short: pooled.failed, errors: pooled.errors },
      load_average: ws.map((w) => [r1(w.loadBefore), r1(w.loadAfter)]),
    }];
  }));
  const rateRounds = (c: ConfigName) => windows.filter((w) => w.config === c).map((w) => w.summary.tokS);
  const ttftRounds = (c: ConfigName) => windows.filter((w) => w.config === c).map((w) => w.summary.ttftMs.p50);
  const ratio = (c: ConfigName, f: (c: ConfigName) => number[]) => {
    if (!CONFIGS.includes(c) || !CONFIGS.includes('llama_server')) return null;
    const x = medianRoundRatio(f(c), f('llama_server'));
    return { median: r3(x.median), rounds: x.rounds.map(r3) };
  };
  const rssOf = (name: string) => {
    const ch = rssChange(rss[name]);
    const mib = (b: number) => r1(b / 2 ** 20);
    return ch ? {
      load_seconds: r1(ch.loadSeconds), minute_1: { max: mib(ch.minute1.max), min: mib(ch.minute1.min) }, last_minute: { max: mib(ch.lastMinute.max), min: mib(ch.lastMinute.min) },
      change_of_max: r3(ch.changeOfMax), change_of_min: r3(ch.changeOfMin), peak: mib(Math.max(...rss[name].map((s) => s.bytes))),
    } : { load_seconds: r1(clock[name].s), note: 'under two minutes of load: no minute-1-to-end comparison', peak: rss[name].length ? mib(Math.max(...rss[name].map((s) => s.bytes))) : null };
  };
  perN[String(n)] = {
    configs: byConfig,
    ratios: {
      plain_vs_llama_server: ratio('plain', rateRounds),
      steered_vs_llama_server: ratio('steered', rateRounds),
      steered_monitored_vs_llama_server: ratio('steered_monitored', rateRounds),
      steered_monitored_gated_vs_llama_server: ratio('steered_monitored_gated', rateRounds),
      ttft_p50_plain_vs_llama_server: ratio('plain', ttftRounds),
      ttft_p50_steered_monitored_vs_llama_server: ratio('steered_monitored', ttftRounds),
    },
    rss_mib: { 'eia-native': rssOf('eia-native'), 'llama-server': rssOf('llama-server') },
  };
  writeOut();
}
rmSync(eiaBackendDir, { recursive: true, force: true });

function writeOut(): string {
  const report = {
    bench: 'serve-vs-llama-server',
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    command: [...['NS', 'TOKENS', 'PROMPT_TOKENS', 'ROUNDS', 'WINDOW', 'THREADS', 'VARIANT', 'LLAMA_CPU', 'ARRIVALS', 'CONFIGS', 'KERNELS', 'MALLOC_MMAP_THRESHOLD_']
      .filter((k) => env[k] !== undefined).map((k) => `${k}=${env[k]}`), 'npx vite-node bench/serve-vs-llama-server.ts'].join(' '),
    machine: {
      cpu: cpus()[0]?.model, cores: cpus().length, threads: THREADS, cpu_variant: VARIANT, runtime: rt.runtimePackage,
      load_average_start: loadStart.map(r1), load_average_end: loadavg().map(r1),
    },
    settings: {
      model: `${modelPath.split('/').pop()} (Qwen2.5-0.5B-shaped synthetic, q8_0)`, ns: NS, tokens_per_request: TOKENS, prompt_tokens: PROMPT_TOKENS,
      ctx_per_slot: CTX_SLOT, rounds: ROUNDS, window_seconds: WINDOW, configs: CONFIGS,
      arrivals: ARRIVALS === 'staggered'
        ? "staggered: client i's first request in a window asks for round(i/N x tokens) (a lead request: its tokens count, its latencies do not), later ones for all of them"
        : 'lockstep: every request asks for all the tokens; the clients start together',
      sampling: 'temperature 0.7, top_k 50, top_p 1, min_p 0, a seed per request; ignore_eos',
      steering: 'per client: its own unit direction, block 2 + i mod (n_layer - 4), scale ((i mod 9) - 4) / 2 or 0.25, inline base64',
      monitor: 'one probe per request at its steered block', gate: `probe gate one block before the steered one, its own direction per client, on ${GATE.on}, off ${GATE.off}`,
      malloc_mmap_threshold: env.MALLOC_MMAP_THRESHOLD_ ?? null,
      llama_server_cpu_library: LLAMA_CPU === 'runtime' ? `the prebuilt runtime's libggml-cpu-${VARIANT}.so (the library eia-native loads)` : `its own build's libggml-cpu-${VARIANT}.so`,
      commands,
    },
    targets: { plain_vs_llama_server: '>= 0.95', steered_monitored_vs_llama_server: '>= 0.90', ttft_p50_vs_llama_server: '<= 1.2', eia_rss_change: '<= 0.05 (minute 1 to the end)' },
    kernels,
    n: perN,
  };
  const text = JSON.stringify(report, null, 2);
  if (env.OUT) writeFileSync(env.OUT, text + '\n');  // after every N: a run cut short keeps what it measured
  return text;
}
process.stdout.write(writeOut() + '\n');
