// The files of a RUN folder, named once. Stages write them (probe, steer, score, report, and `run`
// for run.json); readers (score, report, resume) find them by these names.
import { join } from 'node:path';

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
  /** Probes and their validation (`probe`): layer<L>.npy + .json, validation.json, validation.md. */
  probes: 'probes',
  validation: join('probes', 'validation.json'),
  report: 'report.html',
  reportMarkdown: 'report.md',
} as const;
