// Runs the eia-native CLI as a child process. Asynchronous on purpose: a long spawnSync would block
// the vitest worker's RPC heartbeat.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'eia-native.js');

export interface RunCliOptions {
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Kill the child (SIGKILL) after this long; its status is then null and stderr says so. */
  timeoutMs?: number;
}

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '', stderr = '';
    const timer = opts.timeoutMs === undefined ? null : setTimeout(() => {
      stderr += `\n[test] killed after ${opts.timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('error', (e) => { if (timer) clearTimeout(timer); rej(e); });
    child.on('close', (status) => { if (timer) clearTimeout(timer); res({ status, stdout, stderr }); });
  });
}
