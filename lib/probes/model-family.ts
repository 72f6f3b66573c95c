// Model families for cross-model studies: a model's facts (architecture, shape, file type, a
// fingerprint of its weights), and which models are quantizations of one model (drift groups), so
// that a probe can be compared across precisions.
//
// Quantizations of one model: the same architecture and shape (blocks, width, vocabulary, heads)
// and the same weights where quantization never touches them. llama.cpp's quantizer copies 1-D
// tensors (the norms) as they are, so `output_norm.weight` is byte-identical across F32, F16, Q8_0,
// Q4_K_M... of one model, while two trained models (a fine-tune, another seed) differ there. They are
// told apart by their file type (general.file_type); the one of highest precision (most bits per
// weight; the first listed on a tie) is the group's reference.
import { createHash } from 'node:crypto';
import { readGgufTensor } from '../engine/gguf.js';
import { Model } from '../engine/model.js';
import { quantTypeOfFileType } from '../engine/quantize.js';
import { fileSha256 } from '../io/file-hash.js';
import type { StudyModelFacts } from '../io/study-folder.js';

export type ModelFacts = StudyModelFacts;

/** Reads a model's facts (the file is memory-mapped; one small tensor is read). */
export async function modelFacts(path: string): Promise<ModelFacts> {
  const m = await Model.load(path);
  let facts: Omit<ModelFacts, 'sha256' | 'fingerprint'>;
  try {
    const ft = m.meta('general.file_type');
    const fileType = ft !== null && /^\d+$/.test(ft) ? Number(ft) : null;
    const qt = fileType !== null ? quantTypeOfFileType(fileType) : null;
    facts = {
      path, arch: m.info.arch, ggufName: m.info.name ?? '', nLayer: m.nLayer, nEmbd: m.nEmbd, nVocab: m.info.nVocab, nHead: m.info.nHead, nHeadKv: m.info.nHeadKv,
      fileType, fileTypeName: qt ? qt.name : fileType !== null ? `ftype-${fileType}` : null, bitsPerWeight: qt ? qt.bitsPerWeight : null,
    };
  } finally {
    m.free();
  }
  let fingerprint: string | null = null;
  try {
    const t = readGgufTensor(path, 'output_norm.weight');
    fingerprint = createHash('sha256').update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).digest('hex');
  } catch {
    fingerprint = null;  // no such tensor, or quantized: this model joins no drift group
  }
  return { ...facts, sha256: await fileSha256(path), fingerprint };
}

/** A drift group: indices into the study's models, the reference first. */
export interface DriftGroup { reference: number; members: number[] }

/** The groups of two or more models that are quantizations of one model (see the module comment). */
export function driftGroups(facts: readonly ModelFacts[]): DriftGroup[] {
  const byKey = new Map<string, number[]>();
  facts.forEach((f, i) => {
    if (!f.fingerprint) return;
    const key = JSON.stringify([f.arch, f.nLayer, f.nEmbd, f.nVocab, f.nHead, f.nHeadKv, f.fingerprint]);
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  const out: DriftGroup[] = [];
  for (const members of byKey.values()) {
    if (members.length < 2) continue;
    let reference = members[0];
    for (const i of members) if ((facts[i].bitsPerWeight ?? -1) > (facts[reference].bitsPerWeight ?? -1)) reference = i;
    out.push({ reference, members: [reference, ...members.filter((i) => i !== reference)] });
  }
  return out;
}
