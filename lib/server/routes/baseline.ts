// POST /v1/monitors/baseline {monitor: [...]} (the `monitor` field of a completion request, same
// names, data and layers, same checks: request.ts prepareMonitors): each monitor's unsteered
// baseline, the median and quartiles of its projection over the neutral sentence's tokens on the
// served model (monitor-baseline.ts).
// The playground centres its diverging colour scale on the median.
import type { FastifyInstance } from 'fastify';
import { NEUTRAL_TEXT } from '../../probes/neutral-rows.js';
import { ApiError } from '../api-error.js';
import { prepareMonitors } from '../request.js';
import { chatBodySchema } from '../schema.js';
import type { ServerState } from '../state.js';
import type { MonitorSpec } from '../vector-specs.js';

const baselineBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['monitor'],
  properties: { monitor: { ...chatBodySchema.properties.monitor, minItems: 1 } },
} as const;

export function baselineRoutes(app: FastifyInstance, s: ServerState): void {
  app.post('/v1/monitors/baseline', { schema: { body: baselineBodySchema } }, async (req) => {
    if (s.closing) throw new ApiError(503, 'shutting_down', 'the server is shutting down');
    const specs = (req.body as { monitor: MonitorSpec[] }).monitor;
    const { monitors, warnings } = prepareMonitors(specs, s.prepare);
    const sums = await s.baselines.summaries(monitors.map((m, i) => ({ layer: m.layer, direction: m.direction, label: `monitor[${i}]` })));
    return {
      object: 'list',
      neutral_text: NEUTRAL_TEXT,
      data: monitors.map((m, i) => ({ name: m.name ?? 'inline', layer: m.layer, median: sums[i].median, q1: sums[i].q1, q3: sums[i].q3, n_tokens: sums[i].n })),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  });
}
