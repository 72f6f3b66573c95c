// Vector cards end to end: `run` writes a card into every probe sidecar and adds what its sweep
// showed at the steered blocks; `cvec export` carries the cards into the GGUF's eia.card.* metadata,
// llama.cpp's control-vector loader (the oracle) still loads the file, and `cvec import` gives the
// same cards back; `info --vector` prints them; `generate`, `steer` and `serve` warn once per file
// about another model and about alphas beyond the strongest coherent one, and say "no card" once for
// a bare .npy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadControlVectorWithLlama, readControlVector } from '../../lib/engine/control-vector.js';
import { readNpy } from '../../lib/io/npy.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { requireFreshDist } from '../helpers/dist.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, EIA_NATIVE_QUIET: '' } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`eia-native ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

const count = (s: string, re: RegExp) => (s.match(new RegExp(re.source, 'g')) ?? []).length;
const tmp = tempDir('eia-cards-');
const T = (f: string) => join(tmp.dir, f);
const side = (l: number) => JSON.parse(readFileSync(T(`RUN/probes/layer${l}.json`), 'utf8'));
let steered: number[] = [];

beforeAll(async () => {
  requireFreshDist();  // the CLI runs dist/: compiled by npm test before vitest, never here
  await ok(['synth', '--planted', '--planted-profile', 'easy', '--seed', '7', '--no-check', '--out', T('p.gguf')]);
  await ok(['synth', '--planted', '--planted-profile', 'easy', '--seed', '8', '--no-check', '--out', T('q.gguf')]);
  const r = JSON.parse((await ok(['run', '--model', T('p.gguf'), '--train', T('p.train.jsonl'), '--test', T('p.test.jsonl'), '--layers', '1,2,3',
    '--steer-layers', '2,3', '--alphas=-4,0,4', '--scenarios', 'food_delivery', '--samples', '2', '--max-tokens', '10',
    '--random-baseline', '10', '--permutations', '20', '--out', T('RUN'), '--json'])).stdout);
  steered = r.steer_layers;
}, 600_000);
afterAll(() => tmp.cleanup());

describe('vector cards', () => {
  it('run writes a card into every probe sidecar; the steered blocks\' cards hold the dose-response', () => {
    const validation = JSON.parse(readFileSync(T('RUN/probes/validation.json'), 'utf8'));
    const score = JSON.parse(readFileSync(T('RUN/score.json'), 'utf8'));
    expect(steered).toEqual([2, 3]);
    for (const l of [1, 2, 3]) {
      const c = side(l).card;
      const v = validation.layers.find((x: { layer: number }) => x.layer === l);
      expect(c).toMatchObject({ format: 'eia-vector-card', version: 1, block: l, method: 'mean-diff', pooling: 'mean', auroc: v.auroc, random_baseline_p: v.random_baseline.empirical_p });
      expect(c.model).toMatchObject({ sha256: validation.model.sha256, arch: 'llama', n_layer: 6, n_embd: 64 });
      expect(c.model.name).toMatch(/^eia-synth planted/);
      expect(c.train).toEqual({ hash: validation.train.hash, n_pairs: validation.train.n_pairs });
      expect(c.auroc_ci).toEqual({ lower: v.auroc_ci.lower, upper: v.auroc_ci.upper, confidence: v.auroc_ci.confidence });
      expect(c.llama_commit).toMatch(/^[0-9a-f]{40}$/);
      if (!steered.includes(l)) {
        expect(c.dose_response).toBeNull();
        continue;
      }
      const d = c.dose_response;
      expect(d.alphas).toEqual([-4, 0, 4]);
      expect(d.n).toEqual([2, 2, 2]);
      const row = score.rows.find((r: { layer: number }) => r.layer === l);
      expect(d.keyword_share).toEqual(row.conditions.map((x: { empathy_rate: number }) => x.empathy_rate));
      expect(d.degeneration).toEqual(row.conditions.map((x: { degeneration: { any: number } }) => x.degeneration.any));
      const coherent = (a: number) => d.degeneration[d.alphas.indexOf(a)] < d.degeneration_threshold;
      expect(d.strongest_coherent_alpha.positive).toBe(coherent(4) ? 4 : null);
      expect(d.strongest_coherent_alpha.negative).toBe(coherent(-4) ? -4 : null);
      expect(d.run).toBe(T('RUN'));
    }
  });

  it('info --vector prints the card (JSON equal to the sidecar\'s), or says a file has none', async () => {
    const j = JSON.parse((await ok(['info', '--vector', T('RUN/probes/layer2.npy'), '--json'])).stdout);
    expect(j.cards).toEqual([side(2).card]);
    const text = (await ok(['info', '--vector', T('RUN/probes/layer2.npy')])).stdout;
    expect(text).toMatch(/block 2: mean-diff, mean pooling/);
    expect(text).toMatch(/strongest coherent alpha/);
    const none = (await ok(['info', '--vector', T('p.planted.npy')])).stdout;
    expect(none).toMatch(/p\.planted\.npy: no card/);
  });

  it('cvec export -> llama.cpp\'s loader -> cvec import keeps every card', async () => {
    await ok(['cvec', 'export', '--probe', T('RUN/probes/layer2.npy'), '--probe', T('RUN/probes/layer3.npy'), '--out', T('emp.gguf')]);
    const cv = readControlVector(T('emp.gguf'));
    expect(Object.keys(cv.meta).every((k) => k.startsWith('eia.card.'))).toBe(true);
    expect(cv.meta['eia.card.2.model.sha256']).toBe(side(2).card.model.sha256);
    // the oracle: llama.cpp's own control-vector loader reads the file and applies our directions
    const ll = loadControlVectorWithLlama(T('emp.gguf'));
    expect(ll.nEmbd).toBe(64);
    for (const l of [2, 3]) {
      const dir = readNpy(T(`RUN/probes/layer${l}.npy`)).data;
      expect(Array.from(ll.data.subarray((l - 1) * 64, l * 64))).toEqual(Array.from(dir));
    }
    const info = JSON.parse((await ok(['info', '--vector', T('emp.gguf'), '--json'])).stdout);
    expect(info.cards).toEqual([side(2).card, side(3).card]);
    await ok(['cvec', 'import', T('emp.gguf'), '--out', T('imported')]);
    for (const l of [2, 3]) {
      const back = JSON.parse(readFileSync(T(`imported/layer${l}.json`), 'utf8'));
      expect(back.card).toEqual(side(l).card);
      expect(back.model.sha256).toBe(side(l).card.model.sha256);
    }
    // and again: export of the imported probes gives the same metadata
    await ok(['cvec', 'export', '--probe', T('imported/layer2.npy'), '--probe', T('imported/layer3.npy'), '--out', T('emp2.gguf')]);
    expect(readControlVector(T('emp2.gguf')).meta).toEqual(cv.meta);
  });

  it('generate: another model and an alpha past the coherent ones warn once per file; a bare .npy says "no card" once', async () => {
    const probe = T('RUN/probes/layer2.npy');
    const r = await ok(['generate', '--model', T('q.gguf'), '--prompt', 'The user is upset.', '--probe', probe, '--layer', '2', '--alphas=0,9',
      '--max-tokens', '3', '--monitor', `2:${probe}`, '--monitor', `3:${T('p.planted.npy')}`, '--monitor', `1:${T('p.planted.npy')}`]);
    expect(count(r.stderr, /layer2\.npy was trained on another model \(sha256 [0-9a-f]{12}…, eia-synth planted[^)]*, per its card\)/)).toBe(1);
    expect(count(r.stderr, /alpha 9 is beyond the strongest coherent positive alpha its card records/)).toBe(1);
    expect(count(r.stderr, /p\.planted\.npy has no card/)).toBe(1);
    // the model the card names: no model warning
    const own = await ok(['generate', '--model', T('p.gguf'), '--prompt', 'The user is upset.', '--probe', probe, '--layer', '2', '--alphas=0,4', '--max-tokens', '3']);
    expect(own.stderr).not.toMatch(/another model/);
    // the card names the model on its control vector too
    const cv = await ok(['generate', '--model', T('q.gguf'), '--prompt', 'The user is upset.', '--probe', T('emp.gguf'), '--alphas', '2', '--max-tokens', '3']);
    expect(count(cv.stderr, /emp\.gguf was trained on another model/)).toBe(1);
  });

  it('steer: each probe of another model warns once', async () => {
    const r = await ok(['steer', '--model', T('q.gguf'), '--probes', T('RUN/probes'), '--layers', '2,3', '--alphas=0,4', '--scenarios', 'food_delivery',
      '--samples', '1', '--max-tokens', '4', '--out', T('steer-q')]);
    expect(count(r.stderr, /layer2\.npy was trained on another model/)).toBe(1);
    expect(count(r.stderr, /layer3\.npy was trained on another model/)).toBe(1);
  });

  it('serve lists each vector with its cards and a warning for another model\'s (logged once)', async () => {
    const vectors = T('vectors');
    mkdirSync(vectors);
    for (const f of ['layer2.npy', 'layer2.json']) copyFileSync(T(`RUN/probes/${f}`), join(vectors, f));
    copyFileSync(T('emp.gguf'), join(vectors, 'emp.gguf'));
    mkdirSync(join(vectors, 'paper'));
    copyFileSync(T('p.planted.npy'), join(vectors, 'paper', 'layer1.npy'));  // a bare direction, as the paper's probes
    const child = spawn(process.execPath, [CLI, 'serve', '-m', T('q.gguf'), '--vectors', vectors, '--port', '0', '-t', '1', '--ctx', '512', '--slots', '1'],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (d) => {
          stderr += d;
          const m = /on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
      });
      const list = async () => (await (await fetch(`${url}/v1/steering/vectors`)).json()) as { data: { name: string; cards: { block: number; model: { sha256: string } }[]; warning: string | null }[] };
      const a = await list();
      await list();
      const byName = new Map(a.data.map((v) => [v.name, v]));
      expect(byName.get('layer2')!.cards).toEqual([side(2).card]);
      expect(byName.get('emp')!.cards.map((c) => c.block)).toEqual([2, 3]);
      expect(byName.get('paper/layer1')!.cards).toEqual([]);
      expect(byName.get('paper/layer1')!.warning).toBeNull();
      for (const n of ['layer2', 'emp']) expect(byName.get(n)!.warning).toMatch(/was trained on another model/);
      expect(count(stderr, /vector 'layer2' was trained on another model/)).toBe(1);
      expect(count(stderr, /vector 'emp' was trained on another model/)).toBe(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
