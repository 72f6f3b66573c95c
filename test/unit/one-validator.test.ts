// One rule, one home: the gate rule (on below off), the positions rule (all / prompt / generated) and
// the alpha rule (finite, within 100 x the residual norm) are written in lib/engine/validate.ts and
// nowhere else in lib/ or native/; the CLI, the server and the engine API all check through it. The
// scanner is tested on a small tree with planted copies first, so that a clean result means something
// (as test/unit/layers.test.ts does for imports).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ruleHits, sourceFiles, type Rule } from '../helpers/rule-copies.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOME = 'lib/engine/validate.ts';

/** What a copy of each rule looks like in code (comments are not code). */
const RULES: Rule[] = [
  { name: 'gate', signatures: [/\bon\w*\s*<\s*[\w.]*\boff\w*\b/, /must be below (?:the )?off\b/i] },
  { name: 'positions', signatures: [/['"]all['"]\s*,\s*['"]prompt['"]\s*,\s*['"]generated['"]/, /['"]all['"]\s*,\s*['"]generated['"]/, /\ball, prompt or generated\b/] },
  { name: 'alpha', signatures: [/isFinite\([^)]*\balpha\b/i, /ALPHA_BOUND_FACTOR\s*\*/, /\b100\s*\*\s*[\w.]*norm/i, /beyond the bound/] },
];

/** Copies that stay, each for its reason (an entry that matches nothing fails too, so the list cannot rot). */
const ALLOWED: { file: string; rule: string; why: string }[] = [
  { file: 'lib/steering/samples.ts', rule: 'alpha', why: "a samples.jsonl record's alpha: file contents, not a request to the engine" },
  { file: 'lib/steering/scoring.ts', rule: 'alpha', why: 'the alpha of a row being scored: file contents, not a request to the engine' },
  { file: 'lib/steering/metrics/cache.ts', rule: 'alpha', why: "a metrics.jsonl record's alpha: file contents, not a request to the engine" },
  { file: 'lib/steering/judge/cache.ts', rule: 'alpha', why: "a judge.jsonl record's alpha: file contents, not a request to the engine" },
  { file: 'lib/probes/vector-card.ts', rule: 'alpha', why: "a vector card's tuned record: file contents; the alpha is checked by the validator where it steers (generate --alphas tuned, the server's scale \"tuned\")" },
  { file: 'native/binding/context_wrap.cpp', rule: 'alpha', why: 'JS number -> float: a value beyond float\'s range is undefined behaviour in C++ (memory)' },
  { file: 'native/core/steer_plan.cpp', rule: 'alpha', why: 'NaN or infinity in the residual stream reach the sampler\'s distribution (memory)' },
  { file: 'native/core/steer_plan.cpp', rule: 'positions', why: 'parse_positions: the binding\'s string -> enum conversion (the validator refused any other value first)' },
];

const codeFiles = (root: string) => [...sourceFiles(join(root, 'lib'), ['.ts', '.mjs']), ...sourceFiles(join(root, 'native'), ['.cpp', '.h', '.hpp'])];

describe('the rule-copy scanner', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'eia-rules-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds planted copies of each rule, in TypeScript and C++, and nothing in comments', () => {
    mkdirSync(join(tmp, 'lib', 'cli'), { recursive: true });
    mkdirSync(join(tmp, 'native', 'core'), { recursive: true });
    writeFileSync(join(tmp, 'lib', 'cli', 'planted.ts'), [
      '// a gate turns on below on and off above off (on < off): prose, not a copy',
      "export function check(g: { on: number; off: number }, t: { alpha: number }, p: string): void {",
      "  if (!(g.on < g.off)) throw new Error('--gate: ON must be below OFF');",
      "  if (!['all', 'prompt', 'generated'].includes(p)) throw new Error('bad positions');",
      "  if (!Number.isFinite(t.alpha)) throw new Error('alpha must be finite');",
      '}',
    ].join('\n'));
    writeFileSync(join(tmp, 'native', 'core', 'planted.cpp'), [
      '/* the gate: on < off */',
      'void check(float on, float off, float alpha) {',
      '    if (!(on < off)) fail("gate on must be below off");',
      '    if (std::fabs(alpha) > 100 * residual_norm) fail("too strong");',
      '}',
    ].join('\n'));
    writeFileSync(join(tmp, 'lib', 'clean.ts'), "export const positions = (p: string) => p === 'all';\n");
    const hits = ruleHits(tmp, codeFiles(tmp), RULES).map((h) => `${h.rule} ${h.file}:${h.line}`);
    expect(hits).toEqual([
      'gate lib/cli/planted.ts:3', 'positions lib/cli/planted.ts:4', 'alpha lib/cli/planted.ts:5',
      'gate native/core/planted.cpp:3', 'alpha native/core/planted.cpp:4',
    ]);
  });
});

describe(`the gate, positions and alpha rules live in ${HOME} only`, () => {
  const hits = ruleHits(ROOT, codeFiles(ROOT), RULES);

  it('the scan sees each rule in its home (the signatures are not vacuous)', () => {
    const home = new Set(hits.filter((h) => h.file === HOME).map((h) => h.rule));
    expect([...home].sort()).toEqual(RULES.map((r) => r.name).sort());
  });

  it('no second copy anywhere else in lib/ or native/ (beyond the listed memory checks and file readers)', () => {
    const elsewhere = hits.filter((h) => h.file !== HOME && !ALLOWED.some((a) => a.file === h.file && a.rule === h.rule));
    expect(elsewhere.map((h) => `${h.file}:${h.line} copies the ${h.rule} rule: ${h.text}`)).toEqual([]);
  });

  it('every allowed copy still exists (the list cannot rot)', () => {
    const stale = ALLOWED.filter((a) => !hits.some((h) => h.file === a.file && h.rule === a.rule));
    expect(stale).toEqual([]);
  });
});
