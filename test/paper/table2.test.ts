// Acceptance against the paper's own data: scoring its raw steered samples must give every row of
// steering_success_summary.csv and the published headlines, through the library and through
// `eia-native score`. Skipped, with the reason, where the paper's data is absent.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { readSamples } from '../../lib/steering/samples.js';
import { loadScenariosFile, SCENARIOS } from '../../lib/steering/scenarios.js';
import { renderTable2Markdown, scoreSamples, type ScoreResult } from '../../lib/steering/tables.js';
import { runCli } from '../helpers/cli.js';
import { itWithPaper, PAPER_DIR as refDir, paperPresent } from '../helpers/paper.js';
import { requireFreshDist } from '../helpers/dist.js';

const steeringDir = path.join(refDir, 'results/steering');
const FILES = ['qwen2.5-7b', 'dolphin-llama-3.1-8b', 'phi-3-mini-4k'];

interface CsvRow {
  model: string;
  layer: string;
  scenario: string;
  steering_success_rate: string;
  baseline_empathy_rate: string;
  num_alphas: string;
}

function readCsv(file: string): CsvRow[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])) as unknown as CsvRow);
}

// Compare at the CSV's printed precision (its number of decimals).
function atPrecision(ours: number, printed: string): [string, string] {
  const decimals = printed.includes('.') ? printed.split('.')[1].length : 0;
  return [ours.toFixed(decimals), Number(printed).toFixed(decimals)];
}

describe('Table 2 from the paper\'s raw samples', () => {
  const csv = existsSync(steeringDir) ? readCsv(path.join(steeringDir, 'steering_success_summary.csv')) : [];
  const results = new Map<string, ScoreResult>();
  const scored = (key: string): ScoreResult => {
    let r = results.get(key);
    if (!r) {
      r = scoreSamples(readSamples(path.join(steeringDir, `${key}_steering_multilayer.json`), 'empathy-probes'));
      results.set(key, r);
    }
    return r;
  };

  itWithPaper('the CSV has 30 rows over the three models', () => {
    expect(csv).toHaveLength(30);
    expect(new Set(csv.map((r) => r.model))).toEqual(new Set(FILES));
  });

  for (const key of FILES) {
    itWithPaper(`${key}: every CSV row is reproduced exactly, in order`, () => {
      const result = scored(key);
      const expected = csv.filter((r) => r.model === key);
      expect(result.rows.map((r) => [r.model, String(r.layer), r.scenario])).toEqual(
        expected.map((r) => [r.model, r.layer, r.scenario]),
      );
      result.rows.forEach((row, i) => {
        const want = expected[i];
        const label = `${key} L${row.layer} ${row.scenario}`;
        const [s1, s2] = atPrecision(row.success_rate, want.steering_success_rate);
        expect(s1, `${label} success`).toBe(s2);
        const [b1, b2] = atPrecision(row.baseline_rate, want.baseline_empathy_rate);
        expect(b1, `${label} baseline`).toBe(b2);
        expect(row.num_alphas, `${label} alphas`).toBe(Number(want.num_alphas));
      });
    });
  }

  itWithPaper('headlines: Qwen 0.653, Phi-3 0.617, Dolphin 0.944', () => {
    const headline = Object.assign({}, ...FILES.map((k) => scored(k).headline)) as Record<string, number>;
    expect(headline['qwen2.5-7b'].toFixed(3)).toBe('0.653');
    expect(headline['phi-3-mini-4k'].toFixed(3)).toBe('0.617');
    expect(headline['dolphin-llama-3.1-8b'].toFixed(3)).toBe('0.944');
  });

  itWithPaper('reading the whole directory scores all 30 rows at once', () => {
    const result = scoreSamples(readSamples(steeringDir, 'empathy-probes'));
    expect(result.rows).toHaveLength(30);
    expect(Object.keys(result.headline).sort()).toEqual([...FILES].sort());
  });

  itWithPaper('the --json contract: exact field names, JSON-serialisable', () => {
    const json = JSON.parse(JSON.stringify(scored('qwen2.5-7b')));
    for (const row of json.rows) {
      for (const field of ['model', 'layer', 'scenario', 'success_rate', 'baseline_rate', 'num_alphas']) {
        expect(row).toHaveProperty(field);
      }
      expect(typeof row.success_rate).toBe('number');
    }
    expect(typeof json.headline['qwen2.5-7b']).toBe('number');
    expect(json.dose_response).toBeUndefined(); // the paper's files carry no probe scores
  });

  itWithPaper('flags Dolphin\'s degeneration at negative alphas, not Qwen at +-20', () => {
    const dolphin = scored('dolphin-llama-3.1-8b');
    const negFlagged = dolphin.rows.flatMap((r) => r.conditions.filter((c) => c.alpha < 0 && c.degenerate));
    expect(negFlagged.length).toBeGreaterThan(0);
    const qwen = scored('qwen2.5-7b');
    const extreme = qwen.rows.flatMap((r) => r.conditions.filter((c) => Math.abs(c.alpha) === 20));
    expect(extreme.every((c) => !c.degenerate)).toBe(true);
    expect(extreme.every((c) => c.coherent_rate >= 0.8)).toBe(true);
  });

  itWithPaper('Markdown follows the CSV columns and lists the headline', () => {
    const md = renderTable2Markdown(scored('qwen2.5-7b'));
    const lines = md.trim().split('\n');
    expect(lines[0]).toBe('| Model | Layer | Scenario | Steering success rate | Baseline empathy rate | Alphas |');
    expect(lines[2]).toBe('| qwen2.5-7b | 16 | food_delivery | 0.875 | 0.200 | 8 |');
    expect(lines).toContain('| qwen2.5-7b | 0.653 |');
  });

  itWithPaper('the paper\'s scenarios.json loads, and its pressures are the ones in the raw files', () => {
    const loaded = loadScenariosFile(path.join(refDir, 'data/eia_scenarios/scenarios.json'));
    expect(loaded.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    const raw = JSON.parse(readFileSync(path.join(steeringDir, 'qwen2.5-7b_steering_multilayer.json'), 'utf8'));
    for (const ex of raw.layer_results[0].experiments) {
      expect(loaded.find((s) => s.id === ex.scenario)!.empathy_pressure).toBe(ex.empathy_pressure);
    }
    // Markers come from the built-ins (the paper's lists) when the file has none.
    expect(loaded.find((s) => s.id === 'the_listener')!.context_markers).toContain('jimmi');
    // Our built-in texts are our own words, not the reference's.
    for (const s of SCENARIOS) {
      const ref = loaded.find((r) => r.id === s.id)!;
      expect(s.objective).not.toBe(ref.objective);
      expect(s.empathy_pressure).not.toBe(ref.empathy_pressure);
    }
  });
});

describe('eia-native score --format empathy-probes', () => {
  beforeAll(async () => {
    if (paperPresent) requireFreshDist();
  });

  itWithPaper('reproduces every row of the paper\'s summary CSV and the headlines', async () => {
    const r = await runCli(['score', steeringDir, '--format', 'empathy-probes', '--json', '--bootstrap', '10']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    const csv = readFileSync(path.join(steeringDir, 'steering_success_summary.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(res.rows).toHaveLength(csv.length);
    for (const [m, layer, scen, succ, base, n] of csv) {
      const row = res.rows.find((r: any) => r.model === m && r.layer === Number(layer) && r.scenario === scen);
      expect(row, `${m} ${layer} ${scen}`).toBeTruthy();
      expect(row.success_rate).toBeCloseTo(Number(succ), 10);
      expect(row.baseline_rate).toBeCloseTo(Number(base), 10);
      expect(row.num_alphas).toBe(Number(n));
    }
    expect(res.headline['qwen2.5-7b'].toFixed(3)).toBe('0.653');
    expect(res.headline['phi-3-mini-4k'].toFixed(3)).toBe('0.617');
    expect(res.headline['dolphin-llama-3.1-8b'].toFixed(3)).toBe('0.944');
  });
});
