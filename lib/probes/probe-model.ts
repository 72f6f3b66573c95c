// Whether a probe belongs to the model in use: a probe's sidecar records the sha256 of the model
// its activations came from; a direction of another model steers and scores meaningless axes
// (often with the same width, so nothing else would notice).
import type { Probe } from './probe.js';

/** A warning when the probe's recorded model differs from `modelSha256` (null when equal or unrecorded). */
export function probeModelMismatch(probe: Pick<Probe, 'model'>, modelSha256: string, what: string): string | null {
  const rec = probe.model?.sha256;
  if (!rec || rec === modelSha256) return null;
  return `warning: ${what} was trained on another model (sha256 ${rec.slice(0, 12)}…${probe.model.path ? `, ${probe.model.path}` : ''}); ` +
    `the model in use has sha256 ${modelSha256.slice(0, 12)}…`;
}
