// Loads the compiled addon (build/Release/eia_native.node) and declares its raw shape. Everything
// else in lib/ goes through the typed wrappers in this folder, never through `addon` directly.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runtimeLibDir } from '../util/runtime-package.mjs';
import { EiaError } from '../util/errors.js';
import { packageRoot } from '../util/package.js';

export interface RawModelInfo {
  path: string; arch: string; name: string; description: string;
  nLayer: number; nEmbd: number; nVocab: number; nCtxTrain: number; nHead: number; nHeadKv: number;
  bos: number; eos: number; addBos: boolean; chatTemplate: string; nParams: number; sizeBytes: number;
  /** The tokenizer: 'spm', 'bpe', 'wpm', 'ugm', 'rwkv', 'plamo2' or 'none'. */
  vocabType: string;
  /** The longest text (UTF-8 bytes) one token stands for, special tokens' text included. */
  maxTokenBytes: number;
  /** Some token drops the ASCII whitespace beside it (lstrip/rstrip attribute). */
  stripsWhitespace: boolean;
  /** false: tokenizer 'no_vocab' (llama.cpp's test models): token ids in, no text out. */
  hasVocab: boolean;
  /** llama.cpp's model kinds: recurrent state (Mamba, RWKV), hybrid (attention + recurrent), diffusion (non-causal attention). */
  recurrent: boolean; hybrid: boolean; diffusion: boolean;
  /** Some layers run on a GPU device (measured when every layer was asked for). */
  offloaded: boolean;
  /** Offloaded while a CPU-type Vulkan device (Mesa's llvmpipe) is in use: host sampling there (docs/device-path.md). */
  cpuVulkan: boolean;
  placement: RawPlacement;
}

/** Where an offloaded model's blocks run (measured when every layer was asked for; native/core/placement.h). */
export interface RawPlacement {
  probed: boolean; device: string; deviceDescription: string; deviceLayers: number;
  /** Blocks (layer = nLayer: the output head) with work or weights on the host, and why. */
  onHost: { layer: number; reason: string }[];
}

/** The support check's finding (native/core/residual_support.h). */
export interface RawResidualSupport {
  supported: boolean; reason: string; tensor: string;
  hits: Int32Array; found: Int32Array; missing: Int32Array; pruned: Int32Array;
}

export interface RawCaptureResult {
  layers: number[]; data: Float32Array[]; nEmbd: number; nTexts: number; nTokens: Int32Array;
  offsets?: Float64Array; decodeCalls: number; tokensTotal: number; ms: number; aborted: boolean;
}

export interface RawSeqResult {
  seq: number; tokens: Int32Array; text: string; finishReason: 'eog' | 'length' | 'stop' | 'abort' | 'cancel' | 'running';
  nPrompt: number; promptMs: number; genMs: number; scores: Float32Array; nMonitors: number;
  gate: Uint8Array; gateSteered: number; logits?: Float32Array;
}

export interface RawStep {
  seq: Int32Array; token: Int32Array; gate: Uint8Array; pieces: string[];
  /** Token i's monitor scores: scores[scoreOffsets[i] .. scoreOffsets[i + 1]) (the generation's, then the sequence's own). */
  scores: Float32Array; scoreOffsets: Int32Array;
  finished: RawSeqResult[]; done: boolean; idle: boolean;
}

export interface RawGenStats {
  promptMs: number; decodeMs: number; sampleMs: number; promptTokens: number; decodeTokens: number; decodeCalls: number;
  uniquePrompts: number; sharedPrompts: number; joined: number;
}

export interface RawGeneration {
  step(maxSteps: number): Promise<RawStep>;
  add(seq: RawSequenceSpec): number;
  cancel(seq: number): boolean;
  close(): void;
  slotsFree(): number;
  results(): RawSeqResult[];
  stats(): RawGenStats;
  done(): boolean;
  abort(): void;
  dispose(): void;
}

export interface RawSteerTerm {
  layer: number; layerEnd: number; direction: Float32Array; alpha: number; normalize: boolean; positions: 'all' | 'prompt' | 'generated';
}

export interface RawGate {
  layer: number; direction: Float32Array; on: number; off: number; minHold: number; budget: number; generatedOnly: boolean; steer: RawSteerTerm[];
}

/** One sequence as the binding takes it: every field present (defaults live in lib/engine). */
export interface RawSequenceSpec {
  prompt: Int32Array;
  steer: RawSteerTerm[];
  gate: RawGate | null;
  /** This sequence's own probes (scored after the generation's monitors). */
  monitors: { layer: number; direction: Float32Array }[];
  temperature: number; topK: number; topP: number; minP: number; seed: number;
  maxTokens: number; stop: string[]; ignoreEog: boolean; keepLogits: boolean;
}

export interface RawContextOptions {
  nCtx: number; nBatch: number; nUbatch: number; nSeqMax: number; nThreads: number; embeddings: boolean; kvUnified: boolean;
  flashAttn: 'auto' | 'on' | 'off'; sampling: 'auto' | 'host' | 'backend';
}

export interface RawContext {
  capture(texts: string[] | Int32Array[], opts: { layers: number[]; pool: string; truncate: number; addSpecial: boolean }): Promise<RawCaptureResult>;
  embeddingsPerToken(text: string, opts: { addSpecial: boolean }): Promise<{ nTokens: number; data: Float32Array }>;
  generate(seqs: RawSequenceSpec[], opts: { monitors: { layer: number; direction: Float32Array }[]; open: boolean }): RawGeneration;
  evalLogits(tokens: Int32Array, opts: { steer: RawSteerTerm[]; steerAt: Uint8Array | null }): Promise<Float32Array>;
  tokenLogprobs(items: { prompt: Int32Array; continuation: Int32Array }[]): Promise<Float32Array[]>;
  setControlVector(data: Float32Array, ilStart: number, ilEnd: number): void;
  loadControlVectorFile(path: string, opts: { strength: number; layerStart: number; layerEnd: number }): void;
  clearControlVector(): void;
  abort(): void;
  busy(): boolean;
  props(): { nCtx: number; nBatch: number; nSeqMax: number; nThreads: number; kvUnified: boolean; nCtxSeq: number; backendSampling: boolean; samplingNote: string };
  residualSupport(): RawResidualSupport;
  requireResidual(what: string): void;
  free(): void;
}

export interface RawModel {
  info(): RawModelInfo;
  tokenize(text: string, opts: { addSpecial: boolean; parseSpecial: boolean }): Int32Array;
  tokenizeAsync(text: string, opts: { addSpecial: boolean; parseSpecial: boolean }): Promise<Int32Array>;
  detokenize(tokens: ArrayLike<number>, opts: { removeSpecial: boolean; unparseSpecial: boolean }): string;
  tokenPiece(token: number): string;
  isEog(token: number): boolean;
  applyChatTemplate(messages: { role: string; content: string }[], opts: { addAssistant: boolean; template: string }): string;
  meta(key: string): string | null;
  createContext(opts: RawContextOptions): Promise<RawContext>;
  free(): void;
  isFreed(): boolean;
}

export interface RawSynthResult {
  path: string; arch: string; shape: string; type: string; nLayer: number; nEmbd: number; nVocab: number;
  nHead: number; nHeadKv: number; nFf: number; nCtxTrain: number;
  plantedNpy?: string; trainJsonl?: string; testJsonl?: string;
}

export interface RawBackendLoad {
  name: string; path: string; variant: string; status: 'loaded' | 'failed' | 'no-device' | 'skipped' | 'builtin'; error: string; devices: number;
}

export interface RawRuntimeInfo {
  llamaCommit: string; runtime: 'prebuilt' | 'source'; gpuBuild: string; gpuPolicy: string; libDir: string; backendDir: string;
  backends: RawBackendLoad[];
  devices: { name: string; description: string; type: string; memoryTotal: number; memoryFree: number; cpuVulkan: boolean }[];
  hasGpu: boolean; systemInfo: string; error: string;
}

export interface RawVulkanProbe {
  loader: boolean; error: string; devices: { index: number; name: string; type: 'cpu' | 'discrete' | 'integrated' | 'virtual' | 'other' }[];
}

export interface Addon {
  Model: { load(path: string, opts: { gpuLayers: number; mmap: boolean; vocabOnly: boolean }): Promise<RawModel> };
  limits(): { maxSequences: number; kvPadding: number };
  info(): RawRuntimeInfo;
  vulkanDevices(): RawVulkanProbe;
  setErrorClass(cls: new (code: never, message: string) => Error): void;
  setLogLevel(level: number): void;
  synth(opts: { arch?: string; shape?: string; type?: string; seed?: number; planted?: boolean; out: string }): Promise<RawSynthResult>;
  encodeControlVector(cv: { modelHint?: string; layers: Record<number, Float32Array>; meta?: Record<string, GgufMetaValue> }): Buffer;
  readControlVector(path: string): { modelHint: string; nEmbd: number; layers: Record<string, Float32Array>; meta: Record<string, GgufMetaValue> };
  loadControlVectorLlama(path: string, strength?: number): { nEmbd: number; data: Float32Array };
  readGgufTensor(path: string, name: string): { shape: number[]; data: Float32Array };
  quantizeTypes(): RawQuantType[];
  quantize(opts: { in: string; out: string; type: string; threads: number; allowRequantize: boolean }): {
    promise: Promise<RawQuantizeResult>; progress(): { done: number; total: number };
  };
}

/** A GGUF metadata value of eia-native's namespace ("eia." keys): a scalar, or a non-empty array of numbers or of strings. */
export type GgufMetaValue = string | number | boolean | number[] | string[];

export interface RawQuantType { name: string; ftype: number; bitsPerWeight: number }
export interface RawQuantizeResult { type: string; ftype: number; nTensors: number; inBytes: number; outBytes: number; arch: string }

/** What scripts/build.mjs built: written next to the addon as eia-runtime.json. */
export interface RuntimeManifest {
  mode: 'prebuilt' | 'source';
  llama: { npmPackage: string; version: string; commit: string };
  runtimePackage?: string;
  runtimeVersion?: string;
  libDir?: string;
  gpuPackages?: string[];
  /** The libraries as they were at build time: size, and sha256 of the core ones. */
  libs?: Record<string, { size: number; sha256?: string }>;
  gpu?: string;
  builtAt?: string;
}

let cached: Addon | null = null;
let manifestCache: RuntimeManifest | null = null;

const REBUILD_HINT = 'reinstall (npm install), or build llama.cpp from source: EIA_BUILD=source npm install';

function addonPath(): string {
  const candidates = [
    process.env.EIA_NATIVE_ADDON,
    join(packageRoot, 'build', 'Release', 'eia_native.node'),
  ].filter((p): p is string => !!p);
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new EiaError('E_RUNTIME', `eia-native's native addon is not built (looked in ${candidates.join(', ')}); run \`npm run build\``);
  return path;
}

/** The runtime manifest of the addon in use. */
export function runtimeManifest(): RuntimeManifest {
  if (manifestCache) return manifestCache;
  const file = join(dirname(addonPath()), 'eia-runtime.json');
  if (!existsSync(file)) throw new EiaError('E_RUNTIME', `${file} is missing: the build is incomplete; ${REBUILD_HINT}`);
  try {
    manifestCache = JSON.parse(readFileSync(file, 'utf8')) as RuntimeManifest;
  } catch (e) {
    throw new EiaError('E_RUNTIME', `${file} is damaged (${(e as Error).message}); ${REBUILD_HINT}`);
  }
  return manifestCache;
}

/** Refuses libraries that differ from the ones linked at build time (before the loader maps them). */
function checkLibraries(m: RuntimeManifest, pkg: string): void {
  for (const [name, want] of Object.entries(m.libs ?? {})) {
    const file = join(m.libDir!, name);
    const damaged = (why: string) => new EiaError('E_RUNTIME', `the prebuilt llama.cpp runtime ${pkg} is damaged: ${file} ${why}; ${REBUILD_HINT}`);
    if (!existsSync(file)) throw damaged('is missing');
    if (statSync(file).size !== want.size) throw damaged(`has ${statSync(file).size} bytes, ${want.size} expected`);
    if (want.sha256 && createHash('sha256').update(readFileSync(file)).digest('hex') !== want.sha256) throw damaged('differs from the library linked at build time');
  }
}

/**
 * The addon, loaded once. EIA_NATIVE_ADDON overrides its path. A prebuilt runtime is checked first
 * (its package folder must exist), and the installed GPU packages are handed to the native backend
 * loader (EIA_NATIVE_GPU_DIRS; see native/core/runtime.h), so a failure is a clear E_RUNTIME error.
 */
export function addon(): Addon {
  if (cached) return cached;
  const path = addonPath();
  const m = runtimeManifest();
  if (m.mode === 'prebuilt') {
    const pkg = `${m.runtimePackage}@${m.runtimeVersion}`;
    if (!m.libDir || !existsSync(m.libDir)) {
      throw new EiaError('E_RUNTIME', `the prebuilt llama.cpp runtime ${pkg} is missing (expected ${m.libDir}); ${REBUILD_HINT}`);
    }
    checkLibraries(m, pkg);
    if (process.env.EIA_NATIVE_GPU_DIRS === undefined) {
      process.env.EIA_NATIVE_GPU_DIRS = (m.gpuPackages ?? [])
        .map((p) => runtimeLibDir(p, packageRoot))
        .filter((d): d is string => !!d && existsSync(d))
        .join(':');
    }
  }
  const require = createRequire(import.meta.url);
  let a: Addon;
  try {
    a = require(path) as Addon;
  } catch (e) {
    const what = m.mode === 'prebuilt' ? `the prebuilt llama.cpp runtime ${m.runtimePackage}@${m.runtimeVersion} (${m.libDir})` : 'the source build';
    throw new EiaError('E_RUNTIME', `cannot load the native addon ${path} with ${what}: ${(e as Error).message.split('\n')[0]}; ${REBUILD_HINT}`, { cause: e });
  }
  a.setErrorClass(EiaError);
  const level = process.env.EIA_NATIVE_LOG_LEVEL;
  if (level !== undefined && level !== '') a.setLogLevel(Number(level));
  cached = a;
  return a;
}
