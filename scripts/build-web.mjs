#!/usr/bin/env node
// Builds the playground page (web/playground) into dist/web, the folder `eia-native serve` serves at /:
//  1. type-checks the browser code (tsc -p web/playground/tsconfig.json; DOM types, no Node);
//  2. bundles it with esbuild: one script (ES2020 module) and one style sheet (ours + uPlot's),
//     minified, their names carrying a hash of their content so that browsers may cache them for good;
//  3. writes index.html (the template with those names filled in) and manifest.json (the files and
//     which of them never change), into a fresh folder that replaces dist/web in one rename.
// Run by `npm run build:ts` (and so by `prepare`, which `npm ci` runs) and by `npm test`'s pre-step.
// Flags: --quiet (print only failures), --no-check (skip the type check; esbuild alone).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web', 'playground');
const out = join(root, 'dist', 'web');
const argv = process.argv.slice(2);
const quiet = argv.includes('--quiet');
const log = (m) => { if (!quiet) process.stderr.write(`[eia-native build-web] ${m}\n`); };
const die = (m) => { process.stderr.write(`[eia-native build-web] ${m}\n`); process.exit(1); };

const require = createRequire(import.meta.url);
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // a published package ships dist/web already built; building needs the dev dependencies
  if (existsSync(join(out, 'manifest.json'))) { log('esbuild is not installed; keeping the built page in dist/web'); process.exit(0); }
  die('esbuild is not installed (a dev dependency): run `npm ci` in the package folder');
}

const t0 = Date.now();
if (!argv.includes('--no-check')) {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(src, 'tsconfig.json')], { encoding: 'utf8' });
  if (r.status !== 0) die(`type check of web/playground failed:\n${r.stdout}${r.stderr}`);
}

const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
try {
  const result = await esbuild.build({
    entryPoints: { playground: join(src, 'src', 'main.ts'), 'playground-style': join(src, 'src', 'style.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    outdir: tmp,
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    legalComments: 'eof',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => p.split('/').pop());
  const js = outputs.find((f) => /^playground-[A-Z0-9]+\.js$/.test(f));
  const css = outputs.find((f) => /^playground-style-[A-Z0-9]+\.css$/.test(f));
  if (!js || !css) die(`esbuild wrote ${outputs.join(', ')}: no script or style sheet`);
  const icon = readFileSync(join(src, 'favicon.svg'));
  const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  copyFileSync(join(src, 'favicon.svg'), join(tmp, iconName));
  const names = { 'playground.js': js, 'playground.css': css, 'favicon.svg': iconName };
  const html = readFileSync(join(src, 'index.html'), 'utf8').replace(/\{\{([a-z.]+)\}\}/g, (m, k) => {
    if (!names[k]) die(`index.html names an unknown asset {{${k}}}`);
    return names[k];
  });
  writeFileSync(join(tmp, 'index.html'), html);
  const files = [{ name: 'index.html', immutable: false }, ...Object.values(names).map((name) => ({ name, immutable: true }))];
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ format: 'eia-playground', version: 1, files }, null, 2) + '\n');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(dirname(out), { recursive: true });
  renameSync(tmp, out);
  log(`dist/web: ${files.map((f) => f.name).join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  die(e?.errors ? e.errors.map((x) => `${x.location?.file ?? ''}:${x.location?.line ?? ''} ${x.text}`).join('\n') : String(e?.stack ?? e));
}
