// The offline metrics (and, when asked, the judge) of the samples of one RUN folder, as `score
// --metrics` / `score --judge` compute them: the model and the probes come from the RUN's manifest
// unless given; measures and answers already in the RUN's caches (metrics.jsonl, judge.jsonl) are
// reused; the result is the summary (summary.ts) and the facts of how it was made. The caller holds
// the RUN's lock (the caches are appended).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../../engine/model.js';
import { fileSha256 } from '../../io/file-hash.js';
import { RUN_FILES } from '../../io/run-folder.js';
import { loadProbes } from '../../probes/probe-file.js';
import type { Probe } from '../../probes/probe.js';
import { badField, EiaError } from '../../util/errors.js';
import type { JudgeClient } from '../judge/client.js';
import { judgeSamples } from '../judge/judge.js';
import type { SampleRecord } from '../samples.js';
import { getScenario, steeringPrompt } from '../scenarios.js';
import type { SweepManifest } from '../sweep/manifest.js';
import { sorted } from '../sweep/plan.js';
import { computeSampleMetrics, type SampleMetrics } from './compute.js';
import { conceptScore } from './concept.js';
import { summarizeMetrics, type OfflineMetrics } from './summary.js';

export interface RunMetricsOptions {
  /** Measure fluency and projections with the model (false: the judge alone; model-side fields are null). */
  metrics: boolean;
  /** GGUF file (default: the manifest's model path). */
  modelPath?: string;
  /** Probes folder for samples recorded without probe_score (default: the manifest's probes_dir, when it exists). */
  probesDir?: string;
  judge?: { client: JudgeClient; concurrency?: number };
  threads?: number;
  gpuLayers?: number;
  signal?: AbortSignal;
  progress?: boolean;
  /** Warnings for people. */
  warn: (msg: string) => void;
}

export interface RunMetricsFacts {
  metrics: { model: string; model_sha256: string; probes_dir: string | null; measured: number; cached: number; chat: boolean } | null;
  judge: { endpoint: string; model: string; asked: number; cached: number; unparseable: number; failed: number; retries: number; first_failure: string | null } | null;
}

/** sha256 of the prompts of these scenarios, as the sweep manifest records it (prompts_sha256). */
function promptsSha256(ids: readonly string[]): string {
  const prompts = sorted(ids).map((id) => [id, steeringPrompt(getScenario(id))]);
  return createHash('sha256').update(JSON.stringify(prompts)).digest('hex');
}

export async function runMetrics(dir: string, records: readonly SampleRecord[], manifest: SweepManifest | null, o: RunMetricsOptions): Promise<{ offline: OfflineMetrics; facts: RunMetricsFacts }> {
  if (records.length === 0) throw new EiaError('E_BAD_ARG', `${dir}: no samples to measure`);
  const facts: RunMetricsFacts = { metrics: null, judge: null };
  let metrics: SampleMetrics[];
  if (o.metrics) {
    const modelPath = o.modelPath ?? manifest?.model?.path;
    if (!modelPath) throw badField('model', 'invalid_value', (n) => `${n('model')}: ${dir} has no manifest naming its model; give the model the samples were generated with`);
    if (!existsSync(modelPath)) throw badField('model', 'invalid_value', (n) => `${n('model')}: ${modelPath} does not exist${o.modelPath ? '' : ` (the model ${dir}/manifest.json names)`}; give the model the samples were generated with`);
    const probesDir = o.probesDir ?? (manifest?.probes_dir && existsSync(manifest.probes_dir) ? manifest.probes_dir : undefined);
    if (o.probesDir && !(existsSync(o.probesDir) && statSync(o.probesDir).isDirectory())) throw badField('probes', 'invalid_value', (n) => `${n('probes')}: folder ${o.probesDir} does not exist`);
    let probes: Map<number, Probe> | null = null;
    if (probesDir) probes = loadProbes(probesDir);
    if (records.some((r) => r.probe_score === undefined) && !probes) {
      o.warn(`note: some samples carry no probe_score and no probes folder is known: their probe projection is left out (give the probes folder)`);
    }
    const sha = await fileSha256(modelPath);
    if (manifest?.model?.sha256 && manifest.model.sha256 !== sha) {
      throw badField('model', 'invalid_value', (n) => `${n('model')}: ${modelPath} is not the model ${dir} was generated with (sha256 ${sha.slice(0, 12)}…, the manifest records ${manifest.model!.sha256.slice(0, 12)}…)`);
    }
    const chat = !!manifest?.parameters?.chat;
    if (manifest?.parameters?.prompts_sha256 && manifest.parameters.scenarios && promptsSha256(manifest.parameters.scenarios) !== manifest.parameters.prompts_sha256) {
      o.warn(`warning: ${dir} was generated from other prompt texts than this version's built-in scenarios: fluency is measured after this version's prompts`);
    }
    const model = await Model.load(modelPath, { gpuLayers: o.gpuLayers });
    try {
      const r = await computeSampleMetrics(records, {
        model, scorer: sha, chat, probes, cachePath: join(dir, RUN_FILES.metrics), threads: o.threads, signal: o.signal, progress: o.progress,
      });
      metrics = r.metrics;
      facts.metrics = { model: modelPath, model_sha256: sha, probes_dir: probesDir ?? null, measured: r.measured, cached: r.cached, chat };
    } finally {
      model.free();
    }
  } else {
    metrics = records.map((r) => ({
      model: r.model, layer: r.layer, scenario: r.scenario, alpha: r.alpha, sample: r.sample, ...conceptScore(r.text),
      tokens: 0, nll: null, perplexity: null, probe_score: r.probe_score ?? null, probe_source: r.probe_score !== undefined ? 'record' as const : null,
    }));
  }
  let verdicts;
  if (o.judge) {
    const j = await judgeSamples(records, { client: o.judge.client, concurrency: o.judge.concurrency, cachePath: join(dir, RUN_FILES.judge), signal: o.signal, progress: o.progress });
    verdicts = j.verdicts;
    facts.judge = {
      endpoint: o.judge.client.endpoint, model: o.judge.client.model, asked: j.asked, cached: j.cached, unparseable: j.unparseable, failed: j.failed,
      retries: o.judge.client.retried, first_failure: j.firstFailure,
    };
  }
  return { offline: summarizeMetrics(metrics, verdicts), facts };
}
