// eia-native generate: one batch, one sequence per (alpha, sample), optional probe monitors.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { GENERATION_DEFAULTS, SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { Model } from '../../engine/model.js';
import { generationContextOptions } from '../../engine/context.js';
import type { SequenceRequest } from '../../engine/generate.js';
import { readNpy } from '../../io/npy.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, parseNumberList, UsageError, withModelOptions } from '../common.js';

interface Args {
  model: string; prompt?: string; 'prompt-file'?: string; probe?: string; layer?: number; alphas: string; samples: number;
  temp: number; 'top-k': number; 'top-p': number; 'min-p': number; seed: number; 'max-tokens': number;
  monitor?: string[]; chat: boolean; system?: string; positions: string; stop?: string[]; threads?: number; 'gpu-layers': number; json: boolean;
  'layer-range'?: string; normalize: boolean; gate?: string; 'gate-steer'?: string[]; 'gate-hold'?: number; 'gate-budget'?: number;
}

const NUM = '(-?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)';

/** --gate LM:PROBE.npy:ON:OFF */
function parseGate(spec: string): { layer: number; path: string; on: number; off: number } {
  const m = new RegExp(`^(\\d+):(.+):${NUM}:${NUM}$`).exec(spec);
  if (!m) throw new UsageError(`--gate '${spec}': expected LM:PROBE.npy:ON:OFF (e.g. 4:probe.npy:-1.5:0.5)`);
  return { layer: Number(m[1]), path: m[2], on: Number(m[3]), off: Number(m[4]) };
}

/** --gate-steer LS:PROBE.npy:ALPHA */
function parseGateSteer(spec: string): { layer: number; path: string; alpha: number } {
  const m = new RegExp(`^(\\d+):(.+):${NUM}$`).exec(spec);
  if (!m) throw new UsageError(`--gate-steer '${spec}': expected LS:PROBE.npy:ALPHA (e.g. 6:probe.npy:4)`);
  return { layer: Number(m[1]), path: m[2], alpha: Number(m[3]) };
}

/** A direction from a .npy file (1-D, or 1 x d), checked against the model width. */
export function readDirection(path: string, nEmbd: number, what: string): Float32Array {
  const a = readNpy(path);
  const width = a.shape.length === 1 ? a.shape[0] : a.shape[0] === 1 ? a.shape[1] : -1;
  if (width !== nEmbd) throw new UsageError(`${what} ${path} has width ${width}, the model's d_model is ${nEmbd}`);
  for (const v of a.data) if (!Number.isFinite(v)) throw new UsageError(`${what} ${path} holds NaN or infinity`);
  return a.data;
}

export const generateCommand: CommandModule<object, Args> = {
  command: 'generate',
  describe: 'Generate with per-sequence steering (one batch: alphas x samples) and live probe monitoring',
  builder: (y) =>
    withModelOptions(y)
      .option('prompt', { type: 'string', describe: 'prompt text (raw, as the paper used it)' })
      .option('prompt-file', { type: 'string', describe: 'read the prompt from a file' })
      .option('probe', { type: 'string', describe: 'steering direction (.npy, d_model floats)' })
      .option('layer', { type: 'number', describe: 'block whose output is steered' })
      .option('alphas', { type: 'string', default: '0', describe: 'comma-separated steering strengths' })
      .option('samples', { type: 'number', default: 1, describe: 'samples per alpha' })
      .option('temp', { type: 'number', default: SAMPLING_DEFAULTS.temperature })
      .option('top-k', { type: 'number', default: SAMPLING_DEFAULTS.topK })
      .option('top-p', { type: 'number', default: SAMPLING_DEFAULTS.topP })
      .option('min-p', { type: 'number', default: SAMPLING_DEFAULTS.minP })
      .option('seed', { type: 'number', default: 0, describe: 'sample i uses seed + i (same across alphas)' })
      .option('max-tokens', { type: 'number', default: GENERATION_DEFAULTS.maxTokens })
      .option('positions', { choices: ['all', 'prompt', 'generated'], default: GENERATION_DEFAULTS.positions, describe: 'where steering is added' })
      .option('layer-range', { type: 'string', describe: 'A-B: steer every block A..B with the --probe direction (instead of --layer)' })
      .option('normalize', { type: 'boolean', default: false, describe: 'rescale each steered row to its norm before the add (norm-preserving steering)' })
      .option('gate', { type: 'string', describe: 'LM:PROBE.npy:ON:OFF — probe-gated steering: read PROBE at block LM; steer (--gate-steer) while the projection is below ON, until it rises above OFF' })
      .option('gate-steer', { type: 'string', array: true, describe: 'LS:PROBE.npy:ALPHA — the steering the gate switches (block LS >= LM; repeatable)' })
      .option('gate-hold', { type: 'number', describe: 'once on, the gate stays on for at least this many tokens (default 1)' })
      .option('gate-budget', { type: 'number', describe: 'the gate steers at most this many tokens (default: no limit)' })
      .option('monitor', { type: 'string', array: true, describe: 'L:P.npy — report each token\'s projection on P at block L (repeatable)' })
      .option('chat', { type: 'boolean', default: false, describe: 'wrap the prompt in the model\'s chat template' })
      .option('system', { type: 'string', describe: 'system message (with --chat)' })
      .option('stop', { type: 'string', array: true, describe: 'stop string (repeatable)' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per sequence per line on stdout' })
      .example('$0 generate --model m.gguf --prompt "Hi" --probe p.npy --layer 12 --alphas=-5,0,5 --samples 3', '9 sequences in one batch')
      .example('$0 generate --model m.gguf --prompt "Hi" --monitor 12:p.npy --json', 'per-token probe scores')
      .example('$0 generate --model m.gguf --prompt "Hi" --probe p.npy --layer-range 8-14 --alphas 2 --normalize', 'the same direction on blocks 8..14, norm-preserving')
      .example('$0 generate --model m.gguf --prompt "Hi" --gate 10:p.npy:-2:0 --gate-steer 12:p.npy:4 --json', 'steer only while the empathy projection at block 10 is low; records carry `gate` per token') as never,
  handler: async (a) => {
    const prompt = a['prompt-file'] ? readFileSync(a['prompt-file'], 'utf8') : a.prompt;
    if (typeof prompt !== 'string' || prompt.length === 0) throw new UsageError('--prompt (or --prompt-file) is required');
    const alphas = parseNumberList(a.alphas, '--alphas');
    if (!Number.isInteger(a.samples) || a.samples < 1) throw new UsageError('--samples must be a positive integer');
    if (!Number.isInteger(a['max-tokens']) || a['max-tokens'] < 1) throw new UsageError('--max-tokens must be a positive integer');
    if (a.layer !== undefined && a['layer-range'] !== undefined) throw new UsageError('--layer and --layer-range exclude each other');
    if (alphas.some((x) => x !== 0) && (!a.probe || (a.layer === undefined && a['layer-range'] === undefined))) throw new UsageError('non-zero --alphas need --probe and --layer (or --layer-range)');
    if (!a.gate !== !(a['gate-steer'] && a['gate-steer'].length > 0)) throw new UsageError('--gate and --gate-steer go together');
    if (a['gate-hold'] !== undefined && (!Number.isInteger(a['gate-hold']) || a['gate-hold'] < 1)) throw new UsageError('--gate-hold must be a positive integer');
    if (a['gate-budget'] !== undefined && (!Number.isInteger(a['gate-budget']) || a['gate-budget'] < 0)) throw new UsageError('--gate-budget must be a non-negative integer');
    let range: [number, number] | null = null;
    if (a['layer-range'] !== undefined) {
      const m = /^(\d+)-(\d+)$/.exec(String(a['layer-range']));
      if (!m || Number(m[2]) < Number(m[1])) throw new UsageError(`--layer-range '${a['layer-range']}': expected A-B with A <= B (e.g. 8-14)`);
      range = [Number(m[1]), Number(m[2])];
    }
    const gateSpec = a.gate ? parseGate(a.gate) : null;
    const gateSteer = (a['gate-steer'] ?? []).map(parseGateSteer);
    const model = await Model.load(modelPathArg(a.model), { gpuLayers: a['gpu-layers'] });
    try {
      const nL = model.nLayer;
      if (a.layer !== undefined && (!Number.isInteger(a.layer) || a.layer < 0 || a.layer >= nL)) throw new UsageError(`--layer ${a.layer} out of range [0, ${nL - 1}]`);
      if (range && range[1] >= nL) throw new UsageError(`--layer-range ${range[0]}-${range[1]} out of range [0, ${nL - 1}]`);
      const dir = a.probe ? readDirection(a.probe, model.nEmbd, '--probe') : null;
      if (gateSpec && gateSpec.layer >= nL - 1) throw new UsageError(`--gate layer ${gateSpec.layer} out of range [0, ${nL - 2}] (the gate reads a block below the last)`);
      for (const g of gateSteer) {
        if (g.layer >= nL) throw new UsageError(`--gate-steer layer ${g.layer} out of range [0, ${nL - 1}]`);
        if (gateSpec && g.layer < gateSpec.layer) throw new UsageError(`--gate-steer layer ${g.layer} is below the --gate layer ${gateSpec.layer}`);
      }
      if (gateSpec && !(gateSpec.on < gateSpec.off)) throw new UsageError(`--gate: ON (${gateSpec.on}) must be below OFF (${gateSpec.off})`);
      const gate = gateSpec ? {
        layer: gateSpec.layer, direction: readDirection(gateSpec.path, model.nEmbd, '--gate probe'), on: gateSpec.on, off: gateSpec.off,
        minHold: a['gate-hold'], budget: a['gate-budget'],
        steer: gateSteer.map((g) => ({ layer: g.layer, direction: readDirection(g.path, model.nEmbd, '--gate-steer probe'), alpha: g.alpha, normalize: a.normalize })),
      } : undefined;
      const monitors = (a.monitor ?? []).map((spec) => {
        const m = /^(\d+):(.+)$/.exec(spec);
        if (!m) throw new UsageError(`--monitor '${spec}': expected L:path.npy`);
        const layer = Number(m[1]);
        if (layer >= nL) throw new UsageError(`--monitor layer ${layer} out of range [0, ${nL - 1}]`);
        return { layer, direction: readDirection(m[2], model.nEmbd, '--monitor probe'), name: m[2] };
      });
      const sequences: SequenceRequest[] = [];
      for (const alpha of alphas) {
        for (let s = 0; s < a.samples; s++) {
          sequences.push({
            prompt, chat: a.chat, system: a.system,
            steer: dir && alpha !== 0 ? [range ? { layers: range, direction: dir, alpha, normalize: a.normalize } : { layer: a.layer!, direction: dir, alpha, normalize: a.normalize }] : [],
            gate,
            positions: a.positions as 'all', temperature: a.temp, topK: a['top-k'], topP: a['top-p'], minP: a['min-p'],
            seed: a.seed + s, maxTokens: a['max-tokens'], stop: a.stop, tag: { alpha, sample: s },
          });
        }
      }
      const promptTokens = model.tokenize(a.chat ? model.applyChatTemplate([{ role: 'user', content: prompt }]) : prompt).length + 8;
      const ctx = await model.createContext(generationContextOptions(sequences.length, promptTokens + a['max-tokens'], a.threads));
      const total = sequences.length * a['max-tokens'];
      const bar = createProgress({ label: 'generate', total, unit: 'tokens' });
      const gen = ctx.generate({ sequences, monitors });
      let n = 0;
      for await (const ev of gen) {
        if (ev.type !== 'token') continue;
        n++;
        if (n % 32 === 0) bar.update(n);
      }
      bar.done();
      const results = gen.results();
      const st = gen.stats();
      for (const r of results) {
        const tag = r.tag as { alpha: number; sample: number };
        if (a.json) {
          const obj: Record<string, unknown> = {
            alpha: tag.alpha, sample: tag.sample, layer: a.layer ?? null, ...(range ? { layer_range: range } : {}), seed: a.seed + tag.sample, text: r.text,
            tokens: Array.from(r.tokens), finish_reason: r.finishReason, n_prompt: r.nPrompt,
          };
          if (gate) {
            obj.gate = Array.from(r.gate ?? [], (x) => x === 1);
            obj.gate_steered = r.gateSteered ?? 0;
          }
          if (r.scores) obj.monitor = monitors.map((m, k) => ({ layer: m.layer, probe: m.name, scores: Array.from(r.scores![k]) }));
          process.stdout.write(JSON.stringify(obj) + '\n');
        } else {
          const gated = gate ? `, gate on for ${r.gateSteered ?? 0} positions, ${Array.from(r.gate ?? []).filter((x) => x === 1).length} of ${r.tokens.length} tokens` : '';
          process.stdout.write(`--- alpha ${tag.alpha} sample ${tag.sample} (${r.finishReason}, ${r.tokens.length} tokens${gated})\n${r.text}\n`);
        }
      }
      process.stderr.write(`decode: ${st.decodeTokens} tokens in ${(st.decodeMs / 1000).toFixed(2)} s (${(st.decodeTokens / (st.decodeMs / 1000)).toFixed(1)} tok/s); prompt: ${st.promptTokens} tokens, ${st.uniquePrompts} unique\n`);
      ctx.free();
    } finally {
      model.free();
    }
  },
};
