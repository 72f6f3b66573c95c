// The result of `eia-native score`: the paper's Table 2 rows (field names are a contract checked
// from outside: rows[].model/layer/scenario/success_rate/baseline_rate/num_alphas and
// headline[model]), with our extras beside them, plus its Markdown and dose-response renderings.

import { doseResponseBySamples, type DoseResponseOptions, type DoseResponsePoint, type DoseResponseRow } from './dose-response.js';
import type { SampleRecord } from './samples.js';
import { getScenario, SCENARIOS, type Scenario } from './scenarios.js';
import {
  COHERENCE_MIN_CHARS,
  COHERENCE_MIN_DISTINCT_RATIO,
  COHERENCE_MIN_WORDS,
  CONTEXT_MIN_MARKERS,
  DEGEN_CONDITION_SHARE,
  DEGEN_MAX_CODE_CHAR_SHARE,
  DEGEN_MAX_NON_LETTER_SHARE,
  DEGEN_MIN_DISTINCT_RATIO,
  DEGEN_MIN_WORDS_FOR_RATIO,
  DEGEN_NGRAM,
  DEGEN_NGRAM_MIN_REPEATS,
  headlineRates,
  scoreCondition,
  steeringSuccess,
  type ConditionScore,
} from './scoring.js';
import { EiaError } from '../util/errors.js';

/** One condition (alpha) of a row: the paper's rate and effect plus our measures. */
export interface ConditionRow extends ConditionScore {
  /** rate(alpha) - rate(0); 0 for the baseline. */
  effect: number;
  /** Whether this alpha counts as a success; null for the baseline. */
  success: boolean | null;
}

/** One (model, layer, scenario) row of Table 2. */
export interface Table2Row {
  model: string;
  layer: number;
  scenario: string;
  /** Share of non-zero alphas that moved the empathy rate in alpha's direction. */
  success_rate: number;
  /** Empathy rate at alpha = 0. */
  baseline_rate: number;
  /** Number of non-zero alphas. */
  num_alphas: number;
  /** Per-alpha detail, alphas ascending. */
  conditions: ConditionRow[];
  /** Alphas whose samples are mostly degenerate (see DEGEN_CONDITION_SHARE). */
  degenerate_alphas: number[];
  /** Probe-score dose-response, when the samples carry probe scores. */
  dose_response?: Omit<DoseResponseRow, 'model' | 'layer' | 'scenario'>;
}

/** The object printed by `eia-native score --json`. */
export interface ScoreResult {
  rows: Table2Row[];
  /** Mean success rate over each model's rows. */
  headline: Record<string, number>;
  num_samples: number;
  /** The scoring constants in force, so a result file says how it was scored. */
  thresholds: Record<string, number>;
  /** Dose-response rows (only when some samples carry probe_score). */
  dose_response?: DoseResponseRow[];
}

/** Options for scoreSamples(). */
export interface ScoreOptions extends DoseResponseOptions {
  /** Scenario definitions (for context markers and id checks); default the built-in five. */
  scenarios?: readonly Scenario[];
}

/**
 * Score steered samples into Table 2: group by (model, layer, scenario) in first-seen order,
 * then by alpha; apply the paper's rules per condition and per row; add degeneration and, when
 * probe scores exist, dose-response. Throws on unknown scenario ids or a row without alpha = 0.
 */
export function scoreSamples(samples: readonly SampleRecord[], options: ScoreOptions = {}): ScoreResult {
  const scenarios = options.scenarios ?? SCENARIOS;
  if (samples.length === 0) throw new EiaError('E_BAD_ARG', 'No samples to score');
  const groups = new Map<string, { model: string; layer: number; scenario: string; byAlpha: Map<number, string[]> }>();
  for (const s of samples) {
    const key = JSON.stringify([s.model, s.layer, s.scenario]);
    let g = groups.get(key);
    if (!g) {
      getScenario(s.scenario, scenarios); // fail early on an unknown id
      g = { model: s.model, layer: s.layer, scenario: s.scenario, byAlpha: new Map() };
      groups.set(key, g);
    }
    const texts = g.byAlpha.get(s.alpha) ?? [];
    texts.push(s.text);
    g.byAlpha.set(s.alpha, texts);
  }

  const rows: Table2Row[] = [];
  for (const g of groups.values()) {
    const scenario = getScenario(g.scenario, scenarios);
    const where = `${g.model} layer ${g.layer} ${g.scenario}`;
    const conditions = [...g.byAlpha.keys()]
      .sort((a, b) => a - b)
      .map((alpha) => scoreCondition(alpha, g.byAlpha.get(alpha)!, scenario));
    let success;
    try {
      success = steeringSuccess(conditions.map((c) => ({ alpha: c.alpha, rate: c.empathy_rate })));
    } catch (err) {
      throw new EiaError('E_BAD_ARG', `${where}: ${(err as Error).message}`);
    }
    const byAlpha = new Map(success.effects.map((e) => [e.alpha, e]));
    rows.push({
      model: g.model,
      layer: g.layer,
      scenario: g.scenario,
      success_rate: success.success_rate,
      baseline_rate: success.baseline_rate,
      num_alphas: success.num_alphas,
      conditions: conditions.map((c) => {
        const e = byAlpha.get(c.alpha);
        return { ...c, effect: e ? e.effect : 0, success: e ? e.success : null };
      }),
      degenerate_alphas: conditions.filter((c) => c.degenerate).map((c) => c.alpha),
    });
  }

  const result: ScoreResult = {
    rows,
    headline: headlineRates(rows),
    num_samples: samples.length,
    thresholds: {
      coherence_min_chars: COHERENCE_MIN_CHARS,
      coherence_min_words: COHERENCE_MIN_WORDS,
      coherence_min_distinct_ratio: COHERENCE_MIN_DISTINCT_RATIO,
      context_min_markers: CONTEXT_MIN_MARKERS,
      degen_min_distinct_ratio: DEGEN_MIN_DISTINCT_RATIO,
      degen_min_words_for_ratio: DEGEN_MIN_WORDS_FOR_RATIO,
      degen_ngram: DEGEN_NGRAM,
      degen_ngram_min_repeats: DEGEN_NGRAM_MIN_REPEATS,
      degen_max_non_letter_share: DEGEN_MAX_NON_LETTER_SHARE,
      degen_max_code_char_share: DEGEN_MAX_CODE_CHAR_SHARE,
      degen_condition_share: DEGEN_CONDITION_SHARE,
    },
  };

  const dose = doseResponseBySamples(samples, options);
  if (dose.length > 0) {
    result.dose_response = dose;
    for (const d of dose) {
      const row = rows.find((r) => r.model === d.model && r.layer === d.layer && r.scenario === d.scenario);
      if (row) {
        const { model: _m, layer: _l, scenario: _s, ...rest } = d;
        row.dose_response = rest;
      }
    }
  }
  return result;
}

/** Options for the Markdown table. */
export interface MarkdownOptions {
  /** Decimals of the rates (default 3). */
  digits?: number;
  /** Add a column listing degenerate alphas (default false: the paper's columns only). */
  degeneration?: boolean;
}

/**
 * Markdown in the layout of the paper's Table 2 (model, layer, scenario, steering success rate,
 * baseline empathy rate, number of alphas), followed by the per-model headline.
 */
export function renderTable2Markdown(result: Pick<ScoreResult, 'rows' | 'headline'>, options: MarkdownOptions = {}): string {
  const digits = options.digits ?? 3;
  const f = (x: number) => x.toFixed(digits);
  const head = ['Model', 'Layer', 'Scenario', 'Steering success rate', 'Baseline empathy rate', 'Alphas'];
  if (options.degeneration) head.push('Degenerate alphas');
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i >= 3 && i <= 5 ? '---:' : '---')).join(' | ')} |`];
  for (const r of result.rows) {
    const cells = [r.model, String(r.layer), r.scenario, f(r.success_rate), f(r.baseline_rate), String(r.num_alphas)];
    if (options.degeneration) cells.push(r.degenerate_alphas.length ? r.degenerate_alphas.join(', ') : '-');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', '| Model | Mean steering success |', '| --- | ---: |');
  for (const [model, rate] of Object.entries(result.headline)) lines.push(`| ${model} | ${f(rate)} |`);
  return lines.join('\n') + '\n';
}

/** One line of a dose-response plot: a (model, layer) within a scenario. */
export interface DoseResponseSeries {
  model: string;
  layer: number;
  slope: number;
  ci: [number, number];
  points: DoseResponsePoint[];
}

/** Dose-response series grouped by scenario, ready to serialise as JSON for plotting. */
export function doseResponseSeriesByScenario(result: Pick<ScoreResult, 'dose_response'>): Record<string, DoseResponseSeries[]> {
  const out: Record<string, DoseResponseSeries[]> = {};
  for (const d of result.dose_response ?? []) {
    (out[d.scenario] ??= []).push({ model: d.model, layer: d.layer, slope: d.slope, ci: d.ci, points: d.series });
  }
  return out;
}
