// eia-native synth: write a synthetic GGUF (random weights, real shapes) or the planted-concept model;
// for a planted model, also measure and state the paper's controls on it.
import type { CommandModule } from 'yargs';
import {
  synth, synthOutputs, PLANTED_PROFILES, SYNTH_ARCHES, SYNTH_SHAPES, SYNTH_TYPES,
  type PlantedProfile, type SynthArch, type SynthShape, type SynthType,
} from '../../engine/synth.js';
import { checkPlantedControls, plantedControlsLines } from '../../probes/planted-controls.js';
import { resolve } from 'node:path';
import { checkOutputFiles, printJson, stringArg, UsageError } from '../common.js';
import { FLAGS, intFlag, MAX_THREADS, optIntFlag } from '../flags.js';

interface Args {
  arch?: string; shape: string; type: string; seed: number; planted: boolean; 'planted-profile'?: string; check: boolean;
  threads?: number; out: string; json: boolean; force: boolean;
}

export const synthCommand: CommandModule<object, Args> = {
  command: 'synth',
  describe: 'Write a synthetic GGUF model (llama, qwen2, phi3 shapes; --planted: known answer, with its controls measured)',
  builder: (y) =>
    y.option('arch', { choices: SYNTH_ARCHES, describe: 'architecture (default: the shape\'s own; planted: llama)' })
      .option('shape', { choices: SYNTH_SHAPES, default: 'tiny' })
      .option('type', { choices: SYNTH_TYPES, default: 'f32', describe: 'matrix weight type' })
      .option('seed', { type: 'number', default: 1 })
      .option('planted', { type: 'boolean', default: false, describe: 'planted-concept model + F.planted.npy + F.train/test.jsonl (+ F.ablated.jsonl)' })
      .option('planted-profile', {
        choices: PLANTED_PROFILES, describe: 'realistic (default): activations vary mostly with content, controls behave as on real models; ' +
          'easy: the class gap dominates everywhere (fast tests)',
      })
      .option('check', { type: 'boolean', default: true, describe: 'planted: measure the paper\'s controls on the new model and state them (--no-check skips)' })
      .option('threads', { ...FLAGS.threads, describe: 'CPU threads for the check (default: all)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output .gguf path' })
      .option('force', { ...FLAGS.force, describe: 'replace existing output files (the model, and a planted model\'s .planted.npy and pair files)' })
      .option('json', FLAGS.json)
      .example('$0 synth --planted --out planted.gguf', 'the planted-concept model, its pair files, and its controls')
      .example('$0 synth --planted --planted-profile easy --no-check --out easy.gguf', 'the easy planted model, no check')
      .example('$0 synth --planted --arch phi3 --out planted-phi3.gguf', 'the planted model in phi3\'s layout (fused QKV and gate/up)')
      .example('$0 synth --arch qwen2 --shape 0.5b --type q8_0 --out q05.gguf', 'a Qwen2.5-0.5B-shaped random model') as never,
  handler: async (a) => {
    optIntFlag(a.threads, '--threads', 1, MAX_THREADS);
    intFlag(a.seed, '--seed', 0);
    const out = stringArg(a.out, '--out');
    const profile = (a['planted-profile'] ?? 'realistic') as PlantedProfile;
    checkOutputFiles(synthOutputs(resolve(out), a.planted, profile), a.force);
    if (a['planted-profile'] !== undefined && !a.planted) throw new UsageError('--planted-profile needs --planted');
    const t0 = Date.now();
    const r = await synth({
      arch: a.arch as SynthArch | undefined, shape: a.shape as SynthShape, type: a.type as SynthType, seed: a.seed, planted: a.planted,
      ...(a.planted ? { plantedProfile: profile } : {}), out,
    });
    const seconds = (Date.now() - t0) / 1000;
    const controls = a.planted && a.check ? await checkPlantedControls(r, { seed: a.seed, threads: a.threads }) : null;
    if (a.json) return printJson(controls ? { ...r, controls } : r);
    // the result goes to stdout (the CLI grammar: results on stdout, notes and progress on stderr)
    const say = (line: string) => process.stdout.write(line + '\n');
    say(`wrote ${r.path} (${r.arch}, ${r.shape}, ${r.type}; ${r.nLayer} layers, d_model ${r.nEmbd}, vocab ${r.nVocab}) in ${seconds.toFixed(1)} s`);
    if (r.plantedNpy) {
      say(`planted profile ${r.plantedProfile}: direction ${r.plantedNpy}\npairs ${r.trainJsonl} ${r.testJsonl}` +
        (r.ablatedJsonl ? `\nlexically ablated test pairs ${r.ablatedJsonl} (${(r.ablationReplacements ?? 0).toFixed(1)} empathy words replaced per pair, empathic texts only)` : ''));
    }
    if (controls) process.stdout.write(plantedControlsLines(controls).join('\n') + '\n');
  },
};
