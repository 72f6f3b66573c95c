// RUN/metrics.jsonl: the per-sample measures that need the model (fluency: the mean NLL of the
// steered text under the unsteered model; the probe projection where the sample carries none),
// appended as they are computed, so a re-score or a resumed `tune` never measures a sample twice. A
// line applies to a sample only while the sample's text and the scoring model are the ones it was
// measured with (text_sha256, scorer): a regenerated sample or another model is measured again.
// The newest applicable line of a sample key wins; a torn last line (a kill mid-write) is dropped.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { JsonlAppender, readJsonl } from '../../io/jsonl.js';
import { EiaError } from '../../util/errors.js';
import { sampleKey, type SampleRecord } from '../samples.js';

export interface CachedMetrics {
  model: string;
  layer: number;
  scenario: string;
  alpha: number;
  sample: number;
  /** sha256 of the sample's text. */
  text_sha256: string;
  /** sha256 of the model file the NLL was measured with. */
  scorer: string;
  /** Continuation tokens scored. */
  tokens: number;
  /** Mean negative log-likelihood per token (nats) under the unsteered model; null for no tokens. */
  nll: number | null;
  /** The probe projection from a capture pass, for a sample recorded without probe_score (null: no probe for its layer). */
  probe_score?: number | null;
}

export const textSha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function validate(v: unknown, where: string): CachedMetrics {
  const o = v as Record<string, unknown>;
  const bad = (f: string): never => { throw new EiaError('E_BAD_ARG', `${where}: "${f}" is missing or invalid`); };
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new EiaError('E_BAD_ARG', `${where}: expected a JSON object`);
  if (typeof o.model !== 'string') bad('model');
  if (!Number.isInteger(o.layer)) bad('layer');
  if (typeof o.scenario !== 'string') bad('scenario');
  if (typeof o.alpha !== 'number' || !Number.isFinite(o.alpha)) bad('alpha');
  if (!Number.isInteger(o.sample)) bad('sample');
  if (typeof o.text_sha256 !== 'string') bad('text_sha256');
  if (typeof o.scorer !== 'string') bad('scorer');
  if (!Number.isInteger(o.tokens) || (o.tokens as number) < 0) bad('tokens');
  if (o.nll !== null && (typeof o.nll !== 'number' || !Number.isFinite(o.nll))) bad('nll');
  if (o.probe_score !== undefined && o.probe_score !== null && (typeof o.probe_score !== 'number' || !Number.isFinite(o.probe_score))) bad('probe_score');
  return o as unknown as CachedMetrics;
}

/** The cache's lines by sample key (the newest wins); an empty map when the file does not exist. */
export function readMetricsCache(path: string): Map<string, CachedMetrics> {
  const out = new Map<string, CachedMetrics>();
  if (!existsSync(path)) return out;
  for (const m of readJsonl(path, { tornTail: 'drop', each: validate }).records) out.set(sampleKey(m), m);
  return out;
}

/** The cached line that applies to `record` as scored by `scorer` (see the module comment), or null. */
export function cachedFor(cache: ReadonlyMap<string, CachedMetrics>, record: SampleRecord, scorer: string): CachedMetrics | null {
  const m = cache.get(sampleKey(record));
  return m && m.scorer === scorer && m.text_sha256 === textSha256(record.text) ? m : null;
}

/** Appends lines to the cache; a torn last line left by a kill is cut off first. */
export function openMetricsCache(path: string): JsonlAppender {
  if (existsSync(path)) readJsonl(path, { tornTail: 'repair', each: validate });
  return new JsonlAppender(path);
}
