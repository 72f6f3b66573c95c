// Vector cards: the evidence a steering direction carries with it (which model, which block, how it
// was estimated and validated, and what strengths kept the model coherent). The one home for cards:
// their fields, building one from a probe run, checking one read from a file, reading and updating
// the card of a probe sidecar (.json beside the .npy) or of a control-vector GGUF, and the warnings
// a command gives when a card speaks against its use.
//
// In a probe sidecar the card is the `card` field (JSON, snake_case). In a control-vector GGUF each
// block's card is flattened into metadata keys of eia-native's own namespace,
// `eia.card.<block>.<field path>` (nested objects joined with '.', arrays of numbers or strings as
// GGUF arrays, null fields left out), so llama.cpp's control-vector loader, which reads only the
// tensors, still loads the file. A command may add its own fields: they travel through both forms as
// long as they are strings, numbers, booleans, nested objects or non-empty arrays of numbers or
// strings; updateVectorCard() writes them.
//
// The steering strength `eia-native tune` chose is the card's `tuned` field (TunedAlpha): `tune`
// writes it, `generate --alphas tuned` and the server's `scale: "tuned"` read it (chooseTuned picks
// the one a use steers with), and it travels with the card into control vectors (`cvec export`).
// Sidecars of the version before (issue 26 alone) hold it as a top-level `tuned`: read as a fallback
// and moved into the card by the next updateVectorCard.
import { existsSync, readFileSync } from 'node:fs';
import { readControlVector, writeControlVector, GGUF_META_PREFIX, type GgufMetaValue } from '../engine/control-vector.js';
import { runtimeInfo } from '../engine/runtime-info.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { EiaError } from '../util/errors.js';
import { io } from '../util/io-error.js';
import { packageVersion } from '../util/package.js';
import { snakeCaseKeys } from '../util/snake-case.js';
import { probeModelMismatch } from './probe-model.js';

export const CARD_FORMAT = 'eia-vector-card';
export const CARD_VERSION = 1;
/** GGUF metadata prefix of the cards: eia.card.<block>.<field path>. */
export const CARD_META_PREFIX = `${GGUF_META_PREFIX}card.`;

/** What a steering sweep showed about a direction at its block (all steered scenarios pooled). */
export interface CardDoseResponse {
  /** the alphas tried, ascending (0 = the unsteered baseline) */
  alphas: number[];
  /** samples per alpha */
  n: number[];
  /** share of samples with empathetic language (the paper's keyword rule) per alpha */
  keyword_share: number[];
  /** share of samples with a degeneration flag (empty, repetitive, non-text) per alpha */
  degeneration: number[];
  /** a condition counts as degenerate from this share on (the report's flag, steering/scoring.ts DEGEN_CONDITION_SHARE) */
  degeneration_threshold: number;
  /**
   * The strongest alpha on each side of 0 whose degeneration stayed below the threshold, walking out
   * from 0 and stopping at the first degenerate one (null: none on that side was tried or stayed coherent).
   */
  strongest_coherent_alpha: { positive: number | null; negative: number | null };
  scenarios: string[];
  /** the RUN folder the samples came from */
  run: string | null;
}

/** The steering strength `eia-native tune` chose for a direction (the card's `tuned`). */
export interface TunedAlpha {
  /** The steering strength (the size of the unit direction's add). */
  alpha: number;
  /** The block it was tuned at (the card's own block). */
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

/** One direction's card. Fields other commands add are kept as they are. */
export interface VectorCard {
  format: typeof CARD_FORMAT;
  version: typeof CARD_VERSION;
  model: { name: string | null; arch: string | null; sha256: string | null; n_layer: number | null; n_embd: number | null };
  /** decoder block (0-based) the direction belongs to */
  block: number;
  method: string;
  pooling: string | null;
  /** the contrastive sets: datasetHash of the pairs and their count */
  train: { hash: string; n_pairs: number } | null;
  test: { hash: string; n_pairs: number } | null;
  /** test AUROC with its bootstrap CI; the random-direction baseline's empirical p */
  auroc: number | null;
  auroc_ci: { lower: number; upper: number; confidence: number } | null;
  random_baseline_p: number | null;
  dose_response: CardDoseResponse | null;
  /** the alpha `eia-native tune` chose at this block (null until it ran) */
  tuned: TunedAlpha | null;
  eia_native_version: string;
  llama_commit: string;
  created_at: string;
  [field: string]: unknown;
}

/** The parts of a probe validation report a card is made from (probes/validation.ts ProbeReport). */
export interface CardSource {
  model: { name?: string | null; arch?: string | null; sha256?: string | null; n_layer?: number | null; n_embd?: number | null };
  method: string;
  pooling: string | null;
  train: { hash: string; n_pairs: number } | null;
  test: { hash: string; n_pairs: number } | null;
  layer: { layer: number; auroc: number; auroc_ci?: { lower: number; upper: number; confidence: number }; random_baseline?: { empirical_p: number } } | null;
}

/** The llama.cpp commit this build runs ('' when the runtime cannot say). */
function llamaCommit(): string {
  try { return runtimeInfo().llamaCommit; } catch { return ''; }
}

/** A new card for `block` from what is known of it (a probe run's report, or less). */
export function makeCard(block: number, src: Partial<CardSource> = {}): VectorCard {
  const m = src.model ?? {};
  const l = src.layer ?? null;
  return {
    format: CARD_FORMAT, version: CARD_VERSION,
    model: { name: m.name ?? null, arch: m.arch ?? null, sha256: m.sha256 ?? null, n_layer: m.n_layer ?? null, n_embd: m.n_embd ?? null },
    block, method: src.method ?? 'unknown', pooling: src.pooling ?? null,
    train: src.train ?? null, test: src.test ?? null,
    auroc: l ? l.auroc : null,
    auroc_ci: l?.auroc_ci ? { lower: l.auroc_ci.lower, upper: l.auroc_ci.upper, confidence: l.auroc_ci.confidence } : null,
    random_baseline_p: l?.random_baseline ? l.random_baseline.empirical_p : null,
    dose_response: null, tuned: null,
    eia_native_version: packageVersion(), llama_commit: llamaCommit(), created_at: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Checking a card read from a file

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v));
const strOrNull = (v: unknown) => v === null || v === undefined || typeof v === 'string';

type Bad = (field: string, want: string) => never;

/**
 * A `tuned` record, checked (absent or null: null). GGUF metadata leaves null fields out, so an
 * absent `max_ppl_ratio` reads as null. `block`: the block of the card that holds it (its `layer`
 * must be that block). `bad` names the field (`tuned.alpha`…) in its caller's words.
 */
function checkTuned(raw: unknown, bad: Bad, block: number | null): TunedAlpha | null {
  if (raw === null || raw === undefined) return null;
  if (!isObj(raw)) bad('tuned', 'an object or null');
  const t = raw as Record<string, unknown>;
  if (typeof t.alpha !== 'number' || !Number.isFinite(t.alpha)) bad('tuned.alpha', 'a finite number');
  if (!Number.isInteger(t.layer) || (t.layer as number) < 0) bad('tuned.layer', 'a non-negative integer');
  if (block !== null && t.layer !== block) bad('tuned.layer', `the card's block (${block})`);
  if (typeof t.objective !== 'string') bad('tuned.objective', 'a string');
  if (!numOrNull(t.max_ppl_ratio)) bad('tuned.max_ppl_ratio', 'a number or null');
  if (typeof t.model_sha256 !== 'string') bad('tuned.model_sha256', 'a string');
  for (const k of ['tune_json', 'created_at']) if (!strOrNull(t[k])) bad(`tuned.${k}`, 'a string');
  const out: TunedAlpha = {
    alpha: t.alpha as number, layer: t.layer as number, objective: t.objective as string, max_ppl_ratio: (t.max_ppl_ratio as number | undefined) ?? null,
    model_sha256: t.model_sha256 as string, tune_json: (t.tune_json as string | undefined) ?? '', created_at: (t.created_at as string | undefined) ?? '',
  };
  for (const [k, v] of Object.entries(t)) if (!(k in out)) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * A card as read from a file, checked: format and version, the block, and the type of every known
 * field (absent nullable fields become null). E_BAD_ARG naming `where` and the field otherwise.
 */
export function checkCard(raw: unknown, where: string): VectorCard {
  const bad: Bad = (field, want) => {
    throw new EiaError('E_BAD_ARG', `${where}: card field "${field}" must be ${want}`);
  };
  if (!isObj(raw)) bad('card', 'an object');
  const c = raw as Record<string, unknown>;
  if (c.format !== CARD_FORMAT) bad('format', `"${CARD_FORMAT}"`);
  if (c.version !== CARD_VERSION) bad('version', `${CARD_VERSION} (a card of a newer eia-native?)`);
  if (!Number.isInteger(c.block) || (c.block as number) < 0) bad('block', 'a non-negative integer');
  const model = isObj(c.model) ? c.model : {};
  for (const k of ['name', 'arch', 'sha256']) if (!strOrNull(model[k])) bad(`model.${k}`, 'a string or null');
  for (const k of ['n_layer', 'n_embd']) if (!numOrNull(model[k])) bad(`model.${k}`, 'a number or null');
  const set = (v: unknown, field: string) => {
    if (v === null || v === undefined) return null;
    if (!isObj(v) || typeof v.hash !== 'string' || !Number.isInteger(v.n_pairs)) bad(field, '{hash, n_pairs} or null');
    const x = v as Record<string, unknown>;
    return { hash: x.hash, n_pairs: x.n_pairs, ...x } as { hash: string; n_pairs: number };
  };
  if (typeof c.method !== 'string') bad('method', 'a string');
  if (!strOrNull(c.pooling)) bad('pooling', 'a string or null');
  for (const k of ['auroc', 'random_baseline_p']) if (!numOrNull(c[k])) bad(k, 'a number or null');
  let ci = null;
  if (c.auroc_ci !== null && c.auroc_ci !== undefined) {
    const x = c.auroc_ci;
    if (!isObj(x) || typeof x.lower !== 'number' || typeof x.upper !== 'number' || typeof x.confidence !== 'number') bad('auroc_ci', '{lower, upper, confidence} or null');
    const y = x as Record<string, unknown>;
    ci = { lower: y.lower, upper: y.upper, confidence: y.confidence, ...y } as VectorCard['auroc_ci'];
  }
  let dose: CardDoseResponse | null = null;
  if (c.dose_response !== null && c.dose_response !== undefined) {
    const d = c.dose_response;
    if (!isObj(d)) bad('dose_response', 'an object or null');
    const dd = d as Record<string, unknown>;
    const nums = (k: string) => {
      const v = dd[k];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`dose_response.${k}`, 'an array of numbers');
      return v as number[];
    };
    const alphas = nums('alphas');
    for (const k of ['n', 'keyword_share', 'degeneration']) if (nums(k).length !== alphas.length) bad(`dose_response.${k}`, `one value per alpha (${alphas.length})`);
    if (typeof dd.degeneration_threshold !== 'number') bad('dose_response.degeneration_threshold', 'a number');
    const s = isObj(dd.strongest_coherent_alpha) ? dd.strongest_coherent_alpha : {};
    if (!numOrNull(s.positive) || !numOrNull(s.negative)) bad('dose_response.strongest_coherent_alpha', '{positive, negative} (numbers or null)');
    const scen = dd.scenarios ?? [];
    if (!Array.isArray(scen) || !scen.every((x) => typeof x === 'string')) bad('dose_response.scenarios', 'an array of strings');
    if (!strOrNull(dd.run)) bad('dose_response.run', 'a string or null');
    dose = {
      alphas, n: nums('n'), keyword_share: nums('keyword_share'), degeneration: nums('degeneration'),
      degeneration_threshold: dd.degeneration_threshold as number,
      strongest_coherent_alpha: { positive: (s.positive as number | undefined) ?? null, negative: (s.negative as number | undefined) ?? null },
      scenarios: scen as string[], run: (dd.run as string | undefined) ?? null,
    };
    for (const [k, v] of Object.entries(dd)) if (!(k in dose)) (dose as unknown as Record<string, unknown>)[k] = v;
  }
  const tuned = checkTuned(c.tuned, bad, c.block as number);
  for (const k of ['eia_native_version', 'llama_commit', 'created_at']) if (!strOrNull(c[k])) bad(k, 'a string');
  // the known fields first, in their order; fields other commands added after them
  const card: VectorCard = {
    format: CARD_FORMAT, version: CARD_VERSION,
    model: {
      name: (model.name as string | undefined) ?? null, arch: (model.arch as string | undefined) ?? null, sha256: (model.sha256 as string | undefined) ?? null,
      n_layer: (model.n_layer as number | undefined) ?? null, n_embd: (model.n_embd as number | undefined) ?? null,
    },
    block: c.block as number, method: c.method as string, pooling: (c.pooling as string | undefined) ?? null,
    train: set(c.train, 'train'), test: set(c.test, 'test'),
    auroc: (c.auroc as number | undefined) ?? null, auroc_ci: ci, random_baseline_p: (c.random_baseline_p as number | undefined) ?? null,
    dose_response: dose, tuned,
    eia_native_version: (c.eia_native_version as string | undefined) ?? '', llama_commit: (c.llama_commit as string | undefined) ?? '',
    created_at: (c.created_at as string | undefined) ?? '',
  };
  for (const [k, v] of Object.entries(model)) if (!(k in card.model)) (card.model as Record<string, unknown>)[k] = v;
  for (const [k, v] of Object.entries(c)) if (!(k in card)) card[k] = v;
  return card;
}

// ---------------------------------------------------------------------------------------------
// GGUF metadata form

/** Cards -> the metadata keys eia.card.<block>.<path> (null fields and empty arrays left out). */
export function cardsToGgufMeta(cards: ReadonlyMap<number, VectorCard>): Record<string, GgufMetaValue> {
  const out: Record<string, GgufMetaValue> = {};
  const walk = (v: unknown, key: string) => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new EiaError('E_BAD_ARG', `card field ${key} is not a finite number`);
      out[key] = v;
    } else if (Array.isArray(v)) {
      if (v.length === 0) return;
      if (v.every((x) => typeof x === 'string')) out[key] = v as string[];
      else if (v.every((x) => typeof x === 'number' && Number.isFinite(x))) out[key] = v as number[];
      else throw new EiaError('E_BAD_ARG', `card field ${key}: a GGUF card holds arrays of numbers or of strings only`);
    } else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (!/^[A-Za-z0-9_-]+$/.test(k)) throw new EiaError('E_BAD_ARG', `card field ${key}.${k}: field names are letters, digits, '_' and '-'`);
        walk(x, `${key}.${k}`);
      }
    } else {
      throw new EiaError('E_BAD_ARG', `card field ${key} cannot be stored in GGUF metadata`);
    }
  };
  for (const [block, card] of cards) walk(card, `${CARD_META_PREFIX}${block}`);
  return out;
}

/** The cards in a GGUF's eia.card.* metadata, checked (a damaged card is E_BAD_ARG naming `where`). */
export function cardsFromGgufMeta(meta: Record<string, GgufMetaValue>, where: string): Map<number, VectorCard> {
  const raw = new Map<number, Record<string, unknown>>();
  for (const [key, value] of Object.entries(meta)) {
    if (!key.startsWith(CARD_META_PREFIX)) continue;
    const parts = key.slice(CARD_META_PREFIX.length).split('.');
    const block = Number(parts[0]);
    if (!/^\d+$/.test(parts[0]) || parts.length < 2) throw new EiaError('E_BAD_ARG', `${where}: metadata key ${key} is not eia.card.<block>.<field>`);
    let node = raw.get(block) ?? {};
    raw.set(block, node);
    for (const p of parts.slice(1, -1)) {
      if (!isObj(node[p])) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = Array.isArray(value) ? [...value] : value;
  }
  const out = new Map<number, VectorCard>();
  for (const [block, c] of [...raw].sort((a, b) => a[0] - b[0])) {
    const card = checkCard(c, `${where} (block ${block})`);
    if (card.block !== block) throw new EiaError('E_BAD_ARG', `${where}: the card under eia.card.${block} says block ${card.block}`);
    out.set(block, card);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Files

const sidecarOf = (npyPath: string) => npyPath.replace(/\.npy$/, '') + '.json';

/** A probe sidecar's JSON (keys in snake_case: sidecars written before that rule load too, as loadProbe reads them); null when there is none. */
function readSidecarJson(side: string): Record<string, unknown> | null {
  if (!existsSync(side)) return null;
  let json: unknown;
  try { json = snakeCaseKeys(JSON.parse(io(() => readFileSync(side, 'utf8')))); } catch (e) {
    if (e instanceof EiaError) throw e;
    throw new EiaError('E_BAD_ARG', `${side}: invalid JSON (${(e as Error).message})`);
  }
  if (!isObj(json)) throw new EiaError('E_BAD_ARG', `${side}: a probe sidecar must be a JSON object`);
  return json;
}

/**
 * The card and the tuned alpha of a probe sidecar's JSON, checked (`where`: the sidecar, for errors).
 * The tuned alpha is the card's `tuned`; a sidecar written before cards carried it (issue 26 alone)
 * holds a top-level `tuned` instead: read as a fallback and, when the sidecar has a card without
 * one, put into that card (the next updateVectorCard writes it there).
 */
export function sidecarCard(side: Record<string, unknown>, where: string): { card: VectorCard | null; tuned: TunedAlpha | null } {
  const card = side.card === undefined || side.card === null ? null : checkCard(side.card, where);
  if (card?.tuned || side.tuned === undefined || side.tuned === null) return { card, tuned: card?.tuned ?? null };
  const block = card ? card.block : Number.isInteger(side.layer) ? side.layer as number : null;
  const legacy = checkTuned(side.tuned, (field, want) => {
    throw new EiaError('E_BAD_ARG', `${where}: field "${field}" must be ${want}`);
  }, block);
  if (card) card.tuned = legacy;
  return { card, tuned: legacy };
}

/** The cards of a vector file: a probe .npy (its sidecar's card) or a control-vector .gguf (one per block); empty when it has none. */
export function readVectorCards(path: string): Map<number, VectorCard> {
  if (/\.gguf$/i.test(path)) return cardsFromGgufMeta(readControlVector(path).meta, path);
  const side = sidecarOf(path);
  const json = readSidecarJson(side);
  const card = json ? sidecarCard(json, side).card : null;
  return card ? new Map([[card.block, card]]) : new Map();
}

/**
 * The tuned alphas a vector file carries (its cards' `tuned`, by block ascending; a probe sidecar of
 * the version before cards carried them: its top-level `tuned`). Empty when it carries none.
 */
export function readTunedAlphas(path: string): TunedAlpha[] {
  if (/\.gguf$/i.test(path)) return [...readVectorCards(path).values()].flatMap((c) => (c.tuned ? [c.tuned] : []));
  const side = sidecarOf(path);
  const json = readSidecarJson(side);
  const tuned = json ? sidecarCard(json, side).tuned : null;
  return tuned ? [tuned] : [];
}

/** Which tuned alpha a use steers with (chooseTuned). */
export type TunedChoice =
  /** `tuned`: the one; `otherBlocks`: the steered blocks are not only the block it was tuned at */
  | { kind: 'found'; tuned: TunedAlpha; otherBlocks: boolean }
  /** no card carries a tuned alpha */
  | { kind: 'none' }
  /** several blocks carry one and the steered blocks do not single one out */
  | { kind: 'ambiguous'; blocks: number[] };

/**
 * The tuned alpha of a use that steers `steered` blocks (null: the use names no blocks, so the tuned
 * block is what it steers) of a vector carrying `tuned` (readTunedAlphas; a control vector may carry
 * one per block). The steered blocks' own tuned alpha when exactly one of them has one; otherwise the
 * vector's only one, said to be of another block; several candidates are ambiguous.
 */
export function chooseTuned(tuned: readonly TunedAlpha[], steered: readonly number[] | null): TunedChoice {
  if (tuned.length === 0) return { kind: 'none' };
  const at = steered === null ? [] : tuned.filter((t) => steered.includes(t.layer));
  const pick = at.length > 0 ? at : tuned;
  if (pick.length > 1) return { kind: 'ambiguous', blocks: pick.map((t) => t.layer) };
  const t = pick[0];
  return { kind: 'found', tuned: t, otherBlocks: steered !== null && steered.some((l) => l !== t.layer) };
}

/**
 * Adds or replaces fields of the card of `block` in a vector file (a probe sidecar, or a control
 * vector rewritten whole, atomically) and returns the new card. A file without a card for that block
 * gets a new one first (makeCard; for a sidecar, with the method, pooling and model it records), and
 * a sidecar's top-level `tuned` of the version before cards moves into the card. Every other sidecar
 * field is kept. For commands that add evidence later (a dose-response, a tuned alpha).
 */
export function updateVectorCard(path: string, block: number, patch: Partial<VectorCard> & Record<string, unknown>): VectorCard {
  const fix = (base: VectorCard) => checkCard({ ...base, ...patch, format: CARD_FORMAT, version: CARD_VERSION, block }, `${path} (block ${block})`);
  if (/\.gguf$/i.test(path)) {
    const cards = readVectorCards(path);
    const card = fix(cards.get(block) ?? makeCard(block));
    const cv = readControlVector(path);
    if (!cv.layers.has(block)) throw new EiaError('E_BAD_ARG', `${path} has no direction for block ${block}`);
    cards.set(block, card);
    const meta = Object.fromEntries(Object.entries(cv.meta).filter(([k]) => !k.startsWith(CARD_META_PREFIX)));
    writeControlVector(path, cv.layers, cv.modelHint, { ...meta, ...cardsToGgufMeta(cards) });
    return card;
  }
  const side = sidecarOf(path);
  const json = readSidecarJson(side);
  if (!json) throw new EiaError('E_BAD_ARG', `${path} has no sidecar ${side} to hold a card`);
  const had = sidecarCard(json, side);
  if (had.card && had.card.block !== block) throw new EiaError('E_BAD_ARG', `${side}: its card is for block ${had.card.block}, not ${block}`);
  const model = isObj(json.model) ? json.model : {};
  const card = fix(had.card ?? {
    ...makeCard(block, {
      method: typeof json.method === 'string' ? json.method : undefined, pooling: typeof json.pooling === 'string' ? json.pooling : null,
      model: { sha256: typeof model.sha256 === 'string' ? model.sha256 : null },
    }),
    tuned: had.tuned,
  });
  // the sidecar as written (its own keys); a top-level `tuned` of the version before is in the card now
  const { tuned: _moved, ...rest } = JSON.parse(io(() => readFileSync(side, 'utf8'))) as Record<string, unknown>;
  writeJsonAtomic(side, { ...rest, card });
  return card;
}

// ---------------------------------------------------------------------------------------------
// What a card says about a use

/**
 * The strongest alpha on each side of 0 whose degeneration share stayed below `threshold`, walking
 * out from 0 and stopping at the first degenerate alpha (see CardDoseResponse).
 */
export function strongestCoherentAlphas(alphas: readonly number[], degeneration: readonly number[], threshold: number): { positive: number | null; negative: number | null } {
  const pts = alphas.map((a, i) => ({ a, d: degeneration[i] }));
  const walk = (side: { a: number; d: number }[]) => {
    let best: number | null = null;
    for (const p of side) {
      if (p.d >= threshold) break;
      best = p.a;
    }
    return best;
  };
  return {
    positive: walk(pts.filter((p) => p.a > 0).sort((x, y) => x.a - y.a)),
    negative: walk(pts.filter((p) => p.a < 0).sort((x, y) => y.a - x.a)),
  };
}

/**
 * Warnings for using a direction with this card: another model (sha256 differs from the loaded
 * model's), or an alpha beyond the strongest coherent one the card records (or on a side where
 * none stayed coherent or none was tried). One line per problem; [] when the card has nothing against it.
 */
export function cardWarnings(card: VectorCard, use: { what: string; modelSha256?: string | null; alphas?: readonly number[] }): string[] {
  const out: string[] = [];
  const rec = card.model.sha256;
  if (rec && use.modelSha256 && rec !== use.modelSha256) {
    out.push(`warning: ${use.what} was trained on another model (sha256 ${rec.slice(0, 12)}…${card.model.name ? `, ${card.model.name}` : ''}, per its card); ` +
      `the model in use has sha256 ${use.modelSha256.slice(0, 12)}…`);
  }
  const d = card.dose_response;
  if (d && use.alphas) {
    const { positive, negative } = d.strongest_coherent_alpha;
    const tried = (side: number[]) => (side.length ? side.join(', ') : 'none');
    const pos = use.alphas.filter((a) => a > 0), neg = use.alphas.filter((a) => a < 0);
    const maxPos = pos.length ? Math.max(...pos) : null, minNeg = neg.length ? Math.min(...neg) : null;
    const share = `degeneration below ${d.degeneration_threshold} of samples`;
    if (maxPos !== null && (positive === null || maxPos > positive)) {
      out.push(`warning: ${use.what}: alpha ${maxPos} is beyond the strongest coherent positive alpha its card records ` +
        `(${positive === null ? 'none' : positive}; ${share}; alphas tried at block ${card.block}: ${tried(d.alphas.filter((a) => a > 0))})`);
    }
    if (minNeg !== null && (negative === null || minNeg < negative)) {
      out.push(`warning: ${use.what}: alpha ${minNeg} is beyond the strongest coherent negative alpha its card records ` +
        `(${negative === null ? 'none' : negative}; ${share}; alphas tried at block ${card.block}: ${tried(d.alphas.filter((a) => a < 0))})`);
    }
  }
  return out;
}

/**
 * What to tell a person who uses a direction file (generate, steer): with a card, its warnings
 * (cardWarnings); without one, a note that it has none and, when its sidecar still records a
 * model (files written before cards), the model check of probe-model.ts. Say each once per file.
 */
export function vectorUseMessages(use: {
  what: string; card: VectorCard | null; modelSha256: string | null; alphas?: readonly number[];
  /** the sidecar's model record, for files without a card */
  recorded?: { sha256?: string; path?: string } | null;
}): { warnings: string[]; notes: string[] } {
  if (use.card) return { warnings: cardWarnings(use.card, { what: use.what, modelSha256: use.modelSha256, alphas: use.alphas }), notes: [] };
  const legacy = use.recorded?.sha256 && use.modelSha256 ? probeModelMismatch({ model: use.recorded }, use.modelSha256, use.what) : null;
  return {
    warnings: legacy ? [legacy] : [],
    notes: [`note: ${use.what} has no card (no record of its model, validation or coherent strengths travels with it); it is used as it is`],
  };
}

/** A card as lines for people (`eia-native info --vector`). */
export function cardLines(card: VectorCard): string[] {
  const f = (x: number | null, d = 3) => (x === null ? 'n/a' : x.toFixed(d));
  const m = card.model;
  const lines = [
    `block ${card.block}: ${card.method}${card.pooling ? `, ${card.pooling} pooling` : ''}`,
    `  model     ${m.name ?? 'unknown'}${m.arch ? ` (${m.arch}${m.n_layer !== null ? `, ${m.n_layer} blocks` : ''}${m.n_embd !== null ? `, d_model ${m.n_embd}` : ''})` : ''}`,
    `  sha256    ${m.sha256 ?? 'unknown'}`,
    `  train     ${card.train ? `${card.train.n_pairs} pairs, hash ${card.train.hash}` : 'unknown'}`,
    `  test      ${card.test ? `${card.test.n_pairs} pairs, hash ${card.test.hash}` : 'unknown'}`,
    `  AUROC     ${f(card.auroc)}${card.auroc_ci ? ` [${f(card.auroc_ci.lower)}, ${f(card.auroc_ci.upper)}] (${Math.round(card.auroc_ci.confidence * 100)}% CI)` : ''}` +
      `${card.random_baseline_p !== null ? `; random-baseline p ${card.random_baseline_p.toPrecision(3)}` : ''}`,
  ];
  const d = card.dose_response;
  if (d) {
    lines.push(`  steering  ${d.scenarios.join(', ')}${d.run ? ` (${d.run})` : ''}`);
    lines.push(`    alpha   ${d.alphas.map((a) => String(a).padStart(7)).join('')}`);
    lines.push(`    n       ${d.n.map((a) => String(a).padStart(7)).join('')}`);
    lines.push(`    keyword ${d.keyword_share.map((a) => a.toFixed(3).padStart(7)).join('')}`);
    lines.push(`    degen.  ${d.degeneration.map((a) => a.toFixed(3).padStart(7)).join('')}`);
    const s = d.strongest_coherent_alpha;
    lines.push(`    strongest coherent alpha: ${s.positive ?? 'none'} (positive), ${s.negative ?? 'none'} (negative); degeneration threshold ${d.degeneration_threshold}`);
  } else {
    lines.push('  steering  not measured (no dose-response in the card)');
  }
  const t = card.tuned;
  lines.push(t
    ? `  tuned     alpha ${t.alpha} (${t.objective}${t.max_ppl_ratio !== null ? `, perplexity ratio <= ${t.max_ppl_ratio}` : ''}; ` +
      `model sha256 ${t.model_sha256.slice(0, 12)}…${t.tune_json ? `; ${t.tune_json}` : ''})`
    : '  tuned     not tuned (eia-native tune writes the alpha it chooses here)');
  const known = new Set(['format', 'version', 'model', 'block', 'method', 'pooling', 'train', 'test', 'auroc', 'auroc_ci', 'random_baseline_p', 'dose_response', 'tuned', 'eia_native_version', 'llama_commit', 'created_at']);
  for (const [k, v] of Object.entries(card)) if (!known.has(k)) lines.push(`  ${k.padEnd(9)} ${JSON.stringify(v)}`);
  lines.push(`  made by   eia-native ${card.eia_native_version || '?'}, llama.cpp ${card.llama_commit || '?'}, ${card.created_at || '?'}`);
  return lines;
}
