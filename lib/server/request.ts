// A validated request body -> what the scheduler runs: one engine sequence per prompt (tokenised as
// `generate` tokenises, so a request equals `eia-native generate` with the same settings), the
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
import { isFieldError } from '../util/errors.js';
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
  steering?: { vectors?: VectorSpec[] };
  steer_vector_request?: VectorSpec;
  monitor?: MonitorSpec[];
  gate?: GateSpec;
  [other: string]: unknown;
}

export interface ChatMessageBody { role: string; content?: string | { type: string; text?: string }[] | null; name?: string }
export interface ChatBody extends CommonBody { messages: ChatMessageBody[]; max_completion_tokens?: number | null }
export interface CompletionBody extends CommonBody { prompt: string | (string | number | number[])[] }

export interface PreparedRequest {
  stream: boolean;
  includeUsage: boolean;
  returnTokens: boolean;
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

/** The text of a message: a string, or OpenAI's content parts when all of them are text. */
function messageText(m: ChatMessageBody, i: number): string {
  if (m.content === undefined || m.content === null) return '';
  if (typeof m.content === 'string') return m.content;
  return m.content.map((p, k) => {
    if (p.type !== 'text' || typeof p.text !== 'string') throw badRequest('unsupported_field', `messages[${i}].content[${k}]`, `messages[${i}].content[${k}]: only text parts are supported (got '${p.type}')`);
    return p.text;
  }).join('');
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

export function chatPrompt(model: Model, messages: ChatMessageBody[]): Int32Array {
  const msgs = messages.map((m, i) => {
    if (!ROLES.has(m.role)) throw badRequest('invalid_value', `messages[${i}].role`, `messages[${i}].role '${m.role}' is not supported (system, developer, user, assistant)`);
    return { role: m.role === 'developer' ? 'system' : m.role, content: messageText(m, i) };
  });
  // exactly what `generate` with chat: true does: the model's template, special tokens parsed
  return model.tokenize(model.applyChatTemplate(msgs), { addSpecial: true, parseSpecial: true });
}

export function completionPrompts(model: Model, prompt: CompletionBody['prompt']): Int32Array[] {
  const nVocab = model.info.nVocab;
  const ids = (xs: number[], param: string): Int32Array => {
    if (xs.length === 0) throw badRequest('invalid_value', param, `${param} is an empty token list`);
    xs.forEach((t, k) => {
      if (!Number.isInteger(t) || t < 0 || t >= nVocab) throw badRequest('invalid_value', `${param}[${k}]`, `${param}[${k}]: token id ${t} is not in the vocabulary [0, ${nVocab - 1}]`);
    });
    return Int32Array.from(xs);
  };
  // raw text as `generate` tokenises a raw prompt: BOS added, special tokens not parsed
  const text = (s: string): Int32Array => model.tokenize(s, { addSpecial: true, parseSpecial: false });
  if (typeof prompt === 'string') return [text(prompt)];
  if (prompt.every((x) => typeof x === 'number')) return [ids(prompt as number[], 'prompt')];
  return prompt.map((p, i) => {
    if (typeof p === 'string') return text(p);
    if (Array.isArray(p)) return ids(p, `prompt[${i}]`);
    throw badRequest('invalid_value', `prompt[${i}]`, 'prompt must be a string, a list of strings, a list of token ids, or a list of such lists');
  });
}

export interface PrepareContext {
  model: Model;
  store: VectorStore;
  nCtxSeq: number;
  maxMonitors: number;
  /** Every block's residual norm (probes/residual-norm.ts): the bound on |scale|. */
  residualNorms: ReadonlyMap<number, number>;
}

/** The JSON field names of the validator's request-level options (the rest come from the request's vectors). */
const REQUEST_FIELDS: Record<string, string> = { maxTokens: 'max_tokens', ctxSize: "the slot's context (serve --ctx)" };

/** Everything but the prompts: sampling, steering, monitors, gate, limits. */
export function prepareRequest(body: CommonBody, prompts: Int32Array[], maxTokensField: number | null | undefined, c: PrepareContext): PreparedRequest {
  checkUnsupported(body);
  const shape = { nEmbd: c.model.nEmbd, nLayer: c.model.nLayer };
  const rc = newResolveContext(c.store, shape);
  // the validator's errors name the field as the client wrote it (a term's parts map back to its vector's fields)
  const field = (f: string): string => rc.paths.get(f) ?? REQUEST_FIELDS[f] ?? f;
  try {
    if (body.steering?.vectors && body.steer_vector_request) throw badRequest('invalid_value', 'steer_vector_request', 'give steering.vectors or steer_vector_request, not both');
    const steer = registerTerms(rc, 'steer', body.steer_vector_request
      ? resolveVector(body.steer_vector_request, rc, 'steer_vector_request')
      : resolveSteering(body.steering?.vectors ?? [], rc, 'steering.vectors'));
    const monitors = resolveMonitors(body.monitor ?? [], rc, 'monitor');
    if (monitors.length > c.maxMonitors) throw badRequest('too_many_monitors', 'monitor', `a request may read at most ${c.maxMonitors} monitors`);
    const gate = body.gate ? resolveGate(body.gate, rc, 'gate') : undefined;
    // every rule of the request, with the strength bound (lib/engine/validate.ts), before it queues
    const limits = { shape, residualNorms: c.residualNorms };
    steer.forEach((t, k) => checkSteerTerm(t, limits, `steer[${k}]`, GENERATION_DEFAULTS.positions));
    checkGate(gate, limits, 'gate', GENERATION_DEFAULTS.positions);
    monitors.forEach((m, k) => checkMonitor(m, limits, `monitors[${k}]`));
    if (maxTokensField !== undefined && maxTokensField !== null) checkMaxTokens(maxTokensField, 'maxTokens');
    return prepareSequences(body, prompts, maxTokensField, c, { steer, gate, monitors, rc });
  } catch (e) {
    if (isFieldError(e)) throw badRequest(e.rule, field(e.field), e.render(field));
    throw e;
  }
}

function prepareSequences(body: CommonBody, prompts: Int32Array[], maxTokensField: number | null | undefined, c: PrepareContext,
  r: { steer: SequenceRequest['steer']; gate: SequenceRequest['gate']; monitors: Monitor[]; rc: ResolveContext }): PreparedRequest {
  const { steer, gate, monitors, rc } = r;
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const seed = body.seed ?? randomInt(0, 2 ** 32);
  const sequences = prompts.map((prompt, i): SequenceRequest => {
    // without max_tokens a completion may fill the rest of its slot (OpenAI's rule; engine/defaults.ts MAX_TOKENS_DEFAULTS)
    const room = c.nCtxSeq - prompt.length;
    if (room < 1) throw badRequest('context_length_exceeded', prompts.length > 1 ? `prompt[${i}]` : 'prompt', `the prompt has ${prompt.length} tokens; a slot holds ${c.nCtxSeq} (prompt and completion together)`);
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
    sequences, gated: gate !== undefined, stop, seed, warnings: rc.warnings, used: [...rc.used],
  };
}
