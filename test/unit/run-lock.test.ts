// The RUN folder lock (lib/io/run-lock.ts): one writer at a time, a second fails at once naming
// the holder's pid, a lock left by a process that no longer runs (or whose pid now belongs to
// another process) is taken over, re-entry along one chain of calls, and no trace left behind.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_FILES } from '../../lib/io/run-folder.js';
import { acquireRunLock, processStartTime, withRunLock, type LockHolder } from '../../lib/io/run-lock.js';
import { EiaError } from '../../lib/util/errors.js';
import { tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-lock-');
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = () => join(tmp.dir, `run${n++}`);

function writeLock(dir: string, h: Partial<LockHolder>): void {
  mkdirSync(dir, { recursive: true });
  const holder: LockHolder = { pid: 1, host: hostname(), pid_start: null, command: 'steer', started_at: '2025-01-01T00:00:00Z', token: 'other', ...h };
  writeFileSync(join(dir, RUN_FILES.lock), JSON.stringify(holder));
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('RUN folder lock', () => {
  it('holds a lock file naming this process while held; release removes it (and the folder it created)', () => {
    const dir = fresh();
    const release = acquireRunLock(dir, 'steer');
    const h = JSON.parse(readFileSync(join(dir, RUN_FILES.lock), 'utf8')) as LockHolder;
    expect(h).toMatchObject({ pid: process.pid, host: hostname(), command: 'steer' });
    expect(h.pid_start).toBe(processStartTime(process.pid));
    release();
    expect(existsSync(dir)).toBe(false);
  });

  it('a second writer fails at once with E_LOCKED naming the holder\'s pid', () => {
    const dir = fresh();
    // a live holder: the parent of this process (alive for the whole test), with its real start time
    writeLock(dir, { pid: process.ppid, pid_start: processStartTime(process.ppid), command: 'run' });
    let err: unknown;
    const t0 = Date.now();
    try { acquireRunLock(dir, 'steer'); } catch (e) { err = e; }
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(EiaError);
    expect((err as EiaError).code).toBe('E_LOCKED');
    expect((err as Error).message).toMatch(new RegExp(`in use by another eia-native process \\(pid ${process.ppid}, \`run\``));
    // the holder's lock is untouched
    expect(JSON.parse(readFileSync(join(dir, RUN_FILES.lock), 'utf8')).pid).toBe(process.ppid);
  });

  it('a lock left by a process that no longer runs is taken over, with a note', () => {
    const dir = fresh();
    const pid = deadPid();
    writeLock(dir, { pid });
    const notes: string[] = [];
    const release = acquireRunLock(dir, 'steer', (m) => notes.push(m));
    expect(JSON.parse(readFileSync(join(dir, RUN_FILES.lock), 'utf8')).pid).toBe(process.pid);
    expect(notes.join('\n')).toMatch(new RegExp(`took over the lock .* left by pid ${pid}, .* which no longer runs`));
    release();
    // the folder existed before: it stays, without the lock and without stale leftovers
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a live pid that belongs to a process started at another time (pid reuse) is stale too', () => {
    const start = processStartTime(process.ppid);
    if (start === null) return expect(process.platform).not.toBe('linux');  // only Linux has /proc start times
    const dir = fresh();
    writeLock(dir, { pid: process.ppid, pid_start: start + 12345 });
    const release = acquireRunLock(dir, 'steer');
    expect(JSON.parse(readFileSync(join(dir, RUN_FILES.lock), 'utf8')).pid).toBe(process.pid);
    release();
  });

  it('a lock of another host is never taken over', () => {
    const dir = fresh();
    writeLock(dir, { pid: deadPid(), host: `not-${hostname()}` });
    expect(() => acquireRunLock(dir, 'steer')).toThrow(/on host not-/);
  });

  it('withRunLock is re-entrant along one chain of calls, and refuses an unrelated concurrent call of the same process', async () => {
    const dir = fresh();
    let inner = false;
    let concurrent: unknown = null;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const outer = withRunLock(dir, 'run', async () => {
      await withRunLock(dir, 'steer', async () => { inner = true; });
      await gate;
    });
    // started outside the chain while `outer` holds the lock
    await new Promise((r) => setTimeout(r, 10));
    await withRunLock(dir, 'score', async () => {}).catch((e) => { concurrent = e; });
    release();
    await outer;
    expect(inner).toBe(true);
    expect((concurrent as EiaError).code).toBe('E_LOCKED');
    expect(existsSync(join(dir, RUN_FILES.lock))).toBe(false);
  });

  it('a failure inside withRunLock releases the lock and leaves no folder it created', async () => {
    const dir = fresh();
    await expect(withRunLock(dir, 'steer', async () => { throw new EiaError('E_BAD_ARG', 'nope'); })).rejects.toThrow('nope');
    expect(existsSync(dir)).toBe(false);
  });

  it('a file that is not a lock is an error, not taken over', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, RUN_FILES.lock), 'garbage');
    expect(() => acquireRunLock(dir, 'steer')).toThrow(/not an eia-native lock file/);
  });

  it('pid 0 or -1, a folder or a symbolic link (dangling or not) at the lock path: E_LOCKED naming it, at once, never alive forever (issue 23)', () => {
    const cases: [string, (p: string) => void, RegExp][] = [
      ['pid 0', (p) => writeFileSync(p, JSON.stringify({ pid: 0, host: hostname(), pid_start: null, command: 'steer', started_at: 'x', token: 't' })), /a file naming pid 0 \(not a process id\)/],
      ['pid -1', (p) => writeFileSync(p, JSON.stringify({ pid: -1, host: hostname(), pid_start: null, command: 'steer', started_at: 'x', token: 't' })), /a file naming pid -1 \(not a process id\)/],
      ['a folder', (p) => mkdirSync(p), /is a folder, not an eia-native lock file/],
      ['a dangling link', (p) => symlinkSync(join(tmp.dir, 'nowhere'), p), /is a symbolic link, not an eia-native lock file/],
      ['a link to a real lock', (p) => { writeLock(join(tmp.dir, 'real'), { pid: process.pid }); symlinkSync(join(tmp.dir, 'real', RUN_FILES.lock), p); }, /is a symbolic link/],
    ];
    for (const [what, make, message] of cases) {
      const dir = fresh();
      mkdirSync(dir);
      const lock = join(dir, RUN_FILES.lock);
      make(lock);
      let err: unknown;
      const t0 = Date.now();
      try { acquireRunLock(dir, 'steer')(); } catch (e) { err = e; }
      expect((err as EiaError)?.code, `${what}: ${String(err)}`).toBe('E_LOCKED');
      expect((err as Error).message, what).toMatch(message);
      expect((err as Error).message, what).toContain(lock);
      expect(Date.now() - t0, what).toBeLessThan(2000);
      expect(readdirSync(dir).filter((f) => f !== RUN_FILES.lock), `${what}: no temporary file left`).toEqual([]);
    }
  });

  it('a RUN whose own files are symbolic links is refused under the lock, which is released (issue 23)', () => {
    const dir = fresh();
    mkdirSync(dir);
    const other = join(tmp.dir, 'other-run');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, RUN_FILES.samples), '');
    symlinkSync(join(other, RUN_FILES.samples), join(dir, RUN_FILES.samples));
    let err: unknown;
    try { acquireRunLock(dir, 'steer')(); } catch (e) { err = e; }
    expect((err as EiaError)?.code).toBe('E_CONFLICT');
    expect((err as Error).message).toMatch(/samples\.jsonl is a symbolic link \(to .*other-run\/samples\.jsonl\)/);
    expect(existsSync(join(dir, RUN_FILES.lock))).toBe(false);
  });
});
