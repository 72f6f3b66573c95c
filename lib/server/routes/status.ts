// GET /health (liveness and slots, as llama-server reports them), /slots, /v1/models, /metrics.
import type { FastifyInstance } from 'fastify';
import type { ServerState } from '../state.js';

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
      slots: st.slots, busy: st.busy, idle: st.slots - st.busy, queued: st.queued, queue_capacity: st.queueCapacity,
      n_ctx_slot: s.prepare.nCtxSeq,
    };
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{
      id: s.modelId, object: 'model', created: 0, owned_by: 'eia-native',
      meta: { n_layer: s.model.nLayer, n_embd: s.model.nEmbd, n_vocab: s.model.info.nVocab, n_ctx_slot: s.prepare.nCtxSeq, slots: s.scheduler.stats().slots },
    }],
  }));

  app.get('/metrics', async (_req, reply) => {
    const m = await s.metrics.text();
    reply.header('content-type', m.contentType);
    return m.body;
  });
}
