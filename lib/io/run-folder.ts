// The files of a RUN folder, named once. Stages write them (probe, steer, score, report, and `run`
// for run.json); readers (score, report, resume) find them by these names.
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EiaError } from '../util/errors.js';
import { asIoError } from '../util/io-error.js';

export const RUN_FILES = {
  /** Stage records of `run`/`demo` (lib/pipeline). */
  run: 'run.json',
  /** Parameters of the steering sweep (lib/steering/sweep). */
  manifest: 'manifest.json',
  /** One record per steered sample (lib/steering/samples.ts), appended as each finishes. */
  samples: 'samples.jsonl',
  /** Table 2 + dose-response (`score`). */
  score: 'score.json',
  scoreMarkdown: 'score.md',
  /** Per-sample offline metrics (fluency under the unsteered model, probe projection), a cache appended by `score --metrics` and `tune` (lib/steering/metrics). */
  metrics: 'metrics.jsonl',
  /** Per-sample LLM-judge answers, a cache appended by `score --judge` and `tune --judge` (lib/steering/judge). */
  judge: 'judge.jsonl',
  /** `tune`'s result: the chosen block and alpha, the search path, the held-out validation (lib/pipeline/tune). */
  tune: 'tune.json',
  /** The parameters of a `tune` folder, written before its first sample: a resume must ask for the same (lib/pipeline/tune). */
  tuneParameters: 'tune-parameters.json',
  /** Probes and their validation (`probe`): layer<L>.npy + .json, validation.json, validation.md. */
  probes: 'probes',
  validation: join('probes', 'validation.json'),
  report: 'report.html',
  reportMarkdown: 'report.md',
  /** The Markdown report's SVG figures. */
  reportFigures: 'report-figures',
  /** The writer's lock (run-lock.ts); present only while a command writes into the RUN. */
  lock: '.eia-lock',
  /** Where --force moves the results it replaces: replaced-<time>/ (nothing is deleted). */
  replacedPrefix: 'replaced-',
} as const;

/** The outputs of the sweep stage and of everything computed from it (score, report). */
export const SWEEP_OUTPUTS = [RUN_FILES.manifest, RUN_FILES.samples, RUN_FILES.score, RUN_FILES.scoreMarkdown,
  RUN_FILES.metrics, RUN_FILES.judge, RUN_FILES.report, RUN_FILES.reportMarkdown, RUN_FILES.reportFigures] as const;

/** What `tune` writes into its folder (moved aside together by --force). */
export const TUNE_OUTPUTS = [RUN_FILES.tuneParameters, RUN_FILES.tune, RUN_FILES.samples, RUN_FILES.metrics, RUN_FILES.judge,
  RUN_FILES.score, RUN_FILES.scoreMarkdown, RUN_FILES.report, RUN_FILES.reportMarkdown, RUN_FILES.reportFigures] as const;

/** The probe stage's output and everything after it. */
export const PROBE_OUTPUTS = [RUN_FILES.probes, ...SWEEP_OUTPUTS] as const;

/** The names of a RUN folder's own files and folders (every entry of RUN_FILES but the lock and the replaced-<time>/ prefix). */
export const OWN_FILES = [RUN_FILES.run, RUN_FILES.manifest, RUN_FILES.samples, RUN_FILES.score, RUN_FILES.scoreMarkdown, RUN_FILES.probes,
  RUN_FILES.report, RUN_FILES.reportMarkdown, RUN_FILES.reportFigures] as const;

/**
 * Refuses a RUN folder whose own files are symbolic links (E_CONFLICT, naming the link and its
 * target): a writer would append or write through the link into another RUN (or anywhere) without
 * that RUN's lock. Checked by every writer when it takes the lock (run-lock.ts).
 */
export function checkOwnFiles(dir: string): void {
  for (const n of OWN_FILES) {
    const p = join(dir, n);
    let link = false;
    try { link = lstatSync(p).isSymbolicLink(); } catch { /* absent */ }
    if (!link) continue;
    let target = '?';
    try { target = readlinkSync(p); } catch { /* unreadable */ }
    throw new EiaError('E_CONFLICT', `${p} is a symbolic link (to ${target}): a RUN folder's files must be its own, or a writer would write ` +
      `into another folder without its lock; replace the link with a copy of the file`);
  }
}

/** Those of `names` (relative to dir) that exist. */
export function existing(dir: string, names: readonly string[]): string[] {
  return names.filter((n) => existsSync(join(dir, n)));
}

/**
 * Moves the existing ones of `names` (files or folders of dir) into dir/replaced-<time>/, keeping
 * their relative paths, and returns a sentence saying what moved where ('' when nothing did).
 * How --force replaces earlier results: nothing is deleted.
 */
export function moveAside(dir: string, names: readonly string[], now = new Date()): string {
  const have = existing(dir, names);
  if (have.length === 0) return '';
  const dest = join(dir, `${RUN_FILES.replacedPrefix}${now.toISOString().replace(/[:.]/g, '-')}`);
  try {
    for (const n of have) {
      const to = join(dest, n);
      mkdirSync(join(to, '..'), { recursive: true });
      renameSync(join(dir, n), to);
    }
  } catch (e) {
    throw asIoError(e);
  }
  return `moved ${have.join(', ')} to ${relative(process.cwd(), dest) || dest}`;
}
