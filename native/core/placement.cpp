#include "placement.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "error.h"
#include "ggml-backend.h"
#include "runtime.h"

namespace eia {

namespace {

struct Recorder {
    int n_layer = 0;
    std::string device, description;
    // per block (n_layer = the output head): ops computed in host memory, weights in host memory
    std::map<int, std::vector<std::string>> host_ops, host_weights;
    std::map<int, bool> seen;
};

// "ffn_up-3", "Kcur-0 (view)" -> 3, 0; names without a block suffix -> -1
int block_of(const char * name) {
    std::string n = name;
    const size_t paren = n.find(" (");
    if (paren != std::string::npos) n.resize(paren);
    const size_t dash = n.rfind('-');
    if (dash == std::string::npos || dash + 1 >= n.size()) return -1;
    for (size_t i = dash + 1; i < n.size(); i++)
        if (!std::isdigit((unsigned char) n[i])) return -1;
    return std::atoi(n.c_str() + dash + 1);
}

bool is_view(const ggml_tensor * t) {
    switch (t->op) {
        case GGML_OP_NONE: case GGML_OP_VIEW: case GGML_OP_RESHAPE: case GGML_OP_PERMUTE: case GGML_OP_TRANSPOSE: return true;
        default: return false;
    }
}

bool on_host(const ggml_backend_buffer_t b) { return b && ggml_backend_buffer_is_host(b); }

// The scheduler calls this with ask=true for every node before computing it; returning false asks
// for nothing, so the graph runs as it would without a callback.
bool record(ggml_tensor * t, bool ask, void * ud) {
    if (!ask) return true;
    auto & r = *static_cast<Recorder *>(ud);
    int layer = block_of(t->name);
    if (layer < 0) {
        if (std::string(t->name).rfind("result_", 0) != 0) return false;  // the input side stays on the host by design
        layer = r.n_layer;
    }
    if (layer > r.n_layer || is_view(t) || !t->buffer) return false;
    r.seen[layer] = true;
    if (on_host(t->buffer)) {
        r.host_ops[layer].push_back(std::string(ggml_op_name(t->op)) + " (" + t->name + ")");
    } else if (r.device.empty()) {
        ggml_backend_dev_t dev = ggml_backend_buft_get_device(ggml_backend_buffer_get_type(t->buffer));
        if (dev) {
            r.device = ggml_backend_dev_name(dev);
            r.description = ggml_backend_dev_description(dev);
        }
    }
    for (int i = 0; i < GGML_MAX_SRC; i++) {
        const ggml_tensor * s = t->src[i];
        if (!s || !s->buffer || ggml_backend_buffer_get_usage(s->buffer) != GGML_BACKEND_BUFFER_USAGE_WEIGHTS || !on_host(s->buffer)) continue;
        auto & w = r.host_weights[layer];
        const std::string what = std::string(s->name) + " (" + ggml_type_name(s->type) + ")";
        if (std::find(w.begin(), w.end(), what) == w.end()) w.push_back(what);
    }
    return false;
}

std::string list(const std::vector<std::string> & v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 3; i++) s += (i ? ", " : "") + v[i];
    if (v.size() > 3) s += " and " + std::to_string(v.size() - 3) + " more";
    return s;
}

}  // namespace

Placement probe_placement(llama_model * model, int n_layer) {
    Recorder rec;
    rec.n_layer = n_layer;
    auto cp = llama_context_default_params();
    cp.n_ctx = 64;
    cp.n_batch = cp.n_ubatch = 8;
    cp.n_seq_max = 1;
    cp.no_perf = true;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // the engine's default (exact capture)
    cp.cb_eval = &record;
    cp.cb_eval_user_data = &rec;
    take_thread_log_errors();
    std::unique_ptr<llama_context, void (*)(llama_context *)> ctx(llama_init_from_model(model, cp), llama_free);
    if (!ctx) fail(Code::Runtime, "could not create the context that checks where the model's layers run: " + take_thread_log_errors());
    const llama_vocab * vocab = llama_model_get_vocab(model);
    llama_token tok = llama_vocab_bos(vocab);
    if (tok < 0) tok = 0;
    llama_batch b = llama_batch_get_one(&tok, 1);
    if (llama_decode(ctx.get(), b) != 0)
        fail(Code::Runtime, "the decode that checks where the model's layers run failed: " + take_thread_log_errors());
    llama_synchronize(ctx.get());

    Placement p;
    p.probed = true;
    p.device = rec.device;
    p.device_description = rec.description;
    for (int l = 0; l <= n_layer; l++) {
        const auto ops = rec.host_ops.find(l);
        const auto ws = rec.host_weights.find(l);
        const bool host_ops = ops != rec.host_ops.end(), host_w = ws != rec.host_weights.end();
        if (!rec.seen[l] && l < n_layer) {
            p.on_host.push_back({l, "no op of this block was seen in the graph"});
            continue;
        }
        if (!host_ops && !host_w) {
            if (l < n_layer) p.device_layers++;
            continue;
        }
        std::string why;
        if (host_ops) why = "ran on the CPU: " + list(ops->second);
        if (host_w) why += (why.empty() ? "" : "; ") + std::string("weights in host memory (the device cannot use them): ") + list(ws->second);
        p.on_host.push_back({l, why});
    }
    return p;
}

}  // namespace eia
