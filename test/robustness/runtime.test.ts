// Bad setups of the llama.cpp runtime (issue 12): each gives a clear error and exit code 1, never a
// crash — the prebuilt package missing or damaged (the message suggests EIA_BUILD=source), a GPU
// package without its driver/runtime (a clear message when the GPU is asked for, a CPU fallback
// when it is not), a backend folder that does not exist or holds no CPU backend.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeInfo, runtimeManifest } from '../../lib/engine/runtime-info.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { synthTo, tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-runtime-');
afterAll(() => tmp.cleanup());

interface Run { status: number | null; signal: string | null; stdout: string; stderr: string }

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

const manifest = runtimeManifest();
const prebuilt = manifest.mode === 'prebuilt';
let modelPath = '';

beforeAll(async () => {
  modelPath = (await synthTo(tmp.dir, 'rt', { arch: 'llama', shape: 'tiny', seed: 5 })).path;
});

function expectCleanFailure(r: Run, pattern: RegExp) {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/GGML_ASSERT|Segmentation|Aborted|core dumped/);
}

describe('runtime setups', () => {
  // A copy of the package with one library damaged, and a copy of the addon whose manifest points
  // at it (the dynamic loader is pointed there too, as a moved install would find it).
  async function damagedCopy(damage: (file: string) => void): Promise<Run> {
    const pkg = join(tmp.dir, `pkg-${Math.random().toString(36).slice(2)}`);
    mkdirSync(pkg, { recursive: true });
    for (const f of readdirSync(manifest.libDir!)) copyFileSync(join(manifest.libDir!, f), join(pkg, f));
    const lib = readdirSync(pkg).find((f) => /^libllama.*\.v0\.4\.0\.(so|dylib)$/.test(f))!;
    damage(join(pkg, lib));
    const dir = join(pkg, 'addon');
    mkdirSync(dir);
    copyFileSync(join(ROOT, 'build', 'Release', 'eia_native.node'), join(dir, 'eia_native.node'));
    writeFileSync(join(dir, 'eia-runtime.json'), JSON.stringify({ ...manifest, libDir: pkg }));
    return run(['info'], { EIA_NATIVE_ADDON: join(dir, 'eia_native.node'), LD_LIBRARY_PATH: pkg, DYLD_LIBRARY_PATH: pkg });
  }

  it('a damaged runtime library (truncated, or altered): exit 1 before the loader maps it, suggesting EIA_BUILD=source', async (ctx) => {
    if (!prebuilt) ctx.skip('this build compiles llama.cpp from source (EIA_BUILD=source): there is no prebuilt library to damage');
    const truncated = await damagedCopy((f) => writeFileSync(f, readFileSync(f).subarray(0, 4096)));
    expectCleanFailure(truncated, /runtime .* is damaged: .*libllama.* has 4096 bytes, \d+ expected[\s\S]*EIA_BUILD=source/);
    const altered = await damagedCopy((f) => { const b = readFileSync(f); b[b.length >> 1] ^= 0xff; writeFileSync(f, b); });
    expectCleanFailure(altered, /runtime .* is damaged: .*libllama.* differs from the library linked at build time[\s\S]*EIA_BUILD=source/);
  });

  it('the prebuilt package missing: exit 1 naming the package, with the EIA_BUILD=source hint', async (ctx) => {
    if (!prebuilt) ctx.skip('this build compiles llama.cpp from source (EIA_BUILD=source): no prebuilt package is used');
    const dir = join(tmp.dir, 'moved-addon');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(ROOT, 'build', 'Release', 'eia_native.node'), join(dir, 'eia_native.node'));
    writeFileSync(join(dir, 'eia-runtime.json'), JSON.stringify({ ...manifest, libDir: join(tmp.dir, 'no', 'such', 'package') }));
    const r = await run(['info'], { EIA_NATIVE_ADDON: join(dir, 'eia_native.node') });
    expectCleanFailure(r, new RegExp(`prebuilt llama\\.cpp runtime ${manifest.runtimePackage!.replace('/', '\\/')}@3\\.21\\.1 is missing[\\s\\S]*EIA_BUILD=source`));
  });

  it('a backend folder that does not exist, or holds no CPU backend: exit 1 with the reason', async (ctx) => {
    if (!prebuilt) ctx.skip('a source build has its backends compiled in');
    expectCleanFailure(await run(['info'], { EIA_NATIVE_BACKEND_DIR: join(tmp.dir, 'nowhere') }), /backend folder '.*nowhere' does not exist/);
    const empty = join(tmp.dir, 'empty-backends');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'libggml-cpu-fake.so'), 'not a library');
    expectCleanFailure(await run(['info', '--model', modelPath], { EIA_NATIVE_BACKEND_DIR: empty }), /CPU backend could not be loaded: no CPU backend .* usable in .*empty-backends/);
  });

  it('EIA_GPU with an unknown value: exit 1', async () => {
    expectCleanFailure(await run(['info'], { EIA_GPU: 'quantum' }), /EIA_GPU must be auto, cpu, cuda, vulkan or metal/);
  });

  it('a GPU package without its driver: asked for, a clear error; not asked for, the CPU runs', async (ctx) => {
    const rt = runtimeInfo();
    const cuda = rt.backends.find((b) => b.name === 'cuda');
    if (!cuda) ctx.skip('the CUDA package (@node-llama-cpp/linux-x64-cuda) is not installed on this platform');
    if (cuda!.status === 'loaded') ctx.skip('this machine has a working CUDA driver and runtime: nothing to fall back from');
    expect(cuda!.status).toBe('failed');
    expect(cuda!.error).toMatch(/\.so/);  // dlopen's reason: the missing CUDA library
    const asked = await run(['info'], { EIA_GPU: 'cuda' });
    expectCleanFailure(asked, /EIA_GPU=cuda but the cuda backend did not load: .*libggml-cuda\.so: .*EIA_GPU=cpu/);
    // not asked for: the default (auto) falls back to the CPU, says why, and runs a model
    const auto = await run(['info', '--json'], { EIA_GPU: 'auto' });
    expect(auto.status, auto.stderr).toBe(0);
    const j = JSON.parse(auto.stdout);
    expect(j.gpu).toBeNull();
    expect(j.backends.find((b: { name: string }) => b.name === 'cuda').status).toBe('failed');
    const gen = await run(['generate', '--model', modelPath, '--prompt', 'hi', '--max-tokens', '3', '--gpu-layers', '-1', '--json'], { EIA_GPU: 'auto' });
    expect(gen.status, gen.stderr).toBe(0);
    expect(existsSync(modelPath)).toBe(true);
  });
});
