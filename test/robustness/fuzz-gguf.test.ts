// Hostile GGUF files: mutated synthetic models (tiny llama / qwen2 / phi3 / q8_0 llama and the
// planted model) are loaded in child processes (Model.load + createContext + a short capture).
// Every case must either load or reject with a JS error; a child killed by a signal (SIGABRT from
// a GGML_ASSERT, SIGSEGV, ...) or hanging fails the test, naming the case (seed, id, base file,
// mutation). Mutations (test/helpers/fuzz-child.mjs): truncation at and around every section
// boundary (header fields, each KV pair, tensor infos, alignment padding, data start, inside the
// data), absurd counts / lengths / dimensions / types / offsets / hyper-parameters, and random
// byte flips (mostly in the metadata).
//
// EIA_FUZZ_CASES (default 2000; long mode 20000), EIA_FUZZ_SEED (default 1), EIA_FUZZ_JOBS
// (parallel children, default 2), EIA_FUZZ_ONLY=ID,ID (rerun named cases). Cases run 100 per child; when a child dies, the case it was
// running is rerun alone in a fresh child to confirm, and the rest of the batch continues.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS helper (also the child process script)
import { buildCases, readGgufLayout } from '../helpers/fuzz-child.mjs';
import { synthTo, tempDir } from '../helpers/fixtures.js';

const CHILD = fileURLToPath(new URL('../helpers/fuzz-child.mjs', import.meta.url));
const TOTAL = Number(process.env.EIA_FUZZ_CASES || 2000);
const SEED = Number(process.env.EIA_FUZZ_SEED || 1);
const JOBS = Math.max(1, Math.min(Number(process.env.EIA_FUZZ_JOBS || 2), availableParallelism()));
const PER_CHILD = 100;
const CASE_BUDGET_MS = 3000;  // per case, on a busy 2-core machine (typical: ~100 ms)

interface FuzzCase { id: number; seed: number; base: string; name: string; truncate?: number; writes: unknown[] }
interface Outcome { ok: number[]; errors: Map<number, string>; crashed?: { id: number | null; signal: string | null; code: number | null; stderr: string }; finished: boolean; fatal?: string }

const tmp = tempDir('eia-fuzz-');
afterAll(() => tmp.cleanup());

let bases: Record<string, string> = {};
let cases: FuzzCase[] = [];

function runChild(batch: FuzzCase[], tag: string, extraEnv: Record<string, string> = {}): Promise<Outcome> {
  const casesFile = join(tmp.dir, `cases-${tag}.json`);
  writeFileSync(casesFile, JSON.stringify({ bases, tmpFile: join(tmp.dir, `case-${tag}.gguf`), cases: batch }));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, casesFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, EIA_NATIVE_LOG_LEVEL: '0', ...extraEnv },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), batch.length * CASE_BUDGET_MS + 10_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res: Outcome = { ok: [], errors: new Map(), finished: false };
      let current: number | null = null;
      for (const line of out.split('\n')) {
        const sp = line.indexOf(' ');
        const kind = sp < 0 ? line : line.slice(0, sp);
        const rest = sp < 0 ? '' : line.slice(sp + 1);
        if (kind === 'start') current = Number(rest);
        else if (kind === 'ok') { res.ok.push(Number(rest)); current = null; }
        else if (kind === 'error') {
          const sp2 = rest.indexOf(' ');
          res.errors.set(Number(rest.slice(0, sp2)), JSON.parse(rest.slice(sp2 + 1)));
          current = null;
        } else if (kind === 'nonerror') {
          // rejected with something that is not an Error: counts as a failure
          const sp2 = rest.indexOf(' ');
          res.crashed = { id: Number(rest.slice(0, sp2)), signal: null, code: null, stderr: `rejected with a non-Error: ${rest.slice(sp2 + 1)}` };
          current = null;
        } else if (kind === 'done') res.finished = true;
        else if (kind === 'fatal') res.fatal = rest;  // the child script itself failed (not inside a case)
      }
      if (!res.crashed && (!res.finished || code !== 0 || signal)) {
        res.crashed = { id: current, signal, code, stderr: [res.fatal ?? '', ...err.split('\n').filter((l) => l.trim()).slice(-4)].filter(Boolean).join(' | ') };
      }
      resolve(res);
    });
  });
}

describe('fuzz: mutated GGUF files load or throw a JS error, never crash the process', () => {
  beforeAll(async () => {
    const made = [
      ['llama', await synthTo(tmp.dir, 'base-llama', { arch: 'llama', shape: 'tiny', type: 'f32', seed: 1 })],
      ['qwen2', await synthTo(tmp.dir, 'base-qwen2', { arch: 'qwen2', shape: 'tiny', type: 'f32', seed: 1 })],
      ['phi3', await synthTo(tmp.dir, 'base-phi3', { arch: 'phi3', shape: 'tiny', type: 'f32', seed: 1 })],
      ['llama-q8_0', await synthTo(tmp.dir, 'base-llama-q8', { arch: 'llama', shape: 'tiny', type: 'q8_0', seed: 2 })],
      ['planted', await synthTo(tmp.dir, 'base-planted', { planted: true, seed: 3 })],
    ] as const;
    bases = Object.fromEntries(made.map(([k, r]) => [k, r.path]));
    const layouts = made.map(([k, r]) => ({ name: k, layout: readGgufLayout(readFileSync(r.path)) }));
    // controls first: every unmodified base must load
    const controls = made.map(([k]) => ({ base: k, name: 'unmodified', writes: [] }));
    cases = [...controls, ...buildCases(layouts, TOTAL - controls.length, SEED)].map((c, i) => ({ ...c, id: i, seed: SEED }));
    // reproduce named cases: EIA_FUZZ_ONLY=17,1234 (same EIA_FUZZ_CASES and EIA_FUZZ_SEED as the failing run)
    const only = (process.env.EIA_FUZZ_ONLY ?? '').split(',').filter(Boolean).map(Number);
    if (only.length) cases = cases.filter((c, i) => i < controls.length || only.includes(c.id));
  });

  it('self-check: a child that aborts inside a case is detected and the case named', async () => {
    const batch = cases.slice(0, 3);
    const r = await runChild(batch, 'selftest', { EIA_FUZZ_SELFTEST_ABORT: String(batch[1].id) });
    expect(r.ok).toContain(batch[0].id);
    expect(r.crashed?.id).toBe(batch[1].id);
    expect(r.crashed?.signal).toBe('SIGABRT');
  });

  it(`${TOTAL} cases (seed ${SEED}): no child killed by a signal, none hangs`, async () => {
    const t0 = Date.now();
    const okIds = new Set<number>();
    const errors = new Map<number, string>();
    const crashes: string[] = [];
    const queue: FuzzCase[][] = [];
    const retried = new Set<number>();
    for (let i = 0; i < cases.length; i += PER_CHILD) queue.push(cases.slice(i, i + PER_CHILD));
    let n = 0;
    const describeCase = (c: FuzzCase) => `seed ${c.seed} case #${c.id} [${c.base}] ${c.name}`;
    const worker = async (w: number) => {
      for (;;) {
        const batch = queue.shift();
        if (!batch) return;
        const r = await runChild(batch, `${w}-${n++}`);
        r.ok.forEach((id) => okIds.add(id));
        r.errors.forEach((m, id) => errors.set(id, m));
        if (!r.crashed) continue;
        const idx = r.crashed.id === null ? -1 : batch.findIndex((c) => c.id === r.crashed!.id);
        if (idx < 0) {
          // died before/after any case (e.g. the addon being rebuilt at that moment): retry the batch once
          if (!retried.has(batch[0].id)) {
            retried.add(batch[0].id);
            process.stderr.write(`[fuzz-gguf] child died outside a case (signal ${r.crashed.signal}, code ${r.crashed.code}: ${r.crashed.stderr}); retrying its batch\n`);
            queue.unshift(batch.filter((c) => !r.ok.includes(c.id) && !r.errors.has(c.id)));
          } else {
            crashes.push(`child died outside a case twice (signal ${r.crashed.signal}, code ${r.crashed.code}): ${r.crashed.stderr}`);
          }
          continue;
        }
        const c = batch[idx];
        // confirm alone in a fresh child, then go on with the rest of the batch
        const alone = await runChild([c], `${w}-${n++}-alone`);
        const how = alone.crashed
          ? `${alone.crashed.signal ?? `exit ${alone.crashed.code}`}: ${alone.crashed.stderr}`
          : `${r.crashed.signal ?? `exit ${r.crashed.code}`} in a batch (did not reproduce alone): ${r.crashed.stderr}`;
        crashes.push(`${describeCase(c)} -> ${how}`);
        if (idx + 1 < batch.length) queue.unshift(batch.slice(idx + 1));
      }
    };
    await Promise.all(Array.from({ length: JOBS }, (_, w) => worker(w)));
    const secs = (Date.now() - t0) / 1000;
    const kinds = new Map<string, number>();
    for (const m of errors.values()) {
      const k = m.replace(/'[^']*'/g, "'…'").replace(/-?\d+(\.\d+)?/g, 'N').slice(0, 110);
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    process.stderr.write(`[fuzz-gguf] ${cases.length} cases (seed ${SEED}, ${JOBS} jobs) in ${secs.toFixed(1)} s: `
      + `${okIds.size} loaded, ${errors.size} JS errors, ${crashes.length} crashes\n`);
    process.stderr.write([...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `  ${String(v).padStart(5)}  ${k}`).join('\n') + '\n');
    expect(crashes, `crashed cases:\n${crashes.join('\n')}`).toEqual([]);
    for (let i = 0; i < Object.keys(bases).length; i++) expect(okIds.has(i), `unmodified base ${cases[i].base} must load: ${errors.get(i)}`).toBe(true);
    expect(okIds.size + errors.size).toBe(cases.length);
    if (!process.env.EIA_FUZZ_ONLY) expect(errors.size).toBeGreaterThan(cases.length / 2);
    for (const m of errors.values()) expect(m.length).toBeGreaterThan(0);
  }, Math.max(20 * 60_000, TOTAL * 600));
});
