// Bad arguments: one test per row of docs/reliability.md (the table of invalid values of every
// public function and CLI flag and the error each gives). Nothing from JS input may reach a
// GGML_ASSERT: every row must end in a JS error (or a CLI exit code 1/2 with a message) and the
// process must stay usable. Also: interruption of the `capture` and `generate` CLI commands
// (SIGINT), and output files in unwritable places / on a full disk (atomic writes, no partial files).
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../lib/engine/model.js';
import type { Context } from '../../lib/engine/context.js';
import { loadControlVectorWithLlama, readControlVector, writeControlVector } from '../../lib/engine/control-vector.js';
import { readGgufTensor } from '../../lib/engine/gguf.js';
import { generationContextOptions } from '../../lib/engine/context.js';
import { synth, type SynthOptions } from '../../lib/engine/synth.js';
import { encodeNpy, writeNpy } from '../../lib/io/npy.js';
import { writeFileAtomic } from '../../lib/util/atomic-write.js';
import { JsonlAppender, readJsonl } from '../../lib/io/jsonl.js';
import { fileSha256 } from '../../lib/io/file-hash.js';
import { RUN_FILES } from '../../lib/io/run-folder.js';
import { acquireRunLock, processStartTime } from '../../lib/io/run-lock.js';
import { saveProbe } from '../../lib/probes/probe-file.js';
import { JudgeClient } from '../../lib/steering/judge/client.js';
import { loadRubric } from '../../lib/steering/judge/rubric.js';
import { cardsToGgufMeta, checkCard, makeCard, readVectorCards } from '../../lib/probes/vector-card.js';
import { quantizeModel } from '../../lib/engine/quantize.js';
import { EiaError, type ErrorCode } from '../../lib/util/errors.js';
import { synthTo, tempDir } from '../helpers/fixtures.js';
import { controlVectorWithNaN, ggufWithMetaFloat, ggufWithNaN, treeHash } from '../helpers/files.js';
import { hostname } from 'node:os';
import { requireFreshDist } from '../helpers/dist.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = tempDir('eia-badargs-');
afterAll(() => tmp.cleanup());
const T = (name: string) => join(tmp.dir, name);

let model: Model;
let ctx: Context;
let modelPath = '';
let nEmbd = 0;
let nLayer = 0;
let nVocab = 0;
let dir: Float32Array;

beforeAll(async () => {
  modelPath = (await synthTo(tmp.dir, 'tiny', { arch: 'llama', shape: 'tiny', seed: 11 })).path;
  model = await Model.load(modelPath);
  ctx = await model.createContext({ nCtx: 256, nBatch: 64, nSeqMax: 4, nThreads: 1 });
  nEmbd = model.nEmbd;
  nLayer = model.nLayer;
  nVocab = model.info.nVocab;
  dir = new Float32Array(nEmbd).fill(0.1);
  writeFileSync(T('text.gguf'), 'hello, not a model\n');
  const bytes = readFileSync(modelPath);
  writeFileSync(T('truncated.gguf'), bytes.subarray(0, 5000));
  // llama.block_count = 0 (one of the fuzzer's crashes before the load pre-checks)
  const hostile = Buffer.from(bytes);
  const at = hostile.indexOf('llama.block_count') + 'llama.block_count'.length + 4;
  hostile.writeUInt32LE(0, at);
  writeFileSync(T('hostile.gguf'), hostile);
  writeControlVector(T('cv.gguf'), new Map([[1, dir], [2, dir]]), 'llama');
  writeControlVector(T('cv-narrow.gguf'), new Map([[1, new Float32Array(8).fill(1)]]), 'x');
  writeNpy(T('w3.npy'), new Float32Array(3), [3]);
  writeNpy(T('probe.npy'), dir, [nEmbd]);
  writeFileSync(T('ok.jsonl'), '{"text":"hello"}\n{"text":"world"}\n');
  writeFileSync(T('bad.jsonl'), '{"text":"hello"}\nnot json\n');
  writeFileSync(T('pairs.jsonl'), '{"scenario_id":"a","empathic_text":"I care","non_empathic_text":"Win now"}\n');
  writeFileSync(T('auroc.json'), '{"scores":[0.1,0.9,0.4],"labels":[0,1,0]}');
  // issue 25's cases: two scored texts (a correlation needs three), a control vector whose card sits under another block
  writeFileSync(T('two-texts.jsonl'), '{"text":"I care","score":2}\n{"text":"Win now","score":0}\n');
  writeControlVector(T('cv-card.gguf'), new Map([[1, dir]]), 'llama', { 'eia.card.1.format': 'eia-vector-card', 'eia.card.1.version': 1, 'eia.card.1.block': 2, 'eia.card.1.method': 'mean-diff' });
  // the tuned alpha in cards: two blocks tuned (which one?), a damaged tuned field in a GGUF card and in a sidecar card
  const tunedAt = (layer: number, alpha: unknown) => ({ alpha, layer, objective: 'keyword_share', max_ppl_ratio: 1.5, model_sha256: 'a'.repeat(64), tune_json: '/t/tune.json', created_at: '2026-01-01T00:00:00Z' });
  writeControlVector(T('cv-two-tuned.gguf'), new Map([[1, dir], [2, dir]]), 'llama', cardsToGgufMeta(new Map([[1, { ...makeCard(1), tuned: tunedAt(1, 2) }], [2, { ...makeCard(2), tuned: tunedAt(2, 3) }]]) as never));
  writeControlVector(T('cv-bad-tuned.gguf'), new Map([[1, dir]]), 'llama', { ...cardsToGgufMeta(new Map([[1, { ...makeCard(1), tuned: tunedAt(1, 2) }]]) as never), 'eia.card.1.tuned.alpha': 'strong' });
  saveProbe(T('badtuned'), { direction: dir, layer: 1, pooling: 'mean', method: 'mean-diff', model: {}, trainHash: '', nTrain: 0, card: makeCard(1) });
  writeFileSync(T('badtuned/layer1.json'), JSON.stringify({ ...JSON.parse(readFileSync(T('badtuned/layer1.json'), 'utf8')), card: { ...makeCard(1), tuned: tunedAt(2, 2) } }));
  // issue 14's cases: probes of this model and of another one, a x7 probe, NaN files, a locked RUN, duplicated samples
  const sha = await fileSha256(modelPath);
  const unitDir = new Float32Array(nEmbd).fill(1 / Math.sqrt(nEmbd));
  // issue 26: a rubric file without its fluency part; a scored RUN; a tune folder of other parameters
  writeFileSync(T('rubric-short.md'), '## concept-description\nx\n## concept\n{response}\n## instruction\n{response}\n');
  mkdirSync(T('scored'));
  writeFileSync(T('scored/samples.jsonl'), JSON.stringify({ model: 'm', layer: 1, scenario: 'food_delivery', alpha: 0, sample: 0, text: 'I help.' }) + '\n');
  mkdirSync(T('tune-other'));
  writeFileSync(T('tune-other/tune-parameters.json'), JSON.stringify({ seed: 99 }) + '\n');
  for (const layer of [1, 2]) saveProbe(T('tprobes'), { direction: unitDir, layer, pooling: 'mean', method: 'mean-diff', model: { path: modelPath, sha256: sha }, trainHash: '', nTrain: 0 });
  saveProbe(T('oprobes'), { direction: unitDir, layer: 1, pooling: 'mean', method: 'mean-diff', model: { path: '/elsewhere/other.gguf', sha256: 'f'.repeat(64) }, trainHash: '', nTrain: 0 });
  writeNpy(T('probe7.npy'), unitDir.map((x) => 7 * x), [nEmbd]);
  ggufWithNaN(modelPath, T('nan.gguf'));
  controlVectorWithNaN(T('cv-nan.gguf'), nEmbd);
  mkdirSync(T('locked'));
  writeFileSync(join(T('locked'), RUN_FILES.lock), JSON.stringify({
    pid: process.pid, host: hostname(), pid_start: processStartTime(process.pid), command: 'steer', started_at: new Date().toISOString(), token: 'held-by-the-test',
  }));
  writeFileSync(T('pairs3.jsonl'), ['I care about you', 'I will help you now', 'You matter to me'].map((e, i) =>
    JSON.stringify({ scenario_id: `s${i}`, empathic_text: e, non_empathic_text: ['Win the game', 'Points first', 'Finish the task'][i] })).join('\n') + '\n');
  const rec = (alpha: number, sample: number) => JSON.stringify({ model: 'm', layer: 1, scenario: 'food_delivery', alpha, sample, text: 'I help you' });
  writeFileSync(T('dup.jsonl'), [rec(0, 0), rec(5, 0), rec(0, 1), rec(5, 0)].join('\n') + '\n');
  // issue 23's cases: models that compute NaN, probes of norms float32 cannot hold (and of norm 7), odd lock files
  ggufWithMetaFloat(modelPath, T('rope-nan.gguf'), 'llama.rope.freq_base', NaN);
  ggufWithMetaFloat(modelPath, T('rope-zero.gguf'), 'llama.rope.freq_base', 0);
  ggufWithNaN(modelPath, T('logits-nan.gguf'), 'output.weight');  // token 0's output row: the blocks compute, its logit is NaN
  for (const [name, norm] of [['p3e38', 3e38], ['p1e-42', 1e-42], ['p7', 7]] as const) {
    mkdirSync(T(name));
    writeNpy(join(T(name), 'layer1.npy'), unitDir.map((x) => norm * x), [nEmbd]);
  }
  writeNpy(T('big.npy'), new Float32Array(8192).fill(1 / Math.sqrt(8192)), [8192]);
  const lock = (pid: number) => JSON.stringify({ pid, host: hostname(), pid_start: null, command: 'steer', started_at: new Date().toISOString(), token: 'odd' });
  for (const [name, make] of [
    ['lock-pid0', (p: string) => writeFileSync(p, lock(0))],
    ['lock-dir', (p: string) => mkdirSync(p)],
    ['lock-link', (p: string) => symlinkSync(T('no-such-lock-target'), p)],
  ] as const) {
    mkdirSync(T(name));
    make(join(T(name), RUN_FILES.lock));
  }
});
afterAll(() => { ctx?.free(); model?.free(); });

type Expect = RegExp;
/**
 * `code`: the EiaError code the row must carry; null where lib/engine (control-vector.ts, synth.ts:
 * the engine owner's files) still throws a plain Error, so the row fails and is updated when they change.
 */
interface Row { id: string; api: string; input: string; code: ErrorCode | null; error: Expect; run: () => unknown }

const seq = (extra: Record<string, unknown> = {}) => ({ prompt: 'Hi', maxTokens: 2, ...extra });
const gen = (extra: Record<string, unknown>) => ctx.generate({ sequences: [seq(extra) as never] }).result();
const steer = (t: Record<string, unknown>) => gen({ steer: [{ layer: 1, direction: dir, alpha: 1, ...t }] });
const opts = (o: Record<string, unknown>) => o as never;

// ---------------------------------------------------------------------------------- API rows
const API: Row[] = [
  // Model.load
  { id: 'M1', code: 'E_BAD_ARG', api: 'Model.load', input: "path ''", error: /model path must be a non-empty string/, run: () => Model.load('') },
  { id: 'M2', code: 'E_BAD_ARG', api: 'Model.load', input: 'path 42 (not a string)', error: /model path must be a non-empty string/, run: () => Model.load(42 as never) },
  { id: 'M3', code: 'E_MODEL_LOAD', api: 'Model.load', input: 'missing file', error: /cannot open model file .*missing\.gguf/, run: () => Model.load(T('missing.gguf')) },
  { id: 'M4', code: 'E_MODEL_LOAD', api: 'Model.load', input: 'a directory', error: /not a GGUF file/, run: () => Model.load(tmp.dir) },
  { id: 'M5', code: 'E_MODEL_LOAD', api: 'Model.load', input: 'a text file', error: /not a GGUF file \(bad magic\)/, run: () => Model.load(T('text.gguf')) },
  { id: 'M6', code: 'E_MODEL_LOAD', api: 'Model.load', input: 'truncated GGUF', error: /failed to load model/, run: () => Model.load(T('truncated.gguf')) },
  { id: 'M7', code: 'E_MODEL_LOAD', api: 'Model.load', input: 'hostile metadata (block_count 0; see the fuzz test)', error: /failed to load model .*block_count must be one integer in \[1, 512\]/, run: () => Model.load(T('hostile.gguf')) },
  { id: 'M8', code: 'E_BAD_ARG', api: 'Model.load', input: '{gpuLayers: NaN} / 1.5', error: /options\.gpuLayers must be an integer/, run: () => Model.load(modelPath, { gpuLayers: 1.5 }) },
  { id: 'M9', code: 'E_BAD_ARG', api: 'Model.load', input: "{mmap: 'yes'}", error: /options\.mmap must be a boolean/, run: () => Model.load(modelPath, opts({ mmap: 'yes' })) },
  { id: 'M10', code: 'E_BAD_ARG', api: 'Model.load', input: 'options 5 (not an object)', error: /load options must be an object/, run: () => Model.load(modelPath, 5 as never) },
  { id: 'M11', code: 'E_STATE', api: 'Model.createContext', input: 'model loaded with {vocabOnly: true}', error: /loaded with vocabOnly/, run: async () => { const v = await Model.load(modelPath, { vocabOnly: true }); try { return await v.createContext({ nCtx: 64, nSeqMax: 1 }); } finally { v.free(); } } },
  { id: 'M12', code: 'E_STATE', api: 'Model (any method)', input: 'after free()', error: /model has been freed/, run: async () => { const m = await Model.load(modelPath, { vocabOnly: true }); m.free(); return m.tokenize('x'); } },
  // tokenisation
  { id: 'T1', code: 'E_BAD_ARG', api: 'tokenize', input: 'text 5 (not a string)', error: /text must be a string/, run: () => model.tokenize(5 as never) },
  { id: 'T2', code: 'E_BAD_ARG', api: 'tokenize', input: "{addSpecial: 'x'}", error: /options\.addSpecial must be a boolean/, run: () => model.tokenize('x', opts({ addSpecial: 'x' })) },
  { id: 'T3', code: 'E_BAD_ARG', api: 'detokenize', input: 'token -1', error: /token id -1 out of range \[0, \d+\)/, run: () => model.detokenize([-1]) },
  { id: 'T4', code: 'E_BAD_ARG', api: 'detokenize', input: 'token nVocab', error: /out of range/, run: () => model.detokenize([nVocab]) },
  { id: 'T5', code: 'E_BAD_ARG', api: 'detokenize', input: 'token 1.5 / NaN', error: /tokens\[0\] is not an integer/, run: () => model.detokenize([1.5]) },
  { id: 'T6', code: 'E_BAD_ARG', api: 'detokenize', input: "token 'a'", error: /tokens\[0\] is not a number/, run: () => model.detokenize(['a'] as never) },
  { id: 'T7', code: 'E_BAD_ARG', api: 'tokenPiece / isEog', input: 'token -1 or nVocab', error: /out of range/, run: () => model.tokenPiece(-1) },
  { id: 'T8', code: 'E_BAD_ARG', api: 'tokenPiece / isEog', input: 'token NaN, 1.5 or 2^32+2', error: /token id must be an integer/, run: () => model.isEog(2 ** 32 + 2) },
  { id: 'T9', code: 'E_BAD_ARG', api: 'applyChatTemplate', input: 'no messages', error: /at least one message/, run: () => model.applyChatTemplate([]) },
  { id: 'T10', code: 'E_BAD_ARG', api: 'applyChatTemplate', input: "role ''", error: /role must be a non-empty string/, run: () => model.applyChatTemplate([{ role: '', content: 'x' }]) },
  { id: 'T11', code: 'E_BAD_ARG', api: 'applyChatTemplate', input: 'unknown template', error: /chat template not supported by llama\.cpp/, run: () => model.applyChatTemplate([{ role: 'user', content: 'x' }], { template: '{% bogus' }) },
  { id: 'T12', code: 'E_BAD_ARG', api: 'meta', input: 'key 5', error: /key must be a string/, run: () => model.meta(5 as never) },
  // createContext
  { id: 'X1', code: 'E_BAD_ARG', api: 'createContext', input: 'nCtx 0 (or < 16)', error: /nCtx must be at least 16 \(got 0\)/, run: () => model.createContext({ nCtx: 0 }) },
  { id: 'X2', code: 'E_BAD_ARG', api: 'createContext', input: 'nCtx 2^30', error: /nCtx too large/, run: () => model.createContext({ nCtx: 2 ** 30 }) },
  { id: 'X3', code: 'E_BAD_ARG', api: 'createContext', input: 'nCtx 1.5 / NaN / 1e12', error: /options\.nCtx must be an integer/, run: () => model.createContext({ nCtx: NaN }) },
  { id: 'X4', code: 'E_BAD_ARG', api: 'createContext', input: 'nBatch 0 / nUbatch -1', error: /nBatch and nUbatch must be >= 1/, run: () => model.createContext({ nBatch: 0 }) },
  { id: 'X5', code: 'E_BAD_ARG', api: 'createContext', input: 'nSeqMax 0', error: /nSeqMax must be in \[1, 256\] \(got 0\)/, run: () => model.createContext({ nSeqMax: 0 }) },
  { id: 'X6', code: 'E_BAD_ARG', api: 'createContext', input: 'nSeqMax 1000', error: /nSeqMax must be in \[1, 256\] \(got 1000\)/, run: () => model.createContext({ nSeqMax: 1000 }) },
  { id: 'X7', code: 'E_BAD_ARG', api: 'createContext', input: 'nSeqMax > nBatch or nCtx (e.g. nCtx 32 with the default nSeqMax 64)', error: /nSeqMax \(64\) must not exceed nBatch \(512\) or nCtx \(32\)/, run: () => model.createContext({ nCtx: 32 }) },
  { id: 'X8', code: 'E_BAD_ARG', api: 'createContext', input: 'nThreads -1 (or > 512)', error: /nThreads must be in \[0, 512\]/, run: () => model.createContext({ nThreads: -1 }) },
  { id: 'X9', code: 'E_BAD_ARG', api: 'createContext', input: "flashAttn 'maybe'", error: /flashAttn must be 'auto', 'on' or 'off'/, run: () => model.createContext(opts({ flashAttn: 'maybe' })) },
  { id: 'X10', code: 'E_BAD_ARG', api: 'createContext', input: 'kvUnified 1', error: /options\.kvUnified must be a boolean/, run: () => model.createContext(opts({ kvUnified: 1 })) },
  { id: 'X11', code: 'E_BAD_ARG', api: 'createContext', input: "options 'x'", error: /context options must be an object/, run: () => model.createContext('x' as never) },
  // per-token log-probabilities (the fluency measure)
  { id: 'G32', code: 'E_BAD_ARG', api: 'tokenLogprobs', input: 'items []', error: /tokenLogprobs needs at least one item/, run: () => ctx.tokenLogprobs([]) },
  { id: 'G33', code: 'E_BAD_ARG', api: 'tokenLogprobs', input: 'empty prompt', error: /items\[0\]\.prompt is empty/, run: () => ctx.tokenLogprobs([{ prompt: [], continuation: [5] }]) },
  { id: 'G34', code: 'E_BAD_ARG', api: 'tokenLogprobs', input: 'token id outside the vocabulary', error: /token id \d+ out of range \[0, \d+\)/, run: () => ctx.tokenLogprobs([{ prompt: [1], continuation: [nVocab] }]) },
  { id: 'G35', code: 'E_BAD_ARG', api: 'tokenLogprobs', input: 'longer than the context', error: /items\[0\] needs 299 context tokens \(prompt \+ continuation - 1\), more than the context holds \(256\)/, run: () => ctx.tokenLogprobs([{ prompt: [1], continuation: new Array(299).fill(5) }]) },
  // the LLM judge
  { id: 'J1', code: 'E_BAD_ARG', api: 'JudgeClient', input: "url 'not a url'", error: /judge: 'not a url' is not a URL/, run: () => new JudgeClient({ url: 'not a url', model: 'j' }) },
  { id: 'J2', code: 'E_BAD_ARG', api: 'loadRubric', input: 'a part missing', error: /part "## fluency" is missing or empty/, run: () => loadRubric(T('rubric-short.md')) },
  // capture
  { id: 'K1', code: 'E_BAD_ARG', api: 'capture', input: 'texts [] (or not an array)', error: /non-empty list of texts/, run: () => ctx.capture([], { layers: [0] }) },
  { id: 'K2', code: 'E_BAD_ARG', api: 'capture', input: 'texts [5]', error: /texts\[0\] is not a string/, run: () => ctx.capture([5] as never, { layers: [0] }) },
  { id: 'K3', code: 'E_BAD_ARG', api: 'capture', input: 'layers []', error: /at least one layer/, run: () => ctx.capture(['x'], { layers: [] }) },
  { id: 'K4', code: 'E_BAD_ARG', api: 'capture', input: 'layer -1 / nLayer / NaN / 1.5 / 1e12', error: /layer -1 out of range \[0, 5\]/, run: () => ctx.capture(['x'], { layers: [-1] }) },
  { id: 'K5', code: 'E_BAD_ARG', api: 'capture', input: 'layers [1, 1]', error: /capture layers must be distinct/, run: () => ctx.capture(['x'], { layers: [1, 1] }) },
  { id: 'K6', code: 'E_BAD_ARG', api: 'capture', input: "pool 'max'", error: /unknown pooling 'max'/, run: () => ctx.capture(['x'], { layers: [0], pool: 'max' as never }) },
  { id: 'K7', code: 'E_BAD_ARG', api: 'capture', input: 'truncate -1 / 1.5', error: /truncate must be a non-negative integer/, run: () => ctx.capture(['x'], { layers: [0], truncate: -1 }) },
  { id: 'K8', code: 'E_BAD_ARG', api: 'capture', input: 'truncate 1e12', error: /options\.truncate must be an integer/, run: () => ctx.capture(['x'], { layers: [0], truncate: 1e12 }) },
  { id: 'K9', code: 'E_BAD_ARG', api: 'capture', input: 'chunkSize 0', error: /chunkSize must be a positive integer/, run: () => ctx.capture(['x'], { layers: [0], chunkSize: 0 }) },
  { id: 'K10', code: 'E_BAD_ARG', api: 'capture', input: "text '' with addSpecial false", error: /text 0 has no tokens/, run: () => ctx.capture([''], { layers: [0], addSpecial: false }) },
  { id: 'K11', code: 'E_BAD_ARG', api: 'capture', input: 'text longer than the context', error: /more than the context .*set truncate/, run: () => ctx.capture(['word '.repeat(600)], { layers: [0] }) },
  { id: 'K14', code: 'E_BAD_ARG', api: 'capture', input: 'maxTokens (the old name of truncate)', error: /capture takes truncate .*maxTokens is the number of new tokens/, run: () => ctx.capture(['x'], { layers: [0], maxTokens: 8 } as never) },
  { id: 'K12', code: 'E_BUSY', api: 'capture / generate / evalLogits', input: 'a second call while one runs', error: /context is busy/, run: async () => { const p = ctx.capture(['hello '.repeat(100)], { layers: [0] }); try { return await ctx.capture(['x'], { layers: [0] }); } finally { await p; } } },
  { id: 'K13', code: 'E_STATE', api: 'capture (any Context method)', input: 'after free()', error: /context has been freed/, run: async () => { const c = await model.createContext({ nCtx: 64, nSeqMax: 1, nThreads: 1 }); c.free(); return c.capture(['x'], { layers: [0] }); } },
  // generate
  { id: 'G1', code: 'E_BAD_ARG', api: 'generate', input: 'sequences []', error: /at least one sequence/, run: () => ctx.generate({ sequences: [] }) },
  { id: 'G2', code: 'E_BAD_ARG', api: 'generate', input: 'prompt 5', error: /sequences\[0\]\.prompt must be a string or an Int32Array/, run: () => gen({ prompt: 5 }) },
  { id: 'G3', code: 'E_BAD_ARG', api: 'generate', input: 'prompt Int32Array []', error: /sequence 0: empty prompt/, run: () => gen({ prompt: new Int32Array(0) }) },
  { id: 'G4', code: 'E_BAD_ARG', api: 'generate', input: 'prompt token -1 / nVocab', error: /token id -1 out of range/, run: () => gen({ prompt: new Int32Array([1, -1]) }) },
  { id: 'G5', code: 'E_BAD_ARG', api: 'generate', input: 'more sequences than nSeqMax', error: /5 sequences requested but the context holds at most 4/, run: () => ctx.generate({ sequences: Array.from({ length: 5 }, () => seq()) as never }) },
  { id: 'G6', code: 'E_BAD_ARG', api: 'generate', input: 'maxTokens 0', error: /maxTokens must be >= 1/, run: () => gen({ maxTokens: 0 }) },
  { id: 'G7', code: 'E_BAD_ARG', api: 'generate', input: 'maxTokens 1e9 (more than the context)', error: /exceeds the room of one sequence/, run: () => gen({ maxTokens: 1e9 }) },
  { id: 'G8', code: 'E_BAD_ARG', api: 'generate', input: 'maxTokens 1.5 / 1e12', error: /sequences\[0\]\.maxTokens must be an integer/, run: () => gen({ maxTokens: 1.5 }) },
  { id: 'G9', code: 'E_BAD_ARG', api: 'generate', input: 'temperature NaN / -1 / Infinity', error: /temperature must be a finite number >= 0/, run: () => gen({ temperature: NaN }) },
  { id: 'G10', code: 'E_BAD_ARG', api: 'generate', input: 'topP 0 / 1.5 / NaN', error: /topP must be in \(0, 1\]/, run: () => gen({ topP: 0 }) },
  { id: 'G11', code: 'E_BAD_ARG', api: 'generate', input: 'minP -0.1 / 2', error: /minP must be in \[0, 1\]/, run: () => gen({ minP: -0.1 }) },
  { id: 'G12', code: 'E_BAD_ARG', api: 'generate', input: 'topK -1', error: /topK must be >= 0/, run: () => gen({ topK: -1 }) },
  { id: 'G13', code: 'E_BAD_ARG', api: 'generate', input: 'topK 1.5', error: /sequences\[0\]\.topK must be an integer/, run: () => gen({ topK: 1.5 }) },
  { id: 'G14', code: 'E_BAD_ARG', api: 'generate', input: 'seed -1 / 1.5 / 2^32', error: /seed must be an integer in \[0, 2\^32\)/, run: () => gen({ seed: -1 }) },
  { id: 'G15', code: 'E_BAD_ARG', api: 'generate', input: "stop ['']", error: /empty stop string/, run: () => gen({ stop: [''] }) },
  { id: 'G16', code: 'E_BAD_ARG', api: 'generate', input: "stop 'x' (not an array)", error: /stop must be an array of strings/, run: () => gen({ stop: 'x' }) },
  { id: 'G17', code: 'E_BAD_ARG', api: 'generate', input: "positions 'middle'", error: /sequences\[0\]\.positions must be all, prompt or generated/, run: () => gen({ positions: 'middle' }) },
  { id: 'G18', code: 'E_BAD_ARG', api: 'generate steer', input: 'steer 5 (not an array)', error: /sequences\[0\]\.steer must be an array of steering terms/, run: () => gen({ steer: 5 }) },
  { id: 'G19', code: 'E_BAD_ARG', api: 'generate steer', input: 'layer -1 / nLayer', error: /sequences\[0\]\.steer\[0\]\.layer -1 out of range \[0, 5\]/, run: () => steer({ layer: -1 }) },
  { id: 'G20', code: 'E_BAD_ARG', api: 'generate steer', input: 'layer NaN / 1.5 / missing', error: /sequences\[0\]\.steer\[0\]\.layer must be an integer/, run: () => steer({ layer: 1.5 }) },
  { id: 'G21', code: 'E_BAD_ARG', api: 'generate steer', input: 'direction number[] / Float64Array', error: /direction must be a Float32Array/, run: () => steer({ direction: Array.from(dir) }) },
  { id: 'G22', code: 'E_BAD_ARG', api: 'generate steer', input: 'direction of length nEmbd+1', error: /has length 65, the model's nEmbd is 64/, run: () => steer({ direction: new Float32Array(nEmbd + 1) }) },
  { id: 'G23', code: 'E_BAD_ARG', api: 'generate steer', input: 'direction Float32Array(0)', error: /has length 0, the model's nEmbd is 64/, run: () => steer({ direction: new Float32Array(0) }) },
  { id: 'G24', code: 'E_BAD_ARG', api: 'generate steer', input: 'direction with NaN / Infinity', error: /contains NaN or infinity/, run: () => steer({ direction: dir.map((x, i) => (i === 2 ? NaN : x)) }) },
  { id: 'G25', code: 'E_BAD_ARG', api: 'generate steer', input: 'alpha NaN / Infinity', error: /sequences\[0\]\.steer\[0\]\.alpha must be a finite number/, run: () => steer({ alpha: Infinity }) },
  { id: 'G26', code: 'E_BAD_ARG', api: 'generate steer', input: "alpha '1'", error: /sequences\[0\]\.steer\[0\]\.alpha must be a finite number/, run: () => steer({ alpha: '1' }) },
  { id: 'G27', code: 'E_BAD_ARG', api: 'generate monitors', input: 'layer nLayer', error: /monitors\[0\]\.layer 6 out of range \[0, 5\]/, run: () => ctx.generate({ sequences: [seq() as never], monitors: [{ layer: nLayer, direction: dir }] }) },
  { id: 'G28', code: 'E_BAD_ARG', api: 'generate monitors', input: 'direction of length 3', error: /monitors\[0\]\.direction has length 3/, run: () => ctx.generate({ sequences: [seq() as never], monitors: [{ layer: 0, direction: new Float32Array(3) }] }) },
  { id: 'G29', code: 'E_BAD_ARG', api: 'generate monitors', input: 'monitors 5 (not an array)', error: /monitors must be an array of \{layer, direction\}/, run: () => ctx.generate({ sequences: [seq() as never], monitors: 5 as never }) },
  { id: 'G30', code: 'E_STATE', api: 'generate', input: 'consumed twice (result() then for await)', error: /a generation can be consumed once/, run: async () => { const g = ctx.generate({ sequences: [seq() as never] }); await g.result(); for await (const _ of g) { /* */ } } },
  { id: 'G31', code: 'E_BAD_ARG', api: 'generationContextOptions', input: 'nSeqs 0 / 257', error: /number of sequences must be 1\.\.256/, run: () => generationContextOptions(0, 64) },
  // evalLogits
  { id: 'E1', code: 'E_BAD_ARG', api: 'evalLogits', input: 'no tokens', error: /at least one token/, run: () => ctx.evalLogits(new Int32Array(0)) },
  { id: 'E2', code: 'E_BAD_ARG', api: 'evalLogits', input: 'token nVocab / -1', error: /out of range/, run: () => ctx.evalLogits(new Int32Array([1, nVocab])) },
  { id: 'E3', code: 'E_BAD_ARG', api: 'evalLogits', input: 'tokens [1, 2.5]', error: /tokens\[1\] is not an integer/, run: () => ctx.evalLogits([1, 2.5] as never) },
  { id: 'E4', code: 'E_BAD_ARG', api: 'evalLogits', input: 'longer than the context', error: /longer than the context/, run: () => ctx.evalLogits(new Int32Array(ctx.props.nCtxSeq + 1).fill(1)) },
  { id: 'E5', code: 'E_BAD_ARG', api: 'evalLogits', input: 'steer direction of the wrong length', error: /steer\[0\]\.direction has length 2, the model's nEmbd is 64/, run: () => ctx.evalLogits(new Int32Array([1]), [{ layer: 1, direction: new Float32Array(2), alpha: 1 }]) },
  { id: 'E6', code: 'E_BAD_ARG', api: 'evalLogits', input: 'steer alpha NaN', error: /steer\[0\]\.alpha must be a finite number/, run: () => ctx.evalLogits(new Int32Array([1]), [{ layer: 1, direction: dir, alpha: NaN }]) },
  // control vectors
  { id: 'V1', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'layer 0', error: /control vectors start at block 1/, run: () => writeControlVector(T('v.gguf'), new Map([[0, dir]])) },
  { id: 'V2', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'no layers', error: /needs at least one layer/, run: () => writeControlVector(T('v.gguf'), new Map()) },
  { id: 'V3', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'layers of different widths', error: /same width/, run: () => writeControlVector(T('v.gguf'), new Map([[1, dir], [2, new Float32Array(3)]])) },
  { id: 'V4', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'Float32Array(0)', error: /directions must not be empty/, run: () => writeControlVector(T('v.gguf'), new Map([[1, new Float32Array(0)]])) },
  { id: 'V5', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'NaN in a direction', error: /contains NaN or infinity/, run: () => writeControlVector(T('v.gguf'), new Map([[1, dir.map(() => NaN)]])) },
  { id: 'V6', code: 'E_IO', api: 'writeControlVector', input: 'path in a missing folder', error: /control vector: cannot write/, run: () => writeControlVector(T('no/such/v.gguf'), new Map([[1, dir]])) },
  { id: 'V7', code: 'E_IO', api: 'readControlVector', input: 'missing file', error: /cannot open control vector/, run: () => readControlVector(T('missing.gguf')) },
  { id: 'V8', code: 'E_BAD_ARG', api: 'readControlVector', input: 'not a GGUF', error: /not a GGUF file/, run: () => readControlVector(T('text.gguf')) },
  { id: 'V9', code: 'E_BAD_ARG', api: 'readControlVector', input: 'a model file', error: /has no direction\.N tensors/, run: () => readControlVector(modelPath) },
  { id: 'V10', code: 'E_BAD_ARG', api: 'loadControlVectorWithLlama', input: 'strength NaN', error: /strength must be a finite number/, run: () => loadControlVectorWithLlama(T('cv.gguf'), NaN) },
  { id: 'V11', code: 'E_BAD_ARG', api: 'setControlVector', input: 'data not a multiple of nEmbd', error: /not a multiple of nEmbd/, run: () => ctx.setControlVector(new Float32Array(nEmbd + 1), 1, 2) },
  { id: 'V12', code: 'E_BAD_ARG', api: 'setControlVector', input: 'Float32Array(0)', error: /control vector data is empty/, run: () => ctx.setControlVector(new Float32Array(0), 1, 2) },
  { id: 'V13', code: 'E_BAD_ARG', api: 'setControlVector', input: 'layer range 0..n or NaN', error: /layer range must be within \[1, nLayer-1\]/, run: () => ctx.setControlVector(new Float32Array(nEmbd), 0, nLayer) },
  { id: 'V14', code: 'E_BAD_ARG', api: 'setControlVector', input: 'NaN in data', error: /contains NaN or infinity/, run: () => ctx.setControlVector(new Float32Array(nEmbd).fill(NaN), 1, 1) },
  { id: 'V15', code: 'E_BAD_ARG', api: 'loadControlVectorFile', input: 'width != nEmbd', error: /control vector width 8 != model nEmbd 64/, run: () => ctx.loadControlVectorFile(T('cv-narrow.gguf')) },
  { id: 'V16', code: 'E_BAD_ARG', api: 'loadControlVectorFile', input: 'strength NaN', error: /'strength' must be a finite number/, run: () => ctx.loadControlVectorFile(T('cv.gguf'), { strength: NaN }) },
  { id: 'V17', code: 'E_BAD_ARG', api: 'loadControlVectorFile', input: 'layerStart 0 / layerEnd >= nLayer', error: /layer range must be within \[1, nLayer-1\]/, run: () => ctx.loadControlVectorFile(T('cv.gguf'), { layerStart: -5, layerEnd: 1000 }) },
  { id: 'V18', code: 'E_IO', api: 'loadControlVectorFile', input: 'missing file', error: /cannot open control vector/, run: () => ctx.loadControlVectorFile(T('missing.gguf')) },
  { id: 'V19', code: 'E_BAD_ARG', api: 'readGgufTensor', input: 'missing tensor name', error: /no tensor named 'nope'/, run: () => readGgufTensor(modelPath, 'nope') },
  { id: 'V20', code: 'E_IO', api: 'readGgufTensor', input: 'missing file', error: /cannot read GGUF/, run: () => readGgufTensor(T('missing.gguf'), 'x') },
  // synth
  { id: 'S1', code: 'E_BAD_ARG', api: 'synth', input: 'no out', error: /needs an output path/, run: () => synth({} as SynthOptions) },
  { id: 'S2', code: 'E_BAD_ARG', api: 'synth', input: "arch 'gpt2'", error: /unknown arch 'gpt2'/, run: () => synth(opts({ out: T('s.gguf'), arch: 'gpt2' })) },
  { id: 'S3', code: 'E_BAD_ARG', api: 'synth', input: "shape 'huge'", error: /unknown shape 'huge'/, run: () => synth(opts({ out: T('s.gguf'), shape: 'huge' })) },
  { id: 'S4', code: 'E_BAD_ARG', api: 'synth', input: "type 'q4_0'", error: /unknown type 'q4_0'/, run: () => synth(opts({ out: T('s.gguf'), type: 'q4_0' })) },
  { id: 'S5', code: 'E_BAD_ARG', api: 'synth', input: 'seed -1 / 1.5 / NaN', error: /'seed' must be a non-negative integer/, run: () => synth({ out: T('s.gguf'), seed: -1 }) },
  { id: 'S7', code: 'E_BAD_ARG', api: 'synth', input: 'out is a directory', error: /names a directory/, run: () => synth({ out: tmp.dir }) },
  { id: 'S8', code: 'E_IO', api: 'synth', input: 'out in a missing folder', error: /cannot write .*the output directory must exist/, run: () => synth({ out: T('no/such/s.gguf') }) },
  { id: 'S9', code: 'E_BAD_ARG', api: 'synth', input: "plantedProfile 'odd'", error: /unknown planted profile 'odd' \(expected realistic, easy\)/, run: () => synth(opts({ out: T('s.gguf'), planted: true, plantedProfile: 'odd' })) },
  { id: 'S10', code: 'E_BAD_ARG', api: 'synth', input: 'plantedProfile without planted', error: /plantedProfile needs planted: true/, run: () => synth({ out: T('s.gguf'), plantedProfile: 'easy' }) },
  { id: 'S11', code: 'E_BAD_ARG', api: 'synth', input: 'seed 1e300 (beyond 2^53: was read as seed 0)', error: /'seed' must be a non-negative integer \(at most 2\^53 - 1\), got 1e\+300/, run: () => synth({ out: T('s.gguf'), seed: 1e300 }) },
  // issue 25: GGUF metadata of control vectors, vector cards, quantization
  { id: 'W1', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'meta key general.name', error: /metadata key 'general\.name' is outside eia-native's namespace/, run: () => writeControlVector(T('w.gguf'), new Map([[1, dir]]), '', { 'general.name': 'x' }) },
  { id: 'W2', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'meta value NaN', error: /metadata 'eia\.x' is NaN or infinite/, run: () => writeControlVector(T('w.gguf'), new Map([[1, dir]]), '', { 'eia.x': NaN }) },
  { id: 'W3', code: 'E_BAD_ARG', api: 'writeControlVector', input: 'meta value []', error: /meta\['eia\.x'\] is an empty array/, run: () => writeControlVector(T('w.gguf'), new Map([[1, dir]]), '', { 'eia.x': [] as number[] }) },
  { id: 'W4', code: 'E_BAD_ARG', api: 'checkCard', input: 'a card without its format', error: /f\.json: card field "format" must be "eia-vector-card"/, run: () => checkCard({ ...makeCard(1), format: 'x' }, 'f.json') },
  { id: 'W5', code: 'E_BAD_ARG', api: 'readVectorCards', input: 'a GGUF card under another block', error: /the card under eia\.card\.1 says block 2/, run: () => readVectorCards(T('cv-card.gguf')) },
  { id: 'W6', code: 'E_BAD_ARG', api: 'quantizeModel', input: "type 'q9_9'", error: /unknown quantization type 'q9_9'/, run: () => quantizeModel({ input: modelPath, output: T('q.gguf'), type: 'q9_9' }) },
  { id: 'W7', code: 'E_BAD_ARG', api: 'quantizeModel', input: 'input not a GGUF', error: /quantize: input '.*' is not a GGUF file \(bad magic\)/, run: () => quantizeModel({ input: T('text.gguf'), output: T('q.gguf'), type: 'q8_0' }) },
  { id: 'W8', code: 'E_BAD_ARG', api: 'quantizeModel', input: 'output = input', error: /quantize: the output is the input file/, run: () => quantizeModel({ input: modelPath, output: modelPath, type: 'q8_0' }) },
  { id: 'W9', code: 'E_IO', api: 'quantizeModel', input: 'output in a missing folder', error: /quantize: cannot write '.*': .*the output folder must exist and be writable/, run: () => quantizeModel({ input: modelPath, output: T('no/such/q.gguf'), type: 'q8_0' }) },
];

describe('bad arguments (API): every row of docs/reliability.md rejects with a JS error', () => {
  for (const r of API) {
    it(`${r.id} ${r.api}: ${r.input}`, async () => {
      let err: unknown;
      try {
        await r.run();
      } catch (e) {
        err = e;
      }
      expect(err, 'expected an error').toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(r.error);
      if (r.code === null) expect(err, 'a plain Error (see Row.code)').not.toBeInstanceOf(EiaError);
      else expect((err as EiaError).code, String(err)).toBe(r.code);
      expect(ctx.busy).toBe(false);  // a rejected call never leaves the context busy
    });
  }

  it('the context and model are still fully usable after every rejection above', async () => {
    const cap = await ctx.capture(['still alive'], { layers: [0, nLayer - 1] });
    expect(cap.nTexts).toBe(1);
    const [g] = await ctx.generate({ sequences: [{ prompt: 'Hi', maxTokens: 3, temperature: 0 }] }).result();
    expect(g.tokens.length).toBe(3);
  });
});

// ---------------------------------------------------------------------------------- CLI rows
/**
 * `exit`: the exit code; `code`: the error code printed as `eia-native: [CODE] message` (lib/cli/exit-codes.ts maps one to the
 * other); exit 0 rows (code null) are cases that succeed with a warning, `error` matching it. `tree`: paths whose files must be
 * exactly as before the command (nothing is written where a check fails; 'absent' stays absent). `stdin`: the command's input.
 */
interface CliRow { id: string; cmd: string; args: () => string[]; exit: 0 | 1 | 2; code: ErrorCode | null; error: RegExp; tree?: () => string[]; stdin?: string; skip?: () => string | null }
const M = () => modelPath;
const CLI: CliRow[] = [
  { id: 'C1', cmd: '(any)', args: () => ['bogus'], exit: 2, code: 'E_BAD_ARG', error: /Unknown argument: bogus/ },
  { id: 'C2', cmd: 'info', args: () => ['info', '--model', T('missing.gguf')], exit: 2, code: 'E_BAD_ARG', error: /Model file not found/ },
  { id: 'C3', cmd: 'info', args: () => ['info', '--model', T('text.gguf')], exit: 1, code: 'E_MODEL_LOAD', error: /not a GGUF file/ },
  { id: 'C4', cmd: 'synth', args: () => ['synth', '--shape', 'huge', '--out', T('s.gguf')], exit: 2, code: 'E_BAD_ARG', error: /Invalid values:[\s\S]*shape/ },
  { id: 'C5', cmd: 'synth', args: () => ['synth', '--seed', '-1', '--out', T('s.gguf')], exit: 2, code: 'E_BAD_ARG', error: /--seed must be a non-negative integer, got -1/ },
  { id: 'C6', cmd: 'synth', args: () => ['synth'], exit: 2, code: 'E_BAD_ARG', error: /Missing required argument: out/ },
  { id: 'C7', cmd: 'synth', args: () => ['synth', '--out', T('no/such/s.gguf')], exit: 1, code: 'E_IO', error: /cannot write/ },
  { id: 'C8', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', 'a', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--layers: 'a' is not an integer/ },
  { id: 'C9', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '99', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--layers: 99 out of range \[0, 5\]/ },
  { id: 'C10', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--truncate', '-1', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--truncate must be a non-negative integer, got -1/, tree: () => [T('o')] },
  { id: 'C11', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--input', T('missing.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--input: .*missing\.jsonl does not exist/, tree: () => [T('o')] },
  { id: 'C12', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--input', T('bad.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /bad\.jsonl:2: invalid JSON/ },
  { id: 'C13', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--pool', 'max', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /Invalid values:[\s\S]*pool/ },
  { id: 'C14', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--threads', '-1', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--threads must be a positive integer, got -1/ },
  { id: 'C15', cmd: 'capture', args: () => ['capture', '--model', T('text.gguf'), '--layers', '0', '--input', T('ok.jsonl'), '--out', T('o')], exit: 1, code: 'E_MODEL_LOAD', error: /not a GGUF file/ },
  { id: 'C16', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--input', T('ok.jsonl'), '--out', T('text.gguf')], exit: 2, code: 'E_BAD_ARG', error: /--out: .*text\.gguf exists and is not a folder/, tree: () => [T('text.gguf')] },
  { id: 'C17', cmd: 'generate', args: () => ['generate', '--model', M()], exit: 2, code: 'E_BAD_ARG', error: /--prompt \(or --prompt-file\) is required/ },
  { id: 'C18', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--alphas', 'x'], exit: 2, code: 'E_BAD_ARG', error: /--alphas: 'x' is not a number/ },
  { id: 'C19', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--alphas', '5'], exit: 2, code: 'E_BAD_ARG', error: /non-zero --alphas need --probe and --layer/ },
  { id: 'C20', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--samples', '0'], exit: 2, code: 'E_BAD_ARG', error: /--samples must be a positive integer/ },
  { id: 'C21', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--max-tokens', '0'], exit: 2, code: 'E_BAD_ARG', error: /--max-tokens must be >= 1, got 0/ },
  { id: 'C22', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--layer', '99'], exit: 2, code: 'E_BAD_ARG', error: /--layer 99 out of range/ },
  { id: 'C23', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--probe', T('w3.npy'), '--layer', '1', '--alphas', '1'], exit: 2, code: 'E_BAD_ARG', error: /has width 3, the model's d_model is 64/ },
  { id: 'C24', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--monitor', 'bad'], exit: 2, code: 'E_BAD_ARG', error: /--monitor 'bad': expected L:path\.npy/ },
  { id: 'C25', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--temp', '-1', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--temp must be a finite number >= 0 \(0 = greedy\), got -1/ },
  { id: 'C26', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--top-p', '0', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--top-p must be in \(0, 1\], got 0/ },
  { id: 'C27', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--seed', '-1', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--seed must be a non-negative integer, got -1/ },
  { id: 'C28', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--max-tokens', '100000000'], exit: 2, code: 'E_BAD_ARG', error: /--max-tokens: the prompt \(\d+ tokens\) \+ 100000000 new tokens exceed the context of 2048 tokens per sequence/ },
  { id: 'C29', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--threads', '1.5', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--threads must be a positive integer, got 1\.5/ },
  { id: 'C30', cmd: 'cvec export', args: () => ['cvec', 'export', '--probe', T('probe.npy'), '--layers', '0', '--out', T('c.gguf')], exit: 2, code: 'E_BAD_ARG', error: /--layers: control vectors start at block 1/, tree: () => [T('c.gguf')] },
  { id: 'C31', cmd: 'cvec export', args: () => ['cvec', 'export', '--probe', T('probe.npy'), '--layers', '1', '--scale', 'abc', '--out', T('c.gguf')], exit: 2, code: 'E_BAD_ARG', error: /--scale must be a decimal number, got 'abc'/ },
  { id: 'C32', cmd: 'cvec import', args: () => ['cvec', 'import', T('missing.gguf'), '--out', T('ci')], exit: 1, code: 'E_IO', error: /cannot open control vector/ },
  { id: 'C33', cmd: 'cvec import', args: () => ['cvec', 'import', T('text.gguf'), '--out', T('ci')], exit: 2, code: 'E_BAD_ARG', error: /not a GGUF file/ },
  { id: 'C34', cmd: 'probe', args: () => ['probe', '--model', M(), '--train', T('missing.jsonl'), '--test', T('pairs.jsonl'), '--layers', '0', '--out', T('po')], exit: 2, code: 'E_BAD_ARG', error: /--train: .* does not exist/ },
  { id: 'C35', cmd: 'probe', args: () => ['probe', '--model', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layers', '0', '--bootstrap', '0', '--out', T('po')], exit: 2, code: 'E_BAD_ARG', error: /--bootstrap must be a positive integer, got 0/ },
  { id: 'C36', cmd: 'probe', args: () => ['probe', '--model', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layers', '0', '--seed', '1.5', '--out', T('po')], exit: 2, code: 'E_BAD_ARG', error: /--seed must be a non-negative integer, got 1\.5/, tree: () => [T('po')] },
  { id: 'C37', cmd: 'probe', args: () => ['probe', '--model', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layers', '99', '--out', T('po')], exit: 2, code: 'E_BAD_ARG', error: /layer 99 out of range \[0, 5\]/ },
  { id: 'C38', cmd: 'correlate', args: () => ['correlate', '--model', M(), '--probe', T('missing.npy'), '--texts', T('ok.jsonl')], exit: 2, code: 'E_BAD_ARG', error: /--probe: .* does not exist/ },
  { id: 'C39', cmd: 'correlate', args: () => ['correlate', '--model', M(), '--probe', T('probe.npy'), '--texts', T('ok.jsonl'), '--layer', '-1'], exit: 2, code: 'E_BAD_ARG', error: /--layer must be a non-negative integer/ },
  { id: 'C40', cmd: 'align', args: () => ['align', '--model-a', M(), '--model-b', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layer-a', '0', '--layer-b', '0', '--k', '0'], exit: 2, code: 'E_BAD_ARG', error: /--k must be a positive integer/ },
  { id: 'C41', cmd: 'align', args: () => ['align', '--model-a', M(), '--model-b', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layer-a', '99', '--layer-b', '0'], exit: 2, code: 'E_BAD_ARG', error: /--layer-a: 99 out of range/ },
  { id: 'C42', cmd: 'stats', args: () => ['stats', 'bogus', '--input', T('auroc.json')], exit: 2, code: 'E_BAD_ARG', error: /Invalid values:[\s\S]*kind/ },
  { id: 'C43', cmd: 'stats', args: () => ['stats', 'auroc', '--input', T('missing.json')], exit: 2, code: 'E_BAD_ARG', error: /--input: .* does not exist/ },
  { id: 'C44', cmd: 'stats', args: () => ['stats', 'auroc', '--input', T('auroc.json'), '--bootstrap', '0'], exit: 2, code: 'E_BAD_ARG', error: /--bootstrap must be a positive integer/ },
  { id: 'C45', cmd: 'stats', args: () => ['stats', 'auroc', '--input', T('ok.jsonl')], exit: 2, code: 'E_BAD_ARG', error: /missing field "score"/ },
  { id: 'C46', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', tmp.dir, '--layers', '1', '--samples', '0', '--out', T('run')], exit: 2, code: 'E_BAD_ARG', error: /--samples must be a positive integer, got 0/ },
  { id: 'C47', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', tmp.dir, '--layers', '1', '--probe-score', 'bogus', '--out', T('run')], exit: 2, code: 'E_BAD_ARG', error: /--probe-score must be one of capture, monitor, off/ },
  { id: 'C48', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', tmp.dir, '--layers', '1', '--seed', '-1', '--out', T('run')], exit: 2, code: 'E_BAD_ARG', error: /--seed must be a non-negative integer, got -1/ },
  { id: 'C49', cmd: 'score', args: () => ['score', T('missing')], exit: 2, code: 'E_BAD_ARG', error: /missing does not exist/ },
  { id: 'C50', cmd: 'score', args: () => ['score', tmp.dir, '--bootstrap', '0'], exit: 2, code: 'E_BAD_ARG', error: /--bootstrap must be a positive integer, got 0/ },
  { id: 'C51', cmd: 'report', args: () => ['report', T('missing')], exit: 2, code: 'E_BAD_ARG', error: /is not a folder \(expected a RUN folder\)/ },
  { id: 'C52', cmd: 'pairs', args: () => ['pairs', '--model', M(), '--scenarios', ',', '--out', T('p.jsonl')], exit: 2, code: 'E_BAD_ARG', error: /--scenarios: expected a comma-separated list of scenario ids/ },
  { id: 'C53', cmd: 'run', args: () => ['run', '--model', M(), '--train', T('pairs.jsonl'), '--out', T('r')], exit: 2, code: 'E_BAD_ARG', error: /give both --train and --test, or neither/ },
  { id: 'C54', cmd: 'pull', args: () => ['pull', 'no-such-model'], exit: 2, code: 'E_BAD_ARG', error: /Unknown model "no-such-model"/ },
  { id: 'C55', cmd: 'bench', args: () => ['bench', '--threads', '0'], exit: 2, code: 'E_BAD_ARG', error: /--threads must be a positive integer/ },
  { id: 'C56', cmd: 'demo / models', args: () => ['demo', '--bogus'], exit: 2, code: 'E_BAD_ARG', error: /Unknown argument: bogus/ },
  // issue 14: RUN folders as transactions (a lock, checks before any write, no silent overwrite, one count per sample)
  { id: 'C57', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('locked')], exit: 1, code: 'E_LOCKED', error: new RegExp(`in use by another eia-native process \\(pid ${process.pid}, \`steer\``), tree: () => [T('locked')] },
  { id: 'C58', cmd: 'run', args: () => ['run', '--model', M(), ...RUN_SMALL, '--layers', '1,3', '--out', T('fin')], exit: 2, code: 'E_CONFLICT', error: /holds results made with other probe parameters \(probes, manifest\.json, samples\.jsonl/, tree: () => [T('fin')] },
  { id: 'C59', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), '--layers', '1', '--alphas=0,1e308', '--scenarios', 'food_delivery', '--samples', '1', '--max-tokens', '2', '--threads', '1', '--out', T('run-a')], exit: 2, code: 'E_BAD_ARG', error: /--alphas: 1e\+308 is beyond the bound at block 1: \|alpha\| <= 100 x the block's residual norm/, tree: () => [T('run-a')] },
  { id: 'C60', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), '--layers', '1', '--alphas=0,1', '--scenarios', 'food_delivery', '--samples', '1', '--max-tokens', '1000000000', '--threads', '1', '--out', T('run-m')], exit: 2, code: 'E_BAD_ARG', error: /--max-tokens: the prompt \(\d+ tokens\) \+ 1000000000 new tokens exceed the context of 2048 tokens per sequence/, tree: () => [T('run-m')] },
  { id: 'C61', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', join(T('fin2'), 'probes'), '--layers', '1', '--alphas=0,2', '--scenarios', 'food_delivery', '--samples', '1', '--max-tokens', '2', '--threads', '1', '--out', T('fin2')], exit: 2, code: 'E_CONFLICT', error: /holds a sweep with other parameters; use another RUN folder, the original parameters, or --force/, tree: () => [T('fin2')] },
  { id: 'C62', cmd: 'report', args: () => ['report', T('fin3'), '--out', T('r.txt'), '--markdown'], exit: 2, code: 'E_BAD_ARG', error: /--out is a folder \(DIR\/report\.html, DIR\/report\.md\), got the file name/, tree: () => [T('r.txt'), T('fin3'), join(root, '..', `${root.split('/').filter(Boolean).pop()}-figures`)] },
  { id: 'C63', cmd: 'score', args: () => ['score', T('dup.jsonl'), '--json'], exit: 0, code: null, error: /warning: .*dup\.jsonl: 1 duplicate sample line ignored/, tree: () => [T('dup.jsonl')] },
  // bounds and sanity
  { id: 'C64', cmd: 'stats', args: () => ['stats', 'auroc', '--input', T('auroc.json'), '--permutations', '1e9'], exit: 2, code: 'E_BAD_ARG', error: /--permutations is at most 1000000, got 1000000000/ },
  { id: 'C65', cmd: 'probe', args: () => ['probe', '--model', M(), '--train', T('pairs3.jsonl'), '--test', T('pairs3.jsonl'), '--layers', '1', '--random-baseline', '1e9', '--out', T('po')], exit: 2, code: 'E_BAD_ARG', error: /--random-baseline is at most 100000, got 1000000000/, tree: () => [T('po')] },
  { id: 'C66', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), '--layers', '1', '--alphas=0,1,2', '--scenarios', 'food_delivery', '--samples', '1000000', '--threads', '1', '--out', T('run-g')], exit: 2, code: 'E_BAD_ARG', error: /--samples: the grid holds 3000000 samples \(layers x alphas x scenarios x samples\); one RUN holds at most 1000000/, tree: () => [T('run-g')] },
  { id: 'C67', cmd: 'pairs', args: () => ['pairs', '--model', M(), '--per-scenario', '1e9', '--out', T('pp.jsonl')], exit: 2, code: 'E_BAD_ARG', error: /--per-scenario is at most 10000, got 1000000000/, tree: () => [T('pp.jsonl')] },
  { id: 'C68', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--probe', T('probe.npy'), '--layer', '1', '--alphas=0,1e30', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--alphas: 1e\+30 is beyond the bound at block 1/ },
  { id: 'C69', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--ctx-size', '16', '--max-tokens', '100'], exit: 2, code: 'E_BAD_ARG', error: /--max-tokens: the prompt \(\d+ tokens\) \+ 100 new tokens exceed the context of 16 tokens per sequence \(--ctx-size\)/ },
  { id: 'C70', cmd: 'cvec import', args: () => ['cvec', 'import', T('cv-nan.gguf'), '--out', T('ci-nan')], exit: 2, code: 'E_BAD_ARG', error: /cv-nan\.gguf block 1: the direction holds NaN or infinity/, tree: () => [T('ci-nan')] },
  { id: 'C71', cmd: 'capture', args: () => ['capture', '--model', T('nan.gguf'), '--layers', '0,1', '--input', T('ok.jsonl'), '--out', T('cap-nan')], exit: 2, code: 'E_BAD_ARG', error: /the output of block 0 is NaN or infinite \(row 0\)/, tree: () => [T('cap-nan')] },
  { id: 'C72', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('oprobes'), '--layers', '1', '--alphas=0,1', '--scenarios', 'food_delivery', '--samples', '1', '--max-tokens', '2', '--threads', '1', '--out', T('run-o')], exit: 0, code: null, error: /warning: .*oprobes\/layer1\.npy was trained on another model \(sha256 ffffffffffff…, \/elsewhere\/other\.gguf\); the model in use has sha256 / },
  { id: 'C73', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--probe', T('probe7.npy'), '--layer', '1', '--alphas', '1', '--max-tokens', '2'], exit: 0, code: null, error: /--probe .*probe7\.npy has norm 7\.000: it is used as a unit direction \(alpha is the size of what is added/ },
  // one grammar
  { id: 'C74', cmd: 'generate', args: () => ['generate', '--model', M(), '--model', M(), '--prompt', 'hi'], exit: 2, code: 'E_BAD_ARG', error: /--model is given 2 times; it takes one value/ },
  { id: 'C75', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), '--layers', '1', '--monitor', '--out', T('run-x')], exit: 2, code: 'E_BAD_ARG', error: /steer --monitor is now --token-scores/, tree: () => [T('run-x')] },
  { id: 'C76', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--max-tokens', '5', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--max-tokens is the number of NEW tokens in every command; capture truncates its input texts with --truncate N/, tree: () => [T('o')] },
  { id: 'C77', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--top-k', '-5'], exit: 2, code: 'E_BAD_ARG', error: /--top-k must be a non-negative integer, got -5/ },
  { id: 'C78', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '1,1', '--input', T('ok.jsonl'), '--out', T('o')], exit: 2, code: 'E_BAD_ARG', error: /--layers: 1 is listed twice/, tree: () => [T('o')] },
  { id: 'C79', cmd: 'generate', args: () => ['generate', '-m', M(), '--prompt', 'hi', '-ngl', '1.5'], exit: 2, code: 'E_BAD_ARG', error: /--gpu-layers must be an integer >= -1, got 1\.5/ },
  { id: 'C80', cmd: 'probe', args: () => ['probe', '--model', M(), '--train', '-', '--test', '-', '--layers', '1', '--out', T('po')], stdin: '{"scenario_id":"a","empathic_text":"I care","non_empathic_text":"Win now"}\n', exit: 2, code: 'E_BAD_ARG', error: /--test: standard input \('-'\) is already read by --train; only one input can come from stdin/, tree: () => [T('po')] },
  { id: 'C81', cmd: 'cvec export', args: () => ['cvec', 'export', '--probe', T('probe.npy'), '--layer', '1', '--out', T('c.gguf')], exit: 2, code: 'E_BAD_ARG', error: /cvec export takes --layers/, tree: () => [T('c.gguf')] },
  { id: 'C82', cmd: 'score', args: () => ['score', T('dup.jsonl'), '--markdown', T('s.md')], exit: 2, code: 'E_BAD_ARG', error: /score writes score\.json and score\.md into --out DIR/, tree: () => [T('s.md')] },
  { id: 'C83', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--probe', T('cv.gguf'), '--layer', '3', '--alphas', '1', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--probe .*cv\.gguf has no direction for block 3 \(it holds blocks 1, 2\)/ },
  // issue 18: sharded sweeps and merged results (the refusals of several RUNs read as one sweep: test/cli/shard.test.ts)
  { id: 'C84', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--shard', '3/3', '--out', T('run-s')], exit: 2, code: 'E_BAD_ARG', error: /--shard: shard index 3 is out of range for 3 shards \(0\.\.2\)/, tree: () => [T('run-s')] },
  { id: 'C85', cmd: 'run', args: () => ['run', '--model', M(), '--shard', '1-2', '--out', T('run-r')], exit: 2, code: 'E_BAD_ARG', error: /--shard: shard must be I\/N/, tree: () => [T('run-r')] },
  { id: 'C86', cmd: 'merge', args: () => ['merge', T('fin')], exit: 2, code: 'E_BAD_ARG', error: /--out is required: the merged RUN folder to write/ },
  { id: 'C87', cmd: 'merge', args: () => ['merge', T('tprobes'), '--out', T('merged')], exit: 2, code: 'E_BAD_ARG', error: /tprobes holds no manifest\.json: not a steer RUN folder/, tree: () => [T('merged')] },
  { id: 'C88', cmd: 'score', args: () => ['score', T('ok.jsonl'), T('ok.jsonl'), '--format', 'empathy-probes'], exit: 2, code: 'E_BAD_ARG', error: /several SOURCEs are the shards of one sweep: give their RUN folders/ },
  { id: 'C89', cmd: 'report', args: () => ['report', T('fin'), T('fin4'), '--json'], exit: 2, code: 'E_BAD_ARG', error: /--out DIR is required with several RUNs/, tree: () => [T('fin'), T('fin4')] },
  { id: 'C90', cmd: 'merge', args: () => ['merge', T('fin'), '--out', T('fin4')], exit: 2, code: 'E_CONFLICT', error: /fin4 already holds a sweep \(manifest\.json, samples\.jsonl\); write the merged RUN to a new folder \(or --force to replace it\)/, tree: () => [T('fin4')] },
  { id: 'C91', cmd: 'merge', args: () => ['merge', T('fin'), T('fin4'), '--out', T('m91')], exit: 2, code: 'E_CONFLICT', error: /fin and .*fin4 both hold the whole grid \(no shard\): merging them would count every sample twice/, tree: () => [T('m91')] },
  { id: 'C92', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--shard', '1/2', '--out', T('whole')], exit: 2, code: 'E_CONFLICT', error: /whole holds the whole grid \(no shard\) of this sweep, this call asks for shard 1\/2; give each shard its own RUN folder \(or --force to replace it\)/, tree: () => [T('whole')] },
  { id: 'C93', cmd: 'serve', args: () => ['serve', '--model', M(), '--host', '0.0.0.0'], exit: 2, code: 'E_BAD_ARG', error: /refusing to listen on 0\.0\.0\.0 without --api-key/ },
  { id: 'C94', cmd: 'serve', args: () => ['serve', '-m', M(), '--ctx', '8'], exit: 2, code: 'E_BAD_ARG', error: /--ctx-size must be an integer >= 16, got 8/ },
  { id: 'C95', cmd: 'serve', args: () => ['serve', '--model', M(), '--slots', '0'], exit: 2, code: 'E_BAD_ARG', error: /--slots must be a positive integer, got 0/ },
  { id: 'C96', cmd: 'serve', args: () => ['serve', '--model', M(), '--port', '70000'], exit: 2, code: 'E_BAD_ARG', error: /--port is at most 65535, got 70000/ },
  // issue 23: hostile and careless input, round two
  { id: 'C98', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('run-nv'), '--samples'], exit: 2, code: 'E_BAD_ARG', error: /--samples needs a value$/m, tree: () => [T('run-nv')] },
  { id: 'C99', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--input', T('ok.jsonl'), '--out', '--threads', '1'], exit: 2, code: 'E_BAD_ARG', error: /--out needs a value$/m },
  { id: 'C100', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--probe', T('probe.npy'), '--layer', '1', '--alphas', '0x10', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--alphas: '0x10' is not a number/ },
  { id: 'C101', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--samples', '0b11', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /--samples must be a decimal number, got '0b11'/ },
  { id: 'C102', cmd: 'synth', args: () => ['synth', '--seed', '1e300', '--out', T('s300.gguf')], exit: 2, code: 'E_BAD_ARG', error: /--seed is at most 9007199254740991, got 1e\+300/, tree: () => [T('s300.gguf')] },
  { id: 'C103', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--prompt-file', T('ok.jsonl'), '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /give --prompt or --prompt-file, not both/ },
  { id: 'C104', cmd: 'bench', args: () => ['bench', '--threads', '513'], exit: 2, code: 'E_BAD_ARG', error: /--threads is at most 512, got 513/ },
  { id: 'C105', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--json', '--json'], exit: 2, code: 'E_BAD_ARG', error: /--json is given 2 times; give it once/ },
  { id: 'C106', cmd: 'run', args: () => ['run', '--model', M(), ...RUN_SMALL, '--layers=', '--out', T('run-le')], exit: 2, code: 'E_BAD_ARG', error: /--layers needs a value \(got an empty one\)/, tree: () => [T('run-le')] },
  { id: 'C107', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), '--layers', '1,1', '--alphas=0,1', '--scenarios', 'food_delivery', '--samples', '1', '--out', T('run-dl')], exit: 2, code: 'E_BAD_ARG', error: /--layers: 1 is listed twice/, tree: () => [T('run-dl')] },
  { id: 'C108', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), '--layers', '1', '--samples', '-Infinity', '--out', T('run-inf')], exit: 2, code: 'E_BAD_ARG', error: /--samples needs a value \('-Infinity' reads as a flag; a value that begins with '-' is written --samples=-Infinity\)/, tree: () => [T('run-inf')] },
  { id: 'C109', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--shard', '0/1000000000', '--out', T('run-bs')], exit: 2, code: 'E_BAD_ARG', error: /--shard: 1000000000 shards are more than the grid's 2 generations .*at most 2 shards/, tree: () => [T('run-bs')] },
  { id: 'C110', cmd: 'score', args: () => ['score', T('bigshard')], exit: 2, code: 'E_CONFLICT', error: /bigshard\/manifest\.json: its shard 0\/1000000000: 1000000000 shards are more than the grid's 2 generations/, tree: () => [T('bigshard')] },
  { id: 'C111', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--temp', '1e308', '--out', T('run-t')], exit: 2, code: 'E_BAD_ARG', error: /--temp must be a finite number >= 0 \(0 = greedy\), got 1e\+308 \(a 32-bit float, as the sampler holds it, makes it infinite\)/, tree: () => [T('run-t')] },
  { id: 'C112', cmd: 'run', args: () => ['run', '--model', M(), ...RUN_SMALL, '--layers', '1,2', '--temp', '1e308', '--out', T('run-rt')], exit: 2, code: 'E_BAD_ARG', error: /--temp must be a finite number >= 0 \(0 = greedy\), got 1e\+308/, tree: () => [T('run-rt')] },
  { id: 'C113', cmd: 'demo', args: () => ['demo', '--out', T('whole3')], exit: 2, code: 'E_CONFLICT', error: /whole3 holds results made with other probe parameters \(manifest\.json, samples\.jsonl\)/, tree: () => [T('whole3')] },
  { id: 'C114', cmd: 'cvec export', args: () => ['cvec', 'export', '--probe', T('big.npy'), '--layers', '1', '--out', join(T('full'), 'c.gguf')], exit: 1, code: 'E_IO', error: /control vector: cannot write '.*full\/c\.gguf' \(.*ENOSPC/, tree: () => [T('full')], skip: () => fullDisk.reason },
  { id: 'C115', cmd: 'cvec export', args: () => ['cvec', 'export', '--probe', T('probe.npy'), '--layers', '1', '--out', T('cv.gguf')], exit: 2, code: 'E_CONFLICT', error: /--out: .*cv\.gguf already exists; use another name or --force to replace it/, tree: () => [T('cv.gguf')] },
  { id: 'C116', cmd: 'synth', args: () => ['synth', '--out', T('text.gguf')], exit: 2, code: 'E_CONFLICT', error: /--out: .*text\.gguf already exists; use another name or --force to replace it/, tree: () => [T('text.gguf')] },
  { id: 'C117', cmd: 'pairs', args: () => ['pairs', '--model', M(), '--out', T('ok.jsonl')], exit: 2, code: 'E_CONFLICT', error: /--out: .*ok\.jsonl already exists; use another name or --force to replace it/, tree: () => [T('ok.jsonl')] },
  { id: 'C118', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('linked')], exit: 2, code: 'E_CONFLICT', error: /linked\/samples\.jsonl is a symbolic link \(to .*whole2\/samples\.jsonl\): a RUN folder's files must be its own/, tree: () => [T('whole2')] },
  { id: 'C119', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('p3e38'), ...STEER_SMALL, '--out', T('run-n')], exit: 2, code: 'E_BAD_ARG', error: /layer1\.npy: the direction's norm 3\.000e\+38 overflows 32-bit floats/, tree: () => [T('run-n')] },
  { id: 'C120', cmd: 'cvec export', args: () => ['cvec', 'export', '--probe', join(T('p1e-42'), 'layer1.npy'), '--out', T('c-n.gguf')], exit: 2, code: 'E_BAD_ARG', error: /layer1\.npy: the direction's norm 9\.\d+e-43 underflows 32-bit floats/, tree: () => [T('c-n.gguf')] },
  { id: 'C121', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('p7'), ...STEER_SMALL, '--out', T('run-7')], exit: 0, code: null, error: /note: .*p7\/layer1\.npy has norm 7\.000: it is used as a unit direction/ },
  { id: 'C122', cmd: 'capture', args: () => ['capture', '--model', M(), '--layers', '0', '--input', '/dev/zero', '--out', T('o-z')], exit: 2, code: 'E_BAD_ARG', error: /\/dev\/zero is larger than 256 MiB, the most eia-native reads from one input/, tree: () => [T('o-z')] },
  { id: 'C123', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('lock-pid0')], exit: 1, code: 'E_LOCKED', error: /lock-pid0\/\.eia-lock is a file naming pid 0 \(not a process id\), not an eia-native lock file; remove it/, tree: () => [T('lock-pid0')] },
  { id: 'C124', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('lock-dir')], exit: 1, code: 'E_LOCKED', error: /lock-dir\/\.eia-lock is a folder, not an eia-native lock file/, tree: () => [T('lock-dir')] },
  { id: 'C125', cmd: 'steer', args: () => ['steer', '--model', M(), '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('lock-link')], exit: 1, code: 'E_LOCKED', error: /lock-link\/\.eia-lock is a symbolic link, not an eia-native lock file/ },
  { id: 'C126', cmd: 'merge', args: () => ['merge', T('fin'), '--out', T('held')], exit: 1, code: 'E_LOCKED', error: new RegExp(`held is in use by another eia-native process \\(pid ${process.pid}, \`steer\``), tree: () => [T('held')] },
  { id: 'C127', cmd: 'generate', args: () => ['generate', '--model', T('rope-nan.gguf'), '--prompt', 'hi', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /rope-nan\.gguf: the output of block 0 \(row 0\) is NaN or infinite on a plain sentence/ },
  { id: 'C128', cmd: 'generate', args: () => ['generate', '--model', T('logits-nan.gguf'), '--prompt', 'hi', '--max-tokens', '2'], exit: 2, code: 'E_BAD_ARG', error: /logits-nan\.gguf: the logit of token \d+ is NaN or infinite on a plain sentence/ },
  { id: 'C129', cmd: 'score', args: () => ['score', T('whole'), '--out', T('fin5')], exit: 2, code: 'E_CONFLICT', error: /fin5 holds samples of its own .*: its score\.json would describe other samples/, tree: () => [T('fin5')] },
  { id: 'C130', cmd: 'report', args: () => ['report', T('fin6'), '--no-markdown'], exit: 0, code: null, error: /warning: .*fin6\/score\.json is not used: it was computed from .*whole\/samples\.jsonl/ },
  { id: 'C131', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--system', 'Be kind'], exit: 2, code: 'E_BAD_ARG', error: /--system is a message of the chat template: it needs --chat/ },
  { id: 'C132', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'hi', '--gate-hold', '3'], exit: 2, code: 'E_BAD_ARG', error: /--gate-hold and --gate-budget shape the gate: they need --gate/ },
  { id: 'C133', cmd: 'report', args: () => ['report', T('fin7'), '--no-markdown'], exit: 0, code: null, error: /warning: .*fin7\/score\.json is not used: it was computed from .*fin7\/samples\.jsonl \(1 samples\), not from this RUN's samples\.jsonl as it is now/ },
  { id: 'C134', cmd: 'serve', args: () => ['serve', '--model', T('logits-nan.gguf'), '--port', '0'], exit: 2, code: 'E_BAD_ARG', error: /logits-nan\.gguf: the logit of token \d+ is NaN or infinite on a plain sentence/ },
  { id: 'C97', cmd: 'serve', args: () => ['serve', '--model', M(), '--vectors', T('no-such-folder')], exit: 2, code: 'E_BAD_ARG', error: /--vectors: folder .*no-such-folder does not exist or is not a folder/ },
  { id: 'C135', cmd: 'score', args: () => ['score', T('scored'), '--model', M()], exit: 2, code: 'E_BAD_ARG', error: /--model and --probes go with --metrics/, tree: () => [T('scored')] },
  { id: 'C136', cmd: 'score', args: () => ['score', T('scored/samples.jsonl'), '--metrics'], exit: 2, code: 'E_BAD_ARG', error: /--metrics and --judge measure the samples of one RUN folder/, tree: () => [T('scored')] },
  { id: 'C137', cmd: 'score', args: () => ['score', T('scored'), '--judge', 'http://127.0.0.1:9/v1'], exit: 2, code: 'E_BAD_ARG', error: /--judge needs --judge-model NAME/, tree: () => [T('scored')] },
  { id: 'C138', cmd: 'score', args: () => ['score', T('scored'), '--judge', 'not a url', '--judge-model', 'j'], exit: 2, code: 'E_BAD_ARG', error: /--judge: 'not a url' is not a URL/, tree: () => [T('scored')] },
  { id: 'C139', cmd: 'tune', args: () => ['tune', '--model', M(), '--probes', T('tprobes'), '--out', T('tune-a'), '--max-ppl-ratio', '1'], exit: 2, code: 'E_BAD_ARG', error: /--max-ppl-ratio must be a number above 1, got 1/, tree: () => [T('tune-a')] },
  { id: 'C140', cmd: 'tune', args: () => ['tune', '--model', M(), '--probes', T('tprobes'), '--out', T('tune-a'), '--scenarios', 'food_delivery', '--held-out', 'food_delivery,the_maze'], exit: 2, code: 'E_BAD_ARG', error: /--held-out: food_delivery is also a train prompt \(the two sets must not overlap\)/, tree: () => [T('tune-a')] },
  { id: 'C141', cmd: 'tune', args: () => ['tune', '--model', M(), '--probes', T('tprobes'), '--out', T('tune-other'), '--threads', '1'], exit: 2, code: 'E_CONFLICT', error: /tune-other holds a tune with other parameters; use another folder, the original parameters, or --force to replace it\. Differing:[\s\S]*seed/, tree: () => [T('tune-other')] },
  { id: 'C142', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'Hi', '--probe', T('tprobes/layer1.npy'), '--alphas', 'tuned'], exit: 2, code: 'E_BAD_ARG', error: /--alphas tuned: .*layer1\.npy carries no tuned alpha/ },
  { id: 'C143', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'Hi', '--probe', T('cv-two-tuned.gguf'), '--alphas', 'tuned'], exit: 2, code: 'E_BAD_ARG', error: /--alphas tuned: .*cv-two-tuned\.gguf carries tuned alphas for blocks 1, 2: give --layer with one of them/ },
  { id: 'C144', cmd: 'generate', args: () => ['generate', '--model', M(), '--prompt', 'Hi', '--probe', T('badtuned/layer1.npy'), '--alphas', 'tuned'], exit: 2, code: 'E_BAD_ARG', error: /badtuned\/layer1\.json: card field "tuned\.layer" must be the card's block \(1\)/ },
  // issue 25: quantize, study, info --vector
  { id: 'Q1', cmd: 'quantize', args: () => ['quantize', M(), '--type', 'q9_9', '--out', T('q1.gguf')], exit: 2, code: 'E_BAD_ARG', error: /--type 'q9_9' is not a type quantize writes/, tree: () => [T('q1.gguf')] },
  { id: 'Q2', cmd: 'quantize', args: () => ['quantize', M(), '--type', 'q8_0', '--out', T('cv.gguf')], exit: 2, code: 'E_CONFLICT', error: /--out .*cv\.gguf already exists; use another path or --force to replace it/, tree: () => [T('cv.gguf')] },
  { id: 'Q3', cmd: 'quantize', args: () => ['quantize', T('cv.gguf'), '--type', 'q8_0', '--out', T('q3.gguf')], exit: 2, code: 'E_BAD_ARG', error: /is a control vector, not a model/, tree: () => [T('q3.gguf')] },
  { id: 'Q4', cmd: 'quantize', args: () => ['quantize', M(), '--type', 'q8_0', '--out', T('no/such/q4.gguf')], exit: 1, code: 'E_IO', error: /quantize: cannot write .*the output folder must exist and be writable/ },
  { id: 'Q5', cmd: 'study', args: () => ['study', '--out', T('st')], exit: 2, code: 'E_BAD_ARG', error: /give the models: --models a,b,c/, tree: () => [T('st')] },
  { id: 'Q6', cmd: 'study', args: () => ['study', '--models', `x=${M()},x=${M().replace(/\/([^/]+)$/, '/./$1')}`  /* the same file under another spelling: the name is what is refused */, '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layers', '1', '--out', T('st')], exit: 2, code: 'E_BAD_ARG', error: /models: the name 'x' is given twice/, tree: () => [T('st')] },
  { id: 'Q7', cmd: 'study', args: () => ['study', '--models', M(), '--train', '-', '--test', T('pairs.jsonl'), '--out', T('st')], exit: 2, code: 'E_BAD_ARG', error: /--train: a study reads its inputs once per model; give a file, not stdin/, tree: () => [T('st')] },
  { id: 'Q8', cmd: 'study', args: () => ['study', '--models', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--layers', '99', '--out', T('st')], exit: 2, code: 'E_BAD_ARG', error: /--layers: 99 out of range \[0, 5\] for tiny/, tree: () => [T('st')] },
  { id: 'Q9', cmd: 'study', args: () => ['study', '--models', M(), '--train', T('pairs.jsonl'), '--test', T('pairs.jsonl'), '--texts', T('two-texts.jsonl'), '--layers', '1', '--alphas=0,1', '--out', T('st')], exit: 2, code: 'E_BAD_ARG', error: /--texts: .*two-texts\.jsonl holds 2 texts; the correlation needs at least 3/, tree: () => [T('st')] },
  { id: 'Q10', cmd: 'info', args: () => ['info', '--vector', T('missing.npy')], exit: 2, code: 'E_BAD_ARG', error: /--vector: .*missing\.npy does not exist/ },
  { id: 'Q11', cmd: 'info', args: () => ['info', '--vector', T('ok.jsonl')], exit: 2, code: 'E_BAD_ARG', error: /--vector: .*ok\.jsonl is neither a probe \.npy nor a control-vector \.gguf/ },
  { id: 'Q12', cmd: 'info', args: () => ['info', '--vector', T('cv-card.gguf')], exit: 2, code: 'E_BAD_ARG', error: /the card under eia\.card\.1 says block 2/ },
  { id: 'Q13', cmd: 'info', args: () => ['info', '--vector', T('cv-bad-tuned.gguf')], exit: 2, code: 'E_BAD_ARG', error: /cv-bad-tuned\.gguf \(block 1\): card field "tuned\.alpha" must be a finite number/ },
];

/** C114's tiny tmpfs: why the full-disk row is skipped (null: mounted). */
const fullDisk: { reason: string | null; mounted: boolean } = { reason: 'not set up', mounted: false };

/** A small sweep and a small protocol on the tiny model (C57, C58). */
const STEER_SMALL = ['--layers', '1', '--alphas=0,1', '--scenarios', 'food_delivery', '--samples', '1', '--max-tokens', '2', '--threads', '1'];
const RUN_SMALL = ['--train', T('pairs3.jsonl'), '--test', T('pairs3.jsonl'), '--steer-layers', '1', '--alphas=0,1', '--scenarios', 'food_delivery',
  '--samples', '1', '--max-tokens', '2', '--random-baseline', '0', '--permutations', '0', '--threads', '1'];

/** spawn without blocking the test worker's event loop (vitest's RPC times out behind a long spawnSync). */
function run(cmd: string, args: string[], opts: SpawnOptions & { timeout?: number; stdin?: string } = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { stdout += d; });
    child.stderr!.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 120_000);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

function cli(args: string[], stdin?: string) {
  return run(process.execPath, ['bin/eia-native.js', ...args], { cwd: root, stdin, env: { ...process.env, EIA_NATIVE_QUIET: '1', EIA_NATIVE_LOG_LEVEL: '0' } });
}

// the CLI rows run 4 at a time (each is a node start-up plus at most a tiny model load)
describe.concurrent('bad arguments (CLI): exit code 2 (bad input) or 1 (failure) with the error code and a message, never a crash', { concurrent: true }, () => {
  beforeAll(async () => {
    requireFreshDist();
    // a finished RUN (probe, sweep, score, report) for the rows that must leave one untouched (C58, C61, C62)
    const fin = await cli(['run', '--model', modelPath, ...RUN_SMALL, '--layers', '1,2', '--out', T('fin')]);
    if (fin.code !== 0) throw new Error(`setup run failed: ${fin.stderr}`);
    // rows run 4 at a time: each row that touches a finished RUN gets its own copy (a shared one would be locked by the others)
    cpSync(T('fin'), T('fin2'), { recursive: true });
    cpSync(T('fin'), T('fin3'), { recursive: true });
    cpSync(T('fin'), T('fin4'), { recursive: true });
    // a sweep of the whole grid (C92 asks for one shard of it)
    const whole = await cli(['steer', '--model', modelPath, '--probes', T('tprobes'), ...STEER_SMALL, '--out', T('whole')]);
    if (whole.code !== 0) throw new Error(`setup steer failed: ${whole.stderr}`);
    // issue 23: copies of the finished RUNs for rows that must leave them untouched
    cpSync(T('fin'), T('fin5'), { recursive: true });
    cpSync(T('fin'), T('fin6'), { recursive: true });
    cpSync(T('whole'), T('whole3'), { recursive: true });
    // C118: a RUN whose samples.jsonl is a link into another RUN (one sample short, so a steer would append there)
    cpSync(T('whole'), T('whole2'), { recursive: true });
    writeFileSync(join(T('whole2'), RUN_FILES.samples), readFileSync(join(T('whole'), RUN_FILES.samples), 'utf8').split('\n')[0] + '\n');
    mkdirSync(T('linked'));
    cpSync(join(T('whole'), RUN_FILES.manifest), join(T('linked'), RUN_FILES.manifest));
    symlinkSync(join(T('whole2'), RUN_FILES.samples), join(T('linked'), RUN_FILES.samples));
    // C126: a RUN holding a sweep whose lock a live process (this one) holds
    cpSync(T('whole'), T('held'), { recursive: true });
    writeFileSync(join(T('held'), RUN_FILES.lock), JSON.stringify({
      pid: process.pid, host: hostname(), pid_start: processStartTime(process.pid), command: 'steer', started_at: new Date().toISOString(), token: 'held-by-the-test',
    }));
    // C110: a shard whose manifest says 10^9 shards
    const shard = await cli(['steer', '--model', modelPath, '--probes', T('tprobes'), ...STEER_SMALL, '--shard', '0/2', '--out', T('bigshard')]);
    if (shard.code !== 0) throw new Error(`setup steer --shard failed: ${shard.stderr}`);
    const mp = join(T('bigshard'), RUN_FILES.manifest);
    writeFileSync(mp, JSON.stringify({ ...JSON.parse(readFileSync(mp, 'utf8')), shard: { ...JSON.parse(readFileSync(mp, 'utf8')).shard, count: 1_000_000_000 } }, null, 2));
    // C130: a RUN whose score.json is another RUN's (what `score A --out B` wrote before it was refused)
    const foreign = await cli(['score', T('whole'), '--json']);
    if (foreign.code !== 0) throw new Error(`setup score failed: ${foreign.stderr}`);
    writeFileSync(join(T('fin6'), RUN_FILES.score), foreign.stdout);
    // C133: a partial score (one sample), then the sweep completed (its samples as they were)
    cpSync(T('fin'), T('fin7'), { recursive: true });
    const full = readFileSync(join(T('fin7'), RUN_FILES.samples), 'utf8');
    writeFileSync(join(T('fin7'), RUN_FILES.samples), full.split('\n')[0] + '\n');
    const partial = await cli(['score', T('fin7')]);
    if (partial.code !== 0) throw new Error(`setup score failed: ${partial.stderr}`);
    writeFileSync(join(T('fin7'), RUN_FILES.samples), full);
    // C114: a full disk, where mounting a tiny tmpfs is allowed
    mkdirSync(T('full'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', T('full')], { encoding: 'utf8' });
    fullDisk.reason = m.status === 0 ? null : `cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()}): disk-full case not simulated`;
    fullDisk.mounted = m.status === 0;
  }, 300_000);
  afterAll(() => { if (fullDisk.mounted) spawnSync('umount', [T('full')]); });
  for (const r of CLI) {
    it(`${r.id} ${r.cmd}: ${r.args().slice(0).join(' ').replaceAll(tmp.dir, '$T')}`, async ({ expect, skip }) => {
      const why = r.skip?.();
      if (why) return skip(why);
      const before = (r.tree?.() ?? []).map(treeHash);
      const res = await cli(r.args(), r.stdin);
      expect(res.signal, res.stderr).toBeNull();
      expect(res.code, res.stderr).toBe(r.exit);
      if (r.code) expect(res.stderr).toContain(`eia-native: [${r.code}] `);
      else expect(res.stderr).not.toContain('eia-native: [');
      expect(res.stderr).toMatch(r.error);
      expect((r.tree?.() ?? []).map(treeHash), 'files changed although the command failed a check').toEqual(before);
    });
  }
});

// ------------------------------------------------------------------- the table is the tests
describe('docs/reliability.md lists exactly the rows tested here', () => {
  const doc = readFileSync(join(root, 'docs', 'reliability.md'), 'utf8');
  const rows = new Map([...doc.matchAll(/^\|\s*([A-Z]\d+)\s*\|(.*)$/gm)].map((m) => [m[1], m[2].split('|').map((c) => c.trim())]));

  it('every table row has a test and every test a row', () => {
    const tested = new Set([...API.map((r) => r.id), ...CLI.map((r) => r.id)]);
    expect([...rows.keys()].filter((id) => !tested.has(id)), 'rows without a test').toEqual([]);
    expect([...tested].filter((id) => !rows.has(id)), 'tests without a row').toEqual([]);
  });

  it('the table states the codes and exit codes the tests check', () => {
    // API rows: | ID | function | input | code | error |; CLI rows: | ID | command | input | exit | code | message |
    for (const r of API) expect(rows.get(r.id)?.[2], r.id).toBe(r.code === null ? '— (plain `Error`)' : `\`${r.code}\``);
    for (const r of CLI) expect(rows.get(r.id)?.slice(2, 4), r.id).toEqual([String(r.exit), r.code ? `\`${r.code}\`` : '—']);
  });
});

// -------------------------------------------------------------------------- interruption
// `capture` and `generate` keep no partial state worth resuming (capture writes its .npy files
// atomically at the end; generate prints to stdout): SIGINT must end them promptly with the
// shell's 130 (death by SIGINT) and leave no file behind, torn or whole.
function interrupt(args: string[], waitFor: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/eia-native.js', ...args], { cwd: root, env: { ...process.env, EIA_NATIVE_LOG_LEVEL: '0' } });
    let stderr = '';
    let sentAt = 0;
    child.stdout.resume();
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sentAt && waitFor.test(stderr)) { sentAt = Date.now(); child.kill('SIGINT'); }
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no exit within 60 s after SIGINT; stderr: ${stderr.slice(-500)}`)); }, 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!sentAt) return reject(new Error(`finished before it could be interrupted (code ${code}): ${stderr.slice(-300)}`));
      resolve({ code, signal, ms: Date.now() - sentAt, stderr });
    });
  });
}

describe('interruption (SIGINT) of capture and generate', () => {
  it('capture: exits 130 within 5 s, writes no output file (no torn .npy, no temp files)', async () => {
    const input = T('many.txt');
    writeFileSync(input, Array.from({ length: 4000 }, (_, i) => `text number ${i} ${'about caring and winning '.repeat(12)}`).join('\n'));
    const out = T('cap-int');
    const r = await interrupt(['capture', '--model', modelPath, '--layers', '0,3,5', '--input', input, '--out', out, '--threads', '1'], /capture \d+\/4000/);
    expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code} signal ${r.signal}`).toBe(true);
    expect(r.ms).toBeLessThan(5000);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('generate: exits 130 within 5 s', async () => {
    const r = await interrupt(['generate', '--model', modelPath, '--prompt', 'Once upon a time', '--samples', '4', '--max-tokens', '3000', '--ctx-size', '4096', '--threads', '1'], /generate \d+\//);
    expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code} signal ${r.signal}`).toBe(true);
    expect(r.ms).toBeLessThan(5000);
  });
});

// ------------------------------------------------------------------------------- files
// Writes are atomic (temp file + rename) or append + fsync per line; failures must be clear
// errors and never leave a partial file that looks complete.
const isRoot = process.getuid?.() === 0;

/**
 * A folder nobody can write into, made without depending on where the checkout lies (issue 23:
 * the tests ran a child as uid 65534, which cannot read a checkout under a folder only root can
 * read). Not root: mode 555 (EACCES). Root (permission bits do not stop root): a read-only tmpfs
 * mounted there (EROFS). Where root cannot mount either, `asUser` says so and the caller falls back.
 */
function readOnlyFolder(path: string): { ok: true; undo: () => void } | { ok: false; reason: string } {
  mkdirSync(path, { recursive: true });
  if (!isRoot) {
    chmodSync(path, 0o555);
    return { ok: true, undo: () => chmodSync(path, 0o755) };
  }
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', path], { encoding: 'utf8' });
  if (m.status === 0) return { ok: true, undo: () => spawnSync('umount', [path]) };
  return { ok: false, reason: `root, and a read-only tmpfs cannot be mounted here (${(m.stderr || m.error?.message || '').trim()})` };
}

/** Whether uid 65534 can read `path` (a checkout under a folder only root can read: it cannot). */
function readableByNobody(path: string): boolean {
  return spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path)}, require('fs').constants.R_OK)`], { uid: 65534, gid: 65534 }).status === 0;
}

describe('files: unwritable places and a full disk give clear errors and no partial files', () => {
  it('writeNpy / writeFileAtomic / JsonlAppender into a read-only folder: E_IO (EACCES, or EROFS as root), nothing left behind', async () => {
    const ro = T('readonly');
    const made = readOnlyFolder(ro);
    const calls = (dir: string) => [
      ['writeNpy', () => writeNpy(join(dir, 'a.npy'), new Float32Array(10), [10])],
      ['writeFileAtomic', () => writeFileAtomic(join(dir, 'b.json'), '{}')],
      ['JsonlAppender', () => new JsonlAppender(join(dir, 'c.jsonl'))],
    ] as const;
    let errs: string[];
    if (made.ok) {
      try {
        errs = calls(ro).map(([, f]) => {
          try { f(); return 'no error'; } catch (e) { return `${(e as EiaError).code} ${((e as EiaError).cause as NodeJS.ErrnoException)?.code} ${(e as Error).message}`; }
        });
        expect(readdirSync(ro)).toEqual([]);
      } finally {
        made.undo();
      }
    } else {
      // root without mount: a child as uid 65534 on mode 555, importing a copy of dist/ placed where it can read it
      const dist = T('dist-for-nobody');
      cpSync(join(root, 'dist'), dist, { recursive: true });
      chmodSync(tmp.dir, 0o755);
      chmodSync(ro, 0o555);
      const url = (f: string) => JSON.stringify(pathToFileURL(join(dist, f)).href);
      const r = await run(process.execPath, ['--input-type=module', '-e', `
        import { writeNpy } from ${url('io/npy.js')};
        import { writeFileAtomic } from ${url('util/atomic-write.js')};
        import { JsonlAppender } from ${url('io/jsonl.js')};
        const errs = [];
        for (const f of [() => writeNpy(${JSON.stringify(join(ro, 'a.npy'))}, new Float32Array(10), [10]),
                         () => writeFileAtomic(${JSON.stringify(join(ro, 'b.json'))}, '{}'),
                         () => new JsonlAppender(${JSON.stringify(join(ro, 'c.jsonl'))})]) {
          try { f(); errs.push('no error'); } catch (e) { errs.push(e.code + ' ' + e.cause?.code + ' ' + e.message); }
        }
        console.log(JSON.stringify(errs));`], { cwd: tmp.dir, timeout: 60_000, uid: 65534, gid: 65534 });
      expect(r.code, `${made.reason}; the uid-65534 fallback: ${r.stderr}`).toBe(0);
      errs = JSON.parse(r.stdout) as string[];
      expect(readdirSync(ro)).toEqual([]);
    }
    expect(errs).toHaveLength(3);
    for (const e of errs) expect(e).toMatch(/^E_IO (EACCES EACCES: permission denied|EROFS EROFS: read-only file system)/);
  });

  it('writeNpy / JsonlAppender / synth / writeControlVector where the parent is a file: ENOTDIR-style errors, nothing written', async () => {
    const parent = T('plainfile');
    writeFileSync(parent, 'x');
    expect(() => writeNpy(join(parent, 'a.npy'), new Float32Array(4), [4])).toThrow(/ENOTDIR/);
    expect(() => new JsonlAppender(join(parent, 'a.jsonl'))).toThrow(/ENOTDIR/);
    await expect(synth({ out: join(parent, 's.gguf') })).rejects.toThrow(/cannot write|Not a directory/);
    expect(() => writeControlVector(join(parent, 'c.gguf'), new Map([[1, dir]]))).toThrow(/cannot write/);
    expect(readFileSync(parent, 'utf8')).toBe('x');
  });

  it('CLI capture into a read-only --out folder: exit 1 with EACCES (EROFS as root), no .npy or temp file', async ({ skip }) => {
    const ro = T('readonly-out');
    const made = readOnlyFolder(ro);
    // root without mount: the CLI needs the whole checkout (node_modules, the addon), so the child runs as
    // uid 65534 only where that user can read it
    if (!made.ok && !readableByNobody(join(root, 'bin', 'eia-native.js'))) {
      return skip(`${made.reason}, and uid 65534 cannot read the checkout at ${root}: no unwritable folder can be made for the CLI here`);
    }
    if (!made.ok) { chmodSync(ro, 0o555); chmodSync(modelPath, 0o644); }
    try {
      const r = await run(process.execPath, ['bin/eia-native.js', 'capture', '--model', modelPath, '--layers', '0', '--input', T('ok.jsonl'), '--out', ro, '--threads', '1'], {
        cwd: root, env: { ...process.env, EIA_NATIVE_QUIET: '1' }, ...(!made.ok ? { uid: 65534, gid: 65534 } : {}),
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/\[E_IO\] .*(EACCES|EROFS)/);
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      if (made.ok) made.undo();
    }
  });

  it('disk full (64 KiB tmpfs): writeNpy and synth fail with ENOSPC and leave no file; JsonlAppender acknowledges only complete records and leaves no torn line', async (t) => {
    const mnt = T('tiny-fs');
    mkdirSync(mnt, { recursive: true });
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      t.skip(`cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()}): disk-full case not simulated`);
      return;
    }
    try {
      // .npy of 1 MiB: ENOSPC, and neither the file nor its temp sibling remains
      expect(() => writeNpy(join(mnt, 'big.npy'), new Float32Array(256 * 1024), [256 * 1024])).toThrow(/ENOSPC/);
      expect(readdirSync(mnt)).toEqual([]);
      await expect(synth({ out: join(mnt, 's.gguf') })).rejects.toThrow(/eia-synth: (writing metadata to .* failed|write failed .*No space left on device)/);
      expect(readdirSync(mnt)).toEqual([]);
      // issue 23: a control vector (the native side encodes, the one atomic writer writes) and a result file:
      // E_IO naming the path, never a 0-byte file and no temp file; a RUN lock on a full disk leaves no .eia-lock.*.tmp
      let cvErr: unknown;
      try { writeControlVector(join(mnt, 'cv.gguf'), new Map([[1, new Float32Array(65536).fill(0.01)]])); } catch (e) { cvErr = e; }
      expect((cvErr as EiaError)?.code, String(cvErr)).toBe('E_IO');
      expect((cvErr as Error).message).toMatch(/control vector: cannot write '.*cv\.gguf' \(.*ENOSPC/);
      let jsErr: unknown;
      try { writeFileAtomic(join(mnt, 'score.json'), 'x'.repeat(200_000)); } catch (e) { jsErr = e; }
      expect((jsErr as EiaError)?.code, String(jsErr)).toBe('E_IO');
      expect((jsErr as Error).message).toMatch(/cannot write .*score\.json\.tmp-.*ENOSPC/);
      expect(readdirSync(mnt)).toEqual([]);
      for (let i = 0; ; i++) { try { writeFileSync(join(mnt, `fill${i}`), Buffer.alloc(4096)); } catch { break; } }  // nothing left, not even for a lock
      let lockErr: unknown;
      try { acquireRunLock(join(mnt, 'run'), 'steer')(); } catch (e) { lockErr = e; }
      expect((lockErr as EiaError)?.code, String(lockErr)).toBe('E_IO');
      expect((lockErr as Error).message).toMatch(/\.eia-lock\..*\.tmp.*ENOSPC|ENOSPC.*\.eia-lock/);
      expect(existsSync(join(mnt, 'run')), 'the folder the lock created is removed again').toBe(false);
      for (const f of readdirSync(mnt)) if (f.startsWith('fill')) rmSync(join(mnt, f));
      // JSONL: append ~1 KiB records until the disk is full
      const f = join(mnt, 'log.jsonl');
      const app = new JsonlAppender(f);
      let n = 0;
      let error: Error | null = null;
      try {
        for (; n < 1000; n++) app.append({ i: n, pad: 'x'.repeat(1000) });
      } catch (e) {
        error = e as Error;
      } finally {
        app.close();
      }
      expect(error?.message).toMatch(/ENOSPC/);
      const text = readFileSync(f, 'utf8');
      const { records: rows } = readJsonl<{ i: number }>(f, { tornTail: 'drop' });
      // every appended-and-acknowledged record is there; a torn tail (if any) does not end in '\n'
      expect(rows.length).toBe(n);
      rows.forEach((r, i) => expect(r.i).toBe(i));
      // the failed append left nothing behind: the file ends at a record boundary and parses strictly
      expect(text.endsWith('\n')).toBe(true);
      expect(readJsonl(f, { tornTail: 'error' }).records.length).toBe(n);
      expect(encodeNpy(new Float32Array(1), [1]).length).toBeGreaterThan(0);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
