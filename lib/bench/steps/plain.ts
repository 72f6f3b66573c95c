// Bench step: one unsteered sequence vs node-llama-cpp on the same GGUF, threads and sampling
// (plain_vs_node_llama_cpp). node-llama-cpp is installed on demand into the bench's own folder
// (nlc.ts) and runs in its own worker process (nlc-worker.ts).
import { EiaError } from '../../util/errors.js';
import { genSpec, perSeq, vocabOf, type BenchContext } from '../context.js';
import { ensureNodeLlamaCpp } from '../nlc.js';
import { WorkerClient } from '../proc.js';
import { alternate, median, medianRatio, rate, type Pair } from '../stats.js';
import type { GenRun } from '../worker.js';
import { randomTokens } from '../workload.js';

export interface NodeLlamaCppInfo { status: 'ok' | 'unavailable' | 'failed'; version: string | null; detail: string | null }

/** Runs the step; returns what became of node-llama-cpp (for the report). `workerScript` is nlc-worker.js. */
export async function plainStep(b: BenchContext, workerScript: string): Promise<NodeLlamaCppInfo> {
  const { S, rec } = b;
  let info: NodeLlamaCppInfo = { status: 'unavailable', version: null, detail: null };
  let nw: WorkerClient | null = null;
  try {
    const { promptTokens, genTokens, seed } = S.plain;
    const prompt = randomTokens(b.rng, promptTokens, vocabOf(b.info));
    const spec = genSpec(S, prompt, 0, seed, genTokens);
    const ours = async () => {
      // the engine's default steps per native call (what a user iterating a generation gets): the
      // tokens after the first delivery, over the time from the first delivery to the last, as
      // node-llama-cpp's side counts the tokens after its first one (one token per delivery there)
      const r = await b.worker.request<GenRun>('generate', { specs: [spec], steer: false, stepsPerCall: 'default' });
      rec.workerPeak('plain', r);
      return rate(r.result.generatedTokens - r.result.firstDeliveryTokens, r.result.firstToLastMs);
    };
    await ours();  // warm-up
    const found = await ensureNodeLlamaCpp(b.log);
    let reason: string | null = null;
    if ('reason' in found) {
      reason = found.reason;
      info = { status: 'unavailable', version: null, detail: found.reason };
    } else {
      nw = new WorkerClient('node-llama-cpp worker', workerScript, [found.entry]);
      try {
        const li = (await nw.request<{ version: string; buildType: string; llamaCppRelease: unknown; contextSize: number; flashAttention: unknown }>('load', {
          model: b.modelPath, threads: b.threads, contextSize: perSeq(promptTokens + genTokens), batchSize: 512, flashAttention: 'auto',
        })).result;
        info = { status: 'ok', version: li.version, detail: `${li.buildType} binaries, llama.cpp ${JSON.stringify(li.llamaCppRelease)}, flash attention ${JSON.stringify(li.flashAttention)}` };
      } catch (e) {
        reason = `node-llama-cpp could not load the model: ${(e as Error).message}`;
        info = { status: 'failed', version: found.version, detail: reason };
      }
    }
    const theirs = async () => {
      const r = await nw!.request<{ generatedTokens: number; firstToLastMs: number }>('plain', {
        prompt, genTokens, seed, temperature: S.sweep.temperature, topK: S.sweep.topK,
      });
      if (r.result.generatedTokens !== genTokens) throw new EiaError('E_RUNTIME', `node-llama-cpp generated ${r.result.generatedTokens} tokens, not ${genTokens}`);
      rec.workerPeak('node_llama_cpp', r, 'worker maxrss since start');
      return rate(r.result.generatedTokens - 1, r.result.firstToLastMs);
    };
    if (!reason) await theirs();  // warm-up
    const pairs: Pair[] = [];
    for (let r = 0; r < S.plain.rounds; r++) {
      let a = Number.NaN;
      let c = Number.NaN;
      for (const side of alternate(r, 'ours', 'theirs')) {
        if (side === 'ours') { a = await ours(); rec.push('plain_tok_s', a); }
        else if (!reason) { c = await theirs(); rec.push('node_llama_cpp_tok_s', c); }
      }
      pairs.push({ a, b: c });
      b.log(`bench: plain round ${r + 1}/${S.plain.rounds}: ${a.toFixed(1)} tok/s vs node-llama-cpp ${Number.isFinite(c) ? c.toFixed(1) : '-'} tok/s`);
    }
    rec.rates.plain_tok_s = median(rec.rounds.plain_tok_s ?? []);
    if (reason) throw new EiaError('E_RUNTIME', reason);
    rec.rates.node_llama_cpp_tok_s = median(rec.rounds.node_llama_cpp_tok_s ?? []);
    rec.ratios.plain_vs_node_llama_cpp = medianRatio(pairs);
  } catch (e) {
    if (info.status === 'ok') info = { ...info, status: 'failed', detail: (e as Error).message };
    rec.fail('plain_vs_node_llama_cpp', e);
  } finally {
    if (nw) await nw.close();
  }
  return info;
}
