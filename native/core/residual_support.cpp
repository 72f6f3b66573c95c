#include "residual_support.h"

#include <algorithm>

#include "batch.h"
#include "context.h"
#include "error.h"

namespace eia {

static std::string list_blocks(const std::vector<int> & v) {
    std::string s;
    const size_t shown = std::min<size_t>(v.size(), 8);
    for (size_t i = 0; i < shown; i++) s += (i ? ", " : "") + std::to_string(v[i]);
    if (v.size() > shown) s += ", ... (" + std::to_string(v.size()) + " blocks)";
    return s;
}

ResidualSupport check_residual_support(Context & ctx) {
    ResidualSupport r;
    Model & model = ctx.model();
    const int n_layer = model.n_layer();
    ResidualHook & hook = ctx.hook();
    const BlockOutputMap & map = hook.block_map();
    const std::string who = "this " + map.arch + " model";
    r.tensor = map.tensor;
    r.hits.assign(n_layer, 0);
    r.pruned.assign(n_layer, 0);
    if (!map.refusal.empty()) {
        r.reason = map.refusal;
        for (int l = 0; l < n_layer; l++) r.missing.push_back(l);
        return r;
    }

    // two tokens, only the second an output: a pruned block shows 1 row, a full one 2
    const int n_tokens = 2, n_outputs = 1;
    const int n_vocab = model.info().n_vocab;
    const llama_token first = model.info().bos >= 0 && model.info().bos < n_vocab ? model.info().bos : 0;
    const llama_token toks[n_tokens] = {first, (llama_token) (1 % n_vocab)};
    const int per_call = std::min(ctx.n_batch(), n_tokens);
    const int ubatches = per_call >= 2 && ctx.n_ubatch() >= 2 ? 1 : 2;

    hook.clear_plans();
    hook.clear_capture();
    hook.clear_monitors();
    ctx.use_hook(true);
    ctx.clear_memory();
    hook.begin_survey();
    std::string failed;
    try {
        TokenBatch batch(per_call);
        for (int off = 0; off < n_tokens; off += per_call) {
            batch.clear();
            for (int i = off; i < std::min(n_tokens, off + per_call); i++) batch.add(toks[i], i, 0, 0, false, i == n_tokens - 1);
            if (!ctx.decode(batch.raw())) {
                failed = "the check's decode was aborted";
                break;
            }
        }
    } catch (const Error & e) {
        failed = e.what();
    }
    ResidualHook::Survey s = hook.end_survey();
    ctx.clear_memory();
    if (!failed.empty()) {
        r.reason = "a two-token test decode of " + who + " failed (" + failed + ")";
        for (int l = 0; l < n_layer; l++) r.missing.push_back(l);
        return r;
    }

    std::vector<int> absent, twice;
    std::string odd, rows;
    for (int l = 0; l < n_layer; l++) {
        r.hits[l] = s.hits[l];
        bool ok = true;
        if (s.hits[l] == 0) {
            absent.push_back(l);
            ok = false;
        } else if (!s.odd[l].empty()) {
            if (odd.empty()) odd = "block " + std::to_string(l) + "'s output is " + s.odd[l] + ", not one f32 row of n_embd " + std::to_string(model.n_embd()) + " per token";
            ok = false;
        } else if (s.hits[l] > ubatches) {
            twice.push_back(l);
            ok = false;
        } else if (s.rows[l] == n_outputs) {
            r.pruned[l] = 1;
        } else if (s.rows[l] != n_tokens || s.hits[l] != ubatches) {
            if (rows.empty())
                rows = "block " + std::to_string(l) + "'s output has " + std::to_string(s.rows[l]) + " rows for " + std::to_string(n_tokens) +
                       " tokens with " + std::to_string(n_outputs) + " output (expected " + std::to_string(n_tokens) + ", or " +
                       std::to_string(n_outputs) + " where the graph drops the other rows)";
            ok = false;
        }
        (ok ? r.found : r.missing).push_back(l);
    }
    if (r.missing.empty()) {
        r.supported = true;
        return r;
    }
    std::vector<std::string> why;
    if (!absent.empty())
        why.push_back("its graph has no block-output node " + map.tensor + " for block" + (absent.size() > 1 ? "s " : " ") + list_blocks(absent));
    if (!twice.empty()) why.push_back("the node " + map.tensor + " comes more than once per pass for block" + (twice.size() > 1 ? "s " : " ") + list_blocks(twice));
    if (!odd.empty()) why.push_back(odd);
    if (!rows.empty()) why.push_back(rows);
    r.reason = who + " does not expose the residual stream at every block: ";
    for (size_t i = 0; i < why.size(); i++) r.reason += (i ? "; " : "") + why[i];
    r.reason += " (found " + std::to_string(r.found.size()) + " of " + std::to_string(n_layer) + " blocks)";
    return r;
}

void require_residual(const Context & ctx, const std::string & what) {
    const ResidualSupport & s = ctx.residual_support();
    if (s.supported) return;
    fail(Code::UnsupportedModel, what + " refused: it reads the residual stream at every block, which " + ctx.model().info().arch +
                                     " does not expose here: " + s.reason);
}

}  // namespace eia
