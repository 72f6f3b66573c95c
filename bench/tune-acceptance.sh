#!/usr/bin/env bash
# Issue 26's acceptance figures for `eia-native tune` on the planted model (the answer is known):
#  - the full sweep: every block 0..5 x alphas 0..10 on the train prompts, scored with --metrics; its
#    choice (the highest train keyword share with a perplexity ratio <= 1.5) validated on the
#    held-out prompts the same way tune validates its own;
#  - tune with --budget-tokens = 40% of the tokens the full sweep generated;
#  - the full grid also on the held-out prompts (the oracle: the best held-out keyword share any
#    block and alpha of the grid reaches at a perplexity ratio no higher than that of tune's choice);
#  - the comparison: tune's held-out keyword share / the full sweep's (its own validated choice, and
#    the oracle at equal fluency), the perplexity ratios beside them, the tokens of each, and the
#    detection AUROC of the block tune chose vs the best block.
# Usage: bench/tune-acceptance.sh [WORKDIR]   (THREADS=1 by default; SEED = the planted model's seed)
# Writes WORKDIR/acceptance.json and prints it. Needs the built package (npm run build:ts).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
E="node $HERE/bin/eia-native.js"
W="${1:-$(mktemp -d)}"
T="${THREADS:-1}"
mkdir -p "$W"
cd "$W"
TRAIN=food_delivery,the_listener,the_protector
HELD=the_maze,the_duel
COMMON=(--samples 4 --max-tokens 48 --seed 0 --threads "$T")
[ -f planted.gguf ] || $E synth --planted --seed "${SEED:-1}" --out planted.gguf >/dev/null
[ -f probes/validation.json ] || $E probe --model planted.gguf --train planted.train.jsonl --test planted.test.jsonl --layers 0,1,2,3,4,5 \
  --out probes --random-baseline 0 --permutations 0 --bootstrap 200 --threads "$T" >/dev/null
$E steer -m planted.gguf --probes probes --layers 0,1,2,3,4,5 --alphas 0,1,2,3,4,5,6,7,8,9,10 --scenarios $TRAIN "${COMMON[@]}" \
  --token-ids --out full --json > full.steer.json
$E score full --metrics --threads "$T" --json > full.score.json
read -r L A < <(node -e '
  const s = require("./full.score.json").offline_metrics.points.filter((p) => p.alpha > 0 && p.ppl_ratio !== null && p.ppl_ratio <= 1.5);
  const b = s.reduce((x, y) => (y.keyword_share > x.keyword_share ? y : x));
  console.log(b.layer, b.alpha);')
$E steer -m planted.gguf --probes probes --layers "$L" --alphas "0,$A" --scenarios $HELD "${COMMON[@]}" --token-ids --out full-val --json > full-val.steer.json
$E score full-val --metrics --threads "$T" --json > full-val.score.json
# generated tokens of a RUN, from its samples (the shared alpha = 0 generations once), so a resumed run counts the same
gen_tokens() { node -e '
  const recs = require("fs").readFileSync(process.argv[1] + "/samples.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const first = Math.min(...recs.map((r) => r.layer));
  console.log(recs.filter((r) => r.alpha !== 0 || r.layer === first).reduce((s, r) => s + r.tokens, 0));' "$1"; }
FULL_TOKENS=$(gen_tokens full)
BUDGET=$(( FULL_TOKENS * 40 / 100 ))
rm -rf probes-tune && cp -r probes probes-tune
$E tune -m planted.gguf --probes probes-tune --out tune --scenarios $TRAIN --held-out $HELD --budget-tokens "$BUDGET" "${COMMON[@]}" --json > tune.out.json
$E steer -m planted.gguf --probes probes --layers 0,1,2,3,4,5 --alphas 0,1,2,3,4,5,6,7,8,9,10 --scenarios $HELD "${COMMON[@]}" \
  --token-ids --out full-held --json > full-held.steer.json
$E score full-held --metrics --threads "$T" --json > full-held.score.json
FULL_VAL_TOKENS=$(gen_tokens full-val)
node -e '
  const full = require("./full.score.json").offline_metrics, val = require("./full-val.score.json").offline_metrics;
  const held = require("./full-held.score.json").offline_metrics;
  const t = require("./tune/tune.json");
  const L = Number(process.argv[1]), A = Number(process.argv[2]), fullTokens = Number(process.argv[3]), fullValTokens = Number(process.argv[4]);
  const at = (pts, l, a) => pts.find((p) => p.layer === l && p.alpha === a);
  const auroc = t.detection_auroc, best = Math.max(...Object.values(auroc));
  const tr = t.validation.ppl_ratio.estimate;
  const oracle = held.points.filter((p) => p.alpha > 0 && p.ppl_ratio !== null && p.ppl_ratio <= tr).reduce((x, y) => (y.keyword_share > x.keyword_share ? y : x));
  const out = {
    full_sweep: { blocks: [0,1,2,3,4,5], alphas: [0,1,2,3,4,5,6,7,8,9,10], tokens: fullTokens, validation_tokens: fullValTokens,
      choice: { layer: L, alpha: A, train: at(full.points, L, A), held_out: at(val.points, L, A), held_out_baseline: at(val.points, L, 0) } },
    tune: { layer: t.layer, alpha: t.alpha, tokens: t.tokens, budget: t.budget_tokens, points: t.search.points.length, stopped: t.search.stopped,
      held_out: t.validation && { keyword_share: t.validation.keyword_share, ppl_ratio: t.validation.ppl_ratio, baseline_keyword_share: t.validation.baseline_keyword_share } },
    comparison: {
      held_out_keyword_share_ratio: t.validation.keyword_share.estimate / at(val.points, L, A).keyword_share,
      within_10_percent: t.validation.keyword_share.estimate >= 0.9 * at(val.points, L, A).keyword_share,
      held_out_oracle_at_equal_fluency: { layer: oracle.layer, alpha: oracle.alpha, keyword_share: oracle.keyword_share, ppl_ratio: oracle.ppl_ratio },
      held_out_keyword_share_ratio_to_oracle: t.validation.keyword_share.estimate / oracle.keyword_share,
      within_10_percent_of_oracle: t.validation.keyword_share.estimate >= 0.9 * oracle.keyword_share,
      tokens_ratio: t.tokens.total / fullTokens,
      tokens_within_40_percent: t.tokens.total <= 0.4 * fullTokens,
      chosen_block_auroc: auroc[String(t.layer)], best_auroc: best,
      best_detecting_blocks: Object.entries(auroc).filter(([, a]) => a === best).map(([l]) => Number(l)),
    },
  };
  require("fs").writeFileSync("acceptance.json", JSON.stringify(out, null, 2) + "\n");
  console.log(JSON.stringify(out, null, 2));' "$L" "$A" "$FULL_TOKENS" "$FULL_VAL_TOKENS"
