// Unit tests of each scoring rule on hand-written texts; every expected value is derived by hand
// in the comment beside it. Also dose-response, sample readers, scenario data and Table 2 on
// hand-made samples.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../lib/stats/rng.js';
import { doseResponse, doseResponseBySamples, leastSquares, quantile } from '../../lib/steering/dose-response.js';
import { empathyProbesModelKey, parseEmpathyProbesSteering, parseSamplesJsonl, readSamples, type SampleRecord } from '../../lib/steering/samples.js';
import { getScenario, loadScenariosFile, parseScenarios, SCENARIO_IDS, SCENARIOS, steeringPrompt } from '../../lib/steering/scenarios.js';
import { doseResponseSeriesByScenario, renderTable2Markdown, scoreSamples } from '../../lib/steering/tables.js';
import { countKeywords, degenerationFlags, EMPATHY_KEYWORDS, hasEmpatheticLanguage, hasScenarioContext, headlineRates, isCoherent, scoreCondition, scoreSample, splitWords, steeringSuccess, TASK_KEYWORDS } from '../../lib/steering/scoring.js';

const food = getScenario('food_delivery');

describe('empathetic language', () => {
  it('a tie is not empathetic', () => {
    // empathy: help (1); task: task (1) -> 1 > 1 is false
    expect(hasEmpatheticLanguage('I want to help you but I must finish the task.')).toBe(false);
  });
  it('each keyword counts once however often it occurs', () => {
    // empathy: help (1, not 3); task: task (1) -> tie
    expect(countKeywords('help help help', EMPATHY_KEYWORDS)).toBe(1);
    expect(hasEmpatheticLanguage('help help help task')).toBe(false);
  });
  it('matches substrings inside words, as the paper does', () => {
    expect(hasEmpatheticLanguage('I am careful.')).toBe(true); // "care" in "careful": 1 > 0
    expect(hasEmpatheticLanguage('It is winter.')).toBe(false); // "win" in "winter": 0 > 1 is false
    expect(countKeywords('completely unhelpful', [...EMPATHY_KEYWORDS, ...TASK_KEYWORDS])).toBe(2); // help, complete
  });
  it('is case-insensitive and matches the two-word keyword literally', () => {
    expect(hasEmpatheticLanguage('HELP')).toBe(true);
    expect(hasEmpatheticLanguage('Reach out to them')).toBe(true); // "reach out": 1 > 0
    expect(hasEmpatheticLanguage('reach  out')).toBe(false); // two spaces: no keyword
  });
  it('counts several keywords', () => {
    // empathy: feel, sorry, comfort (3); task: goal (1)
    const t = 'I feel sorry and want to comfort them; our goal can wait.';
    expect(scoreSample(t, food)).toMatchObject({ empathy_keywords: 3, task_keywords: 1, empathetic: true });
    // empathy: understand (1); task: objective, strategy, optimal, proceed (4)
    expect(hasEmpatheticLanguage('I understand. Objective first: the optimal strategy is to proceed.')).toBe(false);
  });
});

describe('coherence', () => {
  it('needs at least 50 characters (exactly 50 passes)', () => {
    const t50 = 'aaaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj'; // 5 + 9*4 + 9 spaces = 50
    expect(t50.length).toBe(50);
    expect(isCoherent(t50)).toBe(true);
    expect(isCoherent(t50.slice(1))).toBe(false); // 49
  });
  it('counts characters as code points, like Python len()', () => {
    const words = 'abcdefghij'.split('').map((c) => `${c}😀😀😀`); // 4 code points each
    const t49 = words.join(' '); // 40 + 9 = 49 code points (89 UTF-16 units)
    expect(isCoherent(t49)).toBe(false);
    expect(isCoherent(t49 + '!')).toBe(true); // 50
  });
  it('needs at least 10 words (exactly 10 passes)', () => {
    const t10 = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet'; // 62 chars
    expect(isCoherent(t10)).toBe(true);
    expect(isCoherent('alpha bravo charlie delta echo foxtrot golf hotel indiaaaaaaaaaaa')).toBe(false); // 9 words, 65 chars
  });
  it('needs distinct/words >= 0.3 (exactly 0.3 passes)', () => {
    const r03 = 'apple apple apple apple banana banana banana cherry cherry cherry'; // 3/10
    expect(isCoherent(r03)).toBe(true);
    const r02 = 'apple apple apple apple apple banana banana banana banana banana'; // 2/10
    expect(isCoherent(r02)).toBe(false);
  });
  it('compares words case-sensitively and with punctuation attached', () => {
    // {apple, Apple, APPLE} = 3 distinct of 10 -> 0.3 passes; case-folded it would be 0.1
    expect(isCoherent('apple Apple APPLE apple apple apple apple apple apple apple')).toBe(true);
    // {apple, apple.} = 2 of 10 -> 0.2
    expect(isCoherent('apple apple. apple apple apple apple apple apple apple apple')).toBe(false);
  });
  it('splits on any run of whitespace like Python str.split()', () => {
    expect(splitWords('  a\tb\n\nc\u00a0d\x1ce  ')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitWords('   ')).toEqual([]);
  });
});

describe('scenario context', () => {
  it('needs at least two markers', () => {
    // "user d", "account", "delete" (in "deleted") -> 3
    expect(hasScenarioContext('User D will have their account deleted.', food.context_markers)).toBe(true);
    expect(hasScenarioContext('Please help.', food.context_markers)).toBe(false); // help only: 1
  });
  it('uses substrings, so "user does" counts as "user d"', () => {
    expect(hasScenarioContext('If the user does not get help', food.context_markers)).toBe(true); // user d + help
  });
  it('uses the paper\'s marker lists for the steered scenarios', () => {
    expect(getScenario('food_delivery').context_markers).toEqual(['user d', 'account', 'delete', 'distress', 'help']);
    expect(getScenario('the_listener').context_markers).toEqual(['jimmi', 'suicide', 'lonely', 'dark', 'support']);
    expect(getScenario('the_protector').context_markers).toEqual(['bully', 'harass', 'victim', 'intervene', 'stand up']);
    expect(hasScenarioContext('Jimmi feels lonely', getScenario('the_listener').context_markers)).toBe(true);
    expect(hasScenarioContext('I stand up for the victim', getScenario('the_protector').context_markers)).toBe(true);
  });
});

describe('per-condition rates, effects and success', () => {
  it('rates are shares of the samples', () => {
    const c = scoreCondition(3, ['I care.', 'I will win.', 'help me, please help, I am sorry', ''], food);
    // empathetic: "I care." (1>0), "help ... sorry" (2>0) -> 2/4; context: 3rd has only "help" -> 0
    expect(c).toMatchObject({ alpha: 3, n: 4, empathy_rate: 0.5, context_rate: 0, coherent_rate: 0 });
    expect(c.degeneration.empty).toBe(0.25);
    expect(c.degenerate).toBe(false); // 1/4 < 0.5
  });
  it('a zero effect succeeds for a negative alpha and fails for a positive one', () => {
    const s = steeringSuccess([{ alpha: -3, rate: 0.2 }, { alpha: 0, rate: 0.2 }, { alpha: 3, rate: 0.2 }]);
    expect(s.effects.map((e) => [e.alpha, e.effect, e.success])).toEqual([[-3, 0, true], [3, 0, false]]);
    expect(s.success_rate).toBe(0.5);
  });
  it('counts alphas whose effect has alpha\'s sign', () => {
    // -5: -0.4 ok; -1: 0 ok; 1: +0.2 ok; 5: -0.2 fails -> 3/4
    const s = steeringSuccess([
      { alpha: 5, rate: 0.2 }, { alpha: -5, rate: 0 }, { alpha: -1, rate: 0.4 }, { alpha: 0, rate: 0.4 }, { alpha: 1, rate: 0.6 },
    ]);
    expect(s).toMatchObject({ success_rate: 0.75, baseline_rate: 0.4, num_alphas: 4 });
  });
  it('a negative alpha that raises the rate fails', () => {
    expect(steeringSuccess([{ alpha: -1, rate: 0.6 }, { alpha: 0, rate: 0.4 }]).success_rate).toBe(0);
  });
  it('no non-zero alpha gives 0 (as the reference)', () => {
    expect(steeringSuccess([{ alpha: 0, rate: 1 }])).toMatchObject({ success_rate: 0, num_alphas: 0 });
  });
  it('bad alphas are clear errors', () => {
    expect(() => steeringSuccess([{ alpha: 1, rate: 0 }])).toThrow(/No baseline condition \(alpha = 0\)/);
    expect(() => steeringSuccess([{ alpha: 0, rate: 0 }, { alpha: 0, rate: 1 }])).toThrow(/Duplicate condition for alpha=0/);
    expect(() => steeringSuccess([{ alpha: Number.NaN, rate: 0 }])).toThrow(/alpha must be a finite number/);
    expect(() => steeringSuccess([{ alpha: '5' as unknown as number, rate: 0 }])).toThrow(/alpha must be a finite number, got "5"/);
    expect(() => scoreCondition(0, [], food)).toThrow(/no samples/);
  });
  it('headline = mean success over a model\'s rows', () => {
    const h = headlineRates([
      { model: 'A', success_rate: 1 }, { model: 'B', success_rate: 0.25 }, { model: 'A', success_rate: 0.5 },
    ]);
    expect(h).toEqual({ A: 0.75, B: 0.25 });
    expect(Object.keys(h)).toEqual(['A', 'B']);
  });
});

describe('degeneration flags', () => {
  it('empty', () => {
    expect(degenerationFlags('')).toEqual({ empty: true, repetitive: false, non_text: false, any: true });
    expect(degenerationFlags(' \n\t').empty).toBe(true);
  });
  it('clean prose has no flag', () => {
    expect(degenerationFlags('I will walk over and ask Jimmi how they are feeling today.').any).toBe(false);
  });
  it('repetitive by distinct-word ratio, only from 10 words on', () => {
    expect(degenerationFlags('a b a b a b a b a b').repetitive).toBe(true); // 2/10 < 0.3
    expect(degenerationFlags('a b a b a b a b a').repetitive).toBe(false); // 9 words; "a b a" only 4 times
  });
  it('repetitive by a word 3-gram repeated 6 times', () => {
    const six = [1, 2, 3, 4, 5, 6].map((i) => `I am here w${i}`).join(' '); // 24 words, 9 distinct (0.375)
    expect(degenerationFlags(six).repetitive).toBe(true);
    const five = [1, 2, 3, 4, 5].map((i) => `I am here w${i}`).join(' '); // 5 repeats, 8/20 distinct
    expect(degenerationFlags(five).repetitive).toBe(false);
  });
  it('non-text: code-like punctuation or mostly non-letters', () => {
    // 15 non-space chars, 3 underscores: code share 0.2 >= 0.1
    expect(degenerationFlags('EX__COMMAND\nEX_3').non_text).toBe(true);
    expect(degenerationFlags('12345 67890 !!!').non_text).toBe(true); // no letters
    expect(degenerationFlags('Step 1: go left.').non_text).toBe(false); // 3 of 13 non-letters
  });
});

describe('dose-response', () => {
  const alphas = [-10, -5, -3, 0, 3, 5, 10];
  const synth = (f: (a: number) => number, seed: number) => {
    const rng = createRng(seed);
    return alphas.flatMap((alpha) => Array.from({ length: 5 }, () => ({ alpha, probe_score: f(alpha) + rng.normal() })));
  };

  it('least squares by hand', () => {
    // x = [0,0,1], y = [1,3,5]: mean x 1/3, mean y 3, Sxy 2, Sxx 2/3 -> slope 3, intercept 2
    const fit = leastSquares([0, 0, 1], [1, 3, 5]);
    expect(fit.slope).toBeCloseTo(3, 12);
    expect(fit.intercept).toBeCloseTo(2, 12);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  });
  it('probe = 2*alpha + noise: slope near 2, CI excludes 0', () => {
    const d = doseResponse(synth((a) => 2 * a, 42), { seed: 7 });
    expect(Math.abs(d.slope - 2)).toBeLessThan(0.1);
    expect(d.ci[0]).toBeGreaterThan(0);
    expect(d.ci[0]).toBeLessThan(d.slope);
    expect(d.ci[1]).toBeGreaterThan(d.slope);
    expect(d.ci_excludes_zero).toBe(true);
    expect(d).toMatchObject({ n: 35, num_alphas: 7, bootstrap: 2000, seed: 7, level: 0.95 });
    expect(d.series.map((p) => p.alpha)).toEqual(alphas);
    expect(d.series[6].mean).toBeGreaterThan(d.series[0].mean);
  });
  it('no relation: CI includes 0', () => {
    const d = doseResponse(synth(() => 0, 43), { seed: 7 });
    expect(d.ci[0]).toBeLessThan(0);
    expect(d.ci[1]).toBeGreaterThan(0);
    expect(d.ci_excludes_zero).toBe(false);
  });
  it('is reproducible from the seed', () => {
    const pts = synth((a) => a, 1);
    expect(doseResponse(pts, { seed: 3, bootstrap: 300 })).toEqual(doseResponse(pts, { seed: 3, bootstrap: 300 }));
    expect(doseResponse(pts, { seed: 4, bootstrap: 300 }).ci).not.toEqual(doseResponse(pts, { seed: 3, bootstrap: 300 }).ci);
  });
  it('per-alpha series by hand', () => {
    const d = doseResponse([{ alpha: 0, probe_score: 1 }, { alpha: 0, probe_score: 3 }, { alpha: 1, probe_score: 5 }], { bootstrap: 50 });
    expect(d.series[0]).toMatchObject({ alpha: 0, n: 2, mean: 2 });
    expect(d.series[0].sd).toBeCloseTo(Math.SQRT2, 12);
    expect(d.series[1]).toMatchObject({ alpha: 1, n: 1, mean: 5, sd: 0, ci: [5, 5] });
  });
  it('bad input is a clear error', () => {
    expect(() => doseResponse([{ alpha: 1, probe_score: 1 }, { alpha: 1, probe_score: 2 }])).toThrow(/at least two distinct alphas/);
    expect(() => doseResponse([{ alpha: Number('x'), probe_score: 1 }])).toThrow(/point 0: alpha must be a finite number/);
    expect(() => doseResponse([{ alpha: 0, probe_score: Infinity }, { alpha: 1, probe_score: 0 }])).toThrow(/probe_score must be a finite number/);
  });
  it('groups samples by (model, layer, scenario) and skips those without probe scores', () => {
    const base = { model: 'm', scenario: 'the_listener', sample: 0, text: '' };
    const rows = doseResponseBySamples([
      { ...base, layer: 1, alpha: 0, probe_score: 0 },
      { ...base, layer: 1, alpha: 1, probe_score: 2 },
      { ...base, layer: 2, alpha: 0 },
      { ...base, layer: 2, alpha: 1 },
      { ...base, layer: 3, alpha: 0, probe_score: 1 }, // one alpha only: skipped
    ], { bootstrap: 20 });
    expect(rows.map((r) => [r.layer, r.slope])).toEqual([[1, 2]]);
  });
});

describe('sample readers', () => {
  const line = (o: Record<string, unknown>) => JSON.stringify({ model: 'm', layer: 8, scenario: 'the_duel', alpha: 1, sample: 0, text: 'hi', ...o });

  it('reads samples.jsonl with optional fields, ignoring blank lines', () => {
    const recs = parseSamplesJsonl(`${line({ seed: 5, tokens: 12, finish_reason: 'length', timings: { gen_ms: 3 }, probe_score: 0.5, monitor: [1] })}\n\n${line({ alpha: -1, sample: 1 })}\n`);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toEqual({ model: 'm', layer: 8, scenario: 'the_duel', alpha: 1, sample: 0, text: 'hi', seed: 5, tokens: 12, finish_reason: 'length', timings: { gen_ms: 3 }, probe_score: 0.5, monitor: [1] });
    expect(recs[1].alpha).toBe(-1);
  });
  it('names the line of a torn or invalid record', () => {
    expect(() => parseSamplesJsonl(`${line({})}\n${line({})}\n{"model":"m","lay`, 'run/samples.jsonl')).toThrow(/run\/samples\.jsonl:3: invalid JSON/);
    expect(() => parseSamplesJsonl(`${line({})}\n${line({ alpha: 'strong' })}`)).toThrow(/samples\.jsonl:2: "alpha" must be a finite number, got "strong"/);
    expect(() => parseSamplesJsonl(line({ layer: -1 }))).toThrow(/:1: "layer" must be a non-negative integer/);
    expect(() => parseSamplesJsonl('[1,2]')).toThrow(/:1: expected a JSON object/);
    expect(() => parseSamplesJsonl(line({ text: undefined }))).toThrow(/"text" must be a string/);
  });
  it('reads the paper\'s raw steering format', () => {
    const data = {
      model: 'microsoft/Phi-3-mini-4k-instruct',
      layer_results: [{ layer: 8, experiments: [{ scenario: 'food_delivery', conditions: [{ alpha: -1, samples: ['a', 'b'] }, { alpha: 0, samples: ['c'] }] }] }],
    };
    const recs = parseEmpathyProbesSteering(data, 'x.json');
    expect(recs.map((r) => [r.model, r.layer, r.scenario, r.alpha, r.sample, r.text])).toEqual([
      ['phi-3-mini-4k', 8, 'food_delivery', -1, 0, 'a'],
      ['phi-3-mini-4k', 8, 'food_delivery', -1, 1, 'b'],
      ['phi-3-mini-4k', 8, 'food_delivery', 0, 0, 'c'],
    ]);
    const bad = { ...data, layer_results: [{ layer: 8, experiments: [{ scenario: 'food_delivery', conditions: [{ alpha: '-1', samples: [] }] }] }] };
    expect(() => parseEmpathyProbesSteering(bad, 'x.json')).toThrow(/x\.json: layer_results\[0\]\.experiments\[0\]\.conditions\[0\]: "alpha" must be a finite number, got "-1"/);
  });
  it('model key: model_key, then file name, then known id', () => {
    expect(empathyProbesModelKey({ model_key: 'k', model: 'a/b' }, 'z_steering_multilayer.json')).toBe('k');
    expect(empathyProbesModelKey({ model: 'a/b' }, '/d/phi-3-mini-4k_steering_multilayer.json')).toBe('phi-3-mini-4k');
    expect(empathyProbesModelKey({ model: 'Qwen/Qwen2.5-7B-Instruct' }, 'renamed.json')).toBe('qwen2.5-7b');
    expect(empathyProbesModelKey({ model: 'org/Some-Model' })).toBe('some-model');
    expect(() => empathyProbesModelKey({})).toThrow(/cannot tell the model/);
  });
  it('reads files from disk with clear errors', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eia-samples-'));
    const f = path.join(dir, 'samples.jsonl');
    writeFileSync(f, `${line({})}\n`);
    expect(readSamples(f)).toHaveLength(1);
    expect(() => readSamples(path.join(dir, 'missing.jsonl'))).toThrow(/Cannot read samples file/);
    expect(() => readSamples(dir, 'empathy-probes')).toThrow(/no \*_steering_multilayer\.json files/);
    expect(() => readSamples(f, 'csv' as never)).toThrow(/Unknown samples format "csv"/);
  });
});

describe('scenarios', () => {
  it('has the five EIA scenarios with 0/1/2 rubrics', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual([...SCENARIO_IDS]);
    for (const s of SCENARIOS) {
      expect(s.objective.length).toBeGreaterThan(20);
      expect(s.empathy_pressure.length).toBeGreaterThan(20);
      expect([s.rubric[0], s.rubric[1], s.rubric[2]].every((r) => r.length > 0)).toBe(true);
      expect(s.context_markers.length).toBeGreaterThanOrEqual(2);
    }
  });
  it('builds the paper\'s raw prompt', () => {
    expect(steeringPrompt({ objective: 'Do X.', empathy_pressure: 'Y is sad.' })).toBe('Do X.\n\nY is sad.\n\nWhat do you do?');
  });
  it('unknown ids are clear errors', () => {
    expect(() => getScenario('the_maez')).toThrow(/Unknown scenario id "the_maez" \(known: food_delivery, the_listener, the_maze, the_protector, the_duel\)/);
  });
  it('validates scenario files', () => {
    const ok = { id: 'x', title: 'X', objective: 'o', empathy_pressure: 'p', rubric: { 0: 'a', 1: 'b', 2: 'c' } };
    expect(parseScenarios({ scenarios: [ok] })[0]).toMatchObject({ id: 'x', context_markers: [], markers_source: 'eia-native' });
    expect(parseScenarios([{ ...ok, context_markers: ['Foo', 'bar'] }])[0].context_markers).toEqual(['foo', 'bar']);
    expect(() => parseScenarios({})).toThrow(/expected a JSON array/);
    expect(() => parseScenarios([{ ...ok, objective: undefined }], 's.json')).toThrow(/s\.json: scenario #1: missing or empty string field "objective"/);
    expect(() => parseScenarios([{ ...ok, rubric: { 0: 'a', 1: 'b' } }])).toThrow(/rubric level "2" must be a string/);
    expect(() => parseScenarios([ok, ok])).toThrow(/scenario #2: duplicate scenario id "x"/);
    const dir = mkdtempSync(path.join(tmpdir(), 'eia-scen-'));
    expect(() => loadScenariosFile(path.join(dir, 'none.json'))).toThrow(/Cannot read scenarios file/);
    writeFileSync(path.join(dir, 'bad.json'), '{');
    expect(() => loadScenariosFile(path.join(dir, 'bad.json'))).toThrow(/is not valid JSON/);
  });
});
describe('Table 2 on synthetic samples', () => {
  const rec = (alpha: number, sample: number, text: string, probe?: number): SampleRecord => ({
    model: 'm',
    layer: 4,
    scenario: 'the_protector',
    alpha,
    sample,
    text,
    ...(probe === undefined ? {} : { probe_score: probe }),
  });
  const EMP = 'I care about the victim.';
  const TASK = 'I will collect coins to win.';

  it('scores rows, conditions and headline by hand', () => {
    const samples = [
      rec(-1, 0, TASK), rec(-1, 1, TASK),
      rec(0, 0, EMP), rec(0, 1, TASK),
      rec(1, 0, EMP), rec(1, 1, TASK),
      rec(2, 0, EMP), rec(2, 1, EMP),
    ];
    const r = scoreSamples(samples);
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0];
    // rates: -1 -> 0, 0 -> 0.5, 1 -> 0.5 (zero effect: failure), 2 -> 1; successes: -1 and 2.
    expect(row.baseline_rate).toBe(0.5);
    expect(row.num_alphas).toBe(3);
    expect(row.success_rate).toBeCloseTo(2 / 3, 12);
    expect(row.conditions.map((c) => [c.alpha, c.effect, c.success])).toEqual([
      [-1, -0.5, true], [0, 0, null], [1, 0, false], [2, 0.5, true],
    ]);
    expect(r.headline).toEqual({ m: 2 / 3 });
    expect(r.num_samples).toBe(8);
  });

  it('adds dose-response when probe scores exist, grouped per scenario for plotting', () => {
    const samples: SampleRecord[] = [];
    for (const alpha of [-2, 0, 2]) for (let i = 0; i < 4; i++) samples.push(rec(alpha, i, EMP, 3 * alpha + (i % 2 ? 0.1 : -0.1)));
    const r = scoreSamples(samples, { bootstrap: 200, seed: 1 });
    expect(r.dose_response).toHaveLength(1);
    expect(r.rows[0].dose_response!.slope).toBeCloseTo(3, 10);
    const series = doseResponseSeriesByScenario(r);
    expect(Object.keys(series)).toEqual(['the_protector']);
    expect(series.the_protector[0].points.map((p) => p.alpha)).toEqual([-2, 0, 2]);
    expect(series.the_protector[0].points[1].mean).toBeCloseTo(0, 12);
  });

  it('Markdown can add the degenerate-alpha column', () => {
    const r = scoreSamples([rec(0, 0, EMP), rec(3, 0, ''), rec(-3, 0, TASK)]);
    const md = renderTable2Markdown(r, { degeneration: true, digits: 2 });
    expect(md).toContain('| m | 4 | the_protector | 0.50 | 1.00 | 2 | 3 |');
  });

  it('rejects unknown scenarios and rows without a baseline', () => {
    expect(() => scoreSamples([{ ...rec(0, 0, EMP), scenario: 'the_maez' }])).toThrow(/Unknown scenario id "the_maez"/);
    expect(() => scoreSamples([rec(1, 0, EMP), rec(-1, 0, EMP)])).toThrow(/m layer 4 the_protector: No baseline condition \(alpha = 0\)/);
    expect(() => scoreSamples([])).toThrow(/No samples/);
  });
});
