// The plan of a sweep: the input checks that need no model, the grid of cells (layer x alpha x
// scenario x sample), each sample's seed, and the generation units still to run.
//
// Determinism: each sample's seed comes from (seed, scenario, sample) only, so a resumed or partial
// run draws exactly what an uninterrupted one would (the engine gives the same tokens for the same
// seed and inputs alone or in any batch), and sample i of a scenario uses the same seed at every
// (layer, alpha): common random numbers across the dose-response. The unsteered alpha = 0 condition
// is the same computation for every layer, so it is generated once and written for each layer.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkSampling, engineLimits, SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { type Probe } from '../../probes/probe.js';
import { loadProbes } from '../../probes/probe-file.js';
import { badField, EiaError, type FieldNamer } from '../../util/errors.js';
import { checkAlphas, checkMaxTokens } from '../../engine/validate.js';
import { SCENARIOS, type Scenario } from '../scenarios.js';
import { PROBE_SCORE_MODES, type ProbeScoreMode, type SweepOptions } from './options.js';

/** A grid cell: one sample of one condition. */
export interface GridCell {
  layer: number;
  scenario: string;
  alpha: number;
  sample: number;
}

/** A unit of generation: one sequence whose result fills one or more grid cells. */
export interface Unit {
  scenario: string;
  alpha: number;
  /** Steered layer; -1 for the unsteered baseline. */
  steerLayer: number;
  sample: number;
  seed: number;
  cells: GridCell[];
}

/** The checked inputs of a sweep (paths resolved, probes loaded, defaults filled in). */
export interface SweepInput {
  layers: number[];
  alphas: number[];
  scenarioIds: string[];
  scenarios: Scenario[];
  probes: Map<number, Probe>;
  probesDir: string;
  modelPath: string;
  out: string;
  maxBatch: number;
  scoreMode: ProbeScoreMode;
  sampling: { temperature: number; topK: number; topP: number; minP: number };
}

const normAlpha = (a: number): number => (a === 0 ? 0 : a);  // -0 -> 0

export const sorted = <T>(xs: readonly T[]): T[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The resume key of a cell. */
export function cellKey(c: GridCell): string {
  return JSON.stringify([c.layer, c.scenario, normAlpha(c.alpha), c.sample]);
}

/** The seed of sample `sample` of `scenario`: a 32-bit value from sha256(seed, scenario, sample). */
export function sampleSeed(seed: number, scenario: string, sample: number): number {
  const h = createHash('sha256').update(`eia-native/sweep-seed/1\u0000${seed}\u0000${scenario}\u0000${sample}`).digest();
  return h.readUInt32LE(0);
}

/** Every cell of the grid, in layer, alpha, scenario, sample order. */
export function sweepGrid(layers: readonly number[], alphas: readonly number[], scenarios: readonly string[], samples: number): GridCell[] {
  const out: GridCell[] = [];
  for (const layer of layers) for (const alpha of alphas) for (const scenario of scenarios) {
    for (let sample = 0; sample < samples; sample++) out.push({ layer, scenario, alpha: normAlpha(alpha), sample });
  }
  return out;
}

/**
 * The units that fill the cells not yet finished, ordered so that identical prompts (same scenario
 * and prompt-time steering) sit together and share one prefill.
 */
export function planUnits(pending: readonly GridCell[], scenarioIds: readonly string[], seed: number, shareBaseline: boolean): Unit[] {
  const units = new Map<string, Unit>();
  for (const c of pending) {
    const steerLayer = c.alpha === 0 && shareBaseline ? -1 : c.layer;
    const k = JSON.stringify([c.scenario, steerLayer, c.alpha, c.sample]);
    let u = units.get(k);
    if (!u) {
      u = { scenario: c.scenario, alpha: c.alpha, steerLayer: c.alpha === 0 ? -1 : steerLayer, sample: c.sample, seed: sampleSeed(seed, c.scenario, c.sample), cells: [] };
      units.set(k, u);
    }
    u.cells.push(c);
  }
  const order = new Map(scenarioIds.map((s, i) => [s, i]));
  return [...units.values()].sort((a, b) =>
    (order.get(a.scenario)! - order.get(b.scenario)!) || (a.steerLayer - b.steerLayer) || (a.alpha - b.alpha) || (a.sample - b.sample));
}

const bad = (msg: string): never => { throw new EiaError('E_BAD_ARG', msg); };
/** An E_BAD_ARG about the option `field` (FieldError: front ends name it in their own words). */
const badOption = (field: string, text: (n: FieldNamer) => string): never => { throw badField(field, 'invalid_value', text); };

/** The largest grid one RUN holds (layers x alphas x scenarios x samples): the paper's largest sweep had 1,650 samples. */
export const MAX_SWEEP_SAMPLES = 1_000_000;

function checkList<T>(xs: readonly T[], what: string): void {
  if (xs.length === 0) badOption(what, (n) => `${n(what)}: the list is empty`);
  const seen = new Set<string>();
  for (const x of xs) {
    const k = JSON.stringify(x);
    if (seen.has(k)) badOption(what, (n) => `${n(what)}: ${k} is listed twice`);
    seen.add(k);
  }
}

function probeScoreMode(v: SweepOptions['probeScore']): ProbeScoreMode {
  if (v === undefined || v === true) return 'monitor';
  if (v === false) return 'off';
  return PROBE_SCORE_MODES.includes(v) ? v : bad(`probe score must be one of ${PROBE_SCORE_MODES.join(', ')}, got '${String(v)}'`);
}

function checkNumbers(opts: SweepOptions, sampling: SweepInput['sampling']): void {
  if (!Number.isInteger(opts.samples) || opts.samples < 1) badOption('samples', (n) => `${n('samples')} must be a positive integer, got ${opts.samples}`);
  checkMaxTokens(opts.maxTokens, 'maxTokens');
  checkSampling(sampling);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) bad(`seed must be a non-negative integer, got ${opts.seed}`);
}

function readProbes(probesDir: string, given: string, layers: readonly number[]): Map<number, Probe> {
  if (!existsSync(probesDir) || !statSync(probesDir).isDirectory()) bad(`probes folder ${given} does not exist`);
  let probes: Map<number, Probe>;
  try {
    probes = loadProbes(probesDir);
  } catch (e) {
    throw new EiaError('E_BAD_ARG', `probes folder ${given}: ${(e as Error).message}`, { cause: e });
  }
  for (const l of layers) {
    if (!probes.has(l)) {
      const have = [...probes.keys()];
      bad(`no probe for layer ${l} in ${given} (expected layer${l}.npy; found ${have.length ? 'layers ' + have.join(', ') : 'no probes'})`);
    }
  }
  return probes;
}

/** Checks every input that needs no model (E_BAD_ARG naming the field) and fills in the defaults. */
export function checkSweepInput(opts: SweepOptions): SweepInput {
  const layers = [...opts.layers];
  const alphas = opts.alphas.map(normAlpha);
  const scenarioIds = [...opts.scenarios];
  checkList(layers, 'layers');
  checkList(alphas, 'alphas');
  checkList(scenarioIds, 'scenarios');
  for (const l of layers) if (!Number.isInteger(l) || l < 0) badOption('layers', (n) => `${n('layers')}: ${l} is not a block index`);
  checkAlphas(alphas, [], undefined, 'alphas');
  const sampling = {
    temperature: opts.temperature ?? SAMPLING_DEFAULTS.temperature, topK: opts.topK ?? SAMPLING_DEFAULTS.topK,
    topP: opts.topP ?? SAMPLING_DEFAULTS.topP, minP: opts.minP ?? SAMPLING_DEFAULTS.minP,
  };
  checkNumbers(opts, sampling);
  const cells = layers.length * alphas.length * scenarioIds.length * opts.samples;
  if (cells > MAX_SWEEP_SAMPLES) badOption('samples', (n) => `${n('samples')}: the grid holds ${cells} samples (layers x alphas x scenarios x samples); one RUN holds at most ${MAX_SWEEP_SAMPLES}`);
  const { maxSequences } = engineLimits();
  const maxBatch = opts.maxBatch ?? maxSequences;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > maxSequences) bad(`batch must be an integer in 1..${maxSequences}, got ${maxBatch}`);
  const scoreMode = probeScoreMode(opts.probeScore);
  const scenarios: Scenario[] = scenarioIds.map((id) =>
    SCENARIOS.find((x) => x.id === id) ?? bad(`unknown scenario '${id}' (known: ${SCENARIOS.map((x) => x.id).join(', ')})`));
  const probesDir = resolve(opts.probesDir);
  const probes = readProbes(probesDir, opts.probesDir, layers);
  const modelPath = resolve(opts.modelPath);
  if (!existsSync(modelPath)) bad(`model file ${opts.modelPath} does not exist`);
  const out = resolve(opts.out);
  if (existsSync(out) && !statSync(out).isDirectory()) bad(`RUN folder ${opts.out} exists and is not a folder`);
  return { layers, alphas, scenarioIds, scenarios, probes, probesDir, modelPath, out, maxBatch, scoreMode, sampling };
}
