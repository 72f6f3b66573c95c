// eia-native capture: residual-stream activations of texts -> DIR/layer<L>.npy.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { Model } from '../../engine/model.js';
import { POOLINGS, type Pooling } from '../../engine/capture.js';
import { writeFileAtomic, writeNpy } from '../../io/npy.js';
import { createProgress } from '../../models/progress.js';
import { modelPathArg, parseIntList, printJson, UsageError, withModelOptions } from '../common.js';

interface Args { model: string; layers: string; pool: string; input: string; field: string; out: string; 'max-tokens': number; threads?: number; 'gpu-layers': number; json: boolean }

/** Texts from a JSONL file (one object per line, `field` holds the text) or a plain .txt (one per line). */
export function readTexts(path: string, field: string): string[] {
  const raw = readFileSync(path, 'utf8');
  const lines = raw.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    if (path.endsWith('.txt')) return void out.push(line);
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
    const v = typeof obj === 'string' ? obj : (obj as Record<string, unknown>)?.[field];
    if (typeof v !== 'string') throw new Error(`${path}:${i + 1}: field '${field}' is missing or not a string`);
    out.push(v);
  });
  if (out.length === 0) throw new Error(`${path}: no texts`);
  return out;
}

export const captureCommand: CommandModule<object, Args> = {
  command: 'capture',
  describe: 'Capture residual-stream activations (output of decoder blocks) to .npy',
  builder: (y) =>
    withModelOptions(y)
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks, e.g. 8,12,16 (0-based)' })
      .option('pool', { choices: POOLINGS, default: 'mean', describe: 'mean over positions (paper), last position, or all tokens' })
      .option('input', { type: 'string', demandOption: true, describe: 'texts: .jsonl (see --field) or .txt (one per line)' })
      .option('field', { type: 'string', default: 'text', describe: 'JSONL field holding the text' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('max-tokens', { type: 'number', default: 0, describe: 'truncate each text to N tokens (paper: 512; 0 = off)' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout' })
      .example('$0 capture --model m.gguf --layers 8,12 --input texts.jsonl --out acts', 'mean-pooled activations')
      .epilog('Writes DIR/layer<L>.npy (float32). mean/last: one row per input line, in input order. tokens: all token rows of all texts concatenated, with DIR/tokens.json {nTokens, offsets} (text i = rows offsets[i]..offsets[i+1]).') as never,
  handler: async (a) => {
    const layers = parseIntList(a.layers, '--layers');
    if (!Number.isInteger(a['max-tokens']) || a['max-tokens'] < 0) throw new UsageError('--max-tokens must be a non-negative integer');
    const texts = readTexts(a.input, a.field);
    const model = await Model.load(modelPathArg(a.model), { gpuLayers: a['gpu-layers'] });
    try {
      for (const l of layers) if (l < 0 || l >= model.nLayer) throw new UsageError(`--layers: ${l} out of range [0, ${model.nLayer - 1}]`);
      const ctx = await model.createContext({ nThreads: a.threads, nCtx: Math.max(2048, Math.min(model.info.nCtxTrain, 8192)), nBatch: 512, nSeqMax: 32 });
      const bar = createProgress({ label: 'capture', total: texts.length, unit: 'items' });
      const res = await ctx.capture(texts, {
        layers, pool: a.pool as Pooling, maxTokens: a['max-tokens'],
        onProgress: (done, _t, tok) => bar.update(done, `${tok} tokens`),
      });
      bar.done();
      const dir = resolve(a.out);
      mkdirSync(dir, { recursive: true });
      const files: string[] = [];
      for (const l of layers) {
        const m = res.data.get(l)!;
        const f = join(dir, `layer${l}.npy`);
        writeNpy(f, m, [m.length / res.nEmbd, res.nEmbd]);
        files.push(f);
      }
      if (res.pool === 'tokens') {
        writeFileAtomic(join(dir, 'tokens.json'), JSON.stringify({ nTokens: Array.from(res.nTokens), offsets: Array.from(res.offsets!) }) + '\n');
      }
      const summary = {
        model: model.info.path, arch: model.info.arch, layers, pool: res.pool, nTexts: res.nTexts, nEmbd: res.nEmbd,
        tokens: res.tokensTotal, decodeCalls: res.decodeCalls, ms: Math.round(res.ms), tokensPerSecond: res.tokensTotal / (res.ms / 1000), files,
      };
      writeFileAtomic(join(dir, 'capture.json'), JSON.stringify(summary, null, 2) + '\n');
      ctx.free();
      if (a.json) printJson(summary);
      else process.stderr.write(`captured ${res.nTexts} texts (${res.tokensTotal} tokens, ${summary.tokensPerSecond.toFixed(0)} tok/s) -> ${dir}\n`);
    } finally {
      model.free();
    }
  },
};
