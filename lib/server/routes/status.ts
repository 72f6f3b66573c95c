// GET /health (liveness and slots, as llama-server reports them), /slots, /v1/models (and
// /v1/models/{id}, which OpenAI clients' models.retrieve calls), /metrics.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../api-error.js';
import type { ServerState } from '../state.js';

/** The served model as OpenAI's model object, with our facts under `meta`. */
function modelObject(s: ServerState) {
  return {
    id: s.modelId, object: 'model', created: 0, owned_by: 'eia-native',
    meta: { n_layer: s.model.nLayer, n_embd: s.model.nEmbd, n_vocab: s.model.info.nVocab, n_ctx_slot: s.prepare.nCtxSeq, slots: s.scheduler.stats().slots },
  };
}

export function statusRoutes(app: FastifyInstance, s: ServerState): void {
  app.get('/health', async (_req, reply) => {
    const st = s.scheduler.stats();
    // 503 while shutting down, so load balancers stop sending
    if (s.closing) reply.code(503);
    return { status: s.closing ? 'shutting_down' : 'ok', slots_idle: st.slots - st.busy, slots_processing: st.busy, queued: st.queued };
  });

  app.get('/slots', async () => {
    const st = s.scheduler.stats();
    return {
      slots: st.slots, busy: st.busy, idle: st.slots - st.busy, queued: st.queued, queued_requests: st.queuedRequests, queue_capacity: st.queueCapacity,
      n_ctx_slot: s.prepare.nCtxSeq, max_prompts: s.prompts.maxPrompts,
    };
  });

  app.get('/v1/models', async () => ({ object: 'list', data: [modelObject(s)] }));

  // a wildcard: a model id may hold '/' (Fastify decodes %2F as well)
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (req) => {
    const id = req.params['*'];
    // OpenAI's answer for a model it does not serve
    if (id !== s.modelId) throw new ApiError(404, 'model_not_found', `the model '${id.slice(0, 200)}' does not exist; this server serves '${s.modelId}'`, 'model');
    return modelObject(s);
  });

  app.get('/metrics', async (_req, reply) => {
    const m = await s.metrics.text();
    reply.header('content-type', m.contentType);
    return m.body;
  });
}
