// The bench's arithmetic, its parsers for llama.cpp's tools (on captured outputs) and the JSON
// shape of `bench --quick --shape tiny --json`. Figures themselves are never asserted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, median, medianOverhead, medianRatio, rate, round, roundRate } from '../../lib/bench/stats.js';
import { batchedBenchTgRate, llamaBenchPromptRate, parseBatchedBench, parseLlamaBenchJson } from '../../lib/bench/parse.js';
import { benchSettings, randomTokens, spreadIndices, spreadLayers, SWEEP_ALPHAS, unitVector } from '../../lib/bench/workload.js';
import { prebuiltPackage } from '../../lib/bench/nlc.js';
import { RATIO_KEYS } from '../../lib/bench/recorder.js';
import { createRng } from '../../lib/stats/rng.js';
import { runCli } from '../helpers/cli.js';
import { requireFreshDist } from '../helpers/dist.js';


// `llama-bench -m tiny.gguf -p 512 -n 0 -t 1 -b 512 -ub 512 -fa 0 -ngl 0 -r 2 -o json` (trimmed keys)
const LLAMA_BENCH_JSON = `[
  {
    "build_commit": "80fb11a", "build_number": 1, "cpu_info": "AMD EPYC", "gpu_info": "", "backends": "CPU",
    "model_filename": "/tmp/synth-tiny-q8_0.gguf", "model_type": "llama ?B Q8_0", "model_size": 1352448,
    "n_batch": 512, "n_ubatch": 512, "n_threads": 1, "poll": 50, "type_k": "f16", "type_v": "f16", "n_gpu_layers": 0,
    "flash_attn": 0, "n_prompt": 512, "n_gen": 0, "n_depth": 0, "test_time": "2026-11-28T08:26:09Z",
    "avg_ns": 75124334, "stddev_ns": 4009929, "avg_ts": 6825.091022, "stddev_ts": 364.304468,
    "samples_ns": [ 77959782, 72288886 ], "samples_ts": [ 6567.49, 7082.69 ]
  },
  {
    "build_commit": "80fb11a", "n_batch": 512, "n_ubatch": 512, "n_threads": 1, "flash_attn": 0,
    "n_prompt": 0, "n_gen": 128, "avg_ts": 1045.5, "samples_ts": [ 1040.0, 1051.0 ]
  }
]
`;

// `llama-batched-bench ... -npp 128 -ntg 8 -npl 1,2 -pps` (markdown, with the log lines around it)
const BATCHED_BENCH_MD = `
llama_batched_bench: n_kv_max = 1536, n_batch = 2048, n_ubatch = 512, flash_attn = -1, is_pp_shared = 1, is_tg_separate = 0, n_gpu_layers = 0, n_threads = 1, n_threads_batch = 1

|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s |
|-------|--------|------|--------|----------|----------|----------|----------|----------|----------|
|   128 |      8 |    1 |    136 |    0.019 |  6788.65 |    0.008 |  1045.21 |    0.027 |  5130.33 |
|   128 |      8 |    2 |    272 |    0.011 | 11978.29 |    0.015 |  1061.15 |    0.026 |  5589.19 |

llama_perf_context_print:        load time =      12.00 ms
`;

// the same tool with --output-format jsonl (one object per test; log lines on stderr mixed in)
const BATCHED_BENCH_JSONL = `0.00.159.485 W llama_context: n_ctx is not divisible by n_seq_max - rounding down to 14080
{"n_kv_max": 14080, "n_batch": 2048, "n_ubatch": 512, "flash_attn": -1, "is_pp_shared": 1, "n_gpu_layers": 0, "n_threads": 2, "n_threads_batch": 2, "pp": 128, "tg": 16, "pl": 55, "n_kv": 7920, "t_pp": 6.604555, "speed_pp": 19.380564, "t_tg": 69.462814, "speed_tg": 12.668649, "t": 76.067368, "speed": 13.251411}
`;

describe('bench arithmetic', () => {
  it('median of odd, even, empty and non-finite inputs', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([])).toBeNaN();
    expect(median([1, Number.NaN, 3, Number.POSITIVE_INFINITY])).toBe(2);
    const v = [9, 1, 5];
    median(v);
    expect(v).toEqual([9, 1, 5]); // input untouched
  });

  it('rates from counts and milliseconds', () => {
    expect(rate(512, 1000)).toBe(512);
    expect(rate(100, 250)).toBe(400);
    expect(rate(1, 0)).toBeNaN();
    expect(rate(1, -5)).toBeNaN();
  });

  it('ratio = median of per-round ratios, not ratio of medians', () => {
    const pairs = [{ a: 10, b: 10 }, { a: 30, b: 20 }, { a: 8, b: 10 }];
    expect(medianRatio(pairs)).toBe(1); // ratios 1, 1.5, 0.8
    expect(median(pairs.map((p) => p.a)) / median(pairs.map((p) => p.b))).toBe(1);
    expect(medianRatio([{ a: 2, b: 1 }, { a: 3, b: 1 }])).toBe(2.5);
    expect(medianRatio([{ a: 1, b: 0 }, { a: Number.NaN, b: 1 }, { a: 4, b: 2 }])).toBe(2);
    expect(medianRatio([])).toBeNaN();
  });

  it('overhead = 1 - median(rate_with / rate_without)', () => {
    expect(medianOverhead([{ a: 95, b: 100 }, { a: 90, b: 100 }, { a: 99, b: 100 }])).toBeCloseTo(0.05, 12);
    expect(medianOverhead([{ a: 110, b: 100 }])).toBeCloseTo(-0.1, 12);
    expect(medianOverhead([])).toBeNaN();
  });

  it('rounding for output; NaN becomes null', () => {
    expect(round(0.123456)).toBe(0.1235);
    expect(round(Number.NaN)).toBeNull();
    expect(roundRate(1234.56)).toBe(1235);
    expect(roundRate(123.456)).toBe(123.5);
    expect(roundRate(12.3456)).toBe(12.35);
    expect(roundRate(0.123456)).toBe(0.1235);
    expect(roundRate(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('alternates the order of the two sides every round', () => {
    expect(alternate(0, 'a', 'b')).toEqual(['a', 'b']);
    expect(alternate(1, 'a', 'b')).toEqual(['b', 'a']);
    expect(alternate(2, 'a', 'b')).toEqual(['a', 'b']);
  });
});

describe('parsing llama.cpp tool output', () => {
  it('llama-bench -o json', () => {
    const tests = parseLlamaBenchJson('llama log line before\n' + LLAMA_BENCH_JSON);
    expect(tests).toHaveLength(2);
    expect(tests[0]).toMatchObject({ nPrompt: 512, nGen: 0, nThreads: 1, nBatch: 512, nUbatch: 512, flashAttn: 0, buildCommit: '80fb11a', backends: 'CPU' });
    expect(tests[0].avgTs).toBeCloseTo(6825.091022, 6);
    expect(tests[0].samplesTs).toEqual([6567.49, 7082.69]);
    expect(llamaBenchPromptRate(LLAMA_BENCH_JSON)).toBeCloseTo(6825.091022, 6);
    expect(llamaBenchPromptRate(LLAMA_BENCH_JSON, 512)).toBeCloseTo(6825.091022, 6);
    expect(() => llamaBenchPromptRate(LLAMA_BENCH_JSON, 256)).toThrow(/n_prompt = 256/);
    expect(() => parseLlamaBenchJson('error: failed to load model')).toThrow(/no JSON array/);
    expect(() => parseLlamaBenchJson('[{"n_prompt": 512, "n_gen": 0, "avg_ts": "x"}]')).toThrow(/not a number/);
  });

  it('llama-batched-bench markdown table', () => {
    const rows = parseBatchedBench(BATCHED_BENCH_MD);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toEqual({ pp: 128, tg: 8, pl: 2, nKv: 272, tPp: 0.011, speedPp: 11978.29, tTg: 0.015, speedTg: 1061.15, t: 0.026, speed: 5589.19 });
    expect(batchedBenchTgRate(BATCHED_BENCH_MD, 1)).toBe(1045.21);
    expect(batchedBenchTgRate(BATCHED_BENCH_MD, 2)).toBe(1061.15);
    expect(() => batchedBenchTgRate(BATCHED_BENCH_MD, 55)).toThrow(/B = 55/);
  });

  it('llama-batched-bench jsonl', () => {
    const rows = parseBatchedBench(BATCHED_BENCH_JSONL);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ pp: 128, tg: 16, pl: 55, nKv: 7920 });
    expect(batchedBenchTgRate(BATCHED_BENCH_JSONL, 55)).toBeCloseTo(12.668649, 6);
  });

  it('no result rows (a test skipped for a too-small context) is an error, not a zero', () => {
    const header = BATCHED_BENCH_MD.split('\n').filter((l) => !/^\|\s+128/.test(l)).join('\n');
    expect(parseBatchedBench(header)).toEqual([]);
    expect(() => batchedBenchTgRate(header, 55)).toThrow(/no result row/);
  });
});

describe('workload', () => {
  it('quick and full settings; --reps overrides the rounds', () => {
    const q = benchSettings({ quick: true, threads: 2, shape: '0.5b' });
    const f = benchSettings({ quick: false, threads: 2, shape: '0.5b' });
    expect(q.sweep.alphas).toEqual([...SWEEP_ALPHAS]);
    expect(q.sweep.alphas.length * q.sweep.samples).toBe(55);
    expect(q.sweep.promptTokens).toBe(128);
    expect(f.sweep.genTokens).toBe(200);
    expect(q.sweep.genTokens).toBeLessThan(f.sweep.genTokens);
    expect(q.capture.textTokens).toBe(512);
    expect(q.rounds).toBeLessThanOrEqual(f.rounds);
    const r = benchSettings({ quick: true, threads: 2, shape: 'tiny', reps: 1 });
    expect(r.rounds).toBe(1);
    expect(r.plain.rounds).toBe(1);
    expect(r.paper.rounds).toBe(1);
  });

  it('spread layers, indices, random tokens and unit vectors', () => {
    expect(spreadLayers(24, 5)).toEqual([4, 8, 12, 16, 20]);
    expect(spreadLayers(6, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(spreadIndices(55, 3)).toEqual([9, 27, 45]);
    expect(spreadIndices(3, 5)).toEqual([0, 1, 2]);
    const t = randomTokens(createRng(1), 128, { nVocab: 100, bos: 1, addBos: true }, new Set([2, 50]));
    expect(t).toHaveLength(128);
    expect(t[0]).toBe(1);
    expect(t.slice(1).every((x) => x >= 3 && x < 100 && x !== 50)).toBe(true);
    expect(randomTokens(createRng(1), 10, { nVocab: 100, bos: 1, addBos: false })[0]).not.toBe(1);
    const v = unitVector(896, 11);
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(Array.from(unitVector(8, 3))).toEqual(Array.from(unitVector(8, 3)));
  });

  it('node-llama-cpp prebuilt package names', () => {
    expect(prebuiltPackage('linux', 'x64')).toBe('@node-llama-cpp/linux-x64');
    expect(prebuiltPackage('darwin', 'arm64')).toBe('@node-llama-cpp/mac-arm64-metal');
    expect(prebuiltPackage('freebsd', 'x64')).toBeNull();
  });
});

describe('bench --quick --shape tiny --json', () => {
  let home = '';
  let report: any;
  let stderr = '';

  beforeAll(async () => {
    requireFreshDist();
    home = mkdtempSync(join(tmpdir(), 'bench-test-'));
    // node-llama-cpp: used if the bench installed it before (the user's cache), never installed by the test
    const deps = process.env.EIA_NATIVE_BENCH_DEPS ?? join(homedir(), '.cache', 'eia-native', 'bench-deps');
    // a child process that runs for minutes: asynchronous, so the vitest worker stays responsive
    const r = await runCli(['bench', '--quick', '--shape', 'tiny', '--json', '--threads', '1', '--reps', '1'], {
      timeoutMs: 280_000,
      env: { ...process.env, EIA_NATIVE_HOME: home, EIA_NATIVE_BENCH_DEPS: deps, EIA_NATIVE_BENCH_INSTALL: '0', EIA_NATIVE_QUIET: '' },
    });
    stderr = r.stderr;
    if (r.status !== 0) throw new Error(`bench exited ${r.status}: ${r.stderr}`);
    report = JSON.parse(r.stdout);
  }, 300_000);

  afterAll(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('has every ratio, each a number or null with a reason', () => {
    expect(Object.keys(report.ratios).sort()).toEqual([...RATIO_KEYS].sort());
    for (const k of RATIO_KEYS) {
      const v = report.ratios[k];
      if (v === null) {
        expect(typeof report.null_reasons[k], `${k} is null without a reason`).toBe('string');
        expect(report.null_reasons[k].length).toBeGreaterThan(0);
      } else {
        expect(typeof v, k).toBe('number');
        expect(Number.isFinite(v), k).toBe(true);
      }
      expect(k in report.met).toBe(true);
      expect(k in report.targets).toBe(true);
    }
    // llama.cpp's tools are built with the addon, so these two always run here
    expect(typeof report.ratios.capture_vs_llama_bench).toBe('number');
    expect(typeof report.ratios.steer_vs_batched_bench).toBe('number');
    // node-llama-cpp: measured when it loaded, else null with the reason the report gives for it
    const nlc = report.node_llama_cpp;
    if (nlc.status === 'ok') {
      expect(typeof report.ratios.plain_vs_node_llama_cpp).toBe('number');
      expect(nlc.version).toBe('3.21.1');
    } else {
      expect(['unavailable', 'failed']).toContain(nlc.status);
      expect(report.ratios.plain_vs_node_llama_cpp).toBeNull();
      expect(typeof nlc.detail).toBe('string');
      expect(report.null_reasons.plain_vs_node_llama_cpp).toBe(nlc.detail);
    }
  });

  it('reports machine, model, settings, absolute rates and peak RSS per step', () => {
    expect(report.bench).toBe('eia-native');
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    for (const k of ['cpu', 'cores', 'backend', 'llama_cpp_commit', 'eia_native_version', 'threads']) expect(report.machine[k], k).toBeDefined();
    expect(report.machine.threads).toBe(1);
    expect(report.machine.llama_cpp_commit).toMatch(/^[0-9a-f]{7,40}$/);
    expect(report.model).toMatchObject({ synthetic: true, shape: 'tiny', arch: 'llama' });
    expect(report.settings).toMatchObject({ quick: true, rounds: 1, threads: 1 });
    expect(report.settings.sweep.alphas.length * report.settings.sweep.samples).toBe(55);
    for (const k of ['capture_tok_s', 'llama_bench_pp_tok_s', 'steered_decode_tok_s', 'batched_bench_tg_tok_s', 'monitored_decode_tok_s',
      'sweep_wall_tok_s', 'sequential_wall_tok_s', 'plain_tok_s', 'paper_method_ms', 'eia_method_ms']) {
      expect(typeof report.rates[k], k).toBe('number');
      expect(report.rates[k], k).toBeGreaterThan(0);
    }
    for (const k of ['capture', 'llama_bench', 'steered_sweep', 'batched_bench', 'monitored_sweep', 'sequential', 'plain', 'paper_method', 'eia_method']) {
      expect(typeof report.peak_rss_mib[k], k).toBe('number');
      expect(report.peak_rss_mib[k], k).toBeGreaterThan(1);
      expect(typeof report.rss_method[k]).toBe('string');
    }
    expect(report.rounds.capture_tok_s).toHaveLength(1);
    expect(stderr).toMatch(/capture round 1\/1/);
  });
});
