// The steering strength `eia-native tune` chose for a probe, carried by the probe itself: the
// `tuned` record of its sidecar layer<L>.json (issue 25's vector cards will hold it beside the rest
// of a vector's evidence). `generate --alphas tuned` and the server's `scale: "tuned"` read it.
// Writing touches the sidecar only (atomically; every other field kept); a probe without a sidecar
// (the paper's .npy files) gets one with the fields loadProbe would have assumed.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';
import type { Probe } from './probe.js';

export interface TunedAlpha {
  /** The steering strength (the size of the unit direction's add). */
  alpha: number;
  /** The block it was tuned at (the probe's own block). */
  layer: number;
  /** What was maximised, and the fluency limit it was held to (null with a judge). */
  objective: string;
  max_ppl_ratio: number | null;
  /** The model it was tuned on (sha256 of its file). */
  model_sha256: string;
  /** The tune.json that records the search and the held-out validation. */
  tune_json: string;
  created_at: string;
}

/** The `tuned` record of a sidecar object, checked; undefined when absent. */
export function readTuned(side: Record<string, unknown>, where: string): TunedAlpha | undefined {
  const t = side.tuned as Record<string, unknown> | undefined;
  if (t === undefined || t === null) return undefined;
  const bad = (f: string): never => { throw new EiaError('E_BAD_ARG', `${where}: "tuned.${f}" is missing or invalid`); };
  if (typeof t !== 'object' || Array.isArray(t)) bad('');
  if (typeof t.alpha !== 'number' || !Number.isFinite(t.alpha)) bad('alpha');
  if (!Number.isInteger(t.layer) || (t.layer as number) < 0) bad('layer');
  if (typeof t.objective !== 'string') bad('objective');
  if (t.max_ppl_ratio !== null && (typeof t.max_ppl_ratio !== 'number' || !Number.isFinite(t.max_ppl_ratio))) bad('max_ppl_ratio');
  if (typeof t.model_sha256 !== 'string') bad('model_sha256');
  return t as unknown as TunedAlpha;
}

/** The sidecar path of a probe file (layer<L>.npy -> layer<L>.json). */
export const sidecarPath = (npyPath: string) => join(dirname(npyPath), basename(npyPath).replace(/\.npy$/, '') + '.json');

/** Records `tuned` in the sidecar of `npyPath` (see the module comment); `probe` is the probe as loaded. */
export function writeTunedAlpha(npyPath: string, probe: Probe, tuned: TunedAlpha): string {
  const path = sidecarPath(npyPath);
  let side: Record<string, unknown>;
  if (existsSync(path)) {
    try {
      side = JSON.parse(io(() => readFileSync(path, 'utf8')));
    } catch (e) {
      if (e instanceof EiaError) throw e;
      throw new EiaError('E_BAD_ARG', `${path}: invalid JSON (${(e as Error).message})`);
    }
  } else {
    side = {
      format: 'eia-probe', version: 1, width: probe.direction.length, layer: probe.layer, pooling: probe.pooling, method: probe.method,
      model: probe.model, train_hash: probe.trainHash, n_train: probe.nTrain, scale: probe.scale ?? 1,
    };
  }
  writeJsonAtomic(path, { ...side, tuned });
  return path;
}
