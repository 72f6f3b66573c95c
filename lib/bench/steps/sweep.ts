// Bench step: the steered sweep (11 alphas x 5 samples in one batch) vs llama-batched-bench's
// decode rate at the same parallel sequences: its decode calls alone (steer_vs_batched_bench: the
// same work on both sides, since batched-bench draws no token) and its whole decode phase, the
// drawing of 55 tokens per step included (steer_sampled_vs_batched_bench); the same sweep with one
// monitor probe (monitor_overhead); the sweep's wall rate vs its samples one at a time
// (sweep_vs_sequential). The four sides run back to back each round, in alternating order.
import { EiaError } from '../../util/errors.js';
import { genSpec, perSeq, stderrTail, vocabOf, type BenchContext } from '../context.js';
import { batchedBenchTgRate } from '../parse.js';
import { runTool } from '../proc.js';
import { medianOverhead, medianRatio, rate, type Pair } from '../stats.js';
import type { GenRun, GenSpec } from '../worker.js';
import { randomTokens, spreadIndices } from '../workload.js';

const RATIOS = ['steer_vs_batched_bench', 'steer_sampled_vs_batched_bench', 'monitor_overhead', 'sweep_vs_sequential'] as const;

export async function sweepStep(b: BenchContext): Promise<void> {
  const { S, rec } = b;
  const { alphas, samples, promptTokens, genTokens } = S.sweep;
  b.steerLayer = Math.floor(b.info.nLayer / 2);
  const prompt = randomTokens(b.rng, promptTokens, vocabOf(b.info));
  const specs: GenSpec[] = [];
  for (const alpha of alphas) for (let s = 0; s < samples; s++) specs.push(genSpec(S, prompt, alpha, s, genTokens));
  const seqSpecs = spreadIndices(specs.length, S.sequential.samples).map((i) => specs[i]);
  const bb = b.tools['llama-batched-bench'];
  const pairs = { steer: [] as Pair[], steerSampled: [] as Pair[], monitor: [] as Pair[], sequential: [] as Pair[] };
  try {
    // warm-up: one alpha's samples, a few tokens, on the context the sweep uses
    await generate(b, 'steered_sweep', specs.slice(0, samples).map((s) => ({ ...s, maxTokens: Math.min(4, genTokens) })),
      { ctxSeqs: specs.length, ctxTokens: promptTokens + genTokens });
    for (let r = 0; r < S.rounds; r++) {
      const res = await sweepRound(b, r, specs, seqSpecs, bb);
      pairs.steer.push({ a: res.steeredCalls, b: res.bb ?? Number.NaN });
      pairs.steerSampled.push({ a: res.steered, b: res.bb ?? Number.NaN });
      pairs.monitor.push({ a: res.monitored, b: res.steered });
      pairs.sequential.push({ a: res.sweepWall, b: res.sequential });
      b.log(`bench: sweep round ${r + 1}/${S.rounds}: steered ${res.steered.toFixed(1)} tok/s, batched-bench S_TG ${res.bb?.toFixed(1) ?? '-'}, ` +
        `monitored ${res.monitored.toFixed(1)}, sweep wall ${res.sweepWall.toFixed(1)} vs one at a time ${res.sequential.toFixed(1)}`);
    }
  } catch (e) {
    for (const k of RATIOS) if (!rec.reasons[k]) rec.fail(k, e);
  }
  rec.settle('steered_decode_tok_s', 'steered_decode_calls_tok_s', 'steered_decode_wall_tok_s', 'batched_bench_tg_tok_s', 'monitored_decode_tok_s', 'sweep_wall_tok_s', 'sequential_wall_tok_s',
    'sweep_prompt_ms', 'steered_sampling_share');
  for (const [k, ps] of [['steer_vs_batched_bench', pairs.steer], ['steer_sampled_vs_batched_bench', pairs.steerSampled]] as const) {
    if (rec.reasons[k]) continue;
    if (!bb) rec.reasons[k] = 'llama-batched-bench is not built (build/bin/llama-batched-bench); run `npm run build`';
    else if (k === 'steer_vs_batched_bench' && ps.some((p) => !Number.isFinite(p.a))) rec.reasons[k] = 'the native build does not report its sampling time (stats().sampleMs)';
    else rec.ratios[k] = medianRatio(ps);
  }
  if (!rec.reasons.monitor_overhead) rec.ratios.monitor_overhead = medianOverhead(pairs.monitor);
  if (!rec.reasons.sweep_vs_sequential) rec.ratios.sweep_vs_sequential = medianRatio(pairs.sequential);
}

/** One generation request to the worker at the steered layer; records its peak RSS under `key`. */
async function generate(b: BenchContext, key: string, specs: GenSpec[], extra: Record<string, unknown>): Promise<GenRun> {
  const r = await b.worker.request<GenRun>('generate', { specs, layer: b.steerLayer, ...extra });
  b.rec.workerPeak(key, r);
  return r.result;
}

/** One round: batched-bench, the steered sweep, the monitored sweep and the samples one at a time, in alternating order. */
async function sweepRound(b: BenchContext, r: number, specs: GenSpec[], seqSpecs: GenSpec[], bb: string | null): Promise<Record<string, number>> {
  const { rec } = b;
  const res: Record<string, number> = {};
  const order = r % 2 === 0 ? ['bb', 'steered', 'monitored', 'sequential'] : ['sequential', 'monitored', 'steered', 'bb'];
  for (const side of order) {
    if (side === 'bb') {
      if (!bb) continue;
      res.bb = await batchedBench(b, bb, specs.length);
      rec.push('batched_bench_tg_tok_s', res.bb);
    } else if (side === 'steered') {
      const g = await generate(b, 'steered_sweep', specs, {});
      res.steered = rate(g.decodeTokens, g.decodeMs);
      // the decode calls alone: the decode phase less the host work after each call (drawing 55
      // tokens, bookkeeping), which llama-batched-bench does not do (bench/README.md)
      res.steeredCalls = g.sampleMs === null ? Number.NaN : rate(g.decodeTokens, g.decodeMs - g.sampleMs);
      if (g.sampleMs !== null) rec.push('steered_decode_calls_tok_s', res.steeredCalls);
      res.sweepWall = rate(g.generatedTokens, g.wallMs);
      rec.push('steered_decode_tok_s', res.steered);
      rec.push('steered_decode_wall_tok_s', rate(g.generatedTokens - g.firstDeliveryTokens, g.firstToLastMs));
      rec.push('sweep_wall_tok_s', res.sweepWall);
      rec.push('sweep_prompt_ms', g.promptMs);
      if (g.sampleMs !== null) rec.push('steered_sampling_share', g.sampleMs / (g.promptMs + g.decodeMs));
    } else if (side === 'monitored') {
      // the steered sweep plus one monitor probe: same prompts, steering and seeds, so the
      // decode phases differ only by the monitor (a shared prompt would change the KV layout)
      const g = await generate(b, 'monitored_sweep', specs, { monitor: true });
      res.monitored = rate(g.decodeTokens, g.decodeMs);
      rec.push('monitored_decode_tok_s', res.monitored);
    } else {
      const g = await generate(b, 'sequential', seqSpecs, { sequential: true });
      res.sequential = rate(g.generatedTokens, g.wallMs);
      rec.push('sequential_wall_tok_s', res.sequential);
    }
  }
  return res;
}

/** One llama-batched-bench run at `n` parallel sequences; its S_TG (tokens per second). */
async function batchedBench(b: BenchContext, tool: string, n: number): Promise<number> {
  const { promptTokens, genTokens } = b.S.sweep;
  const run = await runTool(tool, ['-m', b.modelPath, '-c', String(perSeq(promptTokens + genTokens + 1) * n), '-b', '2048', '-ub', '512',
    '-npp', String(promptTokens), '-ntg', String(genTokens), '-npl', String(n), '-t', String(b.threads), '-fa', 'auto', '-ngl', '0', '-pps',
    '--output-format', 'jsonl']);
  if (run.code !== 0) throw new EiaError('E_RUNTIME', `llama-batched-bench exited ${run.code ?? run.signal}: ${stderrTail(run.stderr)}`);
  const tokS = batchedBenchTgRate(run.stdout + '\n' + run.stderr, n);
  b.rec.toolPeak('batched_bench', run);
  return tokS;
}
