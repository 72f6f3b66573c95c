// GET /v1/steering/vectors lists the vectors (folder and registered); POST registers one from inline
// data, kept in memory or written into the vectors folder (`persist: true`).
import type { FastifyInstance } from 'fastify';
import { badRequest } from '../api-error.js';
import { registerVectorSchema } from '../schema.js';
import type { ServerState } from '../state.js';
import { decodeVectorData } from '../vector-data.js';
import type { StoredVector } from '../vector-store.js';

function describe(v: StoredVector, nLayer: number, nEmbd: number) {
  const layers = [...v.directions.keys()];
  return {
    name: v.name,
    object: 'steering.vector',
    kind: v.kind,
    source: v.source,
    layer: v.layer,
    layers,
    dimensions: v.dimensions,
    method: v.method,
    auroc: v.auroc,
    file: v.file,
    // usable with this model as it is (width and blocks)
    compatible: v.dimensions === nEmbd && layers.every((l) => l >= 0 && l < nLayer),
  };
}

interface RegisterBody { name: string; data: string | number[]; layer: number; method?: string; persist?: boolean }

export function vectorRoutes(app: FastifyInstance, s: ServerState): void {
  const nLayer = s.model.nLayer;
  app.get('/v1/steering/vectors', async () => {
    const { vectors, problems } = s.store.list();
    return {
      object: 'list',
      folder: s.store.folderPath,
      data: vectors.map((v) => describe(v, nLayer, s.model.nEmbd)),
      problems,
    };
  });

  app.post('/v1/steering/vectors', { schema: { body: registerVectorSchema } }, async (req, reply) => {
    const b = req.body as RegisterBody;
    const direction = decodeVectorData(b.data, s.model.nEmbd, 'data');
    if (b.layer < 0 || b.layer >= nLayer) throw badRequest('layer_out_of_range', 'layer', `layer ${b.layer} is out of range [0, ${nLayer - 1}] for this model`);
    const v = s.store.register(b.name, direction, b.layer, { method: b.method, persist: b.persist === true });
    reply.code(201);
    return describe(v, nLayer, s.model.nEmbd);
  });
}
