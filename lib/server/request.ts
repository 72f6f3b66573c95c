// A validated request body -> what the scheduler runs: one engine sequence per prompt (tokenised as
// `generate` tokenises, prompts.ts, so a request equals `eia-native generate` with the same settings), the
// request's monitors, and how to answer. Fields left out take the engine's defaults
// (lib/engine/defaults.ts: temperature 0.7, top-k 50, top-p 1, min-p 0) except two that follow OpenAI:
// without max_tokens a sequence may use the rest of its slot's context, and without a seed each
// request draws its own (the response reports it, so any answer can be reproduced).
import { randomInt } from 'node:crypto';
import type { Model } from '../engine/model.js';
import type { Monitor, SequenceRequest } from '../engine/generate.js';
import { badRequest } from './api-error.js';
import { GENERATION_DEFAULTS } from '../engine/defaults.js';
import { checkContextFit, checkGate, checkMaxTokens, checkMonitor, checkSteerTerm } from '../engine/validate.js';
import type { ChatMessageBody, PromptField } from './prompts.js';
import { isEiaError, isFieldError } from '../util/errors.js';
import { newResolveContext, registerTerms, resolveGate, resolveMonitors, resolveSteering, resolveVector, type GateSpec, type MonitorSpec, type ResolveContext, type VectorSpec } from './vector-specs.js';
import type { StoredVector, VectorStore } from './vector-store.js';

export interface CommonBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number;
  min_p?: number;
  seed?: number | null;
  stop?: string | string[] | null;
  n?: number | null;
  ignore_eos?: boolean;
  return_tokens?: boolean;
  return_pieces?: boolean;
  steering?: { vectors?: VectorSpec[] };
  steer_vector_request?: VectorSpec;
  monitor?: MonitorSpec[];
  gate?: GateSpec;
  [other: string]: unknown;
}

export interface ChatBody extends CommonBody { messages: ChatMessageBody[]; max_completion_tokens?: number | null }
export interface CompletionBody extends CommonBody { prompt: PromptField }

export interface PreparedRequest {
  stream: boolean;
  includeUsage: boolean;
  returnTokens: boolean;
  /** Each token's piece in the response (`pieces`). */
  returnPieces: boolean;
  /** One engine sequence per choice (each with the request's steering, gate and monitors). */
  sequences: SequenceRequest[];
  gated: boolean;
  stop: string[];
  /** The sampling seed every sequence of the request uses (the request's, or a drawn one). */
  seed: number;
  /** Notes for the response (directions of norm other than 1, used as unit vectors). */
  warnings: string[];
  /** The stored vectors the request uses (for the model check of their sidecars). */
  used: StoredVector[];
}

/**
 * OpenAI fields this server cannot honour. Each is accepted at its neutral value (what a client that
 * did not ask for the feature sends) and refused otherwise, so no request silently gets less than it
 * asked for.
 */
const NEUTRAL: Record<string, (v: unknown) => boolean> = {
  n: (v) => v === null || v === 1,
  best_of: (v) => v === null || v === 1,
  echo: (v) => v === null || v === false,
  suffix: (v) => v === null || v === '',
  logprobs: (v) => v === null || v === false,
  top_logprobs: (v) => v === null || v === 0,
  presence_penalty: (v) => v === null || v === 0,
  frequency_penalty: (v) => v === null || v === 0,
  repetition_penalty: (v) => v === null || v === 1,
  logit_bias: (v) => v === null || (typeof v === 'object' && Object.keys(v as object).length === 0),
  tools: (v) => v === null || (Array.isArray(v) && v.length === 0),
  functions: (v) => v === null || (Array.isArray(v) && v.length === 0),
  tool_choice: (v) => v === null || v === 'none' || v === 'auto',
  function_call: (v) => v === null || v === 'none' || v === 'auto',
  response_format: (v) => v === null || (typeof v === 'object' && (v as { type?: unknown }).type === 'text'),
  modalities: (v) => v === null || (Array.isArray(v) && v.every((m) => m === 'text')),
  audio: (v) => v === null,
  prediction: (v) => v === null,
  truncate_prompt_tokens: (v) => v === null,
};

function checkUnsupported(body: CommonBody): void {
  for (const [field, neutral] of Object.entries(NEUTRAL)) {
    if (body[field] !== undefined && !neutral(body[field])) {
      throw badRequest('unsupported_field', field, `'${field}' is not supported by this server (send it at its default or leave it out)`);
    }
  }
}

export interface PrepareContext {
  model: Model;
  store: VectorStore;
  nCtxSeq: number;
  maxMonitors: number;
  /** Every block's residual norm (probes/residual-norm.ts): the bound on |scale|. */
  residualNorms: ReadonlyMap<number, number>;
  /** Throws E_UNSUPPORTED_MODEL when the model's graph does not expose the residual stream (the support check). */
  requireResidual: (what: string) => void;
}

/** Steering, monitors and gates read the residual stream: refused with 400 unsupported_model, naming the field, where the graph lacks it. */
function checkResidualFields(body: CommonBody, c: PrepareContext): void {
  const asked: [string, string, unknown][] = [
    ['steering.vectors', 'steering', body.steering?.vectors?.length], ['steer_vector_request', 'steering', body.steer_vector_request],
    ['monitor', 'probe monitors', body.monitor?.length], ['gate', 'a probe gate', body.gate],
  ];
  const first = asked.find(([, , v]) => !!v);
  if (!first) return;
  try {
    c.requireResidual(first[1]);
  } catch (e) {
    if (isEiaError(e, 'E_UNSUPPORTED_MODEL')) throw badRequest('unsupported_model', first[0], e.message);
    throw e;
  }
}

/** The JSON field names of the validator's request-level options (the rest come from the request's vectors). */
const REQUEST_FIELDS: Record<string, string> = { maxTokens: 'max_tokens', ctxSize: "the slot's context (serve --ctx)" };

/** Runs `check` with the validator's errors as 400s naming the field as the client wrote it (a term's parts map back to its vector's fields). */
function inJsonFields<T>(rc: ResolveContext, check: () => T): T {
  const field = (f: string): string => rc.paths.get(f) ?? REQUEST_FIELDS[f] ?? f;
  try {
    return check();
  } catch (e) {
    if (isFieldError(e)) throw badRequest(e.rule, field(e.field), e.render(field));
    throw e;
  }
}

const tooManyMonitors = (n: number, c: PrepareContext) => badRequest('too_many_monitors', 'monitor', `a request may read at most ${c.maxMonitors} monitors (got ${n})`);

/**
 * Everything but the prompts: sampling, steering, monitors, gate, limits. `promptParam` names prompt
 * i in messages (a chat's one prompt is its `messages`).
 */
export function prepareRequest(body: CommonBody, prompts: Int32Array[], maxTokensField: number | null | undefined, c: PrepareContext,
  promptParam: (i: number) => string = (i) => (prompts.length > 1 ? `prompt[${i}]` : 'prompt')): PreparedRequest {
  checkUnsupported(body);
  checkResidualFields(body, c);
  // the count first: resolving thousands of monitors is work a refused request should not cost
  if ((body.monitor?.length ?? 0) > c.maxMonitors) throw tooManyMonitors(body.monitor!.length, c);
  const shape = { nEmbd: c.model.nEmbd, nLayer: c.model.nLayer };
  const rc = newResolveContext(c.store, shape);
  return inJsonFields(rc, () => {
    if (body.steering?.vectors && body.steer_vector_request) throw badRequest('invalid_value', 'steer_vector_request', 'give steering.vectors or steer_vector_request, not both');
    const steer = registerTerms(rc, 'steer', body.steer_vector_request
      ? resolveVector(body.steer_vector_request, rc, 'steer_vector_request')
      : resolveSteering(body.steering?.vectors ?? [], rc, 'steering.vectors'));
    const monitors = resolveMonitors(body.monitor ?? [], rc, 'monitor');
    const gate = body.gate ? resolveGate(body.gate, rc, 'gate') : undefined;
    // every rule of the request, with the strength bound (lib/engine/validate.ts), before it queues
    const limits = { shape, residualNorms: c.residualNorms };
    steer.forEach((t, k) => checkSteerTerm(t, limits, `steer[${k}]`, GENERATION_DEFAULTS.positions));
    checkGate(gate, limits, 'gate', GENERATION_DEFAULTS.positions);
    monitors.forEach((m, k) => checkMonitor(m, limits, `monitors[${k}]`));
    if (maxTokensField !== undefined && maxTokensField !== null) checkMaxTokens(maxTokensField, 'maxTokens');
    return prepareSequences(body, prompts, maxTokensField, c, { steer, gate, monitors, rc }, promptParam);
  });
}

/**
 * A request's `monitor` field alone (POST /v1/monitors/baseline): resolved and checked exactly as in
 * a completion request (the same count limit, the validator's rules, the same field names).
 */
export function prepareMonitors(specs: MonitorSpec[], c: PrepareContext): { monitors: Monitor[]; warnings: string[] } {
  if (specs.length > c.maxMonitors) throw tooManyMonitors(specs.length, c);
  const shape = { nEmbd: c.model.nEmbd, nLayer: c.model.nLayer };
  const rc = newResolveContext(c.store, shape);
  return inJsonFields(rc, () => {
    const monitors = resolveMonitors(specs, rc, 'monitor');
    monitors.forEach((m, k) => checkMonitor(m, { shape }, `monitors[${k}]`));
    return { monitors, warnings: rc.warnings };
  });
}

function prepareSequences(body: CommonBody, prompts: Int32Array[], maxTokensField: number | null | undefined, c: PrepareContext,
  r: { steer: SequenceRequest['steer']; gate: SequenceRequest['gate']; monitors: Monitor[]; rc: ResolveContext }, promptParam: (i: number) => string): PreparedRequest {
  const { steer, gate, monitors, rc } = r;
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const seed = body.seed ?? randomInt(0, 2 ** 32);
  const sequences = prompts.map((prompt, i): SequenceRequest => {
    // without max_tokens a completion may fill the rest of its slot (OpenAI's rule; engine/defaults.ts MAX_TOKENS_DEFAULTS)
    const room = c.nCtxSeq - prompt.length;
    if (room < 1) throw badRequest('context_length_exceeded', promptParam(i), `the prompt has ${prompt.length} tokens; a slot holds ${c.nCtxSeq} (prompt and completion together)`);
    const maxTokens = maxTokensField ?? room;
    checkContextFit(prompt.length, maxTokens, c.nCtxSeq, c.nCtxSeq);
    const seq: SequenceRequest = { prompt, steer, gate, monitors, maxTokens, stop, seed, ignoreEog: body.ignore_eos === true };
    // engine defaults (lib/engine/defaults.ts) for whatever the request leaves out
    if (body.temperature !== undefined && body.temperature !== null) seq.temperature = body.temperature;
    if (body.top_p !== undefined && body.top_p !== null) seq.topP = body.top_p;
    if (body.top_k !== undefined) seq.topK = body.top_k;
    if (body.min_p !== undefined) seq.minP = body.min_p;
    return seq;
  });
  return {
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    returnTokens: body.return_tokens === true,
    returnPieces: body.return_pieces === true,
    sequences, gated: gate !== undefined, stop, seed, warnings: rc.warnings, used: [...rc.used],
  };
}
