// GGUF fuzzing support, used two ways:
//  * imported by test/robustness/fuzz-gguf.test.ts: a small GGUF structure reader (section boundaries and
//    field offsets) and a deterministic case generator (truncations, byte flips, absurd fields);
//  * run as a child process: `node fuzz-child.mjs CASES.json` applies each case to its base file,
//    loads the result (Model.load + createContext + a short capture, through the compiled addon)
//    and prints one line per case: `start <id>` before, then `ok <id>` or `error <id> <message>`.
//    A case that kills the process (SIGABRT, SIGSEGV, ...) is the last `start` without an end.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------
// GGUF structure reader

export const GGUF_TYPE = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 };
const SCALAR_SIZE = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/**
 * Parses a well-formed GGUF (v2/v3) buffer into its layout: every field's offset, so that
 * mutations can target exact boundaries. Throws on anything it does not understand (only used on
 * the valid base files).
 */
export function readGgufLayout(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  const u32 = () => { const v = dv.getUint32(p, true); p += 4; return v; };
  const u64 = () => { const v = dv.getBigUint64(p, true); p += 8; return Number(v); };
  const str = () => { const lenOff = p; const n = u64(); const s = buf.subarray(p, p + n).toString('utf8'); p += n; return { s, lenOff, bytesOff: lenOff + 8, len: n }; };
  if (buf.subarray(0, 4).toString('latin1') !== 'GGUF') throw new Error('not GGUF');
  const header = { magic: 0, version: 4, nTensors: 8, nKv: 16, end: 24 };
  p = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kvs = [];
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const start = p;
    const key = str();
    const typeOff = p;
    const type = u32();
    const valueOff = p;
    const kv = { key: key.s, start, keyLenOff: key.lenOff, typeOff, type, valueOff, end: 0 };
    if (type === GGUF_TYPE.STRING) {
      const v = str();
      kv.strLenOff = v.lenOff;
      kv.value = v.s;
    } else if (type === GGUF_TYPE.ARRAY) {
      kv.arrTypeOff = p;
      const at = u32();
      kv.arrType = at;
      kv.arrCountOff = p;
      const n = u64();
      kv.arrCount = n;
      kv.arrDataOff = p;
      if (at === GGUF_TYPE.STRING) {
        kv.strOffs = [];
        for (let j = 0; j < n; j++) { const v = str(); if (j < 4 || j === n - 1) kv.strOffs.push(v.lenOff); }
      } else if (SCALAR_SIZE[at] !== undefined) {
        p += SCALAR_SIZE[at] * n;
      } else throw new Error(`unsupported array type ${at}`);
    } else if (SCALAR_SIZE[type] !== undefined) {
      const sz = SCALAR_SIZE[type];
      kv.size = sz;
      if (type === GGUF_TYPE.U32) kv.value = dv.getUint32(p, true);
      else if (type === GGUF_TYPE.I32) kv.value = dv.getInt32(p, true);
      else if (type === GGUF_TYPE.F32) kv.value = dv.getFloat32(p, true);
      else if (type === GGUF_TYPE.U64) kv.value = Number(dv.getBigUint64(p, true));
      p += sz;
    } else throw new Error(`unsupported type ${type}`);
    kv.end = p;
    if (kv.key === 'general.alignment') alignment = kv.value;
    kvs.push(kv);
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const start = p;
    const name = str();
    const nDimsOff = p;
    const nDims = u32();
    const dimOffs = [];
    const dims = [];
    for (let d = 0; d < nDims; d++) { dimOffs.push(p); dims.push(u64()); }
    const typeOff = p;
    const type = u32();
    const offsetOff = p;
    const offset = u64();
    tensors.push({ name: name.s, start, nameLenOff: name.lenOff, nDimsOff, nDims, dimOffs, dims, typeOff, type, offsetOff, offset, end: p });
  }
  const infosEnd = p;
  const dataStart = Math.ceil(infosEnd / alignment) * alignment;
  return { version, nTensors, nKv, header, kvs, tensors, infosEnd, dataStart, alignment, size: buf.length };
}

// ---------------------------------------------------------------------------------------------
// Case generation (deterministic from a seed)

/** mulberry32: small seeded PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const le32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return hex(b); };
const le64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v))); return hex(b); };
const f32 = (v) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return hex(b); };

const ABSURD_64 = [0n, 1n, 2n, 3n, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 0x100000000n, 1n << 40n, 1n << 62n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n];
const ABSURD_32 = [0, 1, 2, 3, 7, 13, 31, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const ABSURD_F32 = [0, -1, -0, 1e-30, 1e30, NaN, Infinity, -Infinity, 3.4e38];

/**
 * All structured cases for one base file: truncations at and around every section boundary, and
 * absurd values of every count/length/dimension/type field. Each case: {base, name, truncate?, writes: [{off, hex}]}.
 */
export function structuredCases(baseName, layout) {
  const out = [];
  const L = layout;
  // --- truncations -----------------------------------------------------------------------
  const bounds = new Map();
  const addB = (off, what) => { if (off >= 0 && off <= L.size && !bounds.has(off)) bounds.set(off, what); };
  addB(0, 'empty'); addB(2, 'inside magic'); addB(4, 'after magic'); addB(6, 'inside version'); addB(8, 'after version');
  addB(12, 'inside n_tensors'); addB(16, 'after n_tensors'); addB(20, 'inside n_kv'); addB(24, 'header end');
  for (const kv of L.kvs) {
    addB(kv.start, `kv ${kv.key} start`); addB(kv.start + 4, `kv ${kv.key} inside key length`);
    addB(kv.keyLenOff + 8, `kv ${kv.key} key bytes`); addB(kv.typeOff, `kv ${kv.key} type`); addB(kv.typeOff + 2, `kv ${kv.key} inside type`);
    addB(kv.valueOff, `kv ${kv.key} value`); addB(kv.end, `kv ${kv.key} end`);
    if (kv.arrCountOff !== undefined) { addB(kv.arrCountOff, `kv ${kv.key} array count`); addB(kv.arrDataOff, `kv ${kv.key} array data`); addB(Math.floor((kv.arrDataOff + kv.end) / 2), `kv ${kv.key} mid array`); }
  }
  for (const t of L.tensors) {
    addB(t.start, `tensor info ${t.name} start`); addB(t.nDimsOff, `tensor info ${t.name} n_dims`);
    addB(t.dimOffs[0] ?? t.typeOff, `tensor info ${t.name} dims`); addB(t.typeOff, `tensor info ${t.name} type`);
    addB(t.offsetOff, `tensor info ${t.name} offset`); addB(t.end, `tensor info ${t.name} end`);
  }
  addB(L.infosEnd, 'tensor infos end (alignment padding)');
  addB(L.dataStart, 'data start');
  for (const t of L.tensors) addB(L.dataStart + t.offset, `tensor data ${t.name}`);
  addB(L.dataStart + 1, 'data start + 1');
  addB(Math.floor((L.dataStart + L.size) / 2), 'inside data (middle)');
  addB(L.size - 1, 'last byte missing');
  for (const [off, what] of [...bounds].sort((a, b) => a[0] - b[0])) {
    for (const d of [0, -1, 1]) {
      const at = off + d;
      if (at < 0 || at >= L.size) continue;
      if (d !== 0 && bounds.has(at)) continue;
      out.push({ base: baseName, name: `truncate at ${at} (${what}${d ? (d > 0 ? ' +1' : ' -1') : ''})`, truncate: at, writes: [] });
    }
  }
  // --- absurd header fields ----------------------------------------------------------------
  for (const v of [0, 1, 2, 4, 0xffff, 0xffffffff]) if (v !== L.version) out.push({ base: baseName, name: `version = ${v}`, writes: [{ off: 4, hex: le32(v) }] });
  for (const v of [...ABSURD_64, BigInt(L.nTensors - 1), BigInt(L.nTensors + 1)]) out.push({ base: baseName, name: `n_tensors = ${v}`, writes: [{ off: 8, hex: le64(v) }] });
  for (const v of [...ABSURD_64, BigInt(L.nKv - 1), BigInt(L.nKv + 1)]) out.push({ base: baseName, name: `n_kv = ${v}`, writes: [{ off: 16, hex: le64(v) }] });
  out.push({ base: baseName, name: 'magic = GGUG', writes: [{ off: 3, hex: '47' }] });
  // --- absurd KV fields -------------------------------------------------------------------
  for (const kv of L.kvs) {
    const k = kv.key;
    for (const v of [0n, 1n, BigInt(kv.valueOff - kv.keyLenOff), 1n << 40n, (1n << 64n) - 1n]) out.push({ base: baseName, name: `kv ${k}: key length = ${v}`, writes: [{ off: kv.keyLenOff, hex: le64(v) }] });
    out.push({ base: baseName, name: `kv ${k}: key bytes zeroed`, writes: [{ off: kv.keyLenOff + 8, hex: '00' }] });
    for (const t of [...Object.values(GGUF_TYPE), 13, 0xffffffff]) if (t !== kv.type) out.push({ base: baseName, name: `kv ${k}: type = ${t}`, writes: [{ off: kv.typeOff, hex: le32(t) }] });
    if (kv.strLenOff !== undefined) {
      for (const v of [0n, 1n << 33n, (1n << 63n), (1n << 64n) - 1n, BigInt(L.size)]) out.push({ base: baseName, name: `kv ${k}: string length = ${v}`, writes: [{ off: kv.strLenOff, hex: le64(v) }] });
    }
    if (kv.arrCountOff !== undefined) {
      for (const t of [...Object.values(GGUF_TYPE), 13, 0xffffffff]) if (t !== kv.arrType) out.push({ base: baseName, name: `kv ${k}: array type = ${t}`, writes: [{ off: kv.arrTypeOff, hex: le32(t) }] });
      for (const v of [...ABSURD_64, BigInt(kv.arrCount - 1), BigInt(kv.arrCount + 1), BigInt(kv.arrCount * 2)]) out.push({ base: baseName, name: `kv ${k}: array count = ${v}`, writes: [{ off: kv.arrCountOff, hex: le64(v) }] });
      for (const so of kv.strOffs ?? []) for (const v of [0n, 1n << 40n, (1n << 64n) - 1n]) out.push({ base: baseName, name: `kv ${k}: array string @${so} length = ${v}`, writes: [{ off: so, hex: le64(v) }] });
    }
    if (kv.type === GGUF_TYPE.U32 || kv.type === GGUF_TYPE.I32) for (const v of ABSURD_32) out.push({ base: baseName, name: `kv ${k} = ${v}`, writes: [{ off: kv.valueOff, hex: le32(v) }] });
    if (kv.type === GGUF_TYPE.U64) for (const v of ABSURD_64) out.push({ base: baseName, name: `kv ${k} = ${v}`, writes: [{ off: kv.valueOff, hex: le64(v) }] });
    if (kv.type === GGUF_TYPE.F32) for (const v of ABSURD_F32) out.push({ base: baseName, name: `kv ${k} = ${v}`, writes: [{ off: kv.valueOff, hex: f32(v) }] });
    if (kv.type === GGUF_TYPE.BOOL) for (const v of [2, 0xff]) out.push({ base: baseName, name: `kv ${k} = byte ${v}`, writes: [{ off: kv.valueOff, hex: v.toString(16).padStart(2, '0') }] });
    if (kv.arrType === GGUF_TYPE.I32 || kv.arrType === GGUF_TYPE.U32) {
      for (const v of [-1, 0x7fffffff, 1000000]) for (const idx of [0, 1, Math.max(0, kv.arrCount - 1)]) {
        out.push({ base: baseName, name: `kv ${k}[${idx}] = ${v}`, writes: [{ off: kv.arrDataOff + 4 * idx, hex: le32(v) }] });
      }
    }
    if (kv.arrType === GGUF_TYPE.F32) for (const v of [NaN, Infinity, -3.4e38]) out.push({ base: baseName, name: `kv ${k}[0] = ${v}`, writes: [{ off: kv.arrDataOff, hex: f32(v) }] });
  }
  // --- absurd tensor infos ------------------------------------------------------------------
  for (const t of L.tensors) {
    const n = t.name;
    for (const v of [0n, 1n << 40n, (1n << 64n) - 1n, BigInt(t.nDimsOff - t.nameLenOff - 8 + 1)]) out.push({ base: baseName, name: `tensor ${n}: name length = ${v}`, writes: [{ off: t.nameLenOff, hex: le64(v) }] });
    for (const v of [0, 1, 3, 4, 5, 0xffffffff]) if (v !== t.nDims) out.push({ base: baseName, name: `tensor ${n}: n_dims = ${v}`, writes: [{ off: t.nDimsOff, hex: le32(v) }] });
    t.dimOffs.forEach((off, d) => {
      for (const v of [0n, 1n, BigInt(t.dims[d] * 2), BigInt(Math.max(1, t.dims[d] - 1)), 0x7fffffffn, 0x100000000n, 1n << 62n, 1n << 63n, (1n << 64n) - 1n]) {
        out.push({ base: baseName, name: `tensor ${n}: dim ${d} = ${v}`, writes: [{ off, hex: le64(v) }] });
      }
    });
    for (const v of [0, 1, 2, 4, 8, 12, 30, 31, 39, 40, 1000, 0xffffffff]) if (v !== t.type) out.push({ base: baseName, name: `tensor ${n}: type = ${v}`, writes: [{ off: t.typeOff, hex: le32(v) }] });
    for (const v of [BigInt(t.offset + 1), BigInt(t.offset + L.alignment), 0n, BigInt(L.size), BigInt(L.size - L.dataStart), 1n << 40n, (1n << 64n) - 1n, (1n << 64n) - 32n]) {
      if (v !== BigInt(t.offset)) out.push({ base: baseName, name: `tensor ${n}: offset = ${v}`, writes: [{ off: t.offsetOff, hex: le64(v) }] });
    }
  }
  // duplicate tensor name: give tensor 1 the name of tensor 0 when the lengths match
  for (let i = 1; i < L.tensors.length; i++) {
    const a = L.tensors[0], b = L.tensors[i];
    if (a.name.length === b.name.length) {
      out.push({ base: baseName, name: `tensor ${b.name}: renamed to ${a.name} (duplicate)`, writes: [{ off: b.nameLenOff + 8, hex: Buffer.from(a.name).toString('hex') }] });
      break;
    }
  }
  return out;
}

/** Random byte flips (mostly in the metadata, some anywhere). */
export function flipCase(baseName, layout, seed) {
  const r = rng(seed);
  const nFlips = 1 + Math.floor(r() * 8);
  const writes = [];
  for (let i = 0; i < nFlips; i++) {
    const inMeta = r() < 0.85;
    const off = inMeta ? Math.floor(r() * layout.dataStart) : Math.floor(r() * layout.size);
    const mode = r();  // flip one bit, or set the byte to a random / boundary value
    if (mode < 0.5) writes.push({ off, xor: 1 << Math.floor(r() * 8) });
    else if (mode < 0.8) writes.push({ off, hex: Math.floor(r() * 256).toString(16).padStart(2, '0') });
    else writes.push({ off, hex: ['ff', '00', '7f', '80'][Math.floor(r() * 4)] });
  }
  return { base: baseName, name: `random flips (seed ${seed}): ${writes.map((w) => `@${w.off}${w.xor ? `^${w.xor}` : `=${w.hex}`}`).join(' ')}`, writes };
}

/**
 * The case list for a run: `total` cases spread over the bases, always including every
 * truncation/header case it can afford, then a seeded sample of the structured field cases, then
 * random flips (seeds seed+i).
 */
export function buildCases(bases, total, seed) {
  const r = rng(seed);
  const perBase = Math.floor(total / bases.length);
  const all = [];
  bases.forEach(({ name, layout }, bi) => {
    const budget = bi === bases.length - 1 ? total - perBase * (bases.length - 1) : perBase;
    const structured = structuredCases(name, layout);
    const nFlips = Math.floor(budget * 0.3);
    const nStructured = Math.min(structured.length, budget - nFlips);
    // sample without replacement (Fisher-Yates prefix)
    const idx = structured.map((_, i) => i);
    for (let i = 0; i < nStructured; i++) {
      const j = i + Math.floor(r() * (idx.length - i));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const chosen = idx.slice(0, nStructured).sort((a, b) => a - b).map((i) => structured[i]);
    all.push(...chosen);
    const flips = budget - nStructured;
    for (let i = 0; i < flips; i++) all.push(flipCase(name, layout, (seed * 7919 + bi * 1_000_003 + i) >>> 0));
  });
  return all.map((c, i) => ({ id: i, seed, ...c }));
}

/** Applies a case to a copy of the base bytes. */
export function applyCase(base, c) {
  let buf = Buffer.from(base);
  for (const w of c.writes) {
    if (w.off >= buf.length) continue;
    if (w.xor !== undefined) buf[w.off] ^= w.xor;
    else {
      const bytes = Buffer.from(w.hex, 'hex');
      bytes.copy(buf, w.off, 0, Math.min(bytes.length, buf.length - w.off));
    }
  }
  if (c.truncate !== undefined) buf = buf.subarray(0, c.truncate);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Child process

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

function loadAddon() {
  const candidates = [process.env.EIA_NATIVE_ADDON, join(root, 'build', 'Release', 'eia_native.node'), join(root, 'build', 'RelWithDebInfo', 'eia_native.node')].filter(Boolean);
  const p = candidates.find((c) => existsSync(c));
  if (!p) throw new Error(`addon not built (looked in ${candidates.join(', ')})`);
  const addon = createRequire(import.meta.url)(p);
  addon.setLogLevel(0);
  return addon;
}

async function runOne(addon, path) {
  const model = await addon.Model.load(path, { gpuLayers: 0, mmap: true, vocabOnly: false });
  try {
    const info = model.info();
    const ctx = await model.createContext({ nCtx: 64, nBatch: 32, nUbatch: 32, nSeqMax: 1, nThreads: 1, embeddings: false, kvUnified: true, flashAttn: 'off', sampling: 'host' });
    try {
      await ctx.capture(['hello world'], { layers: [0, info.nLayer - 1], pool: 'mean', truncate: 0, addSpecial: true });
    } finally {
      ctx.free();
    }
  } finally {
    model.free();
  }
}

async function childMain(casesFile) {
  const spec = JSON.parse(readFileSync(casesFile, 'utf8'));
  const addon = loadAddon();
  const bases = new Map(Object.entries(spec.bases).map(([k, p]) => [k, readFileSync(p)]));
  const tmp = spec.tmpFile;
  const write = (line) => process.stdout.write(line + '\n');
  for (const c of spec.cases) {
    writeFileSync(tmp, applyCase(bases.get(c.base), c));
    write(`start ${c.id}`);
    // self-test of the harness (test/robustness/fuzz-gguf.test.ts): die like a GGML_ASSERT would
    if (process.env.EIA_FUZZ_SELFTEST_ABORT === String(c.id)) process.abort();
    try {
      await runOne(addon, tmp);
      write(`ok ${c.id}`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!(e instanceof Error)) write(`nonerror ${c.id} ${JSON.stringify(msg)}`);
      else write(`error ${c.id} ${JSON.stringify(msg.slice(0, 300))}`);
    }
  }
  rmSync(tmp, { force: true });
  write('done');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  childMain(process.argv[2]).catch((e) => {
    process.stdout.write(`fatal ${JSON.stringify(String(e?.stack ?? e))}\n`);
    process.exit(3);
  });
}
