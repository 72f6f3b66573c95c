// eia-native cvec export|import: probes <-> llama.cpp control-vector GGUF files.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { readControlVector, writeControlVector } from '../../engine/control-vector.js';
import { loadProbe, saveProbe } from '../../probes/probe-file.js';
import { readNpy } from '../../io/npy.js';
import { parseIntList, printJson, UsageError } from '../common.js';
import { note } from '../../util/note.js';

interface ExportArgs { probe: string[]; layer?: string; scale: number; 'model-hint': string; out: string }
interface ImportArgs { file: string; out: string; json: boolean }

function direction(path: string): Float32Array {
  const a = readNpy(path);
  if (a.shape.length !== 1 && !(a.shape.length === 2 && a.shape[0] === 1)) throw new UsageError(`${path}: a direction must be 1-D`);
  return a.data;
}

const exportCmd: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Write probes as a llama.cpp control vector (llama-cli --control-vector F.gguf)',
  builder: (y) =>
    y.option('probe', { type: 'string', array: true, demandOption: true, describe: 'probe .npy (repeatable, one per layer)' })
      .option('layer', { type: 'string', describe: 'block for each probe (default: from the probe sidecar / file name)' })
      .option('scale', { type: 'number', default: 1, describe: 'multiply the directions (llama.cpp also scales at load)' })
      .option('model-hint', { type: 'string', default: '', describe: 'controlvector.model_hint (e.g. the arch)' })
      .option('out', { type: 'string', demandOption: true })
      .example('$0 cvec export --probe probes/layer12.npy --out emp.gguf', 'then: llama-cli -m model.gguf --control-vector-scaled emp.gguf 4') as never,
  handler: (a) => {
    const layers = a.layer !== undefined ? parseIntList(a.layer, '--layer') : null;
    if (layers && layers.length !== a.probe.length) throw new UsageError('--layer must name one block per --probe');
    if (!Number.isFinite(a.scale)) throw new UsageError('--scale must be a number');
    const map = new Map<number, Float32Array>();
    a.probe.forEach((p, i) => {
      const layer = layers ? layers[i] : loadProbe(p).layer;
      const d = layers ? direction(p) : loadProbe(p).direction;
      map.set(layer, a.scale === 1 ? d : d.map((x) => x * a.scale));
    });
    writeControlVector(resolve(a.out), map, a['model-hint']);
    note(`wrote ${a.out} (layers ${[...map.keys()].join(', ')})`);
  },
};

const importCmd: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Read a llama.cpp control vector into probe files DIR/layer<L>.npy (+ .json)',
  builder: (y) =>
    y.positional('file', { type: 'string', demandOption: true })
      .option('out', { type: 'string', demandOption: true })
      .option('json', { type: 'boolean', default: false }) as never,
  handler: (a) => {
    const cv = readControlVector(a.file);
    mkdirSync(a.out, { recursive: true });
    const written: string[] = [];
    for (const [layer, v] of cv.layers) {
      let n = 0;
      for (const x of v) n += x * x;
      n = Math.sqrt(n);
      // probes are unit directions (the file's scale is reported, not kept)
      const dir = n > 0 ? v.map((x) => x / n) : v;
      written.push(saveProbe(a.out, { direction: dir, layer, pooling: 'unknown', method: 'imported', model: { path: cv.modelHint || undefined }, trainHash: '', nTrain: 0, createdAt: new Date().toISOString() }).npyPath);
    }
    if (a.json) printJson({ file: a.file, modelHint: cv.modelHint, nEmbd: cv.nEmbd, layers: [...cv.layers.keys()], files: written });
    else note(`wrote ${written.length} probes to ${a.out}`);
  },
};

export const cvecCommand: CommandModule<object, object> = {
  command: 'cvec <action>',
  describe: 'Convert between probes and llama.cpp control-vector GGUF files',
  builder: (y) => y.command(exportCmd as never).command(importCmd as never).demandCommand(1) as never,
  handler: () => {},
};
