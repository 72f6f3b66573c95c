// Where downloaded models live, and how a user's model argument (path or name) becomes a file.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { assertSafeName, assertSafeRelativeFile, findModel, loadModels, type ModelEntry } from './registry.js';
import { EiaError } from '../util/errors.js';

/**
 * The cache root: $EIA_NATIVE_HOME when set, else the platform's user cache folder
 * ($XDG_CACHE_HOME/eia-native or ~/.cache/eia-native on Linux, ~/Library/Caches/eia-native on macOS,
 * %LOCALAPPDATA%\eia-native on Windows).
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const override = env.EIA_NATIVE_HOME;
  if (override && override.trim() !== '') {
    if (override.includes('\0')) throw new EiaError('E_BAD_ARG', 'EIA_NATIVE_HOME contains a NUL character');
    return resolve(override);
  }
  const home = homedir();
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA && isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : join(home, 'AppData', 'Local');
    return join(local, 'eia-native');
  }
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'eia-native');
  // XDG: a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(xdg, 'eia-native');
}

/** <cache>/models */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'models');
}

function assertInside(root: string, p: string): void {
  const rel = relative(root, p);
  if (rel === '' || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new EiaError('E_BAD_ARG', `Refusing path ${p}: it is outside the model cache ${root}`);
  }
}

/** The folder of one model: <cache>/models/<name>. */
export function modelDir(entry: Pick<ModelEntry, 'name'>, env: NodeJS.ProcessEnv = process.env): string {
  assertSafeName(entry.name);
  const root = modelsDir(env);
  const dir = join(root, entry.name);
  assertInside(root, dir);
  return dir;
}

/**
 * Where a model's file lives in the cache: <cache>/models/<name>/<file>. Names and files that would
 * escape the cache (.., absolute paths, separators in names, NUL) throw.
 */
export function modelPath(entry: Pick<ModelEntry, 'name' | 'file'>, env: NodeJS.ProcessEnv = process.env): string {
  assertSafeRelativeFile(entry.file);
  const dir = modelDir(entry, env);
  const p = join(dir, ...entry.file.split('/'));
  assertInside(dir, p);
  return p;
}

/** Whether the model's file is present in the cache (only complete downloads are ever renamed there). */
export function isCached(entry: Pick<ModelEntry, 'name' | 'file'>, env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    return statSync(modelPath(entry, env)).isFile();
  } catch {
    return false;
  }
}

function looksLikePath(spec: string): boolean {
  return spec.includes('/') || spec.includes('\\') || spec.startsWith('.') || /\.gguf$/i.test(spec) || /^[A-Za-z]:/.test(spec);
}

/**
 * Turns a model argument into a file path: an existing file path is returned as given; a known model
 * name gives its cached file, or an error saying `run: eia-native pull <name>` when it is not there yet.
 */
export function resolveModel(spec: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof spec !== 'string' || spec.trim() === '') throw new EiaError('E_BAD_ARG', 'No model given: pass a .gguf path or a model name');
  if (spec.includes('\0')) throw new EiaError('E_BAD_ARG', 'Invalid model argument: contains a NUL character');
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(spec);
  } catch {
    st = undefined;
  }
  if (st) {
    if (st.isFile()) return spec;
    throw new EiaError('E_BAD_ARG', `Model path ${spec} is not a file`);
  }
  const entry = findModel(spec);
  if (entry) {
    const p = modelPath(entry, env);
    if (isCached(entry, env)) return p;
    throw new EiaError('E_BAD_ARG', `Model "${spec}" is not downloaded yet (expected at ${p}); run: eia-native pull ${spec}`);
  }
  const known = loadModels().models.map((m) => m.name).join(', ');
  if (looksLikePath(spec)) throw new EiaError('E_BAD_ARG', `Model file not found: ${spec} (known model names: ${known})`);
  throw new EiaError('E_BAD_ARG', `"${spec}" is neither an existing file nor a known model name. Known models: ${known}`);
}
