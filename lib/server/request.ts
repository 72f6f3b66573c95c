// A validated request body -> what the scheduler runs: one engine sequence per prompt (tokenised as
// `generate` tokenises, prompts.ts, so a request equals `eia-native generate` with the same settings), the
// request's monitors, and how to answer. Fields left out take the engine's defaults
// (lib/engine/defaults.ts: temperature 0.7, top-k 50, top-p 1, min-p 0) except two that follow OpenAI:
// without max_tokens a sequence may use the rest of its slot's context, and without a seed each
// request draws its own (the response reports it, so any answer can be reproduced).
import { randomInt } from 'node:crypto';
import type { Model } from '../engine/model.js';
import type { SequenceRequest } from '../engine/generate.js';
import { badRequest } from './api-error.js';
import type { ChatMessageBody, PromptField } from './prompts.js';
import { isEiaError } from '../util/errors.js';
import { newResolveContext, resolveGate, resolveMonitors, resolveSteering, resolveVector, type GateSpec, type MonitorSpec, type VectorSpec } from './vector-specs.js';
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

/**
 * Everything but the prompts: sampling, steering, monitors, gate, limits. `promptParam` names prompt
 * i in messages (a chat's one prompt is its `messages`).
 */
export function prepareRequest(body: CommonBody, prompts: Int32Array[], maxTokensField: number | null | undefined, c: PrepareContext,
  promptParam: (i: number) => string = (i) => (prompts.length > 1 ? `prompt[${i}]` : 'prompt')): PreparedRequest {
  checkUnsupported(body);
  checkResidualFields(body, c);
  // the count first: resolving thousands of monitors is work a refused request should not cost
  if ((body.monitor?.length ?? 0) > c.maxMonitors) throw badRequest('too_many_monitors', 'monitor', `a request may read at most ${c.maxMonitors} monitors (got ${body.monitor!.length})`);
  const rc = newResolveContext(c.store, { nEmbd: c.model.nEmbd, nLayer: c.model.nLayer }, c.residualNorms);
  if (body.steering?.vectors && body.steer_vector_request) throw badRequest('invalid_value', 'steer_vector_request', 'give steering.vectors or steer_vector_request, not both');
  const steer = body.steer_vector_request
    ? resolveVector(body.steer_vector_request, rc, 'steer_vector_request')
    : resolveSteering(body.steering?.vectors ?? [], rc, 'steering.vectors');
  const monitors = resolveMonitors(body.monitor ?? [], rc, 'monitor');
  const gate = body.gate ? resolveGate(body.gate, rc, 'gate') : undefined;
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (maxTokensField !== undefined && maxTokensField !== null && maxTokensField > c.nCtxSeq) {
    throw badRequest('context_length_exceeded', 'max_tokens', `max_tokens (${maxTokensField}) is beyond the context of a slot (${c.nCtxSeq} tokens, prompt included)`);
  }
  const seed = body.seed ?? randomInt(0, 2 ** 32);
  const sequences = prompts.map((prompt, i): SequenceRequest => {
    const room = c.nCtxSeq - prompt.length;
    if (room < 1) throw badRequest('context_length_exceeded', promptParam(i), `the prompt has ${prompt.length} tokens; a slot holds ${c.nCtxSeq} (prompt and completion together)`);
    const maxTokens = maxTokensField ?? room;
    if (maxTokens > room) {
      throw badRequest('context_length_exceeded', 'max_tokens', `prompt (${prompt.length} tokens) + max_tokens (${maxTokens}) is beyond the context of a slot (${c.nCtxSeq} tokens)`);
    }
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
