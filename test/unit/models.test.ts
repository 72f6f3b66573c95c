// models.json, the registry, the cache paths/resolution and the progress display.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheDir, modelPath, resolveModel } from '../../lib/models/cache.js';
import { downloadUrl } from '../../lib/models/pull.js';
import { MODELS_JSON_URL, getModel, listModels, loadModels, paperModels, validateModelEntry, validateModelsFile, type ModelEntry } from '../../lib/models/registry.js';
import { createProgress, formatBytes, formatDuration } from '../../lib/util/progress.js';

// The paper's model table (PAPER.md, "Models"), written out here independently of models.json.
const PAPER_TABLE = {
  'phi-3-mini': {
    arch: 'phi3', nLayer: 32, nEmbd: 3072,
    probe: [8, 12, 16, 20, 24], steer: [8, 12, 16, 20],
    alphas: [-20, -10, -5, -3, -1, 0, 1, 3, 5, 10, 20], dir: 'phi-3-mini-4k',
  },
  'qwen2.5-7b': {
    arch: 'qwen2', nLayer: 28, nEmbd: 3584,
    probe: [8, 12, 16, 20, 24], steer: [16, 20, 12],
    alphas: [-20, -10, -5, -3, 0, 3, 5, 10, 20], dir: 'qwen2.5-7b',
  },
  'dolphin-llama-3.1-8b': {
    arch: 'llama', nLayer: 32, nEmbd: 4096,
    probe: [8, 12, 16, 20, 24, 28], steer: [8, 12, 16],
    alphas: [-10, -5, -3, 0, 3, 5, 10], dir: 'dolphin-llama-3.1-8b',
  },
} as const;

describe('models.json', () => {
  it('validates and holds the paper models plus small starter models', () => {
    const raw = JSON.parse(readFileSync(MODELS_JSON_URL, 'utf8'));
    expect(Object.keys(raw).sort()).toEqual(['models', 'version']);
    const file = validateModelsFile(raw);
    expect(file.version).toBe(1);
    expect(fileURLToPath(MODELS_JSON_URL)).toBe(fileURLToPath(new URL('../../models.json', import.meta.url)));
    const small = file.models.filter((m) => !m.paper);
    expect(small.length).toBeGreaterThanOrEqual(2);
    expect(small.length).toBeLessThanOrEqual(3);
    for (const m of small) {
      expect(m.paperProbeDir).toBeNull();
      const mid = m.probeLayers.filter((l) => l > 0 && l < m.nLayer - 1);
      expect(mid).toEqual(m.probeLayers);
    }
    for (const m of file.models) {
      expect(m.revision).toBe('main');
      expect(m.file.endsWith('.gguf')).toBe(true);
      expect(m.sampling.source.length).toBeGreaterThan(10);
      expect(m.sha256 === null || /^[0-9a-f]{64}$/.test(m.sha256)).toBe(true);
    }
    expect(getModel('qwen2.5-0.5b')).toMatchObject({ repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', file: 'qwen2.5-0.5b-instruct-q8_0.gguf' });
  });

  it("has exactly the paper's probe/steer layers, alphas and shapes for its three models", () => {
    const paper = paperModels();
    expect(paper.map((m) => m.name).sort()).toEqual(Object.keys(PAPER_TABLE).sort());
    for (const [name, t] of Object.entries(PAPER_TABLE)) {
      const m = getModel(name);
      expect(m.arch).toBe(t.arch);
      expect(m.nLayer).toBe(t.nLayer);
      expect(m.nEmbd).toBe(t.nEmbd);
      expect(m.probeLayers).toEqual(t.probe);
      expect(m.steerLayers).toEqual(t.steer);
      expect(m.alphas).toEqual(t.alphas);
      expect(m.paperProbeDir).toBe(t.dir);
    }
    expect(getModel('phi-3-mini')).toMatchObject({ repo: 'microsoft/Phi-3-mini-4k-instruct-gguf', file: 'Phi-3-mini-4k-instruct-q4.gguf' });
    expect(getModel('qwen2.5-7b')).toMatchObject({ repo: 'bartowski/Qwen2.5-7B-Instruct-GGUF', file: 'Qwen2.5-7B-Instruct-Q4_K_M.gguf' });
    expect(getModel('dolphin-llama-3.1-8b')).toMatchObject({
      repo: 'bartowski/dolphin-2.9.4-llama3.1-8b-GGUF', file: 'dolphin-2.9.4-llama3.1-8b-Q4_K_M.gguf', sha256: null,
    });
  });
});

describe('registry', () => {
  it('lists and looks up models; an unknown name lists the known ones', () => {
    const names = listModels().map((m) => m.name);
    expect(names).toContain('phi-3-mini');
    expect(new Set(names).size).toBe(names.length);
    expect(getModel('qwen2.5-7b').nLayer).toBe(28);
    expect(() => getModel('gpt-5')).toThrow(/Unknown model "gpt-5". Known models: .*phi-3-mini.*qwen2\.5-7b.*dolphin-llama-3\.1-8b/);
    expect(loadModels()).toBe(loadModels()); // cached
  });

  it('rejects malformed entries with the field at fault', () => {
    const good = getModel('phi-3-mini');
    const bad = (over: Record<string, unknown>): (() => ModelEntry) => () => validateModelEntry({ ...good, ...over });
    expect(bad({})).not.toThrow();
    expect(bad({ name: '../x' })).toThrow(/escape the model cache/);
    expect(bad({ name: 'Upper' })).toThrow(/lower-case/);
    expect(bad({ file: '../x.gguf' })).toThrow(/escape the model cache/);
    expect(bad({ file: 'C:\\x.gguf' })).toThrow(/absolute/);
    expect(bad({ repo: 'no-owner' })).toThrow(/owner\/name/);
    expect(bad({ sha256: 'abc' })).toThrow(/sha256/);
    expect(bad({ probeLayers: [8, 40] })).toThrow(/\[0, 31\]/);
    expect(bad({ steerLayers: [9] })).toThrow(/not among probeLayers/);
    expect(bad({ alphas: [1, 2] })).toThrow(/include 0/);
    expect(bad({ sampling: { temperature: 0.7 } })).toThrow(/sampling/);
    expect(() => validateModelsFile({ version: 2, models: [] })).toThrow(/version/);
    expect(() => validateModelsFile({ version: 1, models: [good, good] })).toThrow(/duplicate/);
  });

  it('builds Hugging Face resolve URLs', () => {
    expect(downloadUrl(getModel('qwen2.5-0.5b'))).toBe(
      'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf',
    );
    expect(downloadUrl({ repo: 'a/b', revision: 'main', file: 'sub dir/x.gguf' }, 'http://127.0.0.1:9/')).toBe(
      'http://127.0.0.1:9/a/b/resolve/main/sub%20dir/x.gguf',
    );
  });
});

describe('cache', () => {
  let home = '';
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'eia-cache-'));
    vi.stubEnv('EIA_NATIVE_HOME', home);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });

  it('uses EIA_NATIVE_HOME, else the platform cache folder', () => {
    expect(cacheDir()).toBe(home);
    const h = homedir();
    expect(cacheDir({}, 'linux')).toBe(join(h, '.cache', 'eia-native'));
    expect(cacheDir({ XDG_CACHE_HOME: '/xdg' }, 'linux')).toBe(join('/xdg', 'eia-native'));
    expect(cacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux')).toBe(join(h, '.cache', 'eia-native'));
    expect(cacheDir({}, 'darwin')).toBe(join(h, 'Library', 'Caches', 'eia-native'));
    expect(cacheDir({ LOCALAPPDATA: '/appdata' }, 'win32')).toBe(join('/appdata', 'eia-native'));
  });

  it('puts models at <cache>/models/<name>/<file> and refuses escapes', () => {
    const phi = getModel('phi-3-mini');
    expect(modelPath(phi)).toBe(join(home, 'models', 'phi-3-mini', 'Phi-3-mini-4k-instruct-q4.gguf'));
    expect(modelPath({ name: 'x', file: 'sub/y.gguf' })).toBe(join(home, 'models', 'x', 'sub', 'y.gguf'));
    expect(() => modelPath({ name: '..', file: 'y.gguf' })).toThrow(/escape the model cache/);
    expect(() => modelPath({ name: '../../etc', file: 'y.gguf' })).toThrow(/escape the model cache/);
    expect(() => modelPath({ name: 'a\\b', file: 'y.gguf' })).toThrow(/path separators/);
    expect(() => modelPath({ name: 'x', file: 'a/../../y.gguf' })).toThrow(/escape the model cache/);
    expect(() => modelPath({ name: 'x', file: '/abs/y.gguf' })).toThrow(/absolute/);
    expect(() => modelPath({ name: 'x', file: 'y\0.gguf' })).toThrow(/NUL/);
    expect(() => modelPath({ name: 'x', file: 'y.gguf.part' })).toThrow(/reserved/);
  });

  it('resolves a file path, a cached name, or says how to pull', () => {
    const f = join(home, 'local.gguf');
    writeFileSync(f, 'GGUF');
    expect(resolveModel(f)).toBe(f);
    expect(() => resolveModel('qwen2.5-0.5b')).toThrow(/not downloaded yet.*run: eia-native pull qwen2\.5-0\.5b/);
    const p = modelPath(getModel('qwen2.5-0.5b'));
    mkdirSync(join(home, 'models', 'qwen2.5-0.5b'), { recursive: true });
    writeFileSync(`${p}.part`, 'half');
    expect(() => resolveModel('qwen2.5-0.5b')).toThrow(/run: eia-native pull/); // a .part is not a model
    writeFileSync(p, 'GGUF');
    expect(resolveModel('qwen2.5-0.5b')).toBe(p);
    expect(() => resolveModel(join(home, 'missing.gguf'))).toThrow(/Model file not found/);
    expect(() => resolveModel('nonsense')).toThrow(/neither an existing file nor a known model name.*phi-3-mini/);
    expect(() => resolveModel(home)).toThrow(/not a file/);
  });
});

describe('progress', () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY, columns: 100, write: (s: string) => out.push(s) } };
  };

  it('prints at most one line every 2 s off a TTY, with rate and ETA', () => {
    let t = 0;
    const { out, stream } = sink(false);
    const p = createProgress({ label: 'pull', total: 100 * 1024 * 1024, unit: 'bytes', stream, env: {}, now: () => t });
    for (let i = 1; i <= 50; i++) {
      t = i * 100; // 5 s in 100 ms steps
      p.update(i * 1024 * 1024);
    }
    expect(out.length).toBe(3); // t=0.1 s, 2.1 s, 4.1 s
    expect(out[1]).toMatch(/^pull 21\.0 MiB\/100 MiB \(21\.0%\)  10\.0 MiB\/s  ETA 8s\n$/);
    p.done();
    expect(out.length).toBe(4);
    expect(out[3]).toMatch(/50\.0 MiB\/100 MiB.*in 5s/);
    p.update(1);
    p.done();
    expect(out.length).toBe(4);
  });

  it('redraws one line on a TTY and formats tokens/items', () => {
    let t = 0;
    const { out, stream } = sink(true);
    const p = createProgress({ label: 'gen', total: 200, unit: 'tokens', stream, env: {}, now: () => t });
    t = 1000;
    p.update(50, 'layer 8');
    expect(out[0].startsWith('\r\x1b[2Kgen [')).toBe(true);
    expect(out[0]).toMatch(/50\/200 \(25\.0%\)  50\.0 tok\/s  ETA 3s  layer 8$/);
    p.done();
    expect(out[out.length - 1].endsWith('\n')).toBe(true);
    const q = sink(false);
    const items = createProgress({ label: 'pairs', unit: 'items', stream: q.stream, env: {}, now: () => t });
    t = 3000;
    items.tick(4);
    expect(q.out[0]).toMatch(/^pairs 4  2\.0 it\/s\n$/);
  });

  it('prints nothing with EIA_NATIVE_QUIET=1', () => {
    const { out, stream } = sink(true);
    const p = createProgress({ label: 'x', total: 10, unit: 'items', stream, env: { EIA_NATIVE_QUIET: '1' } });
    p.update(5);
    p.done();
    expect(out).toEqual([]);
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(4683074240)).toBe('4.36 GiB');
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});
