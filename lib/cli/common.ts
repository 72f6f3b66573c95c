// Shared CLI plumbing: list parsing, usage errors (exit 2), JSON output, model resolution.
import type { Argv } from 'yargs';
import { resolveModel } from '../models/cache.js';

/** A usage error: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** "8,12,16" -> [8, 12, 16]; rejects anything that is not a list of integers. */
export function parseIntList(value: unknown, what: string): number[] {
  const s = Array.isArray(value) ? value.join(',') : String(value ?? '');
  const parts = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (parts.length === 0) throw new UsageError(`${what}: expected a comma-separated list of integers`);
  return parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new UsageError(`${what}: '${p}' is not an integer`);
    return Number(p);
  });
}

/** "-5,0,5" -> [-5, 0, 5]; finite numbers only. */
export function parseNumberList(value: unknown, what: string): number[] {
  const s = Array.isArray(value) ? value.join(',') : String(value ?? '');
  const parts = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (parts.length === 0) throw new UsageError(`${what}: expected a comma-separated list of numbers`);
  return parts.map((p) => {
    const n = Number(p);
    if (p === '' || !Number.isFinite(n)) throw new UsageError(`${what}: '${p}' is not a number`);
    return n;
  });
}

export function parseStringList(value: unknown): string[] {
  const s = Array.isArray(value) ? value.join(',') : String(value ?? '');
  return s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

/** A model argument: a GGUF path, or a models.json name already pulled into the cache. */
export function modelPathArg(spec: unknown): string {
  if (typeof spec !== 'string' || spec.length === 0) throw new UsageError('--model is required (a GGUF file or a model name)');
  return resolveModel(spec);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Messages for people go to stderr, so stdout stays machine-readable. */
export function note(msg: string): void {
  if (process.env.EIA_NATIVE_QUIET === '1') return;
  process.stderr.write(msg + '\n');
}

/** Options shared by commands that load a model. */
export function withModelOptions<T>(y: Argv<T>) {
  return y
    .option('model', { type: 'string', describe: 'GGUF file, or a name from `eia-native models` (pulled)', demandOption: true })
    .option('threads', { type: 'number', describe: 'CPU threads (default: all)' })
    .option('gpu-layers', { type: 'number', default: 0, describe: 'layers to offload to the GPU (-1 = all; GPU builds)' });
}
