// eia-native capture: residual-stream activations of texts -> DIR/layer<L>.npy.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { POOLINGS, type Pooling } from '../../engine/capture.js';
import { CAPTURE_DEFAULTS } from '../../engine/defaults.js';
import { Model } from '../../engine/model.js';
import { requireModelResidual } from '../../engine/residual-support.js';
import { inputExists, inputName, isStdin, readInputText } from '../../io/input.js';
import { parseJsonl } from '../../io/jsonl.js';
import { writeNpy } from '../../io/npy.js';
import { moveAside } from '../../io/run-folder.js';
import { captureContextOptions, captureCtxSize, checkCaptureFinite, checkTextsFit } from '../../probes/capture-context.js';
import { PAPER_MAX_TOKENS } from '../../probes/defaults.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic-write.js';
import { EiaError } from '../../util/errors.js';
import { io } from '../../util/io-error.js';
import { note, warn } from '../../util/note.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, parseIntList, printJson, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, FLAGS, inFlagWords, intFlag } from '../flags.js';

interface Args {
  model: string; layers: string; pool: string; input: string; field: string; out: string; truncate: number; force: boolean;
  threads?: number; 'gpu-layers': number; 'ctx-size'?: number; json: boolean;
}

/**
 * Texts from a JSONL file (one object per line, `field` holds the text, or a JSON string) or a plain
 * .txt (one per line); '-' reads stdin: JSON Lines when its first line is JSON, else plain lines.
 */
export function readTexts(path: string, field: string): string[] {
  const raw = readInputText(path, '--input');
  const name = inputName(path);
  const first = raw.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const plain = isStdin(path) ? !/^\s*[{"]/.test(first) : path.endsWith('.txt');
  const out = plain
    ? raw.split(/\r?\n/).filter((line) => line.trim() !== '')
    : parseJsonl(raw, name, {
      tornTail: 'error',
      each: (obj, where) => {
        const v = typeof obj === 'string' ? obj : (obj as Record<string, unknown>)?.[field];
        if (typeof v !== 'string') throw new EiaError('E_BAD_ARG', `${where}: field '${field}' is missing or not a string`);
        return v;
      },
    }).records;
  if (out.length === 0) throw new EiaError('E_BAD_ARG', `${name}: no texts`);
  return out;
}

/** The files a capture writes into `dir`. */
function outputs(layers: number[], pool: string): string[] {
  return [...layers.map((l) => `layer${l}.npy`), 'capture.json', ...(pool === 'tokens' ? ['tokens.json'] : [])];
}

export const captureCommand: CommandModule<object, Args> = {
  command: 'capture',
  describe: 'Capture residual-stream activations (output of decoder blocks) to .npy',
  builder: (y) =>
    withModelOptions(y, 'room for one text; default: the model\'s training context within 2048..8192')
      .option('layers', { type: 'string', demandOption: true, describe: 'blocks, e.g. 8,12,16 (0-based)' })
      .option('pool', { choices: POOLINGS, default: CAPTURE_DEFAULTS.pool, describe: 'mean over positions (paper), last position, or all tokens' })
      .option('input', { type: 'string', demandOption: true, describe: 'texts: .jsonl (see --field) or .txt (one per line); - = stdin' })
      .option('field', { type: 'string', default: 'text', describe: 'JSONL field holding the text' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('truncate', { ...FLAGS.truncate, default: CAPTURE_DEFAULTS.truncate, describe: `${FLAGS.truncate.describe} (paper: ${PAPER_MAX_TOKENS})` })
      .option('force', FLAGS.force)
      .option('json', FLAGS.json)
      .example('$0 capture --model m.gguf --layers 8,12 --input texts.jsonl --out acts', 'mean-pooled activations')
      .epilog('Writes DIR/layer<L>.npy (float32). mean/last: one row per input line, in input order. tokens: all token rows of all texts concatenated, with DIR/tokens.json {n_tokens, offsets} (text i = rows offsets[i]..offsets[i+1]). ' +
        'Existing files of the same names are refused unless --force (which moves them to DIR/replaced-<time>/).') as never,
  handler: async (a) => {
    checkModelFlags(a);
    const layers = parseIntList(a.layers, '--layers');
    const truncate = intFlag(a.truncate, '--truncate', 0);
    if (!inputExists(a.input)) throw new UsageError(`--input: ${a.input} does not exist`);
    const dir = resolve(a.out);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--out: ${a.out} exists and is not a folder`);
    const clash = outputs(layers, a.pool).filter((f) => existsSync(join(dir, f)));
    if (clash.length > 0 && !a.force) throw new EiaError('E_CONFLICT', `--out ${a.out} already holds ${clash.join(', ')}; use another folder or --force to replace them`);
    const texts = readTexts(a.input, a.field);
    const model = await Model.load(modelPathArg(a.model), { gpuLayers: a['gpu-layers'] });
    try {
      await requireModelResidual(model, 'capture', a.threads);
      for (const l of layers) if (l < 0 || l >= model.nLayer) throw new UsageError(`--layers: ${l} out of range [0, ${model.nLayer - 1}]`);
      const ctxSize = a['ctx-size'] ?? captureCtxSize(model);
      try {
        checkTextsFit(model, texts, truncate, ctxSize);
      } catch (e) {
        throw inFlagWords(e, { truncate: '--truncate', ctxSize: '--ctx-size' });
      }
      const ctx = await model.createContext(captureContextOptions(model, a.threads, ctxSize));
      const bar = createProgress({ label: 'capture', total: texts.length, unit: 'items' });
      const res = await ctx.capture(texts, {
        layers, pool: a.pool as Pooling, truncate,
        onProgress: (done, _t, tok) => bar.update(done, `${tok} tokens`),
      });
      bar.done();
      ctx.free();
      checkCaptureFinite(res, model.info.path);
      // ---- writes from here on
      if (clash.length > 0) warn(`--force: ${moveAside(dir, clash)}`);
      io(() => mkdirSync(dir, { recursive: true }));
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
      if (a.json) printJson(summary);
      else process.stdout.write(`captured ${res.nTexts} texts (${res.tokensTotal} tokens, ${summary.tokens_per_second.toFixed(0)} tok/s) -> ${dir}\n`);
    } finally {
      model.free();
    }
  },
};
