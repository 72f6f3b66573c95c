// The C++ core's own tests (native/test/core_test.cpp, no Node): load, capture, generation with
// steering and monitors, control vectors, sampler and bad-argument paths.
//  1. the normal build: build/bin/eia-native-test;
//  2. the sanitizer build: build-asan/bin/eia-native-test (our C++ under ASan + UBSan, linked to the
//     same llama.cpp runtime; a source build instruments llama.cpp too), built by `npm test`'s pre-step
//     (`node scripts/build.mjs --for-tests`): no test ever compiles anything, so a slow build can never
//     stall vitest's worker. Run with ASAN_OPTIONS=detect_leaks=1 (LeakSanitizer). Where the sandbox
//     stops LeakSanitizer ("LeakSanitizer has encountered a fatal error", e.g. no ptrace), the leak
//     test is reported as skipped with that reason and ASan/UBSan still run with detect_leaks=0. The
//     leak test first runs a planted leak (core_test --plant-leak), so a clean run means LSan looked.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NORMAL = join(root, 'build', 'bin', 'eia-native-test');
const ASAN = join(root, 'build-asan', 'bin', 'eia-native-test');

interface Run { code: number | null; signal: string | null; out: string; secs: number }

/** Async (a long spawnSync would stall the test worker's RPC with vitest). */
function exec(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, secs: (Date.now() - t0) / 1000 }); });
  });
}

function runTest(bin: string, env: Record<string, string> = {}): Promise<Run> {
  return exec(bin, [], { env: { ...process.env, ...env }, timeout: 20 * 60_000 });
}

function summary(out: string): { passed: number; failed: number } | null {
  const m = /(\d+) passed, (\d+) failed/.exec(out);
  return m ? { passed: Number(m[1]), failed: Number(m[2]) } : null;
}

function expectClean(r: Run, what: string) {
  const s = summary(r.out);
  const failures = r.out.split('\n').filter((l) => /^FAIL|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/.test(l));
  expect(failures, `${what}:\n${r.out.slice(-4000)}`).toEqual([]);
  expect(r.signal, `${what}: killed by ${r.signal}\n${r.out.slice(-2000)}`).toBeNull();
  expect(r.code, `${what}:\n${r.out.slice(-4000)}`).toBe(0);
  expect(s, `${what}: no summary line`).not.toBeNull();
  expect(s!.failed).toBe(0);
  expect(s!.passed).toBeGreaterThanOrEqual(20);
}

describe('native core tests (C++, no Node)', () => {
  it('normal build: build/bin/eia-native-test passes', async () => {
    expect(existsSync(NORMAL), `${NORMAL} missing: run \`npm run build\``).toBe(true);
    const r = await runTest(NORMAL);
    process.stderr.write(`[native-core] normal build: ${summary(r.out) ? `${summary(r.out)!.passed} passed` : '?'} in ${r.secs.toFixed(1)} s\n`);
    expectClean(r, 'eia-native-test');
  }, 10 * 60_000);
});

/** The sanitizer build's one full run, shared by the tests below (each awaits it; none relies on another having run). */
interface SanitizerRun { r: Run; lsanWorks: boolean; lsanWhy: string }
let sanitizerRun: Promise<SanitizerRun> | null = null;
const SAN_ENV = { UBSAN_OPTIONS: 'print_stacktrace=1', ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' };
const LSAN_FATAL = /LeakSanitizer has encountered a fatal error/;

function runSanitizers(): Promise<SanitizerRun> {
  sanitizerRun ??= (async () => {
    // LeakSanitizer on; if the sandbox cannot run it, say so and run ASan + UBSan without it
    const r = await runTest(ASAN, SAN_ENV);
    if (!LSAN_FATAL.test(r.out)) return { r, lsanWorks: true, lsanWhy: '' };
    const lsanWhy = r.out.split('\n').filter((l) => /LeakSanitizer|HINT|ptrace/i.test(l)).slice(0, 3).join(' | ');
    process.stderr.write(`[native-core] LeakSanitizer cannot run here (${lsanWhy}); rerunning with detect_leaks=0\n`);
    return { r: await runTest(ASAN, { ...SAN_ENV, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0' }), lsanWorks: false, lsanWhy };
  })();
  return sanitizerRun;
}

describe('native core tests under AddressSanitizer / UBSan / LeakSanitizer (build-asan/)', () => {
  it('ASan + UBSan: build-asan/bin/eia-native-test passes with no sanitizer report', async () => {
    expect(existsSync(ASAN), `${ASAN} missing: \`npm test\` builds it first (node scripts/build.mjs --for-tests)`).toBe(true);
    const { r, lsanWorks } = await runSanitizers();
    process.stderr.write(`[native-core] sanitizer run (${lsanWorks ? 'ASan+UBSan+LSan' : 'ASan+UBSan, LSan unavailable'}): `
      + `${summary(r.out) ? `${summary(r.out)!.passed} passed, ${summary(r.out)!.failed} failed` : 'no summary'} in ${r.secs.toFixed(1)} s\n`);
    expectClean(r, `eia-native-test (sanitizers${lsanWorks ? ' incl. LSan' : ', LSan unavailable'})`);
  }, 20 * 60_000);

  it('LeakSanitizer: it reports a planted leak, and reports none in the core tests (detect_leaks=1)', async (ctx) => {
    expect(existsSync(ASAN), `${ASAN} missing: \`npm test\` builds it first (node scripts/build.mjs --for-tests)`).toBe(true);
    // the positive control first: one lost malloc, then exit (native/test/core_test.cpp --plant-leak)
    const planted = await exec(ASAN, ['--plant-leak'], { env: { ...process.env, ...SAN_ENV }, timeout: 60_000 });
    if (LSAN_FATAL.test(planted.out)) ctx.skip(`LeakSanitizer cannot run in this sandbox: ${planted.out.split('\n').filter((l) => /LeakSanitizer|HINT|ptrace/i.test(l)).slice(0, 3).join(' | ')}`);
    expect(planted.out, 'LSan finds the planted leak').toMatch(/ERROR: LeakSanitizer: detected memory leaks[\s\S]*4096 byte\(s\) leaked/);
    expect(planted.code, 'a leak makes the process fail').not.toBe(0);
    const { r, lsanWorks, lsanWhy } = await runSanitizers();
    expect(lsanWorks, `LSan ran on the planted leak but not on the core tests: ${lsanWhy}`).toBe(true);
    expect(r.out).not.toMatch(/ERROR: LeakSanitizer/);
    expectClean(r, 'eia-native-test (detect_leaks=1)');
  }, 20 * 60_000);
});
