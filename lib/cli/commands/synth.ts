// eia-native synth: write a synthetic GGUF (random weights, real shapes) or the planted-concept model.
import type { CommandModule } from 'yargs';
import { synth, SYNTH_ARCHES, SYNTH_SHAPES, SYNTH_TYPES, type SynthArch, type SynthShape, type SynthType } from '../../engine/synth.js';
import { printJson } from '../common.js';
import { FLAGS } from '../flags.js';

interface Args { arch?: string; shape: string; type: string; seed: number; planted: boolean; out: string; json: boolean }

export const synthCommand: CommandModule<object, Args> = {
  command: 'synth',
  describe: 'Write a synthetic GGUF model (llama, qwen2, phi3 shapes; --planted: known answer)',
  builder: (y) =>
    y.option('arch', { choices: SYNTH_ARCHES, describe: 'architecture (default: the shape\'s own)' })
      .option('shape', { choices: SYNTH_SHAPES, default: 'tiny' })
      .option('type', { choices: SYNTH_TYPES, default: 'f32', describe: 'matrix weight type' })
      .option('seed', { type: 'number', default: 1 })
      .option('planted', { type: 'boolean', default: false, describe: 'planted-concept model + F.planted.npy + F.train/test.jsonl' })
      .option('out', { type: 'string', demandOption: true, describe: 'output .gguf path' })
      .option('json', FLAGS.json)
      .example('$0 synth --planted --out planted.gguf', 'the planted-concept model and its pair files')
      .example('$0 synth --arch qwen2 --shape 0.5b --type q8_0 --out q05.gguf', 'a Qwen2.5-0.5B-shaped random model') as never,
  handler: async (a) => {
    const t0 = Date.now();
    const r = await synth({ arch: a.arch as SynthArch | undefined, shape: a.shape as SynthShape, type: a.type as SynthType, seed: a.seed, planted: a.planted, out: a.out });
    if (a.json) return printJson(r);
    // the result goes to stdout (the CLI grammar: results on stdout, notes and progress on stderr)
    process.stdout.write(`wrote ${r.path} (${r.arch}, ${r.shape}, ${r.type}; ${r.nLayer} layers, d_model ${r.nEmbd}, vocab ${r.nVocab}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    if (r.plantedNpy) process.stdout.write(`planted direction ${r.plantedNpy}\npairs ${r.trainJsonl} ${r.testJsonl}\n`);
  },
};
