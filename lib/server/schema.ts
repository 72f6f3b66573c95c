// JSON schemas of the request bodies (Fastify validates them before a handler runs; types only and
// ranges that need no model). OpenAI's own fields allow unknown siblings (clients send many), our
// extensions do not: a misspelt steering field is a 400 naming it, never silently ignored.
// The rules of what a request asks of the engine (max tokens, positions, gate holds and budgets, blocks,
// widths, strengths, context room) are the validator's (lib/engine/validate.ts), run by request.ts.
import { GATE_POSITIONS, STEER_POSITIONS } from '../engine/validate.js';

const vectorData = { type: ['string', 'array'], items: { type: 'number' }, maxItems: 1 << 16 } as const;
const layerInt = { type: 'integer' } as const;

/** `steering.vectors[]` (ours) with EasySteer's names for the same things. */
export const vectorSpecSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', maxLength: 1024 },
    data: vectorData,
    // a number, or "tuned": the alpha `eia-native tune` recorded in a stored vector's card (vector-specs.ts tunedScale)
    scale: { anyOf: [{ type: 'number' }, { const: 'tuned' }] },
    layers: { type: ['integer', 'array'], items: layerInt, maxItems: 2 },
    apply: { enum: [...STEER_POSITIONS] },
    normalize: { type: 'boolean' },
    // EasySteer
    target_layers: { type: 'array', items: layerInt, maxItems: 1024 },
    prefill_trigger_tokens: { type: ['array', 'null'], items: { type: 'integer' }, maxItems: 1024 },
    generate_trigger_tokens: { type: ['array', 'null'], items: { type: 'integer' }, maxItems: 1024 },
    steer_vector_local_path: { type: 'string', maxLength: 4096 },
    algorithm: { type: 'string' },
    steer_vector_name: { type: 'string' },
    steer_vector_int_id: { type: 'integer' },
    steer_vector_id: { type: 'integer' },
  },
} as const;

const monitorSpecSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 1024 }, data: vectorData, layer: layerInt },
} as const;

const gateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['on', 'off', 'vectors'],
  properties: {
    name: { type: 'string', maxLength: 1024 },
    data: vectorData,
    layer: layerInt,
    on: { type: 'number' },
    off: { type: 'number' },
    min_hold: { type: 'integer' },
    budget: { type: 'integer' },
    positions: { enum: [...GATE_POSITIONS] },
    vectors: { type: 'array', items: vectorSpecSchema, maxItems: 64 },
  },
} as const;

/** Sampling and length, as OpenAI and llama-server name them, plus our extensions. */
const common = {
  model: { type: 'string' },
  stream: { type: 'boolean' },
  stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
  max_tokens: { type: ['integer', 'null'] },
  temperature: { type: ['number', 'null'], minimum: 0 },
  top_p: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 1 },
  top_k: { type: 'integer', minimum: 0 },
  min_p: { type: 'number', minimum: 0, maximum: 1 },
  seed: { type: ['integer', 'null'], minimum: 0, maximum: 4294967295 },
  stop: { type: ['string', 'array', 'null'], items: { type: 'string', minLength: 1 }, maxItems: 16, minLength: 1 },
  n: { type: ['integer', 'null'] },
  /** llama-server: keep going past end-of-generation tokens. */
  ignore_eos: { type: 'boolean' },
  /** llama-server: token ids in the response (choices[].tokens, and per chunk). */
  return_tokens: { type: 'boolean' },
  /** Ours: each token's text piece in the response (`pieces`, beside `tokens`; the playground colours tokens by them). */
  return_pieces: { type: 'boolean' },
  steering: {
    type: 'object',
    additionalProperties: false,
    properties: { vectors: { type: 'array', items: vectorSpecSchema, maxItems: 64 } },
  },
  /** EasySteer's per-request field: one vector. */
  steer_vector_request: vectorSpecSchema,
  // counted against the server's maxMonitors (request.ts), which names its limit
  monitor: { type: 'array', items: monitorSpecSchema },
  gate: gateSchema,
} as const;

const messageSchema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string' },
    content: {
      type: ['string', 'array', 'null'],
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, text: { type: 'string' } } },
    },
    name: { type: 'string' },
  },
} as const;

export const chatBodySchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    ...common,
    // bounds the template's work on the event loop (its text's size is checked before it runs)
    messages: { type: 'array', items: messageSchema, minItems: 1, maxItems: 4096 },
    max_completion_tokens: { type: ['integer', 'null'] },
  },
} as const;

export const completionBodySchema = {
  type: 'object',
  required: ['prompt'],
  properties: {
    ...common,
    // a string, strings, token ids, or lists of token ids (OpenAI's four forms); no count here: a
    // flat list of ids is one prompt (bounded by the slot), a list of prompts by maxPrompts (prompts.ts)
    prompt: {
      type: ['string', 'array'],
      items: { type: ['string', 'integer', 'array'], items: { type: 'integer' } },
      minItems: 1,
    },
  },
} as const;

export const registerVectorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'data', 'layer'],
  properties: {
    name: { type: 'string', maxLength: 1024 },
    data: vectorData,
    layer: layerInt,
    method: { type: 'string', maxLength: 64 },
    persist: { type: 'boolean' },
  },
} as const;
