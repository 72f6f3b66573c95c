// The identity of a sweep's grid: a sha256 over everything that decides which samples a sweep holds
// and what they are (SweepParameters: the model file's hash, layers, alphas, scenarios, samples, max
// tokens, sampling, seed, chat, monitor, probe score mode, positions, the probe files' hashes and
// the prompts' hash). Shards of one grid share it whatever order their lists were given in; shards
// of another grid (another alpha list, another model, other probes) do not, so a merge can refuse
// them. The shard split itself (shard.ts) is not part of it: it is recorded beside it.
import { createHash } from 'node:crypto';
import type { SweepParameters } from './manifest.js';
import { sorted } from './plan.js';

/** The parameters as the identity sees them: lists as sets, -0 as 0, an old boolean probe score as its mode, keys sorted. */
export function canonicalGrid(params: Partial<SweepParameters>): Record<string, unknown> {
  const p = { ...params } as Record<string, unknown>;
  // manifests written before probe_score had modes stored a boolean (as diffParameters reads them)
  if (typeof p.probe_score === 'boolean') p.probe_score = p.probe_score ? 'capture' : 'off';
  if (Array.isArray(p.alphas)) p.alphas = sorted((p.alphas as number[]).map((a) => (a === 0 ? 0 : a)));
  if (Array.isArray(p.layers)) p.layers = sorted(p.layers as number[]);
  if (Array.isArray(p.scenarios)) p.scenarios = sorted(p.scenarios as string[]);
  return sortKeys(p) as Record<string, unknown>;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
}

/** sha256 (hex) of the canonical grid. */
export function gridId(params: Partial<SweepParameters>): string {
  return createHash('sha256').update('eia-native/sweep-grid/1\u0000' + JSON.stringify(canonicalGrid(params))).digest('hex');
}
