// eia-native generate: one batch, one sequence per (alpha, sample), optional probe monitors.
// Every direction (--probe, --monitor, --gate, --gate-steer) is a probe .npy or a llama.cpp
// control-vector .gguf (its direction.L for block L), used as a unit vector (probes/direction.ts).
// Each file's vector card (probes/vector-card.ts) is checked once against its use: another model,
// or an alpha beyond the strongest coherent one, is a warning; a file without a card, a note.
import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { readControlVector } from '../../engine/control-vector.js';
import { engineLimits, GENERATION_DEFAULTS, MAX_CONTEXT_TOKENS, SAMPLING_DEFAULTS } from '../../engine/defaults.js';
import { Model } from '../../engine/model.js';
import { generationContextOptions } from '../../engine/context.js';
import { requireModelResidual } from '../../engine/residual-support.js';
import type { Gate, SequenceRequest, SteerPositions, SteerTerm } from '../../engine/generate.js';
import { checkBlockRange, checkContextFit, checkGate, checkLayer, checkMaxTokens, checkMonitor, checkSteerTerm, STEER_POSITIONS } from '../../engine/validate.js';
import { fileSha256 } from '../../io/file-hash.js';
import { inputExists, readInputText } from '../../io/input.js';
import { readNpy } from '../../io/npy.js';
import { normNote, unitDirection } from '../../probes/direction.js';
import { loadProbe } from '../../probes/probe-file.js';
import { chooseTuned, readTunedAlphas, readVectorCards, vectorUseMessages, type TunedAlpha } from '../../probes/vector-card.js';
import { residualNorms as residualNormsOf } from '../../probes/residual-norm.js';
import { note, warn } from '../../util/note.js';
import { createProgress } from '../../util/progress.js';
import { modelPathArg, parseNumberList, UsageError, withModelOptions } from '../common.js';
import { checkModelFlags, checkSamplingFlags, FLAGS, inFlagWordsOf, intFlag } from '../flags.js';

interface Args {
  model: string; prompt?: string; 'prompt-file'?: string; probe?: string; layer?: number; alphas: string; samples: number;
  temp: number; 'top-k': number; 'top-p': number; 'min-p': number; seed: number; 'max-tokens': number; 'ctx-size'?: number;
  monitor?: string[]; chat: boolean; system?: string; positions: string; stop?: string[]; threads?: number; 'gpu-layers': number; json: boolean;
  'layer-range'?: string; normalize: boolean; gate?: string; 'gate-steer'?: string[]; 'gate-hold'?: number; 'gate-budget'?: number;
}

const NUM = '(-?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)';

/** --gate LM:PROBE:ON:OFF */
function parseGate(spec: string): { layer: number; path: string; on: number; off: number } {
  const m = new RegExp(`^(\\d+):(.+):${NUM}:${NUM}$`).exec(spec);
  if (!m) throw new UsageError(`--gate '${spec}': expected LM:PROBE.npy:ON:OFF (e.g. 4:probe.npy:-1.5:0.5)`);
  return { layer: Number(m[1]), path: m[2], on: Number(m[3]), off: Number(m[4]) };
}

/** --gate-steer LS:PROBE:ALPHA */
function parseGateSteer(spec: string): { layer: number; path: string; alpha: number } {
  const m = new RegExp(`^(\\d+):(.+):${NUM}$`).exec(spec);
  if (!m) throw new UsageError(`--gate-steer '${spec}': expected LS:PROBE.npy:ALPHA (e.g. 6:probe.npy:4)`);
  return { layer: Number(m[1]), path: m[2], alpha: Number(m[3]) };
}

/** --monitor L:PROBE, the one form of --monitor. */
function parseMonitor(spec: string): { layer: number; path: string } {
  const m = /^(\d+):(.+)$/.exec(spec);
  if (!m) throw new UsageError(`--monitor '${spec}': expected L:path.npy`);
  return { layer: Number(m[1]), path: m[2] };
}

const isGguf = (path: string) => /\.gguf$/i.test(path);

/**
 * --alphas with `tuned` among its values: the alpha `eia-native tune` recorded in the --probe's
 * vector card (`card.tuned` of a probe's sidecar, or of the block's card in a control-vector .gguf;
 * a sidecar written before cards: its top-level `tuned`), chosen by chooseTuned for the block
 * steered; without --layer the tuned block is the one steered (of a .gguf too, not all its blocks).
 * Checked before the model loads.
 */
function tunedAlphaArg(a: Args): { alphas: number[]; tuned: TunedAlpha | null } {
  const items = String(a.alphas).split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (!items.includes('tuned')) return { alphas: parseNumberList(a.alphas, '--alphas'), tuned: null };
  if (a.probe === undefined) throw new UsageError('--alphas tuned needs --probe (a probe .npy or control-vector .gguf whose card carries a tuned alpha, written by eia-native tune)');
  if (!existsSync(a.probe)) throw new UsageError(`--probe: ${a.probe} does not exist`);
  if (a['layer-range'] !== undefined) throw new UsageError('--alphas tuned steers the block it was tuned at: give --layer (or nothing), not --layer-range');
  const choice = chooseTuned(readTunedAlphas(a.probe), a.layer === undefined ? null : [a.layer]);
  if (choice.kind === 'none') {
    throw new UsageError(`--alphas tuned: ${a.probe} carries no tuned alpha (no card of it has a "tuned" record; eia-native tune --probes DIR writes one, cvec export carries it into a .gguf)`);
  }
  if (choice.kind === 'ambiguous') {
    throw new UsageError(`--alphas tuned: ${a.probe} carries tuned alphas for blocks ${choice.blocks.join(', ')}${a.layer !== undefined ? `, none for --layer ${a.layer}` : ''}: give --layer with one of them`);
  }
  const tuned = choice.tuned;
  if (a.layer === undefined) {
    a.layer = tuned.layer;
    if (isGguf(a.probe) && readControlVector(a.probe).layers.size > 1) note(`note: --alphas tuned: ${a.probe} steers block ${tuned.layer} only, the block its alpha ${tuned.alpha} was tuned at`);
  } else if (choice.otherBlocks) {
    warn(`warning: --alphas tuned: ${a.probe}'s alpha ${tuned.alpha} was tuned at block ${tuned.layer}, and --layer is ${a.layer}`);
  }
  const rest = items.filter((x) => x !== 'tuned').join(',');
  const others = rest === '' ? [] : parseNumberList(rest, '--alphas');
  return { alphas: items.map((x) => (x === 'tuned' ? tuned.alpha : others.shift()!)), tuned };
}

/** Directions read from the files of this call, each once, with how each file is used (its blocks and alphas) for its card's checks. */
class Directions {
  private cvecs = new Map<string, Map<number, Float32Array>>();
  private npys = new Map<string, Float32Array>();
  private uses = new Map<string, { flag: string; layers: Set<number>; alphas: Set<number> }>();
  constructor(private nEmbd: number) {}

  /** Records that `path` steers or reads block `layer` (with these alphas when it steers). */
  private use(path: string, layer: number, flag: string, alphas: readonly number[]): void {
    const u = this.uses.get(path) ?? { flag, layers: new Set<number>(), alphas: new Set<number>() };
    u.layers.add(layer);
    for (const a of alphas) if (a !== 0) u.alphas.add(a);
    this.uses.set(path, u);
  }

  /** The files' cards (or their sidecars' model records) against this use: warnings and notes, each once per file. */
  async cardMessages(modelPath: string): Promise<{ warnings: string[]; notes: string[] }> {
    const checks = [...this.uses].map(([path, u]) => {
      const cards = readVectorCards(path);
      const recorded = !isGguf(path) && cards.size === 0 && existsSync(path.replace(/\.npy$/, '') + '.json') ? loadProbe(path).model : null;
      return { path, u, cards, recorded };
    });
    const needSha = checks.some((c) => [...c.cards.values()].some((k) => k.model.sha256) || c.recorded?.sha256);
    const sha = needSha ? await fileSha256(modelPath) : null;
    const warnings = new Set<string>(), notes = new Set<string>();
    for (const c of checks) {
      const what = `${c.u.flag} ${c.path}`;
      if (c.cards.size === 0) {
        const m = vectorUseMessages({ what, card: null, modelSha256: sha, recorded: c.recorded });
        m.warnings.forEach((w) => warnings.add(w));
        m.notes.forEach((n) => notes.add(n));
        continue;
      }
      for (const layer of c.u.layers) {
        const card = c.cards.get(layer) ?? null;
        if (!card) {
          notes.add(`note: ${what} has no card for block ${layer}`);
          continue;
        }
        vectorUseMessages({ what, card, modelSha256: sha, alphas: [...c.u.alphas] }).warnings.forEach((w) => warnings.add(w));
      }
    }
    return { warnings: [...warnings], notes: [...notes] };
  }

  /** The blocks a control vector holds. */
  cvecLayers(path: string, flag: string): number[] {
    return [...this.cvec(path, flag).keys()];
  }

  /** The unit direction of `path` for block `layer` (a .gguf gives its direction.<layer>); `alphas`: the strengths it steers with. */
  get(path: string, layer: number, flag: string, alphas: readonly number[] = []): Float32Array {
    this.use(path, layer, flag, alphas);
    if (isGguf(path)) {
      const v = this.cvec(path, flag).get(layer);
      if (!v) throw new UsageError(`${flag} ${path} has no direction for block ${layer} (it holds blocks ${this.cvecLayers(path, flag).join(', ')})`);
      return v;
    }
    let d = this.npys.get(path);
    if (!d) {
      if (!existsSync(path)) throw new UsageError(`${flag}: ${path} does not exist`);
      const a = readNpy(path);
      const width = a.shape.length === 1 ? a.shape[0] : a.shape[0] === 1 ? a.shape[1] : -1;
      if (width !== this.nEmbd) throw new UsageError(`${flag} ${path} has width ${width}, the model's d_model is ${this.nEmbd}`);
      const u = unitDirection(a.data, `${flag} ${path}`);
      const n = normNote(u.norm, `${flag} ${path}`);
      if (n) warn(n);
      d = u.direction;
      this.npys.set(path, d);
    }
    return d;
  }

  private cvec(path: string, flag: string): Map<number, Float32Array> {
    let c = this.cvecs.get(path);
    if (!c) {
      if (!existsSync(path)) throw new UsageError(`${flag}: ${path} does not exist`);
      const cv = readControlVector(path);
      if (cv.nEmbd !== this.nEmbd) throw new UsageError(`${flag} ${path} has width ${cv.nEmbd}, the model's d_model is ${this.nEmbd}`);
      c = new Map();
      for (const [l, v] of cv.layers) {
        const u = unitDirection(v, `${flag} ${path} block ${l}`);
        const n = normNote(u.norm, `${flag} ${path} block ${l}`);
        if (n) warn(n);
        c.set(l, u.direction);
      }
      this.cvecs.set(path, c);
    }
    return c;
  }
}

/** The validator's option paths (lib/engine/validate.ts) as this command's flags (flags.ts inFlagWords). */
const FLAG_NAMES: Record<string, string> = {
  'steer[].layer': '--layer', 'steer[].layers': '--layer-range', 'steer[].alpha': '--alphas', 'steer[].direction': '--probe', 'steer[].positions': '--positions',
  gate: '--gate', 'gate.layer': '--gate layer', 'gate.direction': '--gate', 'gate.on': '--gate', 'gate.off': '--gate', 'gate.minHold': '--gate-hold',
  'gate.budget': '--gate-budget', 'gate.steer': '--gate-steer', 'gate.steer[].layer': '--gate-steer layer', 'gate.steer[].alpha': '--gate-steer',
  'gate.steer[].direction': '--gate-steer', 'monitors[].layer': '--monitor layer', 'monitors[].direction': '--monitor',
  maxTokens: '--max-tokens', ctxSize: '--ctx-size',
};

/** Runs validator checks with their errors in this command's flags. */
const inCliWords = <T>(check: () => T, more: Record<string, string> = {}): T => inFlagWordsOf({ ...FLAG_NAMES, ...more }, check);

export const generateCommand: CommandModule<object, Args> = {
  command: 'generate',
  describe: 'Generate with per-sequence steering (one batch: alphas x samples) and live probe monitoring',
  builder: (y) =>
    withModelOptions(y, 'default: the model\'s training context; the KV cache holds prompt + --max-tokens')
      .option('prompt', { type: 'string', describe: 'prompt text (raw, as the paper used it)' })
      .option('prompt-file', { type: 'string', describe: 'read the prompt from a file (- = stdin)' })
      .option('probe', { type: 'string', describe: 'steering direction: a probe .npy (d_model floats) or a control-vector .gguf (its direction.L per block)' })
      .option('layer', { type: 'number', describe: 'block whose output is steered' })
      .option('alphas', { type: 'string', default: '0', describe: 'comma-separated steering strengths (the size of the added vector); `tuned`: the alpha `eia-native tune` recorded in the --probe\'s vector card (a .npy\'s sidecar or a .gguf\'s eia.card.* metadata)' })
      .option('samples', { type: 'number', default: 1, describe: 'samples per alpha' })
      .option('temp', { type: 'number', default: SAMPLING_DEFAULTS.temperature, describe: 'sampling temperature (0 = greedy)' })
      .option('top-k', { type: 'number', default: SAMPLING_DEFAULTS.topK, describe: 'top-k (0 = off)' })
      .option('top-p', { type: 'number', default: SAMPLING_DEFAULTS.topP, describe: 'top-p in (0, 1] (1 = off)' })
      .option('min-p', { type: 'number', default: SAMPLING_DEFAULTS.minP, describe: 'min-p in [0, 1] (0 = off)' })
      .option('seed', { type: 'number', default: 0, describe: 'sample i uses seed + i (same across alphas)' })
      .option('max-tokens', { ...FLAGS['max-tokens'], default: GENERATION_DEFAULTS.maxTokens })
      .option('positions', { choices: STEER_POSITIONS, default: GENERATION_DEFAULTS.positions, describe: 'where steering is added' })
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
      .option('json', { ...FLAGS.json, describe: 'one JSON object per sequence per line on stdout' })
      .example('$0 generate --model m.gguf --prompt "Hi" --probe p.npy --layer 12 --alphas=-5,0,5 --samples 3', '9 sequences in one batch')
      .example('$0 generate --model m.gguf --prompt "Hi" --monitor 12:p.npy --json', 'per-token probe scores')
      .example('$0 generate --model m.gguf --prompt "Hi" --probe probes/layer3.npy --alphas 0,tuned', 'unsteered and at the alpha (and block) `tune` chose for that probe')
      .example('$0 generate --model m.gguf --prompt "Hi" --probe p.npy --layer-range 8-14 --alphas 2 --normalize', 'the same direction on blocks 8..14, norm-preserving')
      .example('$0 generate -m m.gguf --prompt "Hi" --probe emp.gguf --alphas 4', 'a llama.cpp control vector: each of its blocks steered with its own direction')
      .example('$0 generate --model m.gguf --prompt "Hi" --gate 10:p.npy:-2:0 --gate-steer 12:p.npy:4 --json', 'steer only while the empathy projection at block 10 is low; records carry `gate` per token')
      .epilog('Directions are used as unit vectors: alpha is the size of the vector added at each position. |alpha| is bounded by 100 x the ' +
        'steered block\'s residual norm (docs/cli.md: "Steering strength").') as never,
  handler: async (a) => {
    checkModelFlags(a);
    checkSamplingFlags(a);
    if (a.prompt !== undefined && a['prompt-file'] !== undefined) throw new UsageError('give --prompt or --prompt-file, not both');
    if (a['prompt-file'] !== undefined && !inputExists(a['prompt-file'])) throw new UsageError(`--prompt-file: ${a['prompt-file']} does not exist`);
    const prompt = a['prompt-file'] !== undefined ? readInputText(a['prompt-file'], '--prompt-file') : a.prompt;
    if (typeof prompt !== 'string' || prompt.length === 0) throw new UsageError('--prompt (or --prompt-file) is required');
    const { alphas, tuned } = tunedAlphaArg(a);
    intFlag(a.samples, '--samples', 1);
    const maxTokens = inCliWords(() => checkMaxTokens(a['max-tokens'], 'maxTokens'));
    if (a.seed + a.samples - 1 > 2 ** 32 - 1) throw new UsageError('--seed + --samples - 1 must stay below 2^32 (sample i uses seed + i)');
    const { maxSequences } = engineLimits();
    if (alphas.length * a.samples > maxSequences) {
      throw new UsageError(`--alphas x --samples = ${alphas.length * a.samples} sequences; one batch holds at most ${maxSequences}`);
    }
    if (a.layer !== undefined && a['layer-range'] !== undefined) throw new UsageError('--layer and --layer-range exclude each other');
    const cvecProbe = a.probe !== undefined && isGguf(a.probe);
    if (alphas.some((x) => x !== 0) && (!a.probe || (!cvecProbe && a.layer === undefined && a['layer-range'] === undefined))) {
      throw new UsageError('non-zero --alphas need --probe and --layer (or --layer-range; a control-vector .gguf --probe steers its own blocks)');
    }
    if (!a.gate !== !(a['gate-steer'] && a['gate-steer'].length > 0)) throw new UsageError('--gate and --gate-steer go together');
    if (!a.gate && (a['gate-hold'] !== undefined || a['gate-budget'] !== undefined)) throw new UsageError('--gate-hold and --gate-budget shape the gate: they need --gate');
    if (a.system !== undefined && !a.chat) throw new UsageError('--system is a message of the chat template: it needs --chat');
    let range: [number, number] | null = null;
    if (a['layer-range'] !== undefined) {
      const m = /^(\d+)-(\d+)$/.exec(String(a['layer-range']));
      if (!m) throw new UsageError(`--layer-range '${a['layer-range']}': expected A-B with A <= B (e.g. 8-14)`);
      range = [Number(m[1]), Number(m[2])];
    }
    const gateSpec = a.gate ? parseGate(a.gate) : null;
    const gateSteer = (a['gate-steer'] ?? []).map(parseGateSteer);
    const monitorSpecs = (a.monitor ?? []).map(parseMonitor);
    const modelPath = modelPathArg(a.model);
    const model = await Model.load(modelPath, { gpuLayers: a['gpu-layers'] });
    try {
      const shape = { nLayer: model.nLayer, nEmbd: model.nEmbd };
      const positions = a.positions as SteerPositions;
      // the request's blocks first (the validator's rules), then the files they read
      inCliWords(() => {
        if (a.layer !== undefined) checkLayer(a.layer, shape, 'steer[0].layer');
        if (range) checkBlockRange(range, shape, 'steer[0].layers');
      });
      const dirs = new Directions(model.nEmbd);
      // the steering terms of a non-zero alpha (alpha filled in per sequence)
      const terms: Omit<SteerTerm, 'alpha'>[] = [];
      if (a.probe !== undefined) {
        if (range) {
          for (let l = range[0]; l <= range[1]; l++) if (cvecProbe) terms.push({ layer: l, direction: dirs.get(a.probe, l, '--probe', alphas), normalize: a.normalize });
          if (!cvecProbe) terms.push({ layers: range, direction: dirs.get(a.probe, range[0], '--probe', alphas), normalize: a.normalize });
        } else if (a.layer !== undefined) {
          terms.push({ layer: a.layer, direction: dirs.get(a.probe, a.layer, '--probe', alphas), normalize: a.normalize });
        } else if (cvecProbe) {
          for (const l of dirs.cvecLayers(a.probe, '--probe')) {
            inCliWords(() => checkLayer(l, shape, 'cvecBlock'), { cvecBlock: `--probe ${a.probe} block` });
            terms.push({ layer: l, direction: dirs.get(a.probe, l, '--probe', alphas), normalize: a.normalize });
          }
        }
      }
      const gate: Gate | undefined = gateSpec ? {
        layer: gateSpec.layer, direction: dirs.get(gateSpec.path, gateSpec.layer, '--gate'), on: gateSpec.on, off: gateSpec.off,
        minHold: a['gate-hold'], budget: a['gate-budget'],
        steer: gateSteer.map((g) => ({ layer: g.layer, direction: dirs.get(g.path, g.layer, '--gate-steer', [g.alpha]), alpha: g.alpha, normalize: a.normalize })),
      } : undefined;
      const monitors = monitorSpecs.map((m) => ({ layer: m.layer, direction: dirs.get(m.path, m.layer, '--monitor'), name: m.path }));
      inCliWords(() => {
        checkGate(gate, { shape }, 'gate', positions);
        monitors.forEach((m, k) => checkMonitor(m, { shape }, `monitors[${k}]`));
      });
      // steering, a gate and monitors read the residual stream: the model's refusal comes first
      if (terms.length > 0 || gate || monitors.length > 0) {
        await requireModelResidual(model, terms.length > 0 ? 'steering' : gate ? 'a probe gate' : 'probe monitors', a.threads);
      }
      // steering strengths against their bound (the validator's rule; residual norms: probes/residual-norm.ts)
      const steered = [...new Set(terms.flatMap((t) => (t.layers ? Array.from({ length: t.layers[1] - t.layers[0] + 1 }, (_, i) => t.layers![0] + i) : [t.layer!])))];
      const residualNorms = await residualNormsOf(model, [...steered, ...gateSteer.map((g) => g.layer)], a.threads);
      inCliWords(() => {
        for (const alpha of alphas) terms.forEach((t, k) => checkSteerTerm({ ...t, alpha } as SteerTerm, { shape, residualNorms }, `steer[${k}]`, positions));
        checkGate(gate, { shape, residualNorms }, 'gate', positions);
      });
      // a direction of another model steers meaningless axes, a strength past the coherent ones breaks the text: say so (once per file)
      const said = await dirs.cardMessages(modelPath);
      for (const w of said.warnings) warn(w);
      for (const n of said.notes) note(n);
      // a tuned alpha of another model means little: say so
      if (tuned) {
        const sha = await fileSha256(modelPath);
        if (tuned.model_sha256 !== sha) warn(`warning: --alphas tuned: the alpha ${tuned.alpha} was tuned on another model (sha256 ${tuned.model_sha256.slice(0, 12)}…)`);
      }
      const promptTokens = model.tokenize(a.chat ? model.applyChatTemplate([{ role: 'user', content: prompt }]) : prompt).length + 8;
      inCliWords(() => checkContextFit(promptTokens, maxTokens, a['ctx-size'], model.info.nCtxTrain));
      const sequences: SequenceRequest[] = [];
      for (const alpha of alphas) {
        for (let s = 0; s < a.samples; s++) {
          sequences.push({
            prompt, chat: a.chat, system: a.system,
            steer: alpha !== 0 ? terms.map((t) => ({ ...t, alpha }) as SteerTerm) : [],
            gate,
            positions, temperature: a.temp, topK: a['top-k'], topP: a['top-p'], minP: a['min-p'],
            seed: a.seed + s, maxTokens, stop: a.stop, tag: { alpha, sample: s },
          });
        }
      }
      const perSeq = promptTokens + maxTokens;
      if (perSeq * sequences.length > MAX_CONTEXT_TOKENS) {
        throw new UsageError(`--alphas x --samples = ${sequences.length} sequences of ${perSeq} tokens exceed the engine's largest context (${MAX_CONTEXT_TOKENS} tokens); lower --samples or --max-tokens`);
      }
      const ctx = await model.createContext(generationContextOptions(sequences.length, perSeq, a.threads));
      const total = sequences.length * maxTokens;
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
      const cvecLayers = cvecProbe && a.layer === undefined && !range ? terms.map((t) => t.layer!) : null;
      for (const r of results) {
        const tag = r.tag as { alpha: number; sample: number };
        if (a.json) {
          const obj: Record<string, unknown> = {
            alpha: tag.alpha, sample: tag.sample, layer: a.layer ?? null, ...(range ? { layer_range: range } : {}), ...(cvecLayers ? { layers: cvecLayers } : {}),
            seed: a.seed + tag.sample, text: r.text, tokens: Array.from(r.tokens), finish_reason: r.finishReason, n_prompt: r.nPrompt,
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
      note(`decode: ${st.decodeTokens} tokens in ${(st.decodeMs / 1000).toFixed(2)} s (${(st.decodeTokens / (st.decodeMs / 1000)).toFixed(1)} tok/s); prompt: ${st.promptTokens} tokens, ${st.uniquePrompts} unique`);
      ctx.free();
    } finally {
      model.free();
    }
  },
};
