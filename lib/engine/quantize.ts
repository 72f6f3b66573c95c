// Model quantization through llama.cpp's llama_model_quantize (native/core/quantize.cpp): off the
// event loop, progress per tensor, the written file checked (file type, tensor count, and here:
// it loads as a model of the same shape) before it replaces the output. Whether an existing output
// may be replaced is the caller's rule (the CLI's --force); the native side writes a temporary
// sibling and renames it, so a reader never sees half a file.
import { Model } from './model.js';
import { addon, type RawQuantType } from './native.js';
import { EiaError } from '../util/errors.js';

export type QuantType = RawQuantType;

/** The file types quantize writes (llama-quantize's names), with nominal bits per weight (approximate: for ordering by precision). */
export function quantTypes(): QuantType[] {
  return addon().quantizeTypes();
}

/** A llama_ftype value (general.file_type) -> its type, or null when quantize does not write it. */
export function quantTypeOfFileType(ftype: number): QuantType | null {
  return quantTypes().find((t) => t.ftype === ftype) ?? null;
}

export interface QuantizeOptions {
  input: string;
  output: string;
  /** a quantTypes() name: q8_0, q4_k_m, f16, ... */
  type: string;
  /** CPU threads (default: all) */
  threads?: number;
  /** quantize tensors that are already quantized (llama-quantize --allow-requantize) */
  allowRequantize?: boolean;
  /** called every `progressMs` while it runs: tensors done of total */
  onProgress?: (done: number, total: number) => void;
  progressMs?: number;
}

export interface QuantizeResult {
  output: string;
  type: string;
  ftype: number;
  nTensors: number;
  inBytes: number;
  outBytes: number;
  arch: string;
  nLayer: number;
  nEmbd: number;
}

/** Quantizes `input` into `output` (replacing it: check first whether it may be). */
export async function quantizeModel(o: QuantizeOptions): Promise<QuantizeResult> {
  if (!o || typeof o.input !== 'string' || !o.input) throw new EiaError('E_BAD_ARG', 'quantize needs an input path');
  if (typeof o.output !== 'string' || !o.output) throw new EiaError('E_BAD_ARG', 'quantize needs an output path');
  if (typeof o.type !== 'string' || !quantTypes().some((t) => t.name === o.type)) {
    throw new EiaError('E_BAD_ARG', `unknown quantization type '${String(o.type)}' (known: ${quantTypes().map((t) => t.name).join(', ')})`);
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) throw new EiaError('E_BAD_ARG', `threads must be a positive integer, got ${o.threads}`);
  const job = addon().quantize({ in: o.input, out: o.output, type: o.type, threads: o.threads ?? 0, allowRequantize: !!o.allowRequantize });
  const timer = o.onProgress ? setInterval(() => { const p = job.progress(); o.onProgress!(p.done, p.total); }, o.progressMs ?? 250) : null;
  let r;
  try {
    r = await job.promise;
  } finally {
    if (timer) clearInterval(timer);
  }
  const p = job.progress();
  o.onProgress?.(p.done, p.total);
  // the check that it ran, as a model: the written file loads with the input's shape
  const [a, b] = [await Model.load(o.input, { vocabOnly: false }), await Model.load(o.output, { vocabOnly: false })];
  try {
    if (a.nLayer !== b.nLayer || a.nEmbd !== b.nEmbd || a.info.arch !== b.info.arch) {
      throw new EiaError('E_INTERNAL', `quantize: ${o.output} loads as ${b.info.arch} ${b.nLayer}x${b.nEmbd}, the input is ${a.info.arch} ${a.nLayer}x${a.nEmbd}`);
    }
    return { output: o.output, ...r, nLayer: b.nLayer, nEmbd: b.nEmbd };
  } finally {
    a.free();
    b.free();
  }
}
