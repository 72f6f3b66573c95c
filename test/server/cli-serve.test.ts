// `eia-native serve` as a process: it starts on a loopback port, answers, and on SIGTERM drains and
// exits 0 (the request running at that moment still completes); a second SIGTERM stops it at once,
// and the running stream ends with an error event before the process exits 130. The shared grammar:
// -m, --ctx (= --ctx-size), -t; a probe of another model in --vectors is a warning line at start (stderr).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { saveProbe } from '../../lib/probes/probe-file.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { synthTo, tempDir } from '../helpers/fixtures.js';
import { postJson, readSse } from './server-fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

// the CLI runs dist/: compiled by npm test before vitest, never here
beforeAll(() => requireFreshDist());

const tmp = tempDir('eia-serve-cli-');
afterAll(() => tmp.cleanup());

/** Starts `eia-native serve` on a free loopback port; resolves with its URL once it listens. */
async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args, '--port', '0', '-t', '1'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exited };
}

describe('eia-native serve', () => {
  it('serves on a loopback port, then drains and exits 0 on SIGTERM', async () => {
    const model = (await synthTo(tmp.dir, 'cli-serve', { planted: true, seed: 3 })).path;
    const vectors = join(tmp.dir, 'vectors');
    mkdirSync(vectors);
    saveProbe(vectors, { direction: Float32Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0)), layer: 1, pooling: 'mean', method: 'mean-diff', model: { sha256: 'ab'.repeat(32), path: '/elsewhere/m.gguf' }, trainHash: '', nTrain: 0 });
    const child = spawn(process.execPath, [CLI, 'serve', '-m', model, '--vectors', vectors, '--port', '0', '-t', '1', '--ctx', '2048', '--slots', '2'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (d) => {
          stderr += d;
          const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
          if (m) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
      });
      expect(((await (await fetch(`${url}/health`)).json()) as { status: string }).status).toBe('ok');
      expect(stderr).toMatch(/warning: vector 'layer1' was trained on another model \(sha256 abababababab…, \/elsewhere\/m\.gguf\)/);
      expect(((await (await fetch(`${url}/slots`)).json()) as { n_ctx_slot: number }).n_ctx_slot).toBe(2048);
      const models = await (await fetch(`${url}/v1/models`)).json() as { data: { id: string }[] };
      expect(models.data[0].id).toBe('cli-serve');
      // a long streamed request; SIGTERM while it runs: it still ends with [DONE]
      const res = await postJson(`${url}/v1/completions`, { prompt: 'Hello', max_tokens: 600, ignore_eos: true, stream: true, return_tokens: true });
      let signalled = false;
      const events = await readSse(res, () => {
        if (!signalled) { signalled = true; child.kill('SIGTERM'); }
      });
      expect(events[events.length - 1]).toBe('[DONE]');
      expect((events.filter((e) => e !== '[DONE]') as { tokens?: number[] }[]).flatMap((e) => e.tokens ?? []).length).toBe(600);
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/SIGTERM: draining/);
      expect(stderr).toMatch(/stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a second SIGTERM stops at once: the running stream ends with an error event, then exit 130 with a clear message', async () => {
    const model = (await synthTo(tmp.dir, 'cli-serve-2', { planted: true, seed: 3 })).path;
    const s = await startServe(['-m', model, '--ctx', '4096', '--slots', '1']);
    try {
      const res = await postJson(`${s.url}/v1/completions`, { prompt: 'Hello', max_tokens: 4000, ignore_eos: true, stream: true });
      let signals = 0;
      const events = await readSse(res, () => {
        if (signals === 0) {
          signals++;
          s.child.kill('SIGTERM');
          // the second once the first is noted (the drain has begun)
          const again = setInterval(() => {
            if (/draining/.test(s.stderr())) { clearInterval(again); s.child.kill('SIGTERM'); }
          }, 20);
        }
      });
      const last = events[events.length - 1] as { error?: { code: string; type: string; message: string } };
      expect(last, JSON.stringify(events.slice(-2))).toHaveProperty('error');
      expect(last.error!.code).toBe('shutting_down');
      expect(last.error!.type).toBe('unavailable_error');
      expect(events).not.toContain('[DONE]');
      expect(await s.exited).toBe(130);
      expect(s.stderr()).toMatch(/SIGTERM again: stopping now \(1 running and 0 queued sequences end with an error\)/);
      expect(s.stderr()).toMatch(/stopped before its requests finished \(exit 130\)/);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('--request-timeout-ms: a non-negative integer of milliseconds, refused before anything loads', async () => {
    for (const [v, msg] of [['-1', /--request-timeout-ms must be a non-negative integer, got -1/], ['1.5', /--request-timeout-ms must be a non-negative integer, got 1\.5/], ['3000000000', /--request-timeout-ms is at most 2147483647/]] as const) {
      const r = await runCli(['serve', '--model', 'whatever.gguf', '--request-timeout-ms', v]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
