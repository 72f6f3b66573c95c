#!/usr/bin/env node
// Writes the architecture table of docs/architectures.md: the checks of lib/bench/architectures.ts on
// every model scripts/arch-models.mjs wrote (llama.cpp's random-weight models of every architecture).
// Needs the compiled library (npm run build:ts) and the models (node scripts/arch-models.mjs).
// Usage: node scripts/arch-table.mjs [--models DIR] [--threads N] [--only ARCH,...] [--json FILE] [--no-write]
//   rewrites the part of docs/architectures.md between <!-- arch-table:start --> and <!-- arch-table:end -->,
//   and the README's grouped form between the same markers
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archModelsDir, archModelsManifest } from './arch-models.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const valueOf = (f) => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const log = (m) => process.stderr.write(`[eia-native arch-table] ${m}\n`);

const dir = valueOf('--models') ? resolve(valueOf('--models')) : archModelsDir();
const manifest = valueOf('--models') ? null : archModelsManifest();
if (!existsSync(dir)) { log(`no models at ${dir}: run node scripts/arch-models.mjs first`); process.exit(1); }
const lib = join(root, 'dist', 'bench', 'architecture-table.js');
if (!existsSync(lib)) { log(`${lib} is missing: run npm run build:ts first`); process.exit(1); }
const { runArchitectureTable, architectureTableMarkdown, architectureTableCompact, architectureTableSummary } = await import(lib);

const only = valueOf('--only')?.split(',');
let files = (manifest ? manifest.models.map((m) => m.file) : readdirSync(dir).filter((f) => f.endsWith('.gguf'))).sort();
if (only) files = files.filter((f) => only.some((a) => f.startsWith(`${a}-dense.`) || f.startsWith(`${a}-moe.`)));
const t0 = Date.now();
const reports = await runArchitectureTable(files.map((f) => join(dir, f)), {
  threads: Number(valueOf('--threads') ?? 1),
  onReport: (r, done, total) => {
    const bad = Object.entries(r.checks).filter(([, c]) => c.status === 'fail').map(([k]) => k);
    log(`${done}/${total} ${r.arch || r.file}${r.moe ? ' (MoE)' : ''}: ${r.steering}${bad.length ? `, FAILED ${bad.join(', ')}` : ''} (${(r.ms / 1000).toFixed(1)} s)`);
  },
});
const summary = architectureTableSummary(reports);
log(`${summary} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
if (valueOf('--json')) writeFileSync(valueOf('--json'), JSON.stringify(reports, null, 2) + '\n');
/** The release's architectures without a row: not written by llama.cpp's test, or written but not loadable. */
function absentSection(reports) {
  const src = join(root, 'vendor', 'llama.cpp', 'src', 'llama-arch.cpp');
  if (!existsSync(src)) return '';
  const all = [...readFileSync(src, 'utf8').matchAll(/^\s*\{ LLM_ARCH_\w+,\s*"([^"]+)"\s*\}/gm)].map((m) => m[1]).filter((a) => a !== '(unknown)');
  const have = new Set(reports.map((r) => r.arch));
  const notLoadable = manifest?.not_written ?? [];
  const absent = all.filter((a) => !have.has(a) && !notLoadable.some((n) => n.arch === a));
  const lines = [];
  for (const n of notLoadable) lines.push(`- **${n.arch}** (${n.kind}): written by the patched test, but ${n.reason}`);
  if (absent.length) lines.push(`- not written by llama.cpp's \`test-llama-archs\` (its \`arch_supported()\` and \`save_models()\` skip them): ${absent.map((a) => `\`${a}\``).join(', ')}`);
  return lines.length ? `\nNo row (${notLoadable.length + absent.length} of the release's ${all.length} architectures):\n\n${lines.join('\n')}\n` : '';
}

if (!argv.includes('--no-write') && !only) {
  const doc = join(root, 'docs', 'architectures.md');
  const text = readFileSync(doc, 'utf8');
  const start = '<!-- arch-table:start -->', end = '<!-- arch-table:end -->';
  const a = text.indexOf(start), b = text.indexOf(end);
  if (a < 0 || b < a) { log(`${doc} has no ${start} ... ${end} section`); process.exit(1); }
  const made = manifest ? `llama.cpp ${manifest.commit.slice(0, 10)}, test-llama-archs seed ${manifest.seed}` : dir;
  const body = `\n_Written by \`node scripts/arch-table.mjs\` (${made}). ${summary}._\n\n${architectureTableMarkdown(reports)}\n${absentSection(reports)}`;
  writeFileSync(doc, text.slice(0, a + start.length) + body + text.slice(b));
  log(`wrote ${doc}`);
  // the README carries the grouped form between the same markers
  const readme = join(root, 'README.md');
  const rtext = readFileSync(readme, 'utf8');
  const ra = rtext.indexOf(start), rb = rtext.indexOf(end);
  if (ra < 0 || rb < ra) { log(`${readme} has no ${start} ... ${end} section`); process.exit(1); }
  const rbody = `\n_${summary} (\`node scripts/arch-table.mjs\`; a row per model in [docs/architectures.md](docs/architectures.md))._\n\n${architectureTableCompact(reports)}\n`;
  writeFileSync(readme, rtext.slice(0, ra + start.length) + rbody + rtext.slice(rb));
  log(`wrote ${readme}`);
}
