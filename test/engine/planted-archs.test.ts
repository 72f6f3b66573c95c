// The planted model in more than one block layout (issue 29): qwen2 (separate q/k/v with biases
// allowed, no attention-output bias: the planted constant rides the value path) and phi3 (fused
// QKV and fused gate/up). On each: the probe recovers the planted direction at the best block
// (cosine >= 0.95), steering along it moves the empathy-keyword token share monotonically, and the
// support check finds every block. The demo on either layout is in test/cli/cli.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Model } from '../../lib/engine/model.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import type { SequenceRequest } from '../../lib/engine/generate.js';
import { synth, type SynthArch } from '../../lib/engine/synth.js';
import { readNpy } from '../../lib/io/npy.js';
import { checkPlantedControls } from '../../lib/probes/planted-controls.js';
import { EMPATHY_KEYWORDS } from '../../lib/steering/scoring.js';
import { tempDir } from '../helpers/fixtures.js';

const tmp = tempDir('eia-planted-archs-');
afterAll(() => tmp.cleanup());

const ARCHES: SynthArch[] = ['qwen2', 'phi3'];

for (const arch of ARCHES) {
  describe(`planted model in the ${arch} layout (seed 3)`, () => {
    it('is written in that layout and the support check finds every block', async () => {
      const r = await synth({ planted: true, arch, seed: 3, out: join(tmp.dir, `${arch}-layout.gguf`) });
      expect(r.arch).toBe(arch);
      const model = await Model.load(r.path);
      expect(model.info.arch).toBe(arch);
      const ctx = await model.createContext({ nCtx: 256, nSeqMax: 1, nThreads: 1 });
      const s = ctx.residualSupport;
      expect(s.supported, s.reason).toBe(true);
      expect(s.hits).toEqual(Array(model.nLayer).fill(1));
      ctx.free();
      model.free();
    });

    it('the probe recovers the planted direction: cosine >= 0.95 and AUROC >= 0.95 at the best block', async () => {
      const r = await synth({ planted: true, arch, seed: 3, out: join(tmp.dir, `${arch}-probe.gguf`) });
      const c = await checkPlantedControls(r, { seed: 3, randomBaseline: 20, permutations: 50, threads: 1 });
      const best = c.layers.find((l) => l.layer === c.bestLayer)!;
      process.stderr.write(`[planted ${arch}] best block ${c.bestLayer}: AUROC ${best.auroc.toFixed(3)}, cosine with v ${best.cosine.toFixed(3)}\n`);
      expect(best.auroc).toBeGreaterThanOrEqual(0.95);
      expect(best.cosine).toBeGreaterThanOrEqual(0.95);
    }, 300_000);

    it('steering moves the empathy-lexicon token share monotonically (alpha -5..10, 5 samples x 64 tokens)', async () => {
      const r = await synth({ planted: true, arch, seed: 3, out: join(tmp.dir, `${arch}-steer.gguf`) });
      const v = readNpy(r.plantedNpy!).data;
      const model = await Model.load(r.path);
      const alphas = [-5, -2, 0, 2, 5, 10];
      const L = Math.floor(model.nLayer / 2);
      const seqs: SequenceRequest[] = [];
      for (const alpha of alphas) for (let s = 0; s < 5; s++) {
        seqs.push({ prompt: 'The user is in distress and I must decide what to do.', temperature: 0.7, topK: 50, seed: s, maxTokens: 64, steer: [{ layer: L, direction: v, alpha }], tag: alpha });
      }
      const ctx = await model.createContext(generationContextOptions(seqs.length, 128, 1));
      const res = await ctx.generate({ sequences: seqs }).result();
      const lexicon = new Set<number>();
      for (let t = 0; t < model.info.nVocab; t++) {
        const piece = model.tokenPiece(t).toLowerCase();
        if (EMPATHY_KEYWORDS.some((k) => piece.includes(k))) lexicon.add(t);
      }
      expect(lexicon.size).toBeGreaterThan(20);
      const share = new Map<number, number>();
      for (const alpha of alphas) {
        let hit = 0, total = 0;
        for (const out of res.filter((x) => x.tag === alpha)) for (const t of out.tokens) { total++; if (lexicon.has(t)) hit++; }
        share.set(alpha, hit / total);
      }
      process.stderr.write(`[planted ${arch}] empathy-lexicon share by alpha ${JSON.stringify(Object.fromEntries(share))}\n`);
      for (let i = 1; i < alphas.length; i++) expect(share.get(alphas[i])!, `alpha ${alphas[i - 1]} -> ${alphas[i]}`).toBeGreaterThan(share.get(alphas[i - 1])!);
      ctx.free();
      model.free();
    }, 300_000);
  });
}
