// Whether the server's vectors belong to the model it serves: a probe's sidecar records the sha256 of
// the model it was trained on (probes/probe-model.ts, the check `generate` and `steer` make); a
// direction of another model steers and scores meaningless axes, often with the same width. The
// model file is hashed once, when the first vector with a record is used (or at start when the
// folder holds one). Clients get the warning without paths; the server's log line has them.
import { fileSha256 } from '../io/file-hash.js';
import { probeModelMismatch } from '../probes/probe-model.js';
import type { StoredVector } from './vector-store.js';

export class ModelCheck {
  private sha: Promise<string> | null = null;
  private readonly logged = new Set<string>();

  constructor(private readonly modelPath: string, private readonly log: (line: string) => void) {}

  /** The served model's sha256 (hashed once). */
  sha256(): Promise<string> {
    if (!this.sha) {
      this.sha = fileSha256(this.modelPath);
      this.sha.catch(() => { this.sha = null; });  // a failed read is tried again next time
    }
    return this.sha;
  }

  /** Hashes the model in the background when some vector already records a model. */
  prime(vectors: StoredVector[]): void {
    if (vectors.some((v) => v.model?.sha256 || v.tuned.length > 0)) this.sha256().catch(() => {});
  }

  /** One warning per vector whose card (or sidecar) records another model, and per tuned alpha of another model (none when unrecorded or equal). */
  async warnings(vectors: Iterable<StoredVector>): Promise<string[]> {
    const recorded = [...vectors].filter((v) => v.model?.sha256 || v.tuned.length > 0);
    if (recorded.length === 0) return [];
    let sha: string;
    try {
      sha = await this.sha256();
    } catch {
      return ['warning: the server could not read its model file to check which model the vectors were trained on'];
    }
    const out: string[] = [];
    for (const v of recorded) {
      const what = `vector '${v.name}'`;
      for (const t of v.tuned) {
        if (t.model_sha256 !== sha) out.push(`warning: ${what}'s tuned alpha (${t.alpha}${v.kind === 'control-vector' ? `, block ${t.layer}` : ''}) was tuned on another model (sha256 ${t.model_sha256.slice(0, 12)}…)`);
      }
      if (!v.model?.sha256) continue;
      const forClient = probeModelMismatch({ model: { sha256: v.model!.sha256 } }, sha, what);
      if (!forClient) continue;
      out.push(forClient);
      const line = probeModelMismatch({ model: v.model! }, sha, what)!;
      if (!this.logged.has(line)) {
        this.logged.add(line);
        this.log(line);
      }
    }
    return out;
  }
}
