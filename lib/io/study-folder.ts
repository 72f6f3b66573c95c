// A STUDY folder (`eia-native study`): one normal RUN folder per model (STUDY/<model>/,
// run-folder.ts) plus the study's own files, named once here, and the format of its record
// STUDY/study.json. The study pipeline writes them; its report (and resume) reads them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EiaError } from '../util/errors.js';

export const STUDY_FILES = {
  /** The study's plan (models, grid, inputs), its models' facts and its stage records. */
  study: 'study.json',
  /** Mean-pooled activations of the alignment texts per model and block: activations/<model>/layer<L>.npy + capture.json; behaviour.json. */
  activations: 'activations',
  /** Cross-model numbers: Table 1 and 2 side by side, agreement, transfer, behaviour, drift (lib/report/study-results.ts). */
  results: 'results.json',
  report: 'report.html',
  reportMarkdown: 'report.md',
  reportFigures: 'report-figures',
} as const;

/** Names a model may not take as its folder (the study's own files). */
export const RESERVED_STUDY_NAMES: readonly string[] = [...Object.values(STUDY_FILES), '.eia-lock'];

/** STUDY/activations/<model>/. */
export function activationsDir(study: string, model: string): string {
  return join(study, STUDY_FILES.activations, model);
}

/** What a study knows of one of its models (lib/probes/model-family.ts reads it from the file). */
export interface StudyModelFacts {
  path: string;
  sha256: string;
  arch: string;
  /** GGUF general.name ('' when absent) */
  ggufName: string;
  nLayer: number;
  nEmbd: number;
  nVocab: number;
  nHead: number;
  nHeadKv: number;
  /** general.file_type (llama_ftype), null when absent */
  fileType: number | null;
  /** its name (quantize's spelling, e.g. q8_0), or ftype-<n>; null when absent */
  fileTypeName: string | null;
  /** nominal bits per weight of the file type, null when unknown */
  bitsPerWeight: number | null;
  /** sha256 of output_norm.weight's values (null when the tensor is absent or not F32/F16) */
  fingerprint: string | null;
}

/** One model of the plan. */
export interface StudyPlanModel { name: string; path: string; sha256: string; probe_layers: number[]; steer_layers: number[] | null; alphas: number[] }

/** STUDY/study.json. */
export interface StudyState {
  format: 'eia-native-study';
  version: 1;
  /** what defines the study: it resumes only with the same plan */
  plan: {
    models: StudyPlanModel[];
    /** run's shared grid flags and the cross-model settings (bootstrap, seed, k, ...) */
    grid: Record<string, unknown>;
    /** sha256 of the input files */
    inputs: { train: string; test: string; ablated: string | null; texts: string | null };
  };
  plan_hash: string;
  created_at: string;
  /** the sizes of the contrastive sets and the scored texts (path, count), for the cross-model numbers */
  data: { n_train_pairs: number; n_test_pairs: number; texts: { path: string; n: number } | null };
  /** model name -> its facts */
  models: Record<string, StudyModelFacts>;
  /** quantizations of one model: the reference (highest precision) first */
  drift_groups: { reference: string; members: string[] }[];
  stages: Record<string, { done_at: string; [k: string]: unknown }>;
}

/** Whether `dir` holds a study (study.json). */
export function isStudyFolder(dir: string): boolean {
  const f = join(dir, STUDY_FILES.study);
  return existsSync(f) && statSync(f).isFile();
}

/** STUDY/study.json; E_CONFLICT when it is not a study record (delete it to start over). */
export function readStudyState(dir: string): StudyState {
  const path = join(dir, STUDY_FILES.study);
  let s: StudyState | null = null;
  try { s = JSON.parse(readFileSync(path, 'utf8')) as StudyState; } catch { s = null; }
  if (!s || s.format !== 'eia-native-study' || !s.plan || typeof s.plan_hash !== 'string' || !s.models || !s.data) {
    throw new EiaError('E_CONFLICT', `${path} is not a study record eia-native can read (delete it to start the study over)`);
  }
  return s;
}
