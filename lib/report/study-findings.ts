// The study report's findings: short sentences computed from the study's numbers (results.json),
// each with the figures it rests on, so that a reader sees at once what differs between the models.
// Rules (thresholds stated where they decide the wording):
//   depth      the deepest and the shallowest best block differ by at least 0.1 of depth;
//   detection  the best AUROC and, per model, a CI that reaches 0.5 or an AUROC not above the
//              random directions' 95th percentile (not distinguishable from chance / random);
//   steering   the highest and lowest headline, and whether their CIs overlap (difference resolved or not);
//   behaviour  per model: Pearson r > 0 with p < 0.05 tracks the rubric, anything else does not;
//   agreement  mean Pearson r over the pairs: below 0.5 limited, otherwise substantial;
//   transfer   the best and the worst carried AUROC;
//   drift      per quantization: the lowest cosine with the reference over the blocks, the
//              reference probe's AUROC on it at the reference's best block, and the headline change.
import type { StudyResults } from './study-results.js';

export interface Finding {
  id: string;
  text: string;
}

const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const pv = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

export function studyFindings(r: StudyResults): Finding[] {
  const out: Finding[] = [];
  const ms = r.models.filter((m) => m.best && m.depth !== null);
  if (ms.length >= 2) {
    const deep = ms.reduce((a, b) => (b.depth! > a.depth! ? b : a));
    const shallow = ms.reduce((a, b) => (b.depth! < a.depth! ? b : a));
    if (deep.depth! - shallow.depth! >= 0.1) {
      out.push({ id: 'depth', text: `${deep.name}'s best block is deeper than ${shallow.name}'s (${f2(deep.depth!)} vs ${f2(shallow.depth!)} of depth: block ${deep.best_layer} of ${deep.n_layer} vs ${shallow.best_layer} of ${shallow.n_layer}).` });
    } else {
      out.push({ id: 'depth', text: `The models' best blocks lie at similar relative depth (${ms.map((m) => `${m.name} ${f2(m.depth!)}`).join(', ')}).` });
    }
  }
  if (ms.length >= 1) {
    const top = ms.reduce((a, b) => (b.best!.auroc > a.best!.auroc ? b : a));
    out.push({ id: 'detection-best', text: `${ms.length > 1 ? `${top.name} detects best` : `${top.name} detects`}: AUROC ${f3(top.best!.auroc)} [${f3(top.best!.ci[0])}, ${f3(top.best!.ci[1])}] at block ${top.best_layer}.` });
    for (const m of ms) {
      if (m.best!.ci[0] <= 0.5) out.push({ id: `detection-chance-${m.name}`, text: `${m.name}'s best probe is not distinguishable from chance: its AUROC CI [${f3(m.best!.ci[0])}, ${f3(m.best!.ci[1])}] reaches 0.5.` });
      else if (m.best!.random_p95 !== null && m.best!.auroc <= m.best!.random_p95) {
        out.push({ id: `detection-random-${m.name}`, text: `${m.name}'s best probe (AUROC ${f3(m.best!.auroc)}) is not above the 95th percentile of random directions (${f3(m.best!.random_p95)}).` });
      }
    }
  }
  const hs = r.models.filter((m) => m.headline);
  if (hs.length >= 2) {
    const hi = hs.reduce((a, b) => (b.headline!.headline > a.headline!.headline ? b : a));
    const lo = hs.reduce((a, b) => (b.headline!.headline < a.headline!.headline ? b : a));
    if (hi !== lo) {
      const overlap = hi.headline!.lower <= lo.headline!.upper;
      out.push({ id: 'steering', text: `${hi.name} steers most reliably (headline ${f3(hi.headline!.headline)} [${f3(hi.headline!.lower)}, ${f3(hi.headline!.upper)}]), ` +
        `${lo.name} least (${f3(lo.headline!.headline)} [${f3(lo.headline!.lower)}, ${f3(lo.headline!.upper)}]); ` +
        (overlap ? 'their CIs overlap, so the difference is not resolved by these samples.' : 'their CIs do not overlap.') });
    } else {
      out.push({ id: 'steering', text: `The models steer equally often (headline ${f3(hi.headline!.headline)}).` });
    }
  }
  for (const m of r.models) {
    const b = m.behaviour as { pearson?: { r: number; p: number }; n?: number; layer?: number } | null;
    if (!b || !b.pearson) continue;
    const tracks = b.pearson.r > 0 && b.pearson.p < 0.05;
    out.push({ id: `behaviour-${m.name}`, text: `${m.name}'s probe (block ${b.layer}) ${tracks ? 'tracks' : 'does not track'} the rubric scores: Pearson r = ${f3(b.pearson.r)} (p ${pv(b.pearson.p)}, n = ${b.n}).` });
  }
  const ag = r.agreement.filter((a) => a.pearson);
  if (ag.length > 0) {
    const mean = ag.reduce((s, a) => s + a.pearson!.r, 0) / ag.length;
    out.push({ id: 'agreement', text: `Cross-model agreement of probe scores on the same test texts is ${mean < 0.5 ? 'limited' : 'substantial'}: mean Pearson r ${f3(mean)} over ${ag.length} pair${ag.length === 1 ? '' : 's'} ` +
      `(${ag.map((a) => `${a.a}/${a.b} ${f3(a.pearson!.r)}`).join(', ')}).` });
  }
  if (r.transfer.length > 0) {
    const best = r.transfer.reduce((a, b) => (b.auroc_carried > a.auroc_carried ? b : a));
    const worst = r.transfer.reduce((a, b) => (b.auroc_carried < a.auroc_carried ? b : a));
    out.push({ id: 'transfer', text: `Procrustes transfer: ${best.a}'s probe carried into ${best.b} scores AUROC ${f3(best.auroc_carried)} (${best.b}'s own ${f3(best.auroc_native_b)})` +
      (worst !== best ? `; the weakest transfer is ${worst.a} into ${worst.b}, AUROC ${f3(worst.auroc_carried)} (own ${f3(worst.auroc_native_b)}).` : '.') });
  }
  for (const d of r.drift) {
    const ref = r.models.find((m) => m.name === d.reference);
    for (const name of d.members.filter((x) => x !== d.reference)) {
      const rows = d.blocks.flatMap((b) => b.rows.filter((x) => x.model === name).map((x) => ({ ...x, block: b.block })));
      if (rows.length === 0) continue;
      const low = rows.reduce((a, b) => (b.cosine < a.cosine ? b : a));
      const atBest = rows.find((x) => x.block === ref?.best_layer) ?? rows[0];
      const m = r.models.find((x) => x.name === name);
      const h = d.headline.find((x) => x.model === name);
      out.push({ id: `drift-${name}`, text: `${name}${m?.file_type ? ` (${m.file_type})` : ''} against ${d.reference}${ref?.file_type ? ` (${ref.file_type})` : ''}: ` +
        `probe directions keep cosine >= ${f3(low.cosine)} (lowest at block ${low.block}); ${d.reference}'s probe scores AUROC ${f3(atBest.transfer_auroc)} on it at block ${atBest.block} ` +
        `(its own probe ${f3(atBest.auroc)}, delta ${atBest.d_auroc >= 0 ? '+' : ''}${f3(atBest.d_auroc)})` +
        (h ? `; steering headline ${f3(h.headline)} [${f3(h.lower)}, ${f3(h.upper)}], delta ${h.delta >= 0 ? '+' : ''}${f3(h.delta)}.` : '.') });
    }
  }
  return out;
}
