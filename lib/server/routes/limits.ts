// GET /v1/limits: what a client must stay within, so that it can respect the server's limits before
// it sends (the playground sets its sliders and inputs from it): the slot's context, slots and
// queue, the body limit, how many vectors and monitors a request may bring, and the bound on a
// steering scale per block (the validator's bound, lib/engine/validate.ts: 100 x the block's
// residual norm, probes/residual-norm.ts; a range of blocks is bounded by its smallest). The
// server still checks everything itself.
import type { FastifyInstance } from 'fastify';
import { ALPHA_BOUND_FACTOR, alphaBound } from '../../engine/validate.js';
import { NEUTRAL_TEXT } from '../../probes/residual-norm.js';
import { chatBodySchema } from '../schema.js';
import type { ServerState } from '../state.js';

export function limitsRoutes(app: FastifyInstance, s: ServerState): void {
  app.get('/v1/limits', async () => {
    const st = s.scheduler.stats();
    const norms = [...s.prepare.residualNorms.entries()].sort((a, b) => a[0] - b[0]);
    return {
      object: 'limits',
      model: s.modelId,
      n_layer: s.model.nLayer,
      n_embd: s.model.nEmbd,
      n_ctx_slot: s.prepare.nCtxSeq,
      slots: st.slots,
      queue_capacity: st.queueCapacity,
      body_limit: s.bodyLimit,
      max_monitors: s.prepare.maxMonitors,
      max_steering_vectors: chatBodySchema.properties.steering.properties.vectors.maxItems,
      alpha_bound: {
        factor: ALPHA_BOUND_FACTOR,
        neutral_text: NEUTRAL_TEXT,
        blocks: norms.map(([layer, r]) => ({ layer, residual_norm: r, max_abs_scale: alphaBound(r) })),
      },
    };
  });
}
