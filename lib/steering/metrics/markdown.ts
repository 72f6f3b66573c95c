// The offline metrics as Markdown (score.md's sections; the report draws its own tables and figures).
import type { RunMetricsFacts } from './run-metrics.js';
import type { OfflineMetrics } from './summary.js';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '-' : x.toFixed(d));

export function renderMetricsMarkdown(m: OfflineMetrics, facts: RunMetricsFacts): string {
  const judged = m.judge !== undefined;
  let md = '\n## Offline steering metrics (per block and alpha, all scenarios)\n\n';
  if (facts.metrics) {
    md += `Fluency: perplexity of each steered text under the unsteered model (${facts.metrics.model}); the ratio is to ${m.fluency_reference}. ` +
      `${facts.metrics.measured} samples measured now, ${facts.metrics.cached} from metrics.jsonl.\n\n`;
  } else {
    md += 'Fluency was not measured (no --metrics): perplexity columns are empty.\n\n';
  }
  const head = ['Model', 'Layer', 'Alpha', 'n', 'Keyword rate', 'Keyword share', 'Probe mean', 'Perplexity', 'Perplexity ratio'];
  if (judged) head.push('Judge concept', 'Judge relevance', 'Judge fluency', 'Judge harmonic mean', 'Unparseable');
  md += `| ${head.join(' | ')} |\n| ${head.map((_, i) => (i < 1 ? '---' : '---:')).join(' | ')} |\n`;
  for (const p of m.points) {
    const cells = [p.model, String(p.layer), String(p.alpha), String(p.n), f(p.keyword_rate), f(p.keyword_share), f(p.probe_mean), f(p.perplexity, 2), f(p.ppl_ratio)];
    if (judged) cells.push(f(p.judge?.concept), f(p.judge?.instruction), f(p.judge?.fluency), f(p.judge?.harmonic), String(p.judge?.unparseable ?? 0));
    md += `| ${cells.join(' | ')} |\n`;
  }
  md += '\n## Steerability (per prompt: share of steered samples whose concept moved against the sign of alpha)\n\n';
  md += '| Model | Layer | Prompts | Min | Q1 | Median | Q3 | Max | Mean | Per prompt |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n';
  for (const d of m.steerability.distribution) {
    const per = m.steerability.per_prompt.filter((p) => p.model === d.model && p.layer === d.layer)
      .map((p) => `${p.scenario} ${f(p.share_against, 2)} (${p.against}/${p.n}, ${p.measure})`).join('; ');
    md += `| ${d.model} | ${d.layer} | ${d.prompts} | ${f(d.min)} | ${f(d.q1)} | ${f(d.median)} | ${f(d.q3)} | ${f(d.max)} | ${f(d.mean)} | ${per} |\n`;
  }
  if (facts.judge && m.judge) {
    const j = facts.judge;
    md += `\n## LLM judge\n\n${j.model} at ${j.endpoint}: ${m.judge.n} samples, ${j.asked} questions asked now, ${j.cached} answered from judge.jsonl; ` +
      `**${j.unparseable} unparseable answers** (counted, never guessed), ${j.failed} failed requests${j.first_failure ? ` (first: ${j.first_failure})` : ''}. ` +
      `Mean harmonic mean ${f(m.judge.harmonic)} over the ${m.judge.scored} samples whose three answers parsed.\n`;
  }
  return md;
}
