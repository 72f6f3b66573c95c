// The architecture checks (issue 29; docs/architectures.md): what eia-native promises on one model,
// measured on that model. Run per model by the architecture table (architecture-table.ts, in a worker
// process: a crash of llama.cpp on one architecture costs that row only) over llama.cpp's own
// random-weight models of every architecture (scripts/arch-models.mjs).
//
// A model whose graph exposes the residual stream (the support check: Context.residualSupport) must
// pass every check below; one that does not must refuse every residual operation with
// E_UNSUPPORTED_MODEL and still generate plainly. The checks:
//  - hook:     the support check's one decode saw each block's output node exactly once;
//  - capture:  capture of blocks 0, mid and the last block (pruned or not): finite, non-zero rows
//              that differ between tokens; two token sequences in one batch = each alone (< 1e-4);
//  - alpha0:   steering with alpha 0 gives logits bit-identical to no steering;
//  - cvec:     steering block L equals llama.cpp's control vector at L (llama_set_adapter_cvec), logits
//              rel. error < 1e-4, at blocks 1 and the last; 'n/a' at blocks where the architecture's
//              graph applies no control vector (logits unchanged by it);
//  - batch:    a sequence's greedy tokens are the same alone and in a batch of 4, with and without steering;
//  - monitor:  a monitor's score = the captured row . direction (blocks 0, mid, last; rel. to the row norm < 1e-3);
//  - residual: steering block 0 by alpha moves every later block's projection by ~alpha (0.5..1.5 of it):
//              the rows read are the residual stream (a pre-residual sublayer output would not carry it);
//              n/a, with the measurement and the reason, where the graph normalises its skip path;
//  - plain:    plain generation (no steering, no monitors) runs.
import { generationContextOptions, type Context, type ResidualSupport } from '../engine/context.js';
import { Model } from '../engine/model.js';
import { isEiaError } from '../util/errors.js';
import { unitVector } from './workload.js';

export type CheckStatus = 'pass' | 'fail' | 'n/a' | 'refused';
export interface CheckResult { status: CheckStatus; detail: string }

export const ARCH_CHECKS = ['hook', 'capture', 'alpha0', 'cvec', 'batch', 'monitor', 'residual', 'plain'] as const;
export type ArchCheckName = typeof ARCH_CHECKS[number];

export interface ArchReport {
  file: string;
  arch: string;
  /** dense or MoE (expert_count > 0), and llama.cpp's model kind */
  moe: boolean;
  kind: 'transformer' | 'recurrent' | 'hybrid' | 'diffusion';
  nLayer: number;
  nEmbd: number;
  /** null when the model loaded; else the error */
  loadError: string | null;
  steering: 'supported' | 'unsupported';
  reason: string;
  blockTensor: string;
  prunedBlocks: number[];
  checks: Record<ArchCheckName, CheckResult>;
  ms: number;
}

/** n token ids in [0, nVocab), seeded */
function tokenIds(n: number, nVocab: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t[i] = s % nVocab;
  }
  return t;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const pass = (detail: string): CheckResult => ({ status: 'pass', detail });
const fail = (detail: string): CheckResult => ({ status: 'fail', detail });
const na = (detail: string): CheckResult => ({ status: 'n/a', detail });
const exp = (x: number) => x.toExponential(1);

/** Runs `fn`; a thrown error becomes a failed check naming it. */
async function guarded(fn: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await fn();
  } catch (e) {
    return fail(`${isEiaError(e) ? `${e.code}: ` : ''}${(e as Error)?.message ?? String(e)}`.slice(0, 300));
  }
}

/**
 * Architectures whose skip path is not the identity, so that a vector added at one block does not
 * reach the next block's output as itself: the residual check is reported (n/a) with the reason.
 * Read from vendor/llama.cpp/src/models/<arch>.cpp.
 */
export const NORMALISED_SKIP: Record<string, string> = {
  'minimax-01': 'the skip path carries residual_scale x rms_norm(x) (DeepNorm), not x: a vector added at a block reaches the next block normalised',
};

const PROMPT_LEN = 12;
const NEW_TOKENS = 8;

async function greedy(ctx: Context, prompts: Int32Array[], steer: { layer: number; direction: Float32Array; alpha: number }[] = [],
  monitors: { layer: number; direction: Float32Array }[] = []) {
  return ctx.generate({
    sequences: prompts.map((prompt) => ({ prompt, temperature: 0, maxTokens: NEW_TOKENS, ignoreEog: true, steer })),
    monitors,
  }).result();
}

/** Every check on one model file (see the top of this file). */
export async function checkArchitecture(file: string, nThreads = 1): Promise<ArchReport> {
  const t0 = performance.now();
  const checks = Object.fromEntries(ARCH_CHECKS.map((c) => [c, na('not run')])) as Record<ArchCheckName, CheckResult>;
  const report: ArchReport = {
    file, arch: '', moe: false, kind: 'transformer', nLayer: 0, nEmbd: 0, loadError: null, steering: 'unsupported', reason: '', blockTensor: '',
    prunedBlocks: [], checks, ms: 0,
  };
  let model: Model;
  try {
    model = await Model.load(file);
  } catch (e) {
    report.loadError = (e as Error).message;
    report.ms = performance.now() - t0;
    return report;
  }
  const contexts: Context[] = [];
  const context = async (o: Parameters<Model['createContext']>[0]) => {
    const c = await model.createContext({ nThreads, ...o });
    contexts.push(c);
    return c;
  };
  try {
    const i = model.info;
    report.arch = i.arch;
    report.nLayer = i.nLayer;
    report.nEmbd = i.nEmbd;
    report.moe = Number(model.meta(`${i.arch}.expert_count`) ?? 0) > 0;
    report.kind = i.diffusion ? 'diffusion' : i.hybrid ? 'hybrid' : i.recurrent ? 'recurrent' : 'transformer';
    const nL = i.nLayer, nE = i.nEmbd, last = nL - 1, mid = Math.floor(nL / 2);
    const d = unitVector(nE, 7);
    const S = tokenIds(PROMPT_LEN, i.nVocab, 11), T = tokenIds(PROMPT_LEN - 3, i.nVocab, 13);
    const prompts = [S, T, tokenIds(PROMPT_LEN, i.nVocab, 17), tokenIds(PROMPT_LEN + 2, i.nVocab, 19)];

    let cap: Context;
    try {
      cap = await context({ nCtx: 256, nBatch: 256, nSeqMax: 4 });
    } catch (e) {
      // a model eia-native does not run at all (encoder-decoder): nothing runs, everything is refused
      if (!isEiaError(e, 'E_UNSUPPORTED_MODEL')) throw e;
      report.reason = e.message;
      for (const c of ARCH_CHECKS) checks[c] = { status: 'refused', detail: e.message };
      return report;
    }
    const support: ResidualSupport = cap.residualSupport;
    report.steering = support.supported ? 'supported' : 'unsupported';
    report.reason = support.reason;
    report.blockTensor = support.tensor;
    report.prunedBlocks = support.pruned;

    checks.plain = await guarded(async () => {
      const g = await context(generationContextOptions(1, 64, nThreads));
      const [r] = await greedy(g, [S]);
      return r.tokens.length === NEW_TOKENS ? pass(`${NEW_TOKENS} greedy tokens`) : fail(`${r.tokens.length} of ${NEW_TOKENS} tokens (${r.finishReason})`);
    });

    if (!support.supported) {
      // every operation that reads the residual stream refuses, naming the architecture
      const refusals: [string, () => Promise<unknown>][] = [
        ['capture', () => cap.capture([S], { layers: [0], pool: 'mean' })],
        ['evalLogits with steering', () => cap.evalLogits(S, [{ layer: 0, direction: d, alpha: 1 }])],
        ['generate with steering', async () => greedy(await context(generationContextOptions(1, 64, nThreads)), [S], [{ layer: 0, direction: d, alpha: 1 }])],
        ['generate with monitors', async () => greedy(await context(generationContextOptions(1, 64, nThreads)), [S], [], [{ layer: 0, direction: d }])],
      ];
      const wrong: string[] = [];
      for (const [what, run] of refusals) {
        try {
          await run();
          wrong.push(`${what} ran`);
        } catch (e) {
          if (!isEiaError(e, 'E_UNSUPPORTED_MODEL') || !e.message.includes(i.arch)) wrong.push(`${what}: ${(e as Error).message.slice(0, 120)}`);
        }
      }
      const detail = wrong.length === 0 ? 'capture, steering and monitors refused with E_UNSUPPORTED_MODEL' : wrong.join('; ');
      for (const c of ARCH_CHECKS) if (c !== 'plain') checks[c] = wrong.length === 0 ? { status: 'refused', detail } : fail(detail);
      return report;
    }

    checks.hook = support.hits.every((h) => h === 1)
      ? pass(`${nL} blocks, each seen once${support.pruned.length ? `; block ${support.pruned.join(', ')} keeps only output rows` : ''}`)
      : fail(`hits per block ${support.hits.join(',')}`);

    // capture: rows that are there, and that belong to their tokens
    let norms = new Map<number, number>();
    checks.capture = await guarded(async () => {
      const layers = [...new Set([0, mid, last, Math.min(1, last)])].sort((a, b) => a - b);
      const both = await cap.capture([S, T], { layers, pool: 'tokens' });
      const aloneS = await cap.capture([S], { layers, pool: 'tokens' });
      const aloneT = await cap.capture([T], { layers, pool: 'tokens' });
      const lastS = await cap.capture([S], { layers: [last], pool: 'last' });
      let worst = 0;
      for (const l of layers) {
        const m = both.data.get(l)!;
        if (!m.every(Number.isFinite)) return fail(`block ${l}: non-finite rows`);
        const rowsOf = (x: Float32Array, k: number) => x.subarray(k * nE, (k + 1) * nE);
        const rn = Array.from({ length: S.length }, (_, k) => norm(rowsOf(m, k)));
        if (Math.max(...rn) === 0) return fail(`block ${l}: all-zero rows`);
        let spread = 0;
        for (let k = 1; k < S.length; k++) spread = Math.max(spread, relErr(rowsOf(m, k), rowsOf(m, 0)));
        if (spread < 1e-6) return fail(`block ${l}: every token has the same row`);
        norms.set(l, rn.slice(1).sort((a, b) => a - b)[Math.floor((rn.length - 1) / 2)]);
        worst = Math.max(worst, relErr(m.subarray(0, S.length * nE), aloneS.data.get(l)!), relErr(m.subarray(S.length * nE), aloneT.data.get(l)!));
      }
      worst = Math.max(worst, relErr(lastS.data.get(last)!, aloneS.data.get(last)!.subarray((S.length - 1) * nE)));
      return worst < 1e-4 ? pass(`batch = alone rel ${exp(worst)}`) : fail(`a sequence's rows in a batch differ from alone: rel ${exp(worst)}`);
    });
    if (checks.capture.status !== 'pass') norms = new Map();
    // a steering strength the model notices: half the typical residual norm at the block
    const alphaAt = (l: number) => 0.5 * (norms.get(l) ?? norms.get(0) ?? 1) || 1;

    checks.alpha0 = await guarded(async () => {
      const zero = await cap.evalLogits(S, [{ layer: mid, direction: d, alpha: 0 }]);
      const none = await cap.evalLogits(S);
      return Buffer.from(zero.buffer, zero.byteOffset, zero.byteLength).equals(Buffer.from(none.buffer, none.byteOffset, none.byteLength))
        ? pass('bit-identical') : fail(`alpha 0 changes the logits (rel ${exp(relErr(zero, none))})`);
    });

    checks.cvec = await guarded(async () => {
      const plain = await cap.evalLogits(S);
      const parts: string[] = [];
      let compared = 0, worst = 0;
      for (const L of [...new Set([1, last])].filter((l) => l >= 1)) {
        const alpha = alphaAt(L);
        const ours = await cap.evalLogits(S, [{ layer: L, direction: d, alpha }]);
        const data = new Float32Array((nL - 1) * nE);
        data.set(d.map((x) => x * alpha), (L - 1) * nE);
        cap.setControlVector(data, L, L);
        let theirs: Float32Array;
        try {
          theirs = await cap.evalLogits(S);
        } finally {
          cap.clearControlVector();
        }
        if (relErr(ours, plain) < 1e-6) return fail(`steering block ${L} does not change the logits`);
        if (relErr(theirs, plain) < 1e-7) { parts.push(`block ${L}: no control vector in the graph`); continue; }
        const e = relErr(ours, theirs);
        compared++;
        worst = Math.max(worst, e);
        parts.push(`block ${L}: rel ${exp(e)}`);
        if (e >= 1e-4) return fail(parts.join('; '));
      }
      return compared === 0 ? na(parts.join('; ')) : pass(`max rel ${exp(worst)} (${parts.join('; ')})`);
    });

    checks.batch = await guarded(async () => {
      const g1 = await context(generationContextOptions(1, 64, nThreads));
      const g4 = await context(generationContextOptions(4, 64, nThreads));
      const steer = [{ layer: mid, direction: d, alpha: alphaAt(mid) }];
      const bad: string[] = [];
      for (const [name, st] of [['plain', []], ['steered', steer]] as const) {
        const [alone] = await greedy(g1, [S], [...st]);
        const batch = await greedy(g4, prompts, [...st]);
        if (Array.from(alone.tokens).join() !== Array.from(batch[0].tokens).join()) bad.push(`${name}: ${Array.from(alone.tokens).join(' ')} alone, ${Array.from(batch[0].tokens).join(' ')} in the batch`);
      }
      return bad.length === 0 ? pass('same greedy tokens alone and in a batch of 4, plain and steered') : fail(bad.join('; '));
    });

    checks.monitor = await guarded(async () => {
      if (i.diffusion) return na('non-causal attention: a row depends on later tokens, so a re-read differs by design');
      const layers = [...new Set([0, mid, last])];
      const g1 = await context(generationContextOptions(1, 64, nThreads));
      const [r] = await greedy(g1, [S], [], layers.map((layer) => ({ layer, direction: d })));
      const seq = new Int32Array([...S, ...r.tokens.slice(0, -1)]);
      const rowsOut = await cap.capture([seq], { layers, pool: 'tokens' });
      let worst = 0;
      layers.forEach((l, k) => {
        const m = rowsOut.data.get(l)!;
        for (let t = 0; t < r.tokens.length; t++) {
          const row = m.subarray((S.length - 1 + t) * nE, (S.length + t) * nE);
          worst = Math.max(worst, Math.abs(r.scores![k][t] - dot(row, d)) / Math.max(norm(row), 1e-30));
        }
      });
      return worst < 1e-3 ? pass(`blocks ${layers.join(', ')}: max |score - row.d| / |row| ${exp(worst)}`) : fail(`score differs from row . direction by ${exp(worst)} of the row norm`);
    });

    checks.residual = await guarded(async () => {
      const layers = Array.from({ length: nL }, (_, l) => l);
      const alpha = alphaAt(0);
      const g1 = await context(generationContextOptions(1, 64, nThreads));
      const monitors = layers.map((layer) => ({ layer, direction: d }));
      const [plain] = await greedy(g1, [S], [], monitors);
      const [steered] = await greedy(g1, [S], [{ layer: 0, direction: d, alpha }], monitors);
      // the first generated token's scores are read at the prompt's last position (same tokens so far)
      const ratio = layers.map((l) => (steered.scores![l][0] - plain.scores![l][0]) / alpha);
      const lo = Math.min(...ratio), hi = Math.max(...ratio);
      const shown = `moved ${lo.toFixed(2)}..${hi.toFixed(2)} x alpha over blocks 0..${last}`;
      if (NORMALISED_SKIP[i.arch]) return na(`${NORMALISED_SKIP[i.arch]} (${shown})`);
      return lo >= 0.5 && hi <= 1.5 ? pass(shown) : fail(`${shown} (a residual stream carries ~1 x alpha)`);
    });
    return report;
  } finally {
    for (const c of contexts) c.free();
    model.free();
    report.ms = performance.now() - t0;
  }
}
