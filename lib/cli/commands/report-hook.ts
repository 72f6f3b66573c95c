// The report stage for `run` and `demo`: renders RUN/report.html (+ report.md) with lib/report.
import { writeReport } from '../../report/index.js';

export async function renderRunReport(runDir: string): Promise<{ html: string; markdown?: string }> {
  const r = writeReport(runDir);
  return { html: r.html, markdown: r.markdown ?? undefined };
}
