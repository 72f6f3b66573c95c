// The bench's node-llama-cpp side, in its own process (two llama.cpp builds must not share one):
// node-llama-cpp (from the bench's on-demand install, path in argv[2]) with its prebuilt CPU
// binaries, never built from source. Single-sequence generation as a LlamaContextSequence.evaluate
// loop on token ids, stopped after a fixed number of new tokens.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { serveWorker } from './proc.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const entry = process.argv[2];
let nlc: any = null;
let llama: any = null;
let model: any = null;
let context: any = null;
let threads = 0;

serveWorker({
  async load(a) {
    nlc = await import(pathToFileURL(entry).href);
    threads = Number(a.threads);
    llama = await nlc.getLlama({
      gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, progressLogs: false,
      logLevel: nlc.LlamaLogLevel.error, maxThreads: threads,
    });
    model = await llama.loadModel({ modelPath: String(a.model), gpuLayers: 0 });
    context = await model.createContext({
      contextSize: Number(a.contextSize), sequences: 1, batchSize: Number(a.batchSize ?? 512), threads,
      flashAttention: a.flashAttention === 'auto' ? 'auto' : a.flashAttention === true,
    });
    return {
      version: JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')).version as string,
      buildType: llama.buildType, gpu: llama.gpu, llamaCppRelease: llama.llamaCppRelease, contextSize: context.contextSize,
      flashAttention: context.flashAttention ?? null,
    };
  },

  /** `genTokens` new tokens after `prompt` (token ids), temp/top-k/seed as given; EOG does not stop it. */
  async plain(a) {
    const seq = context.getSequence();
    try {
      const prompt = a.prompt as number[];
      const want = Number(a.genTokens);
      const t0 = performance.now();
      let n = 0;
      let tFirst = 0;
      let tLast = 0;
      const it = seq.evaluate(prompt, { temperature: Number(a.temperature), topK: Number(a.topK), topP: 1, minP: 0, seed: Number(a.seed), yieldEogToken: true });
      for await (const _tok of it) {
        tLast = performance.now();
        if (n === 0) tFirst = tLast;
        n++;
        if (n >= want) break;
      }
      return { generatedTokens: n, wallMs: performance.now() - t0, firstToLastMs: tLast - tFirst };
    } finally {
      seq.dispose();
    }
  },

  async unload() {
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    return {};
  },
});
