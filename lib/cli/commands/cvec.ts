// eia-native cvec export|import: probes <-> llama.cpp control-vector GGUF files. Both follow the
// one norm rule (probes/direction.ts): a probe is a unit direction plus its scale; export writes
// direction x scale x --scale, import stores the unit direction and the file's norm as the scale,
// so import -> export gives back the same vectors. Each block's vector card (probes/vector-card.ts)
// travels with it, the alpha `tune` chose (`tuned`) included: export writes it into the GGUF's
// eia.card.<block>.* metadata (a probe without a card gets one of what its sidecar knows), import
// writes it back into the sidecar.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { readControlVector, writeControlVector } from '../../engine/control-vector.js';
import { readNpy } from '../../io/npy.js';
import { moveAside } from '../../io/run-folder.js';
import { normNote, unitDirection } from '../../probes/direction.js';
import { loadProbe, saveProbe } from '../../probes/probe-file.js';
import { cardsFromGgufMeta, cardsToGgufMeta, makeCard, type VectorCard } from '../../probes/vector-card.js';
import { checkOutputFiles, parseIntList, printJson, stringArg, UsageError } from '../common.js';
import { FLAGS } from '../flags.js';
import { EiaError } from '../../util/errors.js';
import { note, warn } from '../../util/note.js';
import { probeFilesIn } from './probe.js';

interface ExportArgs { probe: string[]; layers?: string; scale: number; 'model-hint': string; out: string; json: boolean; force: boolean }
interface ImportArgs { file: string; out: string; json: boolean; force: boolean }

/** The vector a probe file stands for: its stored values times its sidecar's scale (1 without one), and its card (one of what is known when it has none). */
function storedVector(path: string, layerGiven: number | null): { layer: number; vector: Float32Array; scale: number; card: VectorCard } {
  if (!existsSync(path)) throw new UsageError(`--probe: ${path} does not exist`);
  const side = path.replace(/\.npy$/, '') + '.json';
  if (layerGiven === null || existsSync(side) || /layer\d+\.npy$/.test(path)) {
    const p = loadProbe(path);  // checks the file (1-D, finite, not zero, a norm float32 holds) and reads the sidecar
    const n = p.fileNorm !== undefined ? normNote(p.fileNorm, `--probe ${path}`) : null;
    if (n) warn(n);
    const raw = readNpy(path).data;
    const stored = Math.sqrt(raw.reduce((s, x) => s + x * x, 0));
    const sideScale = (p.scale ?? 1) / (Math.abs(stored - 1) <= 1e-6 ? 1 : stored);
    const layer = layerGiven ?? p.layer;
    // a probe's tuned alpha (its card's, or an older sidecar's top-level one) goes with it when it stays at its block
    const card = p.card && p.card.block === layer ? p.card
      : { ...makeCard(layer, { method: p.method, pooling: p.pooling, model: { sha256: p.model?.sha256 ?? null } }), tuned: p.tuned?.layer === layer ? p.tuned : null };
    return { layer, vector: raw, scale: sideScale, card };
  }
  const a = readNpy(path);
  if (a.shape.length !== 1 && !(a.shape.length === 2 && a.shape[0] === 1)) throw new UsageError(`${path}: a direction must be 1-D`);
  const n = normNote(unitDirection(a.data, path).norm, `--probe ${path}`);  // finite, not zero, a norm float32 holds
  if (n) warn(n);
  return { layer: layerGiven, vector: a.data, scale: 1, card: makeCard(layerGiven) };
}

const exportCmd: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Write probes as a llama.cpp control vector (llama-cli --control-vector F.gguf)',
  builder: (y) =>
    y.option('probe', { type: 'string', array: true, demandOption: true, describe: 'probe .npy (repeatable, one per layer)' })
      .option('layers', { type: 'string', describe: 'block of each --probe, comma-separated (default: from the probe sidecar / file name)' })
      .option('scale', { type: 'number', default: 1, describe: 'multiply the vectors (on top of each probe\'s own scale; llama.cpp also scales at load)' })
      .option('model-hint', { type: 'string', default: '', describe: 'controlvector.model_hint (e.g. the arch)' })
      .option('out', { type: 'string', demandOption: true, describe: 'the control-vector .gguf to write' })
      .option('force', { ...FLAGS.force, describe: 'replace an existing --out file' })
      .option('json', FLAGS.json)
      .example('$0 cvec export --probe probes/layer12.npy --out emp.gguf', 'then: llama-cli -m model.gguf --control-vector-scaled emp.gguf 4') as never,
  handler: (a) => {
    const out = stringArg(a.out, '--out');
    const layers = a.layers !== undefined ? parseIntList(a.layers, '--layers') : null;
    if (layers && layers.length !== a.probe.length) throw new UsageError('--layers must name one block per --probe');
    if (!Number.isFinite(a.scale) || a.scale === 0) throw new UsageError('--scale must be a non-zero number');
    checkOutputFiles([resolve(out)], a.force);
    const map = new Map<number, Float32Array>();
    const cards = new Map<number, VectorCard>();
    const scales: Record<string, number> = {};
    a.probe.forEach((p, i) => {
      const { layer, vector, scale, card } = storedVector(p, layers ? layers[i] : null);
      if (layer < 1) throw new UsageError(`--layers: control vectors start at block 1 (got ${layer} for ${p}): llama.cpp cannot steer block 0 this way`);
      if (map.has(layer)) throw new UsageError(`--probe: two probes for block ${layer}`);
      const k = scale * a.scale;
      const v = k === 1 ? vector : vector.map((x) => x * k);
      for (const x of v) if (!Number.isFinite(x)) throw new UsageError(`--scale ${a.scale}: the vector of block ${layer} overflows`);
      map.set(layer, v);
      cards.set(layer, card);
      scales[String(layer)] = k;
    });
    writeControlVector(resolve(out), map, a['model-hint'], cardsToGgufMeta(cards));
    if (a.json) printJson({ out: resolve(out), layers: [...map.keys()], scales, cards: [...cards.keys()] });
    else process.stdout.write(`wrote ${out} (layers ${[...map.keys()].join(', ')})\n`);
  },
};

const importCmd: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'Read a llama.cpp control vector into probe files DIR/layer<L>.npy (+ .json)',
  builder: (y) =>
    y.positional('file', { type: 'string', demandOption: true, describe: 'control-vector .gguf' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('force', { ...FLAGS.force, describe: 'replace the probes of an earlier run in --out (moved to OUT/replaced-<time>/)' })
      .option('json', FLAGS.json) as never,
  handler: (a) => {
    const out = resolve(stringArg(a.out, '--out'));
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    const cv = readControlVector(a.file);
    // every layer and card is checked (finite, not zero; cards well-formed) before the first file is written
    const dirs = [...cv.layers].map(([layer, v]) => ({ layer, ...unitDirection(v, `${a.file} block ${layer}`) }));
    const cards = cardsFromGgufMeta(cv.meta, a.file);
    for (const b of cards.keys()) if (!cv.layers.has(b)) throw new EiaError('E_BAD_ARG', `${a.file}: a card for block ${b}, which holds no direction`);
    const clash = probeFilesIn(out).filter((f) => dirs.some((d) => f === `layer${d.layer}.npy` || f === `layer${d.layer}.json`));
    if (clash.length > 0 && !a.force) throw new EiaError('E_CONFLICT', `--out ${a.out} already holds ${clash.join(', ')}; use another folder or --force to replace them`);
    if (clash.length > 0) warn(`--force: ${moveAside(out, clash)}`);
    const written: string[] = [];
    const createdAt = new Date().toISOString();
    for (const d of dirs) {
      // the unit direction is the probe; the file's norm is kept as its scale (export gives it back)
      const card = cards.get(d.layer);
      written.push(saveProbe(out, {
        direction: d.direction, layer: d.layer, pooling: card?.pooling ?? 'unknown', method: 'imported',
        model: { path: cv.modelHint || undefined, ...(card?.model.sha256 ? { sha256: card.model.sha256 } : {}) },
        trainHash: card?.train?.hash ?? '', nTrain: 0, createdAt, scale: d.norm, ...(card ? { card } : {}),
      }).npyPath);
    }
    if (a.json) {
      printJson({ file: a.file, modelHint: cv.modelHint, nEmbd: cv.nEmbd, layers: dirs.map((d) => d.layer), scales: Object.fromEntries(dirs.map((d) => [String(d.layer), d.norm])), files: written, cards: [...cards.keys()] });
    } else {
      process.stdout.write(`wrote ${written.length} probes to ${a.out}${cards.size ? ` (with the cards of ${cards.size === dirs.length ? 'every block' : `blocks ${[...cards.keys()].join(', ')}`})` : ' (the file carries no cards)'}\n`);
    }
  },
};

export const cvecCommand: CommandModule<object, object> = {
  command: 'cvec <action>',
  describe: 'Convert between probes and llama.cpp control-vector GGUF files',
  builder: (y) => y.command(exportCmd as never).command(importCmd as never).demandCommand(1) as never,
  handler: () => {},
};

export const CVEC_SUBCOMMANDS = { export: exportCmd, import: importCmd };
