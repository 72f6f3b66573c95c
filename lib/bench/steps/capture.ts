// Bench step: residual-stream capture at 5 layers (mean pool) vs llama-bench's prompt processing
// (pp512) on the same model and threads -> capture_vs_llama_bench.
import { EiaError } from '../../util/errors.js';
import { stderrTail, vocabOf, type BenchContext } from '../context.js';
import { llamaBenchPromptRate } from '../parse.js';
import { runTool } from '../proc.js';
import { alternate, median, medianRatio, rate, type Pair } from '../stats.js';
import { randomTokens, spreadLayers } from '../workload.js';

export async function captureStep(b: BenchContext): Promise<void> {
  const { S, worker: w, rec } = b;
  try {
    b.captureLayers.push(...spreadLayers(b.info.nLayer, S.capture.layers));
    const need = S.capture.textsPerRound * S.rounds + 1;
    const ids = Array.from({ length: need }, () => randomTokens(b.rng, Math.ceil(S.capture.textTokens * 1.5), vocabOf(b.info)));
    const texts = (await w.request<string[]>('texts', { ids })).result;
    const capture = async (tx: string[]) => {
      const r = await w.request<{ tokens: number; wallMs: number; minTokens: number }>('capture', {
        texts: tx, layers: b.captureLayers, truncate: S.capture.textTokens, batch: S.capture.batch,
      });
      if (r.result.minTokens < S.capture.textTokens) throw new EiaError('E_RUNTIME', `capture texts came out shorter than ${S.capture.textTokens} tokens (${r.result.minTokens})`);
      rec.workerPeak('capture', r);
      return rate(r.result.tokens, r.result.wallMs);
    };
    // warm-up: a short text through the same context and layers
    await w.request('capture', { texts: [texts[0]], layers: b.captureLayers, truncate: 64, batch: S.capture.batch });
    const lb = b.tools['llama-bench'];
    const pairs: Pair[] = [];
    for (let r = 0; r < S.rounds; r++) {
      const tx = texts.slice(1 + r * S.capture.textsPerRound, 1 + (r + 1) * S.capture.textsPerRound);
      let ours = Number.NaN;
      let theirs = Number.NaN;
      for (const side of alternate(r, 'ours', 'theirs')) {
        if (side === 'ours') {
          ours = await capture(tx);
          rec.push('capture_tok_s', ours);
        } else if (lb) {
          theirs = await llamaBench(b, lb);
          rec.push('llama_bench_pp_tok_s', theirs);
        }
      }
      pairs.push({ a: ours, b: theirs });
      b.log(`bench: capture round ${r + 1}/${S.rounds}: ${ours.toFixed(1)} tok/s vs llama-bench pp${S.capture.textTokens} ${theirs.toFixed(1)} tok/s`);
    }
    rec.rates.capture_tok_s = median(rec.rounds.capture_tok_s ?? []);
    if (!lb) throw new EiaError('E_RUNTIME', 'llama-bench is not built (build/bin/llama-bench); run `npm run build`');
    rec.rates.llama_bench_pp_tok_s = median(rec.rounds.llama_bench_pp_tok_s ?? []);
    rec.ratios.capture_vs_llama_bench = medianRatio(pairs);
  } catch (e) {
    rec.fail('capture_vs_llama_bench', e);
  }
}

/** One llama-bench pp run with the capture's prompt length and batch; its tokens per second. */
async function llamaBench(b: BenchContext, tool: string): Promise<number> {
  const { S } = b;
  const run = await runTool(tool, ['-m', b.modelPath, '-p', String(S.capture.textTokens), '-n', '0', '-t', String(b.threads), '-b', String(S.capture.batch),
    '-ub', String(S.capture.batch), '-fa', '0', '-ngl', '0', '-r', '1', '-o', 'json']);
  if (run.code !== 0) throw new EiaError('E_RUNTIME', `llama-bench exited ${run.code ?? run.signal}: ${stderrTail(run.stderr)}`);
  const tokS = llamaBenchPromptRate(run.stdout, S.capture.textTokens);
  b.rec.toolPeak('llama_bench', run);
  return tokS;
}
