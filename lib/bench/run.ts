// `eia-native bench`: eia-native measured against llama.cpp's own tools on the same model and
// threads (the physical limit on this machine), against node-llama-cpp (what users would use
// otherwise) and against the paper's computation pattern, in one run, as ratios.
//
// Every eia-native figure comes from a worker process (worker.ts) that uses the public Node API;
// llama.cpp's tools (built from the same vendored source) and node-llama-cpp run as their own
// processes. The two sides of each ratio run back to back in rounds with alternating order, after
// a warm-up, and each ratio is the median of the per-round ratios.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../engine/native.js';
import { synth, type SynthShape } from '../engine/synth.js';
import { cacheDir } from '../models/cache.js';
import { createRng } from '../stats/rng.js';
import { loadAverage, machineInfo, type MachineInfo } from './machine.js';
import { ensureTools } from './tools.js';
import { ensureNodeLlamaCpp } from './nlc.js';
import { batchedBenchTgRate, llamaBenchPromptRate } from './parse.js';
import { runTool, WorkerClient, type ToolRun } from './proc.js';
import { alternate, median, medianOverhead, medianRatio, rate, round, roundRate, type Pair } from './stats.js';
import type { GenRun, GenSpec, PaperGrid } from './worker.js';
import { benchSettings, randomTokens, spreadIndices, spreadLayers, type BenchSettings, type BenchShape } from './workload.js';

/** The ratio names (a contract: scripts read them from the JSON). */
export const RATIO_KEYS = [
  'capture_vs_llama_bench',
  'steer_vs_batched_bench',
  'sweep_vs_sequential',
  'plain_vs_node_llama_cpp',
  'monitor_overhead',
  'paper_method_vs_eia',
] as const;
export type RatioKey = (typeof RATIO_KEYS)[number];

/** Acceptance targets on a 2-core CPU machine (paper_method_vs_eia is reported, no target). */
export const TARGETS: Record<RatioKey, { op: '>=' | '<='; value: number } | null> = {
  capture_vs_llama_bench: { op: '>=', value: 0.95 },
  steer_vs_batched_bench: { op: '>=', value: 0.95 },
  sweep_vs_sequential: { op: '>=', value: 3 },
  plain_vs_node_llama_cpp: { op: '>=', value: 1.0 },
  monitor_overhead: { op: '<=', value: 0.05 },
  paper_method_vs_eia: null,
};

export interface BenchOptions {
  shape: BenchShape;
  /** A GGUF file instead of the synthetic model. */
  model?: string;
  threads?: number;
  /** Measured rounds per ratio (after a warm-up). */
  reps?: number;
  quick: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (msg: string) => void;
}

export interface BenchReport {
  bench: 'eia-native';
  date: string;
  seconds: number;
  machine: MachineInfo;
  model: { path: string; synthetic: boolean; shape: string | null; arch: string; n_layer: number; n_embd: number; n_vocab: number; n_params: number; size_mib: number; synth_seconds: number | null };
  settings: BenchSettings & { flash_attn: Record<string, string>; steer_layer: number | null; capture_layers: number[]; tools: Record<string, string | null> };
  ratios: Record<RatioKey, number | null>;
  /** Why a ratio is null (only for null ones). */
  null_reasons: Partial<Record<RatioKey, string>>;
  targets: Record<RatioKey, string | null>;
  met: Record<RatioKey, boolean | null>;
  /** Absolute figures (medians over rounds): tokens per second unless the name says otherwise. */
  rates: Record<string, number | null>;
  /** Peak resident set of each measured step (MiB; the maximum over its rounds). */
  peak_rss_mib: Record<string, number | null>;
  /** How each peak RSS was measured. */
  rss_method: Record<string, string>;
  /** Per-round raw figures, for anyone who wants to check a median. */
  rounds: Record<string, number[]>;
  step_seconds: Record<string, number>;
  node_llama_cpp: { status: 'ok' | 'unavailable' | 'failed'; version: string | null; detail: string | null };
}

function defaultWorker(name: string): string {
  const here = join(dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  return existsSync(here) ? here : join(packageRoot, 'dist', 'bench', `${name}.js`);
}

/** The synthetic model of `shape` (its own architecture, q8_0), made once under <cache>/bench-models. */
export async function benchModel(shape: BenchShape, log: (m: string) => void): Promise<{ path: string; seconds: number | null }> {
  const dir = join(cacheDir(), 'bench-models');
  const path = join(dir, `synth-${shape}-q8_0.gguf`);
  if (existsSync(path)) return { path, seconds: null };
  mkdirSync(dir, { recursive: true });
  log(`bench: writing the synthetic ${shape} model (q8_0) to ${path} (once)`);
  const tmp = join(dir, `.synth-${shape}-q8_0.${process.pid}.gguf`);
  const t0 = performance.now();
  try {
    await synth({ shape: shape as SynthShape, type: 'q8_0', seed: 1, out: tmp });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { path, seconds: (performance.now() - t0) / 1000 };
}

const mib = (kb: number | null | undefined): number | null => (kb === null || kb === undefined ? null : Math.round((kb / 1024) * 10) / 10);

/** Runs the whole bench. Steps that cannot run leave their ratio null with the reason. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const threads = o.threads ?? availableParallelism();
  const S = benchSettings({ quick: o.quick, threads, reps: o.reps, shape: o.shape });
  const ratios = Object.fromEntries(RATIO_KEYS.map((k) => [k, null])) as Record<RatioKey, number | null>;
  const reasons: Partial<Record<RatioKey, string>> = {};
  const rates: Record<string, number | null> = {};
  const peaks: Record<string, number> = {};
  const rssMethod: Record<string, string> = {};
  const rounds: Record<string, number[]> = {};
  const stepSeconds: Record<string, number> = {};
  const push = (k: string, v: number) => { (rounds[k] ??= []).push(Math.round(v * 1000) / 1000); };
  const peak = (k: string, kb: number | null | undefined, how: string) => {
    if (kb === null || kb === undefined) return;
    peaks[k] = Math.max(peaks[k] ?? 0, kb);
    rssMethod[k] = how;
  };
  const ourPeak = (k: string, r: { peakRssKb?: number; peakIsPerRequest?: boolean }) =>
    peak(k, r.peakRssKb, r.peakIsPerRequest ? 'worker VmHWM, reset before the step' : 'worker maxrss since start (no per-step reset here)');
  const toolPeak = (k: string, r: ToolRun) => peak(k, r.peakRssKb, 'VmHWM of the tool process, sampled every 50 ms');
  const fail = (key: RatioKey, e: unknown) => {
    reasons[key] = (e as Error)?.message ?? String(e);
    log(`bench: ${key}: ${reasons[key]}`);
  };
  const timed = async (step: string, fn: () => Promise<void>) => {
    const t = performance.now();
    try {
      await fn();
    } finally {
      stepSeconds[step] = Math.round((performance.now() - t) / 100) / 10;
    }
  };

  // --- model
  let synthSeconds: number | null = null;
  let modelPath = o.model;
  if (!modelPath) {
    const m = await benchModel(o.shape, log);
    modelPath = m.path;
    synthSeconds = m.seconds;
  }
  const machine = machineInfo(threads);
  const tools: Record<string, string | null> = ensureTools(['llama-bench', 'llama-batched-bench'], log);
  const flash: Record<string, string> = { capture: 'off', llama_bench: 'off (-fa 0)', generation: 'auto', batched_bench: 'auto (-fa auto)', node_llama_cpp: 'auto' };

  const w = new WorkerClient('eia-native worker', defaultWorker('worker'));
  let nw: WorkerClient | null = null;
  let nlcInfo: BenchReport['node_llama_cpp'] = { status: 'unavailable', version: null, detail: null };
  type Info = { arch: string; nLayer: number; nEmbd: number; nVocab: number; bos: number; addBos: boolean; nParams: number; sizeBytes: number };
  let info = undefined as unknown as Info;
  const captureLayers: number[] = [];
  let steerLayer: number | null = null;
  try {
    info = (await w.request<Info>('load', { model: modelPath, threads })).result;
    const vocab = { nVocab: info.nVocab, bos: info.bos, addBos: info.addBos };
    const rng = createRng(1);
    const genSpec = (prompt: number[], alpha: number, seed: number, maxTokens: number): GenSpec =>
      ({ prompt, alpha, seed, maxTokens, temperature: S.sweep.temperature, topK: S.sweep.topK });
    const perSeq = (tokens: number) => Math.ceil(tokens / 256) * 256;

    // --- capture at 5 layers (mean pool) vs llama-bench pp512
    await timed('capture', async () => {
      try {
        captureLayers.push(...spreadLayers(info.nLayer, S.capture.layers));
        const need = S.capture.textsPerRound * S.rounds + 1;
        const ids = Array.from({ length: need }, () => randomTokens(rng, Math.ceil(S.capture.textTokens * 1.5), vocab));
        const texts = (await w.request<string[]>('texts', { ids })).result;
        const capture = async (tx: string[]) => {
          const r = await w.request<{ tokens: number; wallMs: number; minTokens: number }>('capture', {
            texts: tx, layers: captureLayers, maxTokens: S.capture.textTokens, batch: S.capture.batch,
          });
          if (r.result.minTokens < S.capture.textTokens) throw new Error(`capture texts came out shorter than ${S.capture.textTokens} tokens (${r.result.minTokens})`);
          ourPeak('capture', r);
          return rate(r.result.tokens, r.result.wallMs);
        };
        // warm-up: a short text through the same context and layers
        await w.request('capture', { texts: [texts[0]], layers: captureLayers, maxTokens: 64, batch: S.capture.batch });
        const lb = tools['llama-bench'];
        const pairs: Pair[] = [];
        for (let r = 0; r < S.rounds; r++) {
          const tx = texts.slice(1 + r * S.capture.textsPerRound, 1 + (r + 1) * S.capture.textsPerRound);
          let ours = Number.NaN;
          let theirs = Number.NaN;
          for (const side of alternate(r, 'ours', 'theirs')) {
            if (side === 'ours') {
              ours = await capture(tx);
              push('capture_tok_s', ours);
            } else if (lb) {
              const run = await runTool(lb, ['-m', modelPath!, '-p', String(S.capture.textTokens), '-n', '0', '-t', String(threads), '-b', String(S.capture.batch),
                '-ub', String(S.capture.batch), '-fa', '0', '-ngl', '0', '-r', '1', '-o', 'json']);
              if (run.code !== 0) throw new Error(`llama-bench exited ${run.code ?? run.signal}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`);
              theirs = llamaBenchPromptRate(run.stdout, S.capture.textTokens);
              toolPeak('llama_bench', run);
              push('llama_bench_pp_tok_s', theirs);
            }
          }
          pairs.push({ a: ours, b: theirs });
          log(`bench: capture round ${r + 1}/${S.rounds}: ${ours.toFixed(1)} tok/s vs llama-bench pp${S.capture.textTokens} ${theirs.toFixed(1)} tok/s`);
        }
        rates.capture_tok_s = median(rounds.capture_tok_s ?? []);
        if (!lb) throw new Error('llama-bench is not built (build/bin/llama-bench); run `npm run build`');
        rates.llama_bench_pp_tok_s = median(rounds.llama_bench_pp_tok_s ?? []);
        ratios.capture_vs_llama_bench = medianRatio(pairs);
      } catch (e) {
        fail('capture_vs_llama_bench', e);
      }
    });

    // --- steered sweep (55 sequences) vs llama-batched-bench S_TG; + one monitor; + one at a time
    await timed('sweep', async () => {
      const { alphas, samples, promptTokens, genTokens } = S.sweep;
      steerLayer = Math.floor(info.nLayer / 2);
      const prompt = randomTokens(rng, promptTokens, vocab);
      const specs: GenSpec[] = [];
      for (const alpha of alphas) for (let s = 0; s < samples; s++) specs.push(genSpec(prompt, alpha, s, genTokens));
      const n = specs.length;
      const seqSpecs = spreadIndices(n, S.sequential.samples).map((i) => specs[i]);
      const bb = tools['llama-batched-bench'];
      const gen = async (key: string, sp: GenSpec[], extra: Record<string, unknown>) => {
        const r = await w.request<GenRun>('generate', { specs: sp, layer: steerLayer, ...extra });
        ourPeak(key, r);
        return r.result;
      };
      const steerPairs: Pair[] = [];
      const monPairs: Pair[] = [];
      const seqPairs: Pair[] = [];
      try {
        // warm-up: one alpha's samples, a few tokens, on the context the sweep uses
        await gen('steered_sweep', specs.slice(0, samples).map((s) => ({ ...s, maxTokens: Math.min(4, genTokens) })),
          { ctxSeqs: n, ctxTokens: promptTokens + genTokens });
        for (let r = 0; r < S.rounds; r++) {
          const res: Record<string, number> = {};
          const order = r % 2 === 0 ? ['bb', 'steered', 'monitored', 'sequential'] : ['sequential', 'monitored', 'steered', 'bb'];
          for (const side of order) {
            if (side === 'bb') {
              if (!bb) continue;
              const run = await runTool(bb, ['-m', modelPath!, '-c', String(perSeq(promptTokens + genTokens + 1) * n), '-b', '2048', '-ub', '512',
                '-npp', String(promptTokens), '-ntg', String(genTokens), '-npl', String(n), '-t', String(threads), '-fa', 'auto', '-ngl', '0', '-pps',
                '--output-format', 'jsonl']);
              if (run.code !== 0) throw new Error(`llama-batched-bench exited ${run.code ?? run.signal}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`);
              res.bb = batchedBenchTgRate(run.stdout + '\n' + run.stderr, n);
              toolPeak('batched_bench', run);
              push('batched_bench_tg_tok_s', res.bb);
            } else if (side === 'steered') {
              const g = await gen('steered_sweep', specs, {});
              res.steered = rate(g.decodeTokens, g.decodeMs);
              res.sweepWall = rate(g.generatedTokens, g.wallMs);
              push('steered_decode_tok_s', res.steered);
              push('steered_decode_wall_tok_s', rate(g.generatedTokens - g.sequences, g.firstToLastMs));
              push('sweep_wall_tok_s', res.sweepWall);
              push('sweep_prompt_ms', g.promptMs);
              if (g.sampleMs !== null) push('steered_sampling_share', g.sampleMs / (g.promptMs + g.decodeMs));
            } else if (side === 'monitored') {
              // the steered sweep plus one monitor probe: same prompts, steering and seeds, so the
              // decode phases differ only by the monitor (a shared prompt would change the KV layout)
              const g = await gen('monitored_sweep', specs, { monitor: true });
              res.monitored = rate(g.decodeTokens, g.decodeMs);
              push('monitored_decode_tok_s', res.monitored);
            } else {
              const g = await gen('sequential', seqSpecs, { sequential: true });
              res.sequential = rate(g.generatedTokens, g.wallMs);
              push('sequential_wall_tok_s', res.sequential);
            }
          }
          steerPairs.push({ a: res.steered, b: res.bb ?? Number.NaN });
          monPairs.push({ a: res.monitored, b: res.steered });
          seqPairs.push({ a: res.sweepWall, b: res.sequential });
          log(`bench: sweep round ${r + 1}/${S.rounds}: steered ${res.steered.toFixed(1)} tok/s, batched-bench S_TG ${res.bb?.toFixed(1) ?? '-'}, ` +
            `monitored ${res.monitored.toFixed(1)}, sweep wall ${res.sweepWall.toFixed(1)} vs one at a time ${res.sequential.toFixed(1)}`);
        }
      } catch (e) {
        for (const k of ['steer_vs_batched_bench', 'monitor_overhead', 'sweep_vs_sequential'] as const) if (!reasons[k]) fail(k, e);
      }
      for (const k of ['steered_decode_tok_s', 'steered_decode_wall_tok_s', 'batched_bench_tg_tok_s', 'monitored_decode_tok_s', 'sweep_wall_tok_s', 'sequential_wall_tok_s'])
        if (rounds[k]) rates[k] = median(rounds[k]);
      for (const k of ['sweep_prompt_ms', 'steered_sampling_share']) if (rounds[k]) rates[k] = median(rounds[k]);
      if (!reasons.steer_vs_batched_bench) {
        if (!bb) reasons.steer_vs_batched_bench = 'llama-batched-bench is not built (build/bin/llama-batched-bench); run `npm run build`';
        else ratios.steer_vs_batched_bench = medianRatio(steerPairs);
      }
      if (!reasons.monitor_overhead) ratios.monitor_overhead = medianOverhead(monPairs);
      if (!reasons.sweep_vs_sequential) ratios.sweep_vs_sequential = medianRatio(seqPairs);
    });

    // --- unsteered single-sequence generation vs node-llama-cpp
    await timed('plain', async () => {
      try {
        const { promptTokens, genTokens, seed } = S.plain;
        const prompt = randomTokens(rng, promptTokens, vocab);
        const spec = genSpec(prompt, 0, seed, genTokens);
        const ours = async () => {
          const r = await w.request<GenRun>('generate', { specs: [spec], steer: false });
          ourPeak('plain', r);
          return rate(r.result.generatedTokens - 1, r.result.firstToLastMs);
        };
        await ours();  // warm-up
        const found = await ensureNodeLlamaCpp(log);
        let reason: string | null = null;
        if ('reason' in found) {
          reason = found.reason;
          nlcInfo = { status: 'unavailable', version: null, detail: found.reason };
        } else {
          nw = new WorkerClient('node-llama-cpp worker', defaultWorker('nlc-worker'), [found.entry]);
          try {
            const li = (await nw.request<{ version: string; buildType: string; llamaCppRelease: unknown; contextSize: number; flashAttention: unknown }>('load', {
              model: modelPath, threads, contextSize: perSeq(promptTokens + genTokens), batchSize: 512, flashAttention: 'auto',
            })).result;
            nlcInfo = { status: 'ok', version: li.version, detail: `${li.buildType} binaries, llama.cpp ${JSON.stringify(li.llamaCppRelease)}, flash attention ${JSON.stringify(li.flashAttention)}` };
          } catch (e) {
            reason = `node-llama-cpp could not load the model: ${(e as Error).message}`;
            nlcInfo = { status: 'failed', version: found.version, detail: reason };
          }
        }
        const theirs = async () => {
          const r = await nw!.request<{ generatedTokens: number; firstToLastMs: number }>('plain', {
            prompt, genTokens, seed, temperature: S.sweep.temperature, topK: S.sweep.topK,
          });
          if (r.result.generatedTokens !== genTokens) throw new Error(`node-llama-cpp generated ${r.result.generatedTokens} tokens, not ${genTokens}`);
          peak('node_llama_cpp', r.peakRssKb, r.peakIsPerRequest ? 'worker VmHWM, reset before the step' : 'worker maxrss since start');
          return rate(r.result.generatedTokens - 1, r.result.firstToLastMs);
        };
        if (!reason) await theirs();  // warm-up
        const pairs: Pair[] = [];
        for (let r = 0; r < S.plain.rounds; r++) {
          let a = Number.NaN;
          let b = Number.NaN;
          for (const side of alternate(r, 'ours', 'theirs')) {
            if (side === 'ours') { a = await ours(); push('plain_tok_s', a); }
            else if (!reason) { b = await theirs(); push('node_llama_cpp_tok_s', b); }
          }
          pairs.push({ a, b });
          log(`bench: plain round ${r + 1}/${S.plain.rounds}: ${a.toFixed(1)} tok/s vs node-llama-cpp ${Number.isFinite(b) ? b.toFixed(1) : '-'} tok/s`);
        }
        rates.plain_tok_s = median(rounds.plain_tok_s ?? []);
        if (reason) throw new Error(reason);
        rates.node_llama_cpp_tok_s = median(rounds.node_llama_cpp_tok_s ?? []);
        ratios.plain_vs_node_llama_cpp = medianRatio(pairs);
      } catch (e) {
        if (nlcInfo.status === 'ok') nlcInfo = { ...nlcInfo, status: 'failed', detail: (e as Error).message };
        fail('plain_vs_node_llama_cpp', e);
      } finally {
        if (nw) await nw.close();
        nw = null;
      }
    });

    // --- the paper's computation pattern vs eia-native's, same grid, same engine
    await timed('paper', async () => {
      try {
        const P = S.paper;
        const ids = Array.from({ length: P.texts }, () => randomTokens(rng, Math.ceil(P.textTokens * 1.5), vocab));
        const grid: PaperGrid = {
          alphas: P.alphas, samples: P.samples, prompt: randomTokens(rng, P.promptTokens, vocab), genTokens: P.genTokens,
          layer: Math.floor(info.nLayer / 2), probeLayers: spreadLayers(info.nLayer, P.probeLayers),
          texts: (await w.request<string[]>('texts', { ids })).result, textTokens: P.textTokens,
        };
        await w.request('eiaMethod', { grid });  // warm-up (the paper side is warm from the steps before)
        const pairs: Pair[] = [];
        for (let r = 0; r < P.rounds; r++) {
          const ms: Record<string, number> = {};
          for (const side of alternate(r, 'paperMethod', 'eiaMethod')) {
            const res = await w.request<{ ms: number; generateMs: number; captureMs: number }>(side, { grid });
            ourPeak(side === 'paperMethod' ? 'paper_method' : 'eia_method', res);
            ms[side] = res.result.ms;
            push(side === 'paperMethod' ? 'paper_method_ms' : 'eia_method_ms', res.result.ms);
            push(side === 'paperMethod' ? 'paper_method_generate_ms' : 'eia_method_generate_ms', res.result.generateMs);
          }
          // rate(paper) / rate(eia) for the same work = eia time / paper time
          pairs.push({ a: ms.eiaMethod, b: ms.paperMethod });
          log(`bench: paper round ${r + 1}/${P.rounds}: paper pattern ${(ms.paperMethod / 1000).toFixed(2)} s vs eia-native ${(ms.eiaMethod / 1000).toFixed(2)} s`);
        }
        for (const k of ['paper_method_ms', 'eia_method_ms', 'paper_method_generate_ms', 'eia_method_generate_ms']) rates[k] = median(rounds[k]);
        ratios.paper_method_vs_eia = medianRatio(pairs);
        rates.eia_speedup_over_paper_method = 1 / ratios.paper_method_vs_eia;
      } catch (e) {
        fail('paper_method_vs_eia', e);
      }
    });
    await w.request('unload').catch(() => undefined);
  } finally {
    await w.close();
  }

  for (const k of RATIO_KEYS) {
    if (ratios[k] !== null && !Number.isFinite(ratios[k]!)) {
      reasons[k] ??= 'no valid measurement';
      ratios[k] = null;
    }
    if (ratios[k] === null) reasons[k] ??= 'not measured';
  }
  machine.load_average.end = loadAverage();
  const met = Object.fromEntries(RATIO_KEYS.map((k) => {
    const t = TARGETS[k];
    const v = ratios[k];
    return [k, t === null || v === null ? null : t.op === '>=' ? v >= t.value : v <= t.value];
  })) as Record<RatioKey, boolean | null>;
  return {
    bench: 'eia-native',
    date: new Date().toISOString(),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    machine,
    model: {
      path: modelPath!, synthetic: !o.model, shape: o.model ? null : o.shape, arch: info.arch, n_layer: info.nLayer, n_embd: info.nEmbd,
      n_vocab: info.nVocab, n_params: info.nParams, size_mib: Math.round(info.sizeBytes / 2 ** 20), synth_seconds: synthSeconds === null ? null : round(synthSeconds, 1),
    },
    settings: { ...S, flash_attn: flash, steer_layer: steerLayer, capture_layers: captureLayers, tools },
    ratios: Object.fromEntries(RATIO_KEYS.map((k) => [k, round(ratios[k] ?? Number.NaN, 4)])) as Record<RatioKey, number | null>,
    null_reasons: reasons,
    targets: Object.fromEntries(RATIO_KEYS.map((k) => [k, TARGETS[k] ? `${TARGETS[k]!.op} ${TARGETS[k]!.value}` : null])) as Record<RatioKey, string | null>,
    met,
    rates: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, v === null ? null : roundRate(v)])),
    peak_rss_mib: Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, mib(v)])),
    rss_method: rssMethod,
    rounds,
    step_seconds: stepSeconds,
    node_llama_cpp: nlcInfo,
  };
}

const fmt = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));

/** The human-readable table: one row per ratio with its two absolute rates and peak RSS. */
export function formatReport(r: BenchReport): string {
  const rows: string[][] = [['ratio', 'value', 'target', 'ok', 'eia-native', 'reference', 'peak RSS MiB (eia / ref)']];
  const R = r.rates;
  const P = r.peak_rss_mib;
  const line = (k: RatioKey, ours: string, ref: string, rss: string) => {
    const v = r.ratios[k];
    const m = r.met[k];
    rows.push([k, v === null ? 'null' : fmt(v, k === 'paper_method_vs_eia' ? 4 : 3), r.targets[k] ?? '-', m === null ? '-' : m ? 'yes' : 'NO', ours, ref, rss]);
  };
  line('capture_vs_llama_bench', `${fmt(R.capture_tok_s, 1)} tok/s`, `${fmt(R.llama_bench_pp_tok_s, 1)} tok/s pp${r.settings.capture.textTokens}`, `${fmt(P.capture, 0)} / ${fmt(P.llama_bench, 0)}`);
  line('steer_vs_batched_bench', `${fmt(R.steered_decode_tok_s, 1)} tok/s`, `${fmt(R.batched_bench_tg_tok_s, 1)} tok/s S_TG`, `${fmt(P.steered_sweep, 0)} / ${fmt(P.batched_bench, 0)}`);
  line('sweep_vs_sequential', `${fmt(R.sweep_wall_tok_s, 1)} tok/s`, `${fmt(R.sequential_wall_tok_s, 1)} tok/s 1-at-a-time`, `${fmt(P.steered_sweep, 0)} / ${fmt(P.sequential, 0)}`);
  line('plain_vs_node_llama_cpp', `${fmt(R.plain_tok_s, 1)} tok/s`, `${fmt(R.node_llama_cpp_tok_s, 1)} tok/s`, `${fmt(P.plain, 0)} / ${fmt(P.node_llama_cpp, 0)}`);
  line('monitor_overhead', `${fmt(R.monitored_decode_tok_s, 1)} tok/s`, `${fmt(R.steered_decode_tok_s, 1)} tok/s no monitor`, `${fmt(P.monitored_sweep, 0)} / ${fmt(P.steered_sweep, 0)}`);
  line('paper_method_vs_eia', `${fmt((R.eia_method_ms ?? NaN) / 1000, 2)} s`, `${fmt((R.paper_method_ms ?? NaN) / 1000, 2)} s paper pattern`, `${fmt(P.eia_method, 0)} / ${fmt(P.paper_method, 0)}`);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const out = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const m = r.machine;
  const notes = Object.entries(r.null_reasons).map(([k, why]) => `  ${k}: null (${why})`);
  return [
    `eia-native bench (${r.settings.quick ? 'quick' : 'full'}): ${r.model.synthetic ? `synthetic ${r.model.shape} (${r.model.arch}, q8_0)` : r.model.path}, ` +
      `${m.threads} thread${m.threads === 1 ? '' : 's'} on ${m.cpu} (${m.cores} cores, ${m.backend}), llama.cpp ${m.llama_cpp_commit.slice(0, 7)}, eia-native ${m.eia_native_version}`,
    `median of ${r.settings.rounds} paired rounds after a warm-up; ${r.seconds} s; load average ${m.load_average.start} -> ${m.load_average.end ?? '?'} on ${m.cores} cores`,
    '',
    ...out,
    ...(notes.length ? ['', ...notes] : []),
    '',
    `paper_method_vs_eia = rate of the paper's pattern / rate of eia-native's way (eia-native is ${fmt(R.eia_speedup_over_paper_method, 1)}x faster on this grid)`,
  ].join('\n');
}
