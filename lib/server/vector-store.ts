// The server's steering vectors: a folder of `.npy` probes (with their JSON sidecars, as `eia-native
// probe` writes them) and llama.cpp control-vector GGUFs, plus vectors registered over the API (kept
// in memory, or written into the folder with `persist`). A vector's name is its path in the folder
// without the extension ('probes/layer3'); names are checked against a strict pattern and files are
// only ever found by walking the folder itself (symlinks that lead out of it, or nowhere, are skipped
// and reported in `problems`, as is a sidecar that is such a symlink), so no name can reach a file
// outside it. One name, one vector: a name cannot be registered while a folder file has it (also a
// file that cannot be read), and a file that appears later under a registered name is reported in
// `problems` instead of being shadowed in silence. Hidden files and folders ('.'-names) are skipped.
//
// Directions are kept as unit vectors (the one norm rule, lib/probes/direction.ts): a probe as
// loadProbe reads it, each block of a control vector by unitDirection; a file's norm other than 1 is
// kept (fileNorms) so that a request using it is told. A probe's sidecar records the model it was
// trained on (its sha256): the server compares it with the model it serves (index.ts).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readControlVector } from '../engine/control-vector.js';
import { unitDirection } from '../probes/direction.js';
import { loadProbe } from '../probes/probe-file.js';
import type { Probe } from '../probes/probe.js';
import { cardsFromGgufMeta, makeCard, type TunedAlpha, type VectorCard } from '../probes/vector-card.js';
import { readNpy, writeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { io } from '../util/io-error.js';
import { badField } from '../util/errors.js';
import { ApiError, badRequest } from './api-error.js';

export type VectorKind = 'probe' | 'control-vector';

export interface StoredVector {
  name: string;
  kind: VectorKind;
  source: 'folder' | 'memory';
  /** Decoder block -> direction (a probe has one: the block it was trained on). */
  directions: Map<number, Float32Array>;
  /** A probe's own block: where it steers and is read when a request names no layer. */
  layer: number | null;
  dimensions: number;
  /** How the direction was estimated (probe sidecar), null when unknown. */
  method: string | null;
  /** The probe's validation AUROC (sidecar, or the run's validation.json), null when not recorded. */
  auroc: number | null;
  /** Path relative to the vectors folder (folder vectors). */
  file: string | null;
  /** Block -> the L2 norm of the stored vector, for blocks whose file holds a vector of norm other than 1 (used as its unit direction). */
  fileNorms: Map<number, number>;
  /** The model the direction was trained on, as its card (or an older sidecar) records it (null: not recorded). */
  model: Probe['model'] | null;
  /**
   * The steering strengths `eia-native tune` recorded in its cards (`scale: "tuned"`), by block
   * ascending: a probe's card's (or an older sidecar's top-level `tuned`), a control vector's per block
   * whose card has one; empty when none.
   */
  tuned: TunedAlpha[];
  /** The vector cards of its blocks (probes/vector-card.ts): the evidence it carries; empty when it has none. */
  cards: VectorCard[];
}

export interface VectorProblem { file: string; message: string }

/** Control vectors are small (n_layer x n_embd floats); a bigger GGUF is a model, never read here. */
const MAX_CONTROL_VECTOR_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 8;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;
const MAX_NAME = 200;
/** An unknown name rescans the folder at most this often (a client cannot make the server walk it per request). */
const RESCAN_MS = 1000;

/** Throws a 400 unless `name` is a plain relative name (no '..', no absolute path, no backslash). */
export function checkVectorName(name: unknown, param: string): string {
  if (typeof name !== 'string' || name.length === 0) throw badRequest('invalid_vector_name', param, `${param} must be a non-empty string`);
  if (name.length > MAX_NAME || !NAME.test(name)) {
    throw badRequest('invalid_vector_name', param,
      `${param} '${name.slice(0, 80)}' is not a valid vector name: use letters, digits, '_', '-', '.' and '/' between parts; no part may start with '.' (names cannot leave the vectors folder)`);
  }
  return name;
}

interface CacheEntry { stamp: string; vector: StoredVector | null; problem: VectorProblem | null }

export class VectorStore {
  private readonly root: string | null;
  private readonly memory = new Map<string, StoredVector>();
  private readonly cache = new Map<string, CacheEntry>();
  private folder = new Map<string, StoredVector>();
  /** Every .npy/.gguf file the last scan found (relative paths), readable or not. */
  private files: string[] = [];
  private problems: VectorProblem[] = [];
  private scannedAt = 0;

  constructor(dir: string | null | undefined) {
    if (dir === null || dir === undefined) {
      this.root = null;
      return;
    }
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw badField('vectors', 'invalid_value', (n) => `${n('vectors')}: folder ${dir} does not exist or is not a folder`);
    this.root = realpathSync(dir);
    this.rescan();
  }

  get folderPath(): string | null { return this.root; }

  /** The folder's own name (what clients may see; never where it lies on the server). */
  get folderName(): string | null { return this.root === null ? null : basename(this.root); }

  /** Every vector (folder and memory) and the folder files that could not be read, sorted by name. */
  list(): { vectors: StoredVector[]; problems: VectorProblem[] } {
    this.rescan();
    const all = new Map(this.folder);
    for (const [k, v] of this.memory) all.set(k, v);
    return { vectors: [...all.values()].sort((a, b) => a.name.localeCompare(b.name)), problems: [...this.problems] };
  }

  /** The vector called `name` (or a file path inside the folder, EasySteer's steer_vector_local_path); 400 when unknown. */
  get(name: unknown, param: string, opts: { pathAllowed?: boolean } = {}): StoredVector {
    const key = checkVectorName(typeof name === 'string' && opts.pathAllowed ? this.pathToName(name, param) : name, param);
    const found = this.lookup(key);
    if (found) return found;
    if (Date.now() - this.scannedAt >= RESCAN_MS) this.rescan();  // a file dropped into the folder since the last scan
    const again = this.lookup(key);
    if (again) return again;
    const problem = this.problems.find((p) => p.file.replace(/\.(npy|gguf)$/, '') === key || p.file === key);
    if (problem) throw badRequest('unusable_vector', param, `vector '${key}' cannot be used: ${problem.message}`);
    throw badRequest('unknown_vector', param, `unknown vector '${key}'${this.root ? '' : ' (this server has no vectors folder)'}; GET /v1/steering/vectors lists them`);
  }

  /** Registers a single-direction vector (kept in memory, or written into the folder as NAME.npy + NAME.json). */
  register(name: string, data: Float32Array, layer: number, opts: { method?: string; persist?: boolean }): StoredVector {
    checkVectorName(name, 'name');
    // the unit direction; the given vector's norm is kept as its scale (direction.ts)
    const { direction, norm } = unitDirection(data, 'data');
    this.rescan();  // the folder as it is now: a file dropped in since the last scan takes its name
    const taken = this.nameTaken(name);
    if (taken) throw new ApiError(409, 'vector_exists', taken, 'name');
    const method = opts.method ?? 'imported';
    if (opts.persist) {
      if (!this.root) throw badRequest('no_vectors_folder', 'persist', 'persist needs a vectors folder, and this server was started without one');
      const npy = resolve(this.root, `${name}.npy`);
      if (!npy.startsWith(this.root + sep)) throw badRequest('invalid_vector_name', 'name', `'${name}' would leave the vectors folder`);
      const side = npy.replace(/\.npy$/, '.json');
      // name the file that is there (a sidecar alone is enough to refuse: writing would adopt it)
      const present = [npy, side].filter((f) => existsSync(f)).map((f) => relative(this.root!, f).split(sep).join('/'));
      if (present.length > 0) throw new ApiError(409, 'vector_exists', `${present.join(' and ')} already exist${present.length === 1 ? 's' : ''} in the vectors folder`, 'name');
      io(() => mkdirSync(dirname(npy), { recursive: true }));
      const realDir = realpathSync(dirname(npy));
      if (realDir !== this.root && !realDir.startsWith(this.root + sep)) throw badRequest('invalid_vector_name', 'name', `'${name}' would leave the vectors folder`);
      // the sidecar first: a scan that sees the .npy always finds its metadata
      io(() => writeFileAtomic(side, JSON.stringify({
        format: 'eia-probe', version: 1, width: direction.length, layer, pooling: 'unknown',
        method: ['mean-diff', 'pca', 'logistic', 'imported'].includes(method) ? method : 'imported',
        model: {}, train_hash: '', n_train: 0, created_at: new Date().toISOString(), scale: direction === data ? 1 : norm,
        registered_with: 'eia-native serve',
        // what is known of a registered direction: its block and method (no model, validation or steering record)
        card: makeCard(layer, { method }),
      }, null, 2) + '\n'));
      io(() => writeNpy(npy, direction));
      this.rescan();
      const stored = this.lookup(name);
      if (!stored) throw new ApiError(500, 'internal_error', `vector '${name}' was written but cannot be read back`);
      return stored;
    }
    const v: StoredVector = {
      name, kind: 'probe', source: 'memory', directions: new Map([[layer, direction]]), layer,
      dimensions: direction.length, method, auroc: null, file: null, fileNorms: new Map(), model: null, tuned: [], cards: [],
    };
    this.memory.set(name, v);
    return v;
  }

  /** Why `name` cannot be registered (a 409's message), or null when it is free. */
  private nameTaken(name: string): string | null {
    if (this.memory.has(name)) return `a vector named '${name}' is already registered`;
    const found = this.lookup(name);
    if (found?.file) return `the vectors folder's ${found.file} is the vector '${name}'`;
    // also a file that cannot be read, and x.npy beside x.gguf (named 'x.npy' and 'x.gguf')
    const file = this.files.find((f) => f === name || f.replace(/\.(npy|gguf)$/, '') === name);
    return file ? `the vectors folder holds ${file}, which takes the name '${name}'` : null;
  }

  private lookup(key: string): StoredVector | undefined {
    return this.memory.get(key) ?? this.folder.get(key) ?? [...this.folder.values()].find((v) => v.file === key);
  }

  /** An absolute path inside the folder, or a relative one, -> its name; a path outside -> 400. */
  private pathToName(p: string, param: string): string {
    if (!isAbsolute(p)) return p;
    if (!this.root) throw badRequest('invalid_vector_name', param, `${param}: this server has no vectors folder, so no path can be used`);
    const rel = relative(this.root, resolve(p));
    if (rel.startsWith('..') || isAbsolute(rel)) throw badRequest('invalid_vector_name', param, `${param} is outside the vectors folder`);
    return rel.split(sep).join('/');
  }

  /** A path of the folder as clients see it ('probes/layer3.npy'). */
  private rel(p: string): string {
    return relative(this.root!, p).split(sep).join('/');
  }

  /** Why the symlink `p` is skipped (it leads out of the folder, back to it, or nowhere), or null when it stays inside. */
  private badLink(p: string): string | null {
    let real: string;
    try { real = realpathSync(p); } catch { return 'skipped: a symlink that leads nowhere (its target does not exist)'; }
    if (real === this.root) return 'skipped: a symlink to the vectors folder itself (a loop)';
    return real.startsWith(this.root + sep) ? null : 'skipped: a symlink that leads out of the vectors folder';
  }

  private rescan(): void {
    if (!this.root) return;
    this.scannedAt = Date.now();
    const files: string[] = [];
    const problems: VectorProblem[] = [];
    const isVectorFile = (n: string) => /\.(npy|gguf)$/.test(n);
    const walk = (dir: string, depth: number) => {
      let names: string[];
      try { names = readdirSync(dir).sort(); } catch (e) {
        problems.push({ file: this.rel(dir) || '.', message: `skipped: the folder cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
        return;
      }
      for (const n of names) {
        if (n.startsWith('.')) continue;
        const p = join(dir, n);
        let st;
        try { st = lstatSync(p); } catch { continue; }  // gone since readdir
        if (st.isSymbolicLink()) {
          // followed only when it stays inside the folder; reported when it could have been a vector
          const why = this.badLink(p);
          if (why) {
            let target: ReturnType<typeof statSync> | null = null;
            try { target = statSync(p); } catch { /* dangling */ }
            if (isVectorFile(n) || target?.isDirectory()) problems.push({ file: this.rel(p), message: why });
            continue;
          }
          try { st = statSync(p); } catch { continue; }
        }
        if (st.isDirectory()) {
          if (depth + 1 > MAX_DEPTH) problems.push({ file: this.rel(p), message: `skipped: folders nest deeper than ${MAX_DEPTH} levels` });
          else walk(p, depth + 1);
        } else if (st.isFile() && isVectorFile(n)) files.push(p);
      }
    };
    walk(this.root, 0);
    const stems = new Map<string, number>();
    for (const f of files) {
      const stem = this.rel(f).replace(/\.(npy|gguf)$/, '');
      stems.set(stem, (stems.get(stem) ?? 0) + 1);
    }
    const folder = new Map<string, StoredVector>();
    const seen = new Set<string>();
    for (const f of files) {
      seen.add(f);
      const file = this.rel(f);
      const stem = file.replace(/\.(npy|gguf)$/, '');
      // x.npy beside x.gguf: both keep their extension in the name
      const name = (stems.get(stem) ?? 0) > 1 ? file : stem;
      if (!NAME.test(name)) {
        problems.push({ file, message: 'file name is not a valid vector name (letters, digits, _ - . and / only)' });
        continue;
      }
      if (this.memory.has(name)) {
        problems.push({ file, message: `skipped: the name '${name}' belongs to a vector registered over the API (POST /v1/steering/vectors), which requests get` });
        continue;
      }
      const entry = this.load(f, file, name);
      if (entry.vector) folder.set(name, entry.vector);
      if (entry.problem) problems.push(entry.problem);
    }
    for (const k of [...this.cache.keys()]) if (!seen.has(k)) this.cache.delete(k);
    this.folder = folder;
    this.files = files.map((f) => this.rel(f));
    this.problems = problems;
  }

  private load(path: string, file: string, name: string): CacheEntry {
    const side = path.replace(/\.npy$/, '.json');
    const stampOf = (p: string) => { try { const s = statSync(p); return `${s.mtimeMs}:${s.size}`; } catch { return '-'; } };
    const stamp = `${name}|${stampOf(path)}|${path.endsWith('.npy') ? stampOf(side) + '|' + stampOf(join(dirname(path), 'validation.json')) : ''}`;
    const hit = this.cache.get(path);
    if (hit && hit.stamp === stamp) return hit;
    let entry: CacheEntry;
    try {
      // a probe's sidecar and validation report are read too: neither may lead out of the folder
      if (path.endsWith('.npy')) {
        for (const extra of [side, join(dirname(path), 'validation.json')]) {
          let link = false;
          try { link = lstatSync(extra).isSymbolicLink(); } catch { /* absent */ }
          const why = link ? this.badLink(extra) : null;
          if (why) throw new Error(`${this.rel(extra)}: ${why}`);
        }
      }
      entry = { stamp, vector: path.endsWith('.npy') ? this.loadProbeFile(path, file, name) : this.loadControlVectorFile(path, file, name), problem: null };
    } catch (e) {
      // paths relative to the folder: clients never see where it lies
      entry = { stamp, vector: null, problem: { file, message: (e as Error).message.replaceAll(this.root! + sep, '').replaceAll(this.root!, '.') } };
    }
    this.cache.set(path, entry);
    return entry;
  }

  private loadProbeFile(path: string, file: string, name: string): StoredVector {
    const p = loadProbe(path);
    const raw = readNpy(path).data;
    let s = 0;
    for (let i = 0; i < raw.length; i++) s += raw[i] * raw[i];
    const norm = Math.sqrt(s);
    const cardSha = p.card?.model.sha256;
    return {
      name, kind: 'probe', source: 'folder', directions: new Map([[p.layer, p.direction]]), layer: p.layer,
      dimensions: p.direction.length, method: p.method, auroc: p.card?.auroc ?? validationAuroc(path, p.layer), file,
      fileNorms: new Map(Math.abs(norm - 1) > 1e-6 ? [[p.layer, norm]] : []),
      model: cardSha ? { ...p.model, sha256: cardSha } : p.model?.sha256 ? p.model : null, tuned: p.tuned ? [p.tuned] : [],
      cards: p.card ? [p.card] : [],
    };
  }

  private loadControlVectorFile(path: string, file: string, name: string): StoredVector {
    const size = statSync(path).size;
    if (size > MAX_CONTROL_VECTOR_BYTES) throw new Error(`skipped: ${Math.round(size / 2 ** 20)} MiB is too large for a control vector (a model file?)`);
    const cv = readControlVector(path);
    const directions = new Map<number, Float32Array>();
    const fileNorms = new Map<number, number>();
    for (const [l, d] of cv.layers) {
      const u = unitDirection(d, `direction.${l}`);
      directions.set(l, u.direction);
      if (u.direction !== d) fileNorms.set(l, u.norm);
    }
    const cards = [...cardsFromGgufMeta(cv.meta, file).values()];
    const sha = cards.find((c) => c.model.sha256)?.model.sha256;
    return {
      name, kind: 'control-vector', source: 'folder', directions, layer: null,
      dimensions: cv.nEmbd, method: cards[0]?.method ?? null, auroc: null, file, fileNorms, model: sha ? { sha256: sha } : null,
      tuned: cards.flatMap((c) => (c.tuned ? [c.tuned] : [])), cards,
    };
  }
}

/** A probe's validation AUROC: its sidecar's `auroc` (or `validation.auroc`), else the run's validation.json. */
function validationAuroc(npyPath: string, layer: number): number | null {
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  try {
    const side = JSON.parse(readFileSync(npyPath.replace(/\.npy$/, '.json'), 'utf8')) as { auroc?: unknown; validation?: { auroc?: unknown } };
    const a = num(side.auroc) ?? num(side.validation?.auroc);
    if (a !== null) return a;
  } catch { /* no sidecar */ }
  // a probe run's own files (layer<L>.npy beside its validation.json)
  if (!/(^|[\\/])layer\d+\.npy$/.test(npyPath)) return null;
  try {
    const v = JSON.parse(readFileSync(join(dirname(npyPath), 'validation.json'), 'utf8')) as { format?: string; layers?: { layer?: number; auroc?: unknown }[] };
    if (v.format === 'eia-probe-validation' && Array.isArray(v.layers)) return num(v.layers.find((l) => l.layer === layer)?.auroc);
  } catch { /* no validation report */ }
  return null;
}
