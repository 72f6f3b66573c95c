// GET /v1/steering/vectors lists the vectors (folder and registered); POST registers one from inline
// data, kept in memory or written into the vectors folder (`persist: true`).
import type { FastifyInstance } from 'fastify';
import { normNote } from '../../probes/direction.js';
import { chooseTuned } from '../../probes/vector-card.js';
import { badRequest } from '../api-error.js';
import { registerVectorSchema } from '../schema.js';
import type { ServerState } from '../state.js';
import { decodeVectorData } from '../vector-data.js';
import type { StoredVector } from '../vector-store.js';

function tunedOfListing(v: StoredVector) {
  const c = chooseTuned(v.tuned, null);
  if (c.kind !== 'found') return null;
  const t = c.tuned;
  return { alpha: t.alpha, layer: t.layer, objective: t.objective, max_ppl_ratio: t.max_ppl_ratio, model_sha256: t.model_sha256 };
}

function describe(v: StoredVector, nLayer: number, nEmbd: number, mismatch: string | null = null) {
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
    // the model the probe's sidecar records, and a warning when it is not the served one
    model_sha256: v.model?.sha256 ?? null,
    // the alpha `eia-native tune` chose (its card's `tuned`) that `scale: "tuned"` uses when a request names no layers; null when
    // none, or when several blocks of a control vector carry one (each card in `cards` shows its own)
    tuned: tunedOfListing(v),
    warning: mismatch,
    // the evidence each block's direction carries (model, validation, coherent strengths; probes/vector-card.ts)
    cards: v.cards,
  };
}

interface RegisterBody { name: string; data: string | number[]; layer: number; method?: string; persist?: boolean }

export function vectorRoutes(app: FastifyInstance, s: ServerState): void {
  const nLayer = s.model.nLayer;
  app.get('/v1/steering/vectors', async () => {
    const { vectors, problems } = s.store.list();
    const data = [];
    for (const v of vectors) data.push(describe(v, nLayer, s.model.nEmbd, (await s.modelCheck.warnings([v]))[0] ?? null));
    // the folder's own name, never where it lies on the server
    return { object: 'list', folder: s.store.folderName, data, problems };
  });

  app.post('/v1/steering/vectors', { schema: { body: registerVectorSchema } }, async (req, reply) => {
    const b = req.body as RegisterBody;
    const data = decodeVectorData(b.data, s.model.nEmbd, 'data');
    if (b.layer < 0 || b.layer >= nLayer) throw badRequest('layer_out_of_range', 'layer', `layer ${b.layer} is out of range [0, ${nLayer - 1}] for this model`);
    const v = s.store.register(b.name, data, b.layer, { method: b.method, persist: b.persist === true });
    reply.code(201);
    // kept as its unit direction (the norm rule, probes/direction.ts): say so when the norm was not 1
    let sq = 0;
    for (const x of data) sq += x * x;
    const note = normNote(Math.sqrt(sq), 'data');
    return { ...describe(v, nLayer, s.model.nEmbd), ...(note ? { warnings: [note] } : {}) };
  });
}
