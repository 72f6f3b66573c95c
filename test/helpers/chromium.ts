// Headless Chromium for tests: Debian's `chromium` package driven by playwright-core (no browser
// download). When the binary is missing we try `apt-get install -y chromium` once (as .ci/run
// does); only if that is impossible does the caller skip, with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Flags for a quiet headless run on a machine without network. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

function findBinary(): string | null {
  const env = process.env.EIA_CHROMIUM;
  if (env && existsSync(env)) return env;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** apt-get without blocking the event loop (10 minutes at most). */
function aptGet(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('apt-get', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), 600_000);
    child.on('error', (e) => { clearTimeout(timer); done({ status: null, stdout, stderr: stderr + String(e) }); });
    child.on('close', (status) => { clearTimeout(timer); done({ status, stdout, stderr }); });
  });
}

/**
 * The Chromium binary, installing Debian's package when it is missing and we can (root + apt-get).
 * Returns { path } or { skip: reason }.
 */
export async function ensureChromium(): Promise<{ path: string } | { skip: string }> {
  const found = findBinary();
  if (found) return { path: found };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!isRoot || !hasApt) return { skip: `chromium is not installed and cannot be installed here (${!hasApt ? 'no apt-get' : 'not root'}); install Debian's chromium package` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write('[chromium] not found; installing Debian\'s chromium package (apt-get install -y chromium)\n');
  let r = await aptGet(['install', '-y', '--no-install-recommends', 'chromium'], env);
  if (r.status !== 0) {
    await aptGet(['update'], env);
    r = await aptGet(['install', '-y', '--no-install-recommends', 'chromium'], env);
  }
  const after = findBinary();
  if (after) return { path: after };
  return { skip: `chromium is not installed and apt-get install chromium failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-2).join(' ')}` };
}

/** Launches headless Chromium with a fresh profile folder; close() also removes it. */
export async function launchChromium(executablePath: string): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'eia-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens a report; returns the page and the console errors, failed requests and non-file requests seen. */
export async function openReport(context: BrowserContext, file: string) {
  const page = await context.newPage();
  const errors: string[] = [];
  const external: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => { if (!/^(file|data):/.test(r.url())) external.push(r.url()); });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, external };
}

/** Per figure: its SVGs, and per SVG its size and the number of drawn data marks. */
export async function figureStats(page: import('playwright-core').Page) {
  return page.$$eval('figure.eia-figure', (figs) => figs.map((fig) => ({
    id: fig.getAttribute('data-figure'),
    svgs: [...fig.querySelectorAll(':scope .plots > svg')].map((svg) => {
      const box = svg.getBoundingClientRect();
      // Data marks: Plot's mark groups (not axes, grids, frames or our legend) with visible shapes.
      const groups = [...svg.querySelectorAll('g[aria-label]')]
        .filter((g) => ['dot', 'line', 'bar', 'rect', 'area', 'link', 'rule'].includes(g.getAttribute('aria-label')!));
      let marks = 0;
      for (const g of groups) {
        for (const m of g.querySelectorAll('circle, rect, path, line')) {
          const b = (m as SVGGraphicsElement).getBBox();
          if (b.width > 0 || b.height > 0) marks++;
        }
      }
      const dataGroups = groups.filter((g) => g.getAttribute('aria-label') !== 'rule').length;
      return { width: box.width, height: box.height, children: svg.childElementCount, marks, dataGroups };
    }),
  })));
}
