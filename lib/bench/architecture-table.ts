// The architecture table: the checks of architectures.ts on every model of a folder (llama.cpp's
// random-weight models of every architecture, scripts/arch-models.mjs), one worker process at a
// time; a model that kills or hangs the worker is reported as such and the next one gets a fresh
// worker. architectureTableMarkdown renders the rows for docs/architectures.md (scripts/arch-table.mjs).
import { ARCH_CHECKS, type ArchCheckName, type ArchReport, type CheckResult } from './architectures.js';
import { WorkerClient, workerScript } from './proc.js';

export interface ArchTableOptions {
  threads?: number;
  /** Longest time one model's checks may take before the worker is killed (default 180 s). */
  timeoutMs?: number;
  onReport?: (r: ArchReport, done: number, total: number) => void;
}

function broken(file: string, why: string): ArchReport {
  const checks = Object.fromEntries(ARCH_CHECKS.map((c) => [c, { status: 'fail', detail: why }])) as Record<ArchCheckName, CheckResult>;
  return {
    file, arch: '', moe: false, kind: 'transformer', nLayer: 0, nEmbd: 0, loadError: why, steering: 'unsupported', reason: why, blockTensor: '',
    prunedBlocks: [], checks, ms: 0,
  };
}

export async function runArchitectureTable(files: string[], opts: ArchTableOptions = {}): Promise<ArchReport[]> {
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const out: ArchReport[] = [];
  let worker: WorkerClient | null = null;
  try {
    for (const file of files) {
      worker ??= new WorkerClient('architecture check', workerScript('arch-worker'));
      const w: WorkerClient = worker;
      let timer: NodeJS.Timeout | undefined;
      let report: ArchReport;
      try {
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(() => { w.kill(); reject(new Error(`no result within ${timeoutMs / 1000} s (killed)`)); }, timeoutMs);
        });
        report = (await Promise.race([w.request<ArchReport>('check', { file, threads: opts.threads ?? 1 }), hung])).result;
      } catch (e) {
        // the worker died (llama.cpp aborted) or hung: this model's row says so, the next one starts a fresh worker
        report = broken(file, (e as Error).message.split('\n').slice(0, 4).join(' ').slice(0, 400));
        worker = null;
      } finally {
        clearTimeout(timer);
      }
      out.push(report);
      opts.onReport?.(report, out.length, files.length);
    }
  } finally {
    await worker?.close();
  }
  return out;
}

const MARK: Record<string, string> = { pass: 'ok', fail: '**FAIL**', 'n/a': 'n/a', refused: 'refused' };

/** Every check passed (n/a allowed), or every residual check refused while plain generation runs. */
export function rowVerdict(r: ArchReport): 'supported' | 'refused' | 'failed' {
  if (r.loadError) return 'failed';
  const st = ARCH_CHECKS.map((c) => r.checks[c].status);
  if (st.every((s) => s === 'pass' || s === 'n/a')) return 'supported';
  if (r.steering === 'unsupported' && st.every((s) => s === 'refused' || s === 'pass')) return 'refused';
  return 'failed';
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The table rows of docs/architectures.md: one per model, then the refusals with their reasons. */
export function architectureTableMarkdown(reports: ArchReport[]): string {
  const rows = [...reports].sort((a, b) => (a.arch || a.file).localeCompare(b.arch || b.file) || Number(a.moe) - Number(b.moe));
  const name = (r: ArchReport) => r.arch || r.file.split('/').pop()!;
  const lines = [
    `| architecture | dense/MoE | kind | block output read | ${ARCH_CHECKS.join(' | ')} |`,
    `| --- | --- | --- | --- | ${ARCH_CHECKS.map(() => '---').join(' | ')} |`,
  ];
  for (const r of rows) {
    const tensor = r.steering === 'supported' ? `\`${r.blockTensor}\`${r.prunedBlocks.length ? ` (block ${r.prunedBlocks.join(', ')} pruned)` : ''}` : '—';
    lines.push(`| ${name(r)} | ${r.moe ? 'MoE' : 'dense'} | ${r.kind} | ${tensor} | ${ARCH_CHECKS.map((c) => MARK[r.checks[c].status]).join(' | ')} |`);
  }
  const refused = rows.filter((r) => rowVerdict(r) === 'refused');
  const failed = rows.filter((r) => rowVerdict(r) === 'failed');
  const naChecks: ArchCheckName[] = ['cvec', 'monitor', 'residual'];
  const na = rows.filter((r) => naChecks.some((c) => r.checks[c].status === 'n/a'));
  const out = [lines.join('\n')];
  if (refused.length) out.push('Refused (E_UNSUPPORTED_MODEL; plain generation works where the `plain` column says ok):\n\n' +
    refused.map((r) => `- **${name(r)}** (${r.moe ? 'MoE' : 'dense'}): ${esc(r.reason)}`).join('\n'));
  if (na.length) out.push('Not applicable:\n\n' + na.map((r) => `- **${name(r)}** (${r.moe ? 'MoE' : 'dense'}): ` +
    naChecks.filter((c) => r.checks[c].status === 'n/a').map((c) => `${c}: ${esc(r.checks[c].detail)}`).join('; ')).join('\n'));
  if (failed.length) out.push('Failed:\n\n' + failed.map((r) => `- **${name(r)}** (${r.moe ? 'MoE' : 'dense'}): ` +
    (r.loadError ? esc(r.loadError) : ARCH_CHECKS.filter((c) => r.checks[c].status === 'fail').map((c) => `${c}: ${esc(r.checks[c].detail)}`).join('; '))).join('\n'));
  return out.join('\n\n');
}

/**
 * The README's form of the table (issue 29 asks the README to carry it; issue 24 keeps the README
 * short): the same rows grouped by dense/MoE and their checks' results, each group listing its
 * architectures, then the refused ones with the first clause of their reasons. docs/architectures.md
 * has a row per model and the whole reasons.
 */
export function architectureTableCompact(reports: ArchReport[]): string {
  const rows = [...reports].sort((a, b) => (a.arch || a.file).localeCompare(b.arch || b.file));
  const name = (r: ArchReport) => r.arch || r.file.split('/').pop()!;
  const groups = new Map<string, { moe: boolean; marks: string[]; names: string[] }>();
  for (const r of rows) {
    const marks = ARCH_CHECKS.map((c) => MARK[r.checks[c].status]);
    const key = `${r.moe}|${marks.join('|')}`;
    const g = groups.get(key) ?? { moe: r.moe, marks, names: [] };
    g.names.push(name(r));
    groups.set(key, g);
  }
  const ordered = [...groups.values()].sort((a, b) => b.names.length - a.names.length || Number(a.moe) - Number(b.moe));
  const lines = [
    `| dense/MoE | ${ARCH_CHECKS.join(' | ')} | architectures |`,
    `| --- | ${ARCH_CHECKS.map(() => '---').join(' | ')} | --- |`,
    ...ordered.map((g) => `| ${g.moe ? 'MoE' : 'dense'} | ${g.marks.join(' | ')} | ${g.names.length}: ${g.names.join(', ')} |`),
  ];
  const refused = rows.filter((r) => rowVerdict(r) === 'refused');
  if (refused.length) lines.push('', `Refused with \`E_UNSUPPORTED_MODEL\`: ${refused.map((r) => `**${name(r)}** (${esc(r.reason.split(' (')[0])})`).join('; ')}.`);
  return lines.join('\n');
}

/** Counts and the extreme figures of a table, for the summary line. */
export function architectureTableSummary(reports: ArchReport[]): string {
  const archs = new Set(reports.map((r) => r.arch || r.file));
  const v = reports.map(rowVerdict);
  const count = (x: string) => v.filter((y) => y === x).length;
  return `${reports.length} models (${reports.filter((r) => !r.moe).length} dense, ${reports.filter((r) => r.moe).length} MoE) of ${archs.size} architectures: ` +
    `${count('supported')} pass every check, ${count('refused')} refused with a reason, ${count('failed')} failed`;
}
