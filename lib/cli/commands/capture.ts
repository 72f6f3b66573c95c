// eia-native capture: residual-stream activations of texts -> DIR/layer<L>.npy.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { POOLINGS, type Pooling } from '../../engine/capture.js';
import { CAPTURE_DEFAULTS } from '../../engine/defaults.js';
import { Model } from '../../engine/model.js';
import { parseJsonl } from '../../io/jsonl.js';
import { writeNpy } from '../../io/npy.js';
import { captureContextOptions } from '../../probes/capture-context.js';
import { PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, parseIntList, printJson, UsageError, withModelOptions } from '../common.js';

interface Args { model: string; layers: string; pool: string; input: string; field: string; out: string; 'max-tokens': number; threads?: number; 'gpu-layers': number; json: boolean }

/** Texts from a JSONL file (one object per line, `field` holds the text, or a JSON string) or a plain .txt (one per line). */
export function readTexts(path: string, field: string): string[] {
  const raw = io(() => readFileSync(path, 'utf8'));
  const out = path.endsWith('.txt')
    ? raw.split(/\r?\n/).filter((line) => line.trim() !== '')
    : parseJsonl(raw, path, {
      tornTail: 'error',
      each: (obj, where) => {
        const v = typeof obj === 'string' ? obj : (obj as Record<string, unknown>)?.[field];
        if (typeof v !== 'string') throw new EiaError('E_BAD_ARG', `${where}: field '${field}' is missing or not a string`);
        return v;
      },
    }).records;
  if (out.length === 0) throw new EiaError('E_BAD_ARG', `${path}: no texts`);
  return out;
}

export const captureCommand: CommandModule<object, Args> = {
  command: 'capture',
  describe: 'Capture residual-stream activations (output of decoder blocks) to .npy',
  builder: (y) =>
    withModelOptions(y)
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks, e.g. 8,12,16 (0-based)' })
      .option('pool', { choices: POOLINGS, default: CAPTURE_DEFAULTS.pool, describe: 'mean over positions (paper), last position, or all tokens' })
      .option('input', { type: 'string', demandOption: true, describe: 'texts: .jsonl (see --field) or .txt (one per line)' })
      .option('field', { type: 'string', default: 'text', describe: 'JSONL field holding the text' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('max-tokens', { type: 'number', default: CAPTURE_DEFAULTS.maxTokens, describe: `truncate each text to N tokens (paper: ${PAPER_MAX_TOKENS}; 0 = off)` })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary on stdout' })
      .example('$0 capture --model m.gguf --layers 8,12 --input texts.jsonl --out acts', 'mean-pooled activations')
      .epilog('Writes DIR/layer<L>.npy (float32). mean/last: one row per input line, in input order. tokens: all token rows of all texts concatenated, with DIR/tokens.json {n_tokens, offsets} (text i = rows offsets[i]..offsets[i+1]).') as never,
  handler: async (a) => {
    const layers = parseIntList(a.layers, '--layers');
    if (!Number.isInteger(a['max-tokens']) || a['max-tokens'] < 0) throw new UsageError('--max-tokens must be a non-negative integer');
    const texts = readTexts(a.input, a.field);
    const model = await Model.load(modelPathArg(a.model), { gpuLayers: a['gpu-layers'] });
    try {
      for (const l of layers) if (l < 0 || l >= model.nLayer) throw new UsageError(`--layers: ${l} out of range [0, ${model.nLayer - 1}]`);
      const ctx = await model.createContext(captureContextOptions(model, a.threads));
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
        writeFileAtomic(join(dir, 'tokens.json'), JSON.stringify({ n_tokens: Array.from(res.nTokens), offsets: Array.from(res.offsets!) }) + '\n');
      }
      const summary = {
        model: model.info.path, arch: model.info.arch, layers, pool: res.pool, n_texts: res.nTexts, n_embd: res.nEmbd,
        tokens: res.tokensTotal, decode_calls: res.decodeCalls, ms: Math.round(res.ms), tokens_per_second: res.tokensTotal / (res.ms / 1000), files,
      };
      writeJsonAtomic(join(dir, 'capture.json'), summary);
      ctx.free();
      if (a.json) printJson(summary);
      else process.stderr.write(`captured ${res.nTexts} texts (${res.tokensTotal} tokens, ${summary.tokens_per_second.toFixed(0)} tok/s) -> ${dir}\n`);
    } finally {
      model.free();
    }
  },
};
