// Shared by the server tests: the planted model with a vectors folder (the planted direction as a
// probe with sidecar and validation report, and as a control-vector GGUF), servers on a loopback
// port, the library reference run, and a raw SSE reader for what the openai client hides. The folder
// also holds vectors that test the norm rule and the model check: the planted direction x 2.5 as a
// control vector, x 3 as a bare probe file (no sidecar), and a probe whose sidecar records another model.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../../lib/engine/model.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import type { GenerateRequest, Monitor, SequenceRequest, SequenceResult } from '../../lib/engine/generate.js';
import { writeControlVector } from '../../lib/engine/control-vector.js';
import { readNpy, writeNpy } from '../../lib/io/npy.js';
import { saveProbe } from '../../lib/probes/probe-file.js';
import { createServer, type ServerHandle, type ServerOptions } from '../../lib/server/index.js';
import { synthTo } from '../helpers/fixtures.js';

export const PLANTED_LAYER = 3;
export const PROBE_NAME = 'probes/layer3';
export const CVEC_NAME = 'planted-cvec';
export const PROBE_AUROC = 0.9375;
/** The planted direction x SCALED_NORM as a control vector (norm rule: used as the unit direction). */
export const SCALED_CVEC_NAME = 'scaled-cvec';
export const SCALED_NORM = 2.5;
/** The planted direction x RAW_NORM as a bare probe file (layer from its name, no sidecar). */
export const RAW_PROBE_NAME = 'raw/layer3';
export const RAW_NORM = 3;
/** A probe whose sidecar records another model's sha256 (and a path clients must not see). */
export const OTHER_MODEL_PROBE = 'other/layer3';
export const OTHER_MODEL_SHA = 'f0'.repeat(32);
export const OTHER_MODEL_PATH = '/models/secret-dir/other-model.gguf';

const scaled = (v: Float32Array, k: number) => Float32Array.from(v, (x) => x * k);

export interface Planted { model: Model; v: Float32Array; vectorsDir: string }

/** The planted model (seed 3) and a vectors folder holding its direction as a probe and as a control vector. */
export async function plantedSetup(dir: string): Promise<Planted> {
  const r = await synthTo(dir, 'planted-serve', { planted: true, seed: 3 });
  const v = readNpy(r.plantedNpy!).data;
  const model = await Model.load(r.path);
  const vectorsDir = join(dir, 'vectors');
  mkdirSync(join(vectorsDir, 'probes'), { recursive: true });
  saveProbe(join(vectorsDir, 'probes'), {
    direction: v, layer: PLANTED_LAYER, pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0, createdAt: '2026-01-01T00:00:00Z',
  });
  writeFileSync(join(vectorsDir, 'probes', 'validation.json'), JSON.stringify({ format: 'eia-probe-validation', version: 1, layers: [{ layer: PLANTED_LAYER, auroc: PROBE_AUROC }] }));
  writeControlVector(join(vectorsDir, `${CVEC_NAME}.gguf`), new Map([[PLANTED_LAYER, v]]));
  writeControlVector(join(vectorsDir, `${SCALED_CVEC_NAME}.gguf`), new Map([[PLANTED_LAYER, scaled(v, SCALED_NORM)]]));
  mkdirSync(join(vectorsDir, 'raw'));
  writeNpy(join(vectorsDir, `${RAW_PROBE_NAME}.npy`), scaled(v, RAW_NORM));
  mkdirSync(join(vectorsDir, 'other'));
  saveProbe(join(vectorsDir, 'other'), {
    direction: v, layer: PLANTED_LAYER, pooling: 'mean', method: 'mean-diff', model: { sha256: OTHER_MODEL_SHA, path: OTHER_MODEL_PATH }, trainHash: '', nTrain: 0,
  });
  return { model, v, vectorsDir };
}

export async function startServer(opts: ServerOptions): Promise<{ server: ServerHandle; url: string }> {
  const server = await createServer({ threads: 1, ...opts });
  const { url } = await server.listen({ port: 0 });
  return { server, url };
}

/** The library run a request must equal: one sequence, alone, in a context with the same room per sequence. */
export async function libraryRun(model: Model, ctxTokens: number, seq: SequenceRequest, monitors: Monitor[] = []): Promise<SequenceResult> {
  const ctx = await model.createContext(generationContextOptions(1, ctxTokens, 1));
  try {
    const req: GenerateRequest = { sequences: [seq], monitors };
    const [r] = await ctx.generate(req).result();
    return r;
  } finally {
    ctx.free();
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal });
}

/** Reads an SSE response: every `data:` event parsed (or '[DONE]'). `onEvent` may return true to stop reading. */
export async function readSse(res: Response, onEvent: (ev: unknown) => boolean | void = () => {}): Promise<unknown[]> {
  const events: unknown[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let k: number;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, k);
      buf = buf.slice(k + 2);
      const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      const ev = data === '[DONE]' ? '[DONE]' : JSON.parse(data);
      events.push(ev);
      if (onEvent(ev) === true) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}

export async function metricValue(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const hit = text.split('\n').find((l) => l.startsWith(line + ' '));
  return hit ? Number(hit.slice(line.length + 1)) : 0;
}

/** Polls `f` until it returns true (or fails after `ms`). */
export async function eventually(f: () => Promise<boolean>, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
