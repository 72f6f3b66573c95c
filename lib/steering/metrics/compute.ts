// The offline metrics of each steered sample, computed with the model alone (no external service):
//   fluency  the mean NLL (and perplexity) of the generated tokens under the UNSTEERED model, given
//            the sample's prompt: how far steering pushed the text from what the model itself
//            would write (its ratio to the unsteered sample's is formed in summary.ts);
//   concept  the paper's keyword test and the keyword share (concept.ts), and the probe projection
//            at the sample's block: its probe_score when the sweep recorded one (the live monitor),
//            else a capture pass over the generated tokens alone, the paper's way.
// Measured samples are appended to the RUN's metrics.jsonl (cache.ts): a second call measures only
// what is new.
import type { Context } from '../../engine/context.js';
import type { Model } from '../../engine/model.js';
import type { JsonlAppender } from '../../io/jsonl.js';
import { PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import { captureContextOptions } from '../../probes/capture-context.js';
import type { Probe } from '../../probes/probe.js';
import { dot } from '../../stats/rows.js';
import { meanNll } from '../../stats/perplexity.js';
import { createProgress } from '../../util/progress.js';
import { EiaError } from '../../util/errors.js';
import { scenarioPromptTokens } from '../prompt-tokens.js';
import type { SampleRecord } from '../samples.js';
import { getScenario, SCENARIOS, type Scenario } from '../scenarios.js';
import { cachedFor, openMetricsCache, readMetricsCache, textSha256, type CachedMetrics } from './cache.js';
import { conceptScore, type ConceptScore } from './concept.js';

/** Every offline measure of one sample. */
export interface SampleMetrics extends ConceptScore {
  model: string;
  layer: number;
  scenario: string;
  alpha: number;
  sample: number;
  /** Generated tokens scored. */
  tokens: number;
  /** Mean NLL per token (nats) of the generated text under the unsteered model; null for an empty text. */
  nll: number | null;
  /** exp(nll); null for an empty text. */
  perplexity: number | null;
  /** dot(mean activation of the generated text at the sample's block, the block's probe direction); null when not known. */
  probe_score: number | null;
  probe_source: 'record' | 'capture' | null;
}

export interface MetricsOptions {
  /** The model that generated the samples, loaded (its steering is not applied: fluency is measured unsteered). */
  model: Model;
  /** sha256 of its file (the cache's `scorer`). */
  scorer: string;
  /** The prompts were wrapped in the chat template (the sweep's `chat`). */
  chat: boolean;
  scenarios?: readonly Scenario[];
  /** Probes by block, for samples recorded without probe_score (none: their projection stays unknown). */
  probes?: ReadonlyMap<number, Probe> | null;
  /** metrics.jsonl to read and append (the caller holds its folder's lock); null: no cache. */
  cachePath?: string | null;
  threads?: number;
  signal?: AbortSignal;
  /** Progress bar on stderr (default true; EIA_NATIVE_QUIET=1 silences it). */
  progress?: boolean;
}

export interface MetricsResult {
  /** One per record, in the records' order. */
  metrics: SampleMetrics[];
  /** Samples measured by this call, and samples whose measures came from the cache. */
  measured: number;
  cached: number;
}

/** Samples per native call (each call appends its lines to the cache, so an interruption loses little). */
const CHUNK = 32;

/** The generated token ids of a record: stored ids when the sweep kept them, else its text tokenized (no BOS). */
export function continuationTokens(model: Model, r: SampleRecord): Int32Array {
  if (r.token_ids) return Int32Array.from(r.token_ids);
  if (Array.isArray(r.tokens)) return Int32Array.from(r.tokens);
  return model.tokenize(r.text, { addSpecial: false });
}

/** A context for scoring items of up to `maxTokens` tokens: one unified cache, several items per decode call. */
export function scoringContextOptions(maxTokens: number, threads?: number): { nCtx: number; nBatch: number; nSeqMax: number; nThreads?: number; flashAttn: 'auto' } {
  const nCtx = Math.min(1 << 20, Math.max(1024, Math.ceil((maxTokens * 4) / 256) * 256));
  return { nCtx, nBatch: 512, nSeqMax: 16, nThreads: threads, flashAttn: 'auto' };
}

function fromParts(r: SampleRecord, tokens: number, nll: number | null, probe: number | null, source: SampleMetrics['probe_source']): SampleMetrics {
  return {
    model: r.model, layer: r.layer, scenario: r.scenario, alpha: r.alpha, sample: r.sample, ...conceptScore(r.text),
    tokens, nll, perplexity: nll === null ? null : Math.exp(nll), probe_score: probe, probe_source: source,
  };
}

/** Measures every record (see the module comment); cached measures are reused. */
export async function computeSampleMetrics(records: readonly SampleRecord[], o: MetricsOptions): Promise<MetricsResult> {
  const scenarios = o.scenarios ?? SCENARIOS;
  const model = o.model;
  const cache = o.cachePath ? readMetricsCache(o.cachePath) : new Map<string, CachedMetrics>();
  const recordProbe = (r: SampleRecord) => (r.probe_score !== undefined ? r.probe_score : null);
  const needsCapture = (r: SampleRecord) => r.probe_score === undefined && !!o.probes?.has(r.layer);
  const out: (SampleMetrics | null)[] = records.map(() => null);
  const todo: number[] = [];
  records.forEach((r, i) => {
    const c = cachedFor(cache, r, o.scorer);
    if (c && (!needsCapture(r) || c.probe_score !== undefined)) {
      const probe = recordProbe(r) ?? c.probe_score ?? null;
      out[i] = fromParts(r, c.tokens, c.nll, probe, r.probe_score !== undefined ? 'record' : probe !== null ? 'capture' : null);
    } else {
      todo.push(i);
    }
  });
  const cached = records.length - todo.length;
  if (todo.length === 0) return { metrics: out as SampleMetrics[], measured: 0, cached };

  // every input is checked before the first decode and the first append
  const prompts = new Map<string, Int32Array>();
  const items = todo.map((i) => {
    const r = records[i];
    let p = prompts.get(r.scenario);
    if (!p) {
      p = scenarioPromptTokens(model, getScenario(r.scenario, scenarios), o.chat);
      prompts.set(r.scenario, p);
    }
    return { prompt: p, continuation: continuationTokens(model, r) };
  });
  for (const i of todo) {
    const r = records[i];
    const p = o.probes?.get(r.layer);
    if (p && p.direction.length !== model.nEmbd) throw new EiaError('E_BAD_ARG', `probe for layer ${r.layer} has width ${p.direction.length}, the model's d_model is ${model.nEmbd}`);
  }
  const longest = Math.max(...items.map((it) => it.prompt.length + it.continuation.length));
  let ctx: Context | null = null;
  let capCtx: Context | null = null;
  let appender: JsonlAppender | null = null;
  const bar = o.progress !== false ? createProgress({ label: 'metrics', total: todo.length, unit: 'items' }) : null;
  let measured = 0;
  try {
    ctx = await model.createContext(scoringContextOptions(longest, o.threads));
    if (todo.some((i) => needsCapture(records[i]))) capCtx = await model.createContext(captureContextOptions(model, o.threads));
    if (o.cachePath) appender = openMetricsCache(o.cachePath);
    const bos = model.info.addBos && model.info.bos >= 0 ? [model.info.bos] : [];
    for (let c0 = 0; c0 < todo.length; c0 += CHUNK) {
      if (o.signal?.aborted) throw new EiaError('E_ABORTED', 'metrics interrupted (the samples measured so far are kept in the cache)');
      const idx = todo.slice(c0, c0 + CHUNK);
      const chunk = items.slice(c0, c0 + CHUNK);
      const lps = await ctx.tokenLogprobs(chunk);
      // capture-pass projections, grouped by block (one capture per block)
      const probes = new Map<number, number>();
      const capIdx = idx.map((ri, k) => [ri, k] as const).filter(([ri]) => needsCapture(records[ri]));
      for (const layer of [...new Set(capIdx.map(([ri]) => records[ri].layer))]) {
        const mine = capIdx.filter(([ri]) => records[ri].layer === layer);
        const toks = mine.map(([, k]) => Int32Array.from([...bos, ...chunk[k].continuation]));
        const keep = mine.filter((_, j) => toks[j].length > 0);
        const nonEmpty = toks.filter((t) => t.length > 0);
        if (nonEmpty.length === 0) continue;
        const cap = await capCtx!.capture(nonEmpty, { layers: [layer], pool: 'mean', truncate: PAPER_MAX_TOKENS, addSpecial: false });
        const d = o.probes!.get(layer)!.direction;
        keep.forEach(([ri], j) => {
          const v = dot(cap.data.get(layer)!.subarray(j * cap.nEmbd, (j + 1) * cap.nEmbd), d);
          if (Number.isFinite(v)) probes.set(ri, v);
        });
      }
      idx.forEach((ri, k) => {
        const r = records[ri];
        const nll = meanNll(lps[k]);
        const captured = needsCapture(r) ? probes.get(ri) ?? null : undefined;
        const probe = recordProbe(r) ?? captured ?? null;
        out[ri] = fromParts(r, lps[k].length, nll, probe, r.probe_score !== undefined ? 'record' : probe !== null ? 'capture' : null);
        appender?.append({
          model: r.model, layer: r.layer, scenario: r.scenario, alpha: r.alpha, sample: r.sample, text_sha256: textSha256(r.text), scorer: o.scorer,
          tokens: lps[k].length, nll, ...(captured !== undefined ? { probe_score: captured } : {}),
        } satisfies CachedMetrics);
        measured++;
      });
      bar?.update(measured);
    }
    bar?.done();
  } finally {
    appender?.close();
    capCtx?.free();
    ctx?.free();
  }
  return { metrics: out as SampleMetrics[], measured, cached };
}
