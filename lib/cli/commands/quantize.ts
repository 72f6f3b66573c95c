// eia-native quantize IN.gguf --type T --out OUT.gguf: llama.cpp's own quantizer (llama_model_quantize,
// what llama-quantize runs) through the engine: off the event loop, progress per tensor, the result
// checked (file type, every tensor, loads with the input's shape) before it takes OUT's name. An
// existing OUT is replaced only with --force. Made for drift studies: `study` compares a model with
// its quantizations (docs/study.md).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { quantizeModel, quantTypes } from '../../engine/quantize.js';
import { createProgress, formatBytes } from '../../util/progress.js';
import { EiaError } from '../../util/errors.js';
import { warn } from '../../util/note.js';
import { modelPathArg, printJson, stringArg, UsageError } from '../common.js';
import { FLAGS, MAX_THREADS, optIntFlag } from '../flags.js';

interface Args { input: string; type: string; out: string; threads?: number; 'allow-requantize': boolean; force: boolean; json: boolean }

export const quantizeCommand: CommandModule<object, Args> = {
  command: 'quantize <input>',
  describe: 'Quantize a GGUF model with llama.cpp\'s quantizer (q8_0, q4_k_m, f16, ...): for drift studies of a probe across precisions',
  builder: (y) =>
    y.positional('input', { type: 'string', describe: 'the GGUF model to quantize (a file, or a pulled model name)' })
      .option('type', { type: 'string', demandOption: true, describe: 'target file type, llama-quantize\'s names: f32, f16, bf16, q8_0, q6_k, q5_k_m, q5_k_s, q5_1, q5_0, q4_k_m, q4_k_s, q4_1, q4_0, iq4_nl, iq4_xs, q3_k_l, q3_k_m, q3_k_s, q2_k' })
      .option('out', { type: 'string', demandOption: true, describe: 'the quantized GGUF to write (written beside it under a temporary name, then renamed)' })
      .option('threads', { ...FLAGS.threads, describe: 'CPU threads for quantizing (default: all)' })
      .option('allow-requantize', { type: 'boolean', default: false, describe: 'quantize tensors that are already quantized (quality suffers; llama-quantize --allow-requantize)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace --out when it exists (atomically: the old file stays until the new one is checked)' })
      .option('json', FLAGS.json)
      .example('$0 quantize p.gguf --type q8_0 --out p.q8_0.gguf', 'the planted model at Q8_0')
      .example('$0 quantize m-f16.gguf --type q4_k_m --out m-q4_k_m.gguf --threads 8', '')
      .epilog('The written file is checked before it takes the output\'s name: its general.file_type is the asked type, it holds every tensor of ' +
        'the input, and it loads as a model of the same architecture, blocks and width. Types that need an importance matrix (iq1-iq3) are not offered.') as never,
  handler: async (a) => {
    const input = modelPathArg(stringArg(a.input, 'INPUT'));
    const out = resolve(stringArg(a.out, '--out'));
    optIntFlag(a.threads, '--threads', 1, MAX_THREADS);
    const type = String(a.type).toLowerCase();
    const types = quantTypes();
    if (!types.some((t) => t.name === type)) throw new UsageError(`--type '${a.type}' is not a type quantize writes (known: ${types.map((t) => t.name).join(', ')})`);
    if (!existsSync(input) || !statSync(input).isFile()) throw new UsageError(`INPUT: ${a.input} is not a file`);
    if (resolve(input) === out) throw new UsageError('--out is the input file; write the quantization to another path');
    const replacing = existsSync(out);
    if (replacing) {
      if (statSync(out).isDirectory()) throw new UsageError(`--out: ${a.out} is a folder; give the path of the .gguf to write`);
      if (!a.force) throw new EiaError('E_CONFLICT', `--out ${a.out} already exists; use another path or --force to replace it`);
    }
    const bar = createProgress({ label: `quantize ${type}`, unit: 'items' });
    const t0 = Date.now();
    const r = await quantizeModel({
      input, output: out, type, threads: a.threads, allowRequantize: a['allow-requantize'],
      onProgress: (done, total) => { bar.setTotal(total); bar.update(done, 'tensors'); },
    });
    bar.done();
    if (replacing) warn(`--force: replaced ${a.out}`);
    const seconds = (Date.now() - t0) / 1000;
    if (a.json) return printJson({ input, ...r, seconds });
    process.stdout.write(`wrote ${r.output} (${r.type}, ${r.arch}, ${r.nLayer} blocks, d_model ${r.nEmbd}; ${r.nTensors} tensors, ` +
      `${formatBytes(r.inBytes)} -> ${formatBytes(r.outBytes)}) in ${seconds.toFixed(1)} s\n`);
  },
};
