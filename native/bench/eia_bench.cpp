// eia-bench: the C++ bench harness over the core (no Node), so the same measurements run where
// Node is absent (e.g. a CUDA machine). Prints one JSON object per measurement on stdout.
//
//   eia-bench synth   --shape S [--arch A] [--type T] [--seed N] --out F.gguf
//   eia-bench capture --model F [--layers 8,12,...] [--texts 32] [--text-tokens 256] [--reps 3]
//   eia-bench decode  --model F [--seqs 55] [--prompt-tokens 128] [--gen 200] [--layer L] [--monitor] [--reps 3]
//                     [--sampling auto|host|backend]  (backend: llama.cpp's in-graph sampling, tokens only come back)
//                     [--only plain|steered|monitored]  (one generation of that kind, no warm-up; for profilers)
//   eia-bench paper   --model F [--layer L] [--samples 2] [--prompt-tokens 64] [--gen 32] [--probe-layers 5]
// Common: --threads N, --gpu-layers N (-1 = all), --ctx-batch N.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "capture.h"
#include "context.h"
#include "error.h"
#include "evaluate.h"
#include "generate.h"
#include "model.h"
#include "runtime.h"
#include "synth.h"
#include "../tools/unit_vector.h"

using namespace eia;

namespace {

struct Args {
    std::map<std::string, std::string> kv;
    std::string get(const std::string & k, const std::string & d = "") const { auto it = kv.find(k); return it == kv.end() ? d : it->second; }
    int geti(const std::string & k, int d) const { auto v = get(k); return v.empty() ? d : std::atoi(v.c_str()); }
    bool has(const std::string & k) const { return kv.count(k) > 0; }
};

Args parse(int argc, char ** argv, int from) {
    Args a;
    for (int i = from; i < argc; i++) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0) fail("unexpected argument '" + k + "'");
        k = k.substr(2);
        if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) a.kv[k] = argv[++i];
        else a.kv[k] = "1";
    }
    return a;
}

std::vector<int> int_list(const std::string & s) {
    std::vector<int> out;
    size_t p = 0;
    while (p < s.size()) {
        size_t q = s.find(',', p);
        out.push_back(std::atoi(s.substr(p, q - p).c_str()));
        if (q == std::string::npos) break;
        p = q + 1;
    }
    return out;
}

double now_ms() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Token ids of ordinary pieces (no control tokens), for synthetic prompts.
std::vector<llama_token> random_tokens(Model & m, int n, std::mt19937 & rng) {
    const int nv = m.info().n_vocab;
    std::uniform_int_distribution<int> d(0, nv - 1);
    std::vector<llama_token> out;
    if (m.info().add_bos && m.info().bos >= 0) out.push_back(m.info().bos);
    while ((int) out.size() < n) {
        llama_token t = d(rng);
        if (m.is_eog(t) || t == m.info().bos) continue;
        if (llama_vocab_get_attr(m.vocab(), t) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_UNKNOWN)) continue;
        out.push_back(t);
    }
    return out;
}

std::shared_ptr<Model> load(const Args & a) {
    ModelParams mp;
    mp.n_gpu_layers = a.geti("gpu-layers", 0);
    return Model::load(a.get("model"), mp);
}

void emit(const std::string & json) { std::printf("%s\n", json.c_str()); std::fflush(stdout); }

int cmd_synth(const Args & a) {
    SynthOptions o;
    o.arch = a.get("arch");
    o.shape = a.get("shape", "tiny");
    o.type = a.get("type", "f32");
    o.seed = (uint64_t) a.geti("seed", 1);
    o.planted = a.has("planted");
    o.out = a.get("out");
    const double t0 = now_ms();
    auto r = synth_model(o);
    char buf[512];
    std::snprintf(buf, sizeof buf, "{\"bench\":\"synth\",\"path\":\"%s\",\"arch\":\"%s\",\"shape\":\"%s\",\"type\":\"%s\",\"seconds\":%.2f}",
                  r.path.c_str(), r.arch.c_str(), r.shape.c_str(), r.type.c_str(), (now_ms() - t0) / 1000);
    emit(buf);
    return 0;
}

// Capture at several layers (mean pool) vs the same batches decoded without reading any layer.
int cmd_capture(const Args & a) {
    auto m = load(a);
    const int n_layer = m->n_layer();
    std::vector<int> layers = a.has("layers") ? int_list(a.get("layers")) : std::vector<int>{};
    if (layers.empty())
        for (int k = 1; k <= 5; k++) layers.push_back(std::min(n_layer - 1, k * n_layer / 6));
    const int n_texts = a.geti("texts", 32), len = a.geti("text-tokens", 256), reps = a.geti("reps", 3);
    ContextParams cp;
    cp.n_ctx = std::max(4096, 2 * len);
    cp.n_batch = a.geti("ctx-batch", 512);
    cp.n_ubatch = cp.n_batch;
    cp.n_seq_max = 32;
    cp.n_threads = a.geti("threads", 0);
    Context ctx(m, cp);
    std::mt19937 rng(7);
    std::vector<std::vector<llama_token>> texts;
    for (int i = 0; i < n_texts; i++) texts.push_back(random_tokens(*m, len, rng));
    CaptureOptions cap;
    cap.layers = layers;
    CaptureOptions pre = cap;
    pre.prefill_only = true;
    capture_tokens(ctx, {texts[0]}, cap);  // warm-up
    std::vector<double> t_cap, t_pre, ratio;
    int64_t total = 0;
    for (int r = 0; r < reps; r++) {  // alternate A/B, median of ratios
        auto rp = capture_tokens(ctx, texts, pre);
        auto rc = capture_tokens(ctx, texts, cap);
        total = rc.tokens_total;
        t_pre.push_back(rp.ms);
        t_cap.push_back(rc.ms);
        ratio.push_back(rp.ms / rc.ms);
    }
    char buf[768];
    std::string ls;
    for (size_t i = 0; i < layers.size(); i++) ls += (i ? "," : "") + std::to_string(layers[i]);
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"capture\",\"layers\":[%s],\"texts\":%d,\"tokens\":%lld,\"capture_tok_s\":%.1f,\"prefill_tok_s\":%.1f,"
                  "\"capture_vs_prefill\":%.4f,\"threads\":%d,\"gpu_layers\":%d}",
                  ls.c_str(), n_texts, (long long) total, total / (median(t_cap) / 1000), total / (median(t_pre) / 1000), median(ratio),
                  ctx.n_threads(), a.geti("gpu-layers", 0));
    emit(buf);
    return 0;
}

GenerationStats run_decode(Context & ctx, const std::vector<SequenceSpec> & specs, const std::vector<MonitorSpec> & mons) {
    Generation g(ctx, specs, mons);
    while (!g.done()) {
        StepOutput ev;
        g.step(16, ev);
    }
    return g.stats();
}

// Batched decode: per-sequence steering (11 alphas x 5 samples by default) vs unsteered; optional monitor.
int cmd_decode(const Args & a) {
    auto m = load(a);
    const int n_seq = a.geti("seqs", 55), plen = a.geti("prompt-tokens", 128), gen = a.geti("gen", 200), reps = a.geti("reps", 3);
    const int layer = a.geti("layer", m->n_layer() / 2);
    ContextParams cp;
    const int per_seq = ((plen + gen + 255) / 256) * 256;
    cp.n_ctx = per_seq * n_seq;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_seq_max = n_seq;
    cp.n_threads = a.geti("threads", 0);
    cp.kv_unified = false;
    cp.flash_attn = -1;
    const std::string sampling = a.get("sampling", "auto");
    if (sampling != "auto" && sampling != "host" && sampling != "backend") fail("--sampling must be auto, host or backend");
    cp.sampling = sampling == "auto" ? 0 : sampling == "host" ? 1 : 2;
    Context ctx(m, cp);
    std::mt19937 rng(3);
    auto prompt = random_tokens(*m, plen, rng);
    auto dir = unit_vector(m->n_embd(), 11);
    const float alphas[11] = {-20, -10, -5, -3, -1, 0, 1, 3, 5, 10, 20};
    std::vector<SequenceSpec> steered, plain;
    for (int i = 0; i < n_seq; i++) {
        SequenceSpec s;
        s.prompt = prompt;
        s.max_tokens = gen;
        s.ignore_eog = true;  // fixed work per sequence: every sequence decodes `gen` tokens
        s.sampling.temperature = 0.7f;
        s.sampling.top_k = 50;
        s.sampling.seed = (uint32_t) (i % 5);
        plain.push_back(s);
        s.steer.push_back({layer, dir, alphas[(i / 5) % 11]});
        steered.push_back(s);
    }
    std::vector<MonitorSpec> mon = {{layer, dir}};
    const std::string only = a.get("only");
    if (!only.empty()) {
        // one generation of one kind, no warm-up: for profilers that count a whole process
        // (callgrind's instruction counts of two --gen values differ by the decode steps alone)
        if (only != "plain" && only != "steered" && only != "monitored") fail("--only must be plain, steered or monitored");
        const GenerationStats g = run_decode(ctx, only == "plain" ? plain : steered, only == "monitored" ? mon : std::vector<MonitorSpec>{});
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "{\"bench\":\"decode\",\"only\":\"%s\",\"seqs\":%d,\"prompt_tokens\":%d,\"gen\":%d,\"layer\":%d,\"decode_tok_s\":%.1f,"
                      "\"sampling_share\":%.4f,\"step_ms\":%.2f,\"prompt_ms\":%.1f,\"threads\":%d}",
                      only.c_str(), n_seq, plen, gen, layer, g.decode_tokens / (g.decode_ms / 1000), g.sample_ms / g.decode_ms,
                      g.decode_ms / std::max(1, g.decode_calls), g.prompt_ms, ctx.n_threads());
        emit(buf);
        return 0;
    }
    run_decode(ctx, std::vector<SequenceSpec>(plain.begin(), plain.begin() + std::min(n_seq, 4)), {});  // warm-up
    std::vector<double> tp, ts, tm, r_steer, r_mon, sample_share, step_ms;
    GenerationStats last{};
    for (int r = 0; r < reps; r++) {
        // alternate the order between rounds so that drift of the machine's speed hits all three alike
        GenerationStats p, s, mo;
        if (r % 2 == 0) {
            p = run_decode(ctx, plain, {});
            s = run_decode(ctx, steered, {});
            mo = run_decode(ctx, steered, mon);
        } else {
            mo = run_decode(ctx, steered, mon);
            s = run_decode(ctx, steered, {});
            p = run_decode(ctx, plain, {});
        }
        last = s;
        const double vp = p.decode_tokens / (p.decode_ms / 1000), vs = s.decode_tokens / (s.decode_ms / 1000), vm = mo.decode_tokens / (mo.decode_ms / 1000);
        std::fprintf(stderr, "decode round %d/%d: plain %.1f, steered %.1f, steered+monitor %.1f tok/s\n", r + 1, reps, vp, vs, vm);
        tp.push_back(vp);
        ts.push_back(vs);
        tm.push_back(vm);
        r_steer.push_back(vs / vp);
        r_mon.push_back(vm / vs);
        sample_share.push_back(s.sample_ms / s.decode_ms);
        step_ms.push_back(s.decode_ms / std::max(1, s.decode_calls));
    }
    char buf[1100];
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"decode\",\"seqs\":%d,\"prompt_tokens\":%d,\"gen\":%d,\"layer\":%d,\"plain_tok_s\":%.1f,\"steered_tok_s\":%.1f,"
                  "\"steered_monitored_tok_s\":%.1f,\"steered_vs_plain\":%.4f,\"monitor_overhead\":%.4f,\"sampling_share\":%.4f,\"step_ms\":%.2f,\"prompt_ms\":%.1f,\"unique_prompts\":%d,"
                  "\"sampling\":\"%s\",\"backend_sampling\":%s,\"threads\":%d,\"gpu_layers\":%d}",
                  n_seq, plen, gen, layer, median(tp), median(ts), median(tm), median(r_steer), 1.0 - median(r_mon), median(sample_share), median(step_ms), last.prompt_ms,
                  last.unique_prompts, sampling.c_str(), ctx.backend_sampling() ? "true" : "false", ctx.n_threads(), a.geti("gpu-layers", 0));
    emit(buf);
    return 0;
}

// The paper's computation pattern on the same engine: no KV cache (every new token recomputes the
// whole sequence), one sample at a time, one capture pass per probed layer; vs eia-native's way
// (one batched, cached, steered generation; one capture pass for all layers).
int cmd_paper(const Args & a) {
    auto m = load(a);
    const int samples = a.geti("samples", 2), plen = a.geti("prompt-tokens", 64), gen = a.geti("gen", 32), n_probe = a.geti("probe-layers", 5);
    const int layer = a.geti("layer", m->n_layer() / 2);
    const std::vector<float> alphas = {-5, 0, 5};
    ContextParams cp;
    cp.n_ctx = 4096;
    cp.n_batch = 512;
    cp.n_ubatch = 512;
    cp.n_seq_max = 1;
    cp.n_threads = a.geti("threads", 0);
    Context one(m, cp);
    std::mt19937 rng(5);
    auto prompt = random_tokens(*m, plen, rng);
    auto dir = unit_vector(m->n_embd(), 13);
    std::vector<int> layers;
    for (int k = 1; k <= n_probe; k++) layers.push_back(std::min(m->n_layer() - 1, k * m->n_layer() / (n_probe + 1)));
    std::vector<std::vector<llama_token>> texts;
    for (int i = 0; i < 8; i++) texts.push_back(random_tokens(*m, 128, rng));

    // paper: steering without cache, greedy-free sampling emulated by argmax (cost is the forward passes)
    const double t0 = now_ms();
    int64_t paper_tokens = 0;
    for (float alpha : alphas)
        for (int s = 0; s < samples; s++) {
            std::vector<llama_token> seq = prompt;
            for (int t = 0; t < gen; t++) {
                auto lg = eval_logits(one, seq, {{layer, dir, alpha}});
                const float * last = lg.data() + (seq.size() - 1) * m->info().n_vocab;
                seq.push_back((llama_token) (std::max_element(last, last + m->info().n_vocab) - last));
                paper_tokens++;
            }
        }
    for (int L : layers) {  // one pass per layer
        CaptureOptions c;
        c.layers = {L};
        for (auto & t : texts) capture_tokens(one, {t}, c);
    }
    const double t_paper = now_ms() - t0;

    // eia-native: one batched generation with KV cache, one capture pass for all layers
    ContextParams gp = cp;
    const int n_seq = (int) alphas.size() * samples;
    gp.n_seq_max = n_seq;
    gp.n_ctx = ((plen + gen + 255) / 256) * 256 * n_seq;
    gp.kv_unified = false;
    gp.flash_attn = -1;
    Context many(m, gp);
    const double t1 = now_ms();
    std::vector<SequenceSpec> specs;
    for (float alpha : alphas)
        for (int s = 0; s < samples; s++) {
            SequenceSpec sp;
            sp.prompt = prompt;
            sp.max_tokens = gen;
            sp.ignore_eog = true;
            sp.sampling.temperature = 0;
            sp.steer.push_back({layer, dir, alpha});
            specs.push_back(sp);
        }
    run_decode(many, specs, {});
    CaptureOptions c;
    c.layers = layers;
    capture_tokens(one, texts, c);
    const double t_eia = now_ms() - t1;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"paper\",\"alphas\":%zu,\"samples\":%d,\"prompt_tokens\":%d,\"gen\":%d,\"probe_layers\":%d,\"paper_ms\":%.1f,"
                  "\"eia_ms\":%.1f,\"speedup\":%.2f,\"generated_tokens\":%lld}",
                  alphas.size(), samples, plen, gen, n_probe, t_paper, t_eia, t_paper / t_eia, (long long) paper_tokens);
    emit(buf);
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: eia-bench synth|capture|decode|paper [options] (see the comment at the top of eia_bench.cpp)\n");
        return 2;
    }
    try {
        const std::string cmd = argv[1];
        Args a = parse(argc, argv, 2);
        set_log_level(a.geti("log-level", 1));
        if (cmd == "synth") return cmd_synth(a);
        if (a.get("model").empty()) fail("--model is required");
        if (cmd == "capture") return cmd_capture(a);
        if (cmd == "decode") return cmd_decode(a);
        if (cmd == "paper") return cmd_paper(a);
        fail("unknown command '" + cmd + "'");
    } catch (const std::exception & e) {
        std::fprintf(stderr, "eia-bench: %s\n", e.what());
        return 1;
    }
}
