// The lock of a RUN folder: one writing process at a time. A RUN folder is a transaction (steer,
// run, demo, score and report write into it); two writers would interleave their samples or pair a
// new stage with an old one. The lock is a file, RUN/.eia-lock (run-folder.ts), created atomically
// (hard link of a complete temporary file, so nobody ever reads a half-written lock) and holding
// who owns it: pid, host, the process's start time and the command.
//
// A second writer fails at once with E_LOCKED naming the holder. A lock whose holder is gone (a
// process killed with SIGKILL leaves its lock behind) is taken over: on the same host the holder is
// gone when its pid does not exist or belongs to a process started at another time (pid reuse).
// A lock written on another host is never taken over (its process cannot be checked from here).
//
// Within one process the lock is re-entrant along one chain of calls (AsyncLocalStorage): `run`
// holds it and its sweep stage takes it again; an unrelated concurrent call of the same process is
// refused like another process. Held locks are removed on process.exit() too (the CLI's exit 130).
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { writeNewFile } from '../util/atomic-write.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { EiaError } from '../util/errors.js';
import { asIoError, errnoOf } from '../util/io-error.js';
import { warn } from '../util/note.js';
import { checkOwnFiles, RUN_FILES } from './run-folder.js';

/** What a lock file holds (snake_case, as every file eia-native writes). */
export interface LockHolder {
  pid: number;
  host: string;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat field 22), when known: tells a reused pid apart. */
  pid_start: number | null;
  /** The command that took the lock (e.g. "steer"). */
  command: string;
  started_at: string;
  /** Random: tells this lock from an older one of the same process. */
  token: string;
}

const held = new AsyncLocalStorage<ReadonlySet<string>>();
/** Locks this process holds: path -> token (removed on exit). */
const owned = new Map<string, string>();
let exitHook = false;

/** Start time of a process (Linux /proc), or null where it cannot be read. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[19]);  // field 22 = the 20th after the name
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Whether the holder of a lock still runs (a lock of another host is assumed to). */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;  // ESRCH: no such process
  }
  if (h.pid_start === null) return true;
  const now = processStartTime(h.pid);
  return now === null || now === h.pid_start;
}

/** A file at the lock's path that eia-native did not write: refused by name, never waited for or taken over. */
const foreign = (path: string, what: string): EiaError =>
  new EiaError('E_LOCKED', `${path} is ${what}, not an eia-native lock file; remove it if no eia-native process uses this folder`);

/**
 * The holder a lock file names, or null when there is no lock. A lock is a regular file holding a
 * positive pid and a host: a folder, a symbolic link (dangling or not) or a file naming pid 0 or -1
 * (which process.kill(pid, 0) would report alive forever: the process group, every process) is not
 * one eia-native wrote, and is refused naming the path.
 */
function readHolder(path: string): LockHolder | null {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw asIoError(e, path);
  }
  if (st.isSymbolicLink()) throw foreign(path, 'a symbolic link');
  if (!st.isFile()) throw foreign(path, st.isDirectory() ? 'a folder' : 'not a regular file');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw asIoError(e, path);
  }
  let v: LockHolder;
  try {
    v = JSON.parse(text) as LockHolder;
  } catch {
    throw foreign(path, 'not JSON');
  }
  if (typeof v !== 'object' || v === null || typeof v.host !== 'string') throw foreign(path, 'a file without a holder');
  if (!Number.isSafeInteger(v.pid) || v.pid <= 0) throw foreign(path, `a file naming pid ${JSON.stringify(v.pid)} (not a process id)`);
  return v;
}

function describe(h: LockHolder): string {
  return `pid ${h.pid}${h.host !== hostname() ? ` on host ${h.host}` : ''}, \`${h.command}\`, since ${h.started_at}`;
}

/** Creates `path` holding `text` atomically: fails with EEXIST when it exists. */
function createExclusive(path: string, text: string): void {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeNewFile(tmp, text);  // complete and on disk, or removed again (E_IO naming it)
    linkSync(tmp, path);
  } catch (e) {
    const code = errnoOf(e);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    // a file system without hard links: exclusive create, then write (a reader may meet it empty for a moment)
    writeNewFile(path, text);
  } finally {
    try { unlinkSync(tmp); } catch { /* gone */ }
  }
}

function releaseFile(path: string, token: string): void {
  owned.delete(path);
  try {
    const h = readHolder(path);
    if (h && h.token === token) unlinkSync(path);
  } catch { /* already gone, or no longer ours */ }
}

function onExit(): void {
  for (const [path, token] of [...owned]) releaseFile(path, token);
}

/**
 * Takes the lock of RUN folder `dir` (created if missing) for `command`. Throws E_LOCKED naming the
 * holder when another live process has it. Returns the function that releases it; releasing also
 * removes `dir` again when this call created it and it is still empty (a failed command leaves no trace).
 */
export function acquireRunLock(dir: string, command: string, log: (msg: string) => void = warn): () => void {
  const abs = resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new EiaError('E_BAD_ARG', `${dir} exists and is not a folder (expected a RUN folder)`);
  const created = !existsSync(abs);
  try { mkdirSync(abs, { recursive: true }); } catch (e) { throw asIoError(e, abs); }
  const path = join(abs, RUN_FILES.lock);
  const me: LockHolder = {
    pid: process.pid, host: hostname(), pid_start: processStartTime(process.pid), command,
    started_at: new Date().toISOString(), token: randomBytes(8).toString('hex'),
  };
  const undo = () => { if (created) try { rmdirSync(abs); } catch { /* not empty: keep it */ } };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      createExclusive(path, JSON.stringify(me, null, 2) + '\n');
      owned.set(path, me.token);
      if (!exitHook) { process.on('exit', onExit); exitHook = true; }
      const release = () => { releaseFile(path, me.token); undo(); };
      try {
        checkOwnFiles(abs);  // under the lock: no file of this RUN leads into another folder
      } catch (e) {
        release();
        throw e;
      }
      return release;
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') { undo(); throw asIoError(e, path); }
    }
    let h: LockHolder | null;
    try { h = readHolder(path); } catch (e) { undo(); throw e; }
    if (!h) continue;  // released meanwhile: try again
    if (holderAlive(h) && !(h.pid === process.pid && !owned.has(path) && h.host === me.host)) {
      undo();
      throw new EiaError('E_LOCKED', `${dir} is in use by another eia-native process (${describe(h)}); wait for it to finish. ` +
        `A lock left by a process that no longer runs is taken over by itself (${path})`);
    }
    // the holder is gone: move its lock aside (one taker wins the rename), check it is the one we saw, drop it
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try { renameSync(path, aside); } catch { continue; }
    let moved: LockHolder | null = null;
    try { moved = readHolder(aside); } catch { /* unreadable: treat as the stale one */ }
    if (moved && moved.token !== h.token) {
      // a fresh lock of another taker replaced the stale one between our read and the rename: put it back
      try { linkSync(aside, path); } catch { /* a third process holds the name now */ }
      try { unlinkSync(aside); } catch { /* gone */ }
      continue;
    }
    try { unlinkSync(aside); } catch { /* gone */ }
    log(`note: took over the lock of ${dir} left by ${describe(h)}, which no longer runs`);
  }
  undo();
  throw new EiaError('E_LOCKED', `could not take the lock ${path} (other processes keep taking it)`);
}

/**
 * Runs `fn` holding the lock of RUN folder `dir` (see acquireRunLock). Re-entrant along one chain
 * of calls: a call inside `fn` that locks the same folder runs at once.
 */
export async function withRunLock<T>(dir: string, command: string, fn: () => Promise<T> | T, log?: (msg: string) => void): Promise<T> {
  const abs = resolve(dir);
  const mine = held.getStore();
  if (mine?.has(abs)) return fn();
  const release = acquireRunLock(abs, command, log);
  try {
    return await held.run(new Set([...(mine ?? []), abs]), fn);
  } finally {
    release();
  }
}
