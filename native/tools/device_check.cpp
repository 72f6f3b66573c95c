// eia-device-check: the engine's oracles on a GPU device, against the same model on the CPU, with
// no Node in the way, so the one program answers on a CUDA machine without Node (bench/gpu/run.sh)
// and in `npm test` on Vulkan (test/device/engine-oracles.test.ts; llvmpipe where there is no GPU).
// It synthesises a tiny llama model (or takes --model), loads it twice in one process, on the CPU
// (no layer offloaded) and on the device (every layer), and checks:
//   placement   every block runs on the device (no silent CPU fallback)
//   capture     device rows = CPU rows (< 1e-4 relative); a text in a mixed batch = alone (< 1e-4)
//   steering    = llama.cpp's control-vector path on the device (logits < 1e-4, greedy tokens equal)
//   alpha 0     bit-identical to no steering on the device (logits and seeded tokens)
//   sampling    seeded tokens alone = in a batch, host sampling and backend (in-graph) sampling
//   greedy      device tokens = CPU tokens; monitor scores = CPU scores (< 1e-4 relative)
//   gates       the same gate decisions, tokens and scores as on the CPU
//   open        sequences joining and cancelled in a running generation give their tokens alone
//
//   eia-device-check [--model F.gguf] [--filter S] [--json]
// One line per check (ok | FAIL | skip, with its figure), then `N passed, N failed, N skipped`.
// --json: one JSON object per check instead. Exit 0 all passed, 1 a check failed, 3 no GPU device.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
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
#include "unit_vector.h"

using namespace eia;

namespace {

int g_passed = 0, g_failed = 0, g_skipped = 0;
bool g_json = false;
std::string g_filter;

struct Failure { std::string msg; };
struct Skip { std::string why; };

#define EIA_STR2(x) #x
#define EIA_STR(x) EIA_STR2(x)
#define CHECK(cond, what)                                                                        \
    do {                                                                                         \
        if (!(cond)) throw Failure{std::string("line " EIA_STR(__LINE__) ": ") + (what)};       \
    } while (0)

std::string json_str(const std::string & s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if ((unsigned char) c < 0x20) { o += ' '; continue; }
        o += c;
    }
    return o + "\"";
}

void report(const std::string & name, const char * status, const std::string & detail, double seconds) {
    if (g_json)
        std::printf("{\"check\":%s,\"status\":\"%s\",\"detail\":%s,\"seconds\":%.1f}\n", json_str(name).c_str(), status, json_str(detail).c_str(), seconds);
    else std::printf("%-4s %s%s%s (%.1f s)\n", status, name.c_str(), detail.empty() ? "" : ": ", detail.c_str(), seconds);
    std::fflush(stdout);
}

// fn returns the check's figure (e.g. "max rel err 3e-7").
void run(const std::string & name, const std::function<std::string()> & fn) {
    if (!g_filter.empty() && name.find(g_filter) == std::string::npos) return;
    const auto t0 = std::chrono::steady_clock::now();
    const auto secs = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    try {
        const std::string figure = fn();
        g_passed++;
        report(name, "ok", figure, secs());
    } catch (const Skip & s) {
        g_skipped++;
        report(name, "skip", s.why, secs());
    } catch (const Failure & f) {
        g_failed++;
        report(name, "FAIL", f.msg, secs());
    } catch (const std::exception & e) {
        g_failed++;
        report(name, "FAIL", std::string("unexpected exception: ") + e.what(), secs());
    }
}

double rel_err(const float * a, const float * b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        den += (double) b[i] * b[i];
    }
    return std::sqrt(num / std::max(den, 1e-30));
}
double rel_err(const std::vector<float> & a, const std::vector<float> & b) {
    if (a.size() != b.size()) return INFINITY;
    return rel_err(a.data(), b.data(), a.size());
}
// worst relative error over rows of `width`
double rel_err_rows(const std::vector<float> & a, const std::vector<float> & b, size_t width) {
    if (a.size() != b.size() || width == 0) return INFINITY;
    double worst = 0;
    for (size_t r = 0; r < a.size() / width; r++) worst = std::max(worst, rel_err(a.data() + r * width, b.data() + r * width, width));
    return worst;
}

std::string sci(double x) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1e", x);
    return b;
}

ContextParams ctx_params(int n_ctx, int n_seq, bool unified, int sampling = 0) {
    ContextParams p;
    p.n_ctx = n_ctx;
    p.n_batch = 64;
    p.n_ubatch = 64;
    p.n_seq_max = n_seq;
    p.n_threads = 0;
    p.kv_unified = unified;
    p.sampling = sampling;
    p.kv_f32 = true;  // f32 attention on both sides (see main)
    return p;
}

// The reference: the CPU model's contexts keep every op on the CPU (llama.cpp would otherwise run
// ops over >= 32 tokens on the GPU even for a model with no layer offloaded).
ContextParams cpu_params(int n_ctx, int n_seq, bool unified) {
    ContextParams p = ctx_params(n_ctx, n_seq, unified);
    p.op_offload = false;
    return p;
}

SequenceSpec seq(const std::vector<llama_token> & prompt, int max_tokens, float temp = 0.0f, uint32_t seed = 0) {
    SequenceSpec s;
    s.prompt = prompt;
    s.max_tokens = max_tokens;
    s.sampling.temperature = temp;
    s.sampling.top_k = temp > 0 ? 40 : 0;
    s.sampling.seed = seed;
    s.ignore_eog = true;
    return s;
}

std::vector<SequenceResult> generate_all(Context & ctx, const std::vector<SequenceSpec> & specs, const std::vector<MonitorSpec> & mons = {}) {
    Generation g(ctx, specs, mons);
    StepOutput ev;
    for (int guard = 0; !g.done(); guard++) {
        if (guard > 100000) throw Failure{"the generation does not finish"};
        g.step(8, ev);
    }
    return g.results();
}

}  // namespace

int main(int argc, char ** argv) {
    std::string model_path;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--model" && i + 1 < argc) model_path = argv[++i];
        else if (a == "--filter" && i + 1 < argc) g_filter = argv[++i];
        else if (a == "--json") g_json = true;
        else {
            std::fprintf(stderr, "usage: eia-device-check [--model F.gguf] [--filter S] [--json]\n");
            return 2;
        }
    }
    set_log_level(0);
    // The oracles compare the device with the CPU at f32 on both sides, so that what differs is the
    // order of float operations, not precision choices: an f32 KV cache of 256 cells per stream
    // (llama.cpp's attention window: a larger cache makes the transposed V view non-contiguous, which
    // ggml-vulkan copies to f16) and, on Vulkan, no f16 shaders. With llama.cpp's defaults the device
    // differs from the CPU by up to ~1e-3 from f16 rounding alone (docs/device-path.md). Set before
    // ggml-vulkan reads it; an explicit setting wins.
    setenv("GGML_VK_DISABLE_F16", "1", 0);
    try {
        ensure_backend();
    } catch (const std::exception & e) {
        std::fprintf(stderr, "eia-device-check: %s\n", e.what());
        return 3;
    }
    const RuntimeInfo rt = runtime_info();
    std::string device;
    for (auto & d : rt.devices)
        if (d.type == "gpu" || d.type == "igpu") device = d.name + " (" + d.description + ")";
    if (!rt.has_gpu) {
        std::fprintf(stderr, "eia-device-check: no GPU device (EIA_GPU=%s); `eia-native info` says why\n", rt.gpu_policy.c_str());
        return 3;
    }
    std::string tmpdir;
    if (model_path.empty()) {
        char tmpl[] = "/tmp/eia-device-check-XXXXXX";
        if (!mkdtemp(tmpl)) { std::perror("mkdtemp"); return 2; }
        tmpdir = tmpl;
        SynthOptions o;
        o.shape = "tiny"; o.arch = "llama"; o.seed = 17; o.out = tmpdir + "/tiny.gguf";
        model_path = synth_model(o).path;
    }
    if (g_json) std::printf("{\"device\":%s,\"model\":%s}\n", json_str(device).c_str(), json_str(model_path).c_str());
    else std::printf("device %s, model %s\n", device.c_str(), model_path.c_str());

    ModelParams on_cpu, on_dev;
    on_dev.n_gpu_layers = -1;
    std::shared_ptr<Model> cpu, dev;
    try {
        cpu = Model::load(model_path, on_cpu);
        dev = Model::load(model_path, on_dev);
    } catch (const std::exception & e) {
        std::fprintf(stderr, "eia-device-check: %s\n", e.what());
        return 1;
    }
    const int n_layer = dev->n_layer(), n_embd = dev->n_embd();
    const auto prompt = dev->tokenize("The user is upset and I must decide what to do", true, false);
    const std::vector<std::string> texts = {
        "I care about the user.", "Hello",
        "The task is to win the game efficiently with an optimal strategy before anything else happens today.",
        "When someone is in distress I stop and listen, because their feelings matter more than my score."};
    const auto d = unit_vector(n_embd, 3), d2 = unit_vector(n_embd, 8);

    run("placement: every block runs on the device", [&]() -> std::string {
        const auto & p = dev->info().placement;
        if (!p.probed) throw Skip{"not measured on this device (its buffers are host memory)"};
        std::string why;
        for (auto & h : p.on_host) why += (why.empty() ? "" : "; ") + std::string("block ") + std::to_string(h.layer) + ": " + h.reason;
        CHECK(p.on_host.empty() && p.device_layers == n_layer, why);
        return std::to_string(p.device_layers) + "/" + std::to_string(n_layer) + " blocks on " + p.device;
    });

    run("capture: device = CPU (rel < 1e-4)", [&]() -> std::string {
        Context cc(cpu, cpu_params(256, 4, true)), dc(dev, ctx_params(256, 4, true));
        double worst = 0;
        for (Pool pool : {Pool::Mean, Pool::Tokens}) {
            CaptureOptions o;
            o.layers = {0, 2, n_layer - 1};
            o.pool = pool;
            auto a = capture_texts(cc, texts, o), b = capture_texts(dc, texts, o);
            for (size_t l = 0; l < o.layers.size(); l++) worst = std::max(worst, rel_err_rows(b.data[l], a.data[l], n_embd));
        }
        CHECK(worst < 1e-4, "max rel err " + sci(worst));
        return "max rel err " + sci(worst) + " (mean and per-token rows, blocks 0, 2, " + std::to_string(n_layer - 1) + ")";
    });

    run("capture: a text in a mixed batch = alone, on the device (rel < 1e-4)", [&]() -> std::string {
        Context dc(dev, ctx_params(256, 4, true));
        CaptureOptions o;
        o.layers = {0, 2, n_layer - 1};
        auto all = capture_texts(dc, texts, o);
        double worst = 0;
        for (size_t t = 0; t < texts.size(); t++) {
            auto one = capture_texts(dc, {texts[t]}, o);
            for (size_t l = 0; l < o.layers.size(); l++) {
                std::vector<float> row(all.data[l].begin() + t * n_embd, all.data[l].begin() + (t + 1) * n_embd);
                worst = std::max(worst, rel_err(row, one.data[l]));
            }
        }
        CHECK(worst < 1e-4, "max rel err " + sci(worst));
        return "max rel err " + sci(worst);
    });

    run("steering = llama.cpp control vector on the device (logits < 1e-4, greedy tokens)", [&]() -> std::string {
        Context dc(dev, ctx_params(512, 1, true));
        double worst = 0;
        for (auto [a, b, alpha] : {std::tuple<int, int, float>{2, 2, 4.0f}, {1, 4, -1.5f}, {3, n_layer - 1, 2.0f}}) {
            SteerTerm t{a, d, alpha, a == b ? -1 : b};
            auto ours = eval_logits(dc, prompt, {t});
            std::vector<float> cv((size_t) (n_layer - 1) * n_embd, 0.0f);
            for (int l = a; l <= b; l++)
                for (int j = 0; j < n_embd; j++) cv[(size_t) (l - 1) * n_embd + j] = alpha * d[j];
            dc.set_control_vector(cv, a, b);
            auto theirs = eval_logits(dc, prompt, {});
            auto g_theirs = generate_all(dc, {seq(prompt, 16)});
            dc.clear_control_vector();
            auto s = seq(prompt, 16);
            s.steer.push_back(t);
            auto g_ours = generate_all(dc, {s});
            auto plain = eval_logits(dc, prompt, {});
            const double e = rel_err(ours, theirs);
            worst = std::max(worst, e);
            const std::string blocks = "blocks " + std::to_string(a) + "-" + std::to_string(b);
            CHECK(e < 1e-4, blocks + ": rel err " + sci(e));
            CHECK(rel_err(plain, theirs) > 1e-3, blocks + ": the control vector changed nothing");
            CHECK(g_ours[0].tokens == g_theirs[0].tokens, blocks + ": greedy tokens differ");
        }
        return "max rel err " + sci(worst) + ", greedy tokens equal (single blocks and ranges)";
    });

    run("alpha 0 = no steering, bit for bit, on the device (logits, seeded tokens)", [&]() -> std::string {
        Context dc(dev, ctx_params(512, 2, true));
        auto plain = eval_logits(dc, prompt, {});
        auto zero = eval_logits(dc, prompt, {SteerTerm{2, d, 0.0f}});
        CHECK(plain == zero, "logits differ: rel err " + sci(rel_err(zero, plain)));
        auto s = seq(prompt, 16, 0.8f, 5);
        auto a = generate_all(dc, {s});
        s.steer.push_back(SteerTerm{2, d, 0.0f});
        auto b = generate_all(dc, {s});
        CHECK(a[0].tokens == b[0].tokens, "seeded tokens differ");
        return "logits and 16 seeded tokens identical";
    });

    for (int mode : {1, 2}) {
        const std::string name = std::string("sampling: seeded tokens alone = in a batch, ") + (mode == 1 ? "host" : "backend (in-graph)") + " sampling on the device";
        run(name, [&, mode]() -> std::string {
            Context dc(dev, ctx_params(1024, 4, false, mode));
            if (mode == 2 && !dc.backend_sampling()) throw Skip{"backend sampling is off here: " + dc.sampling_note()};
            std::vector<SequenceSpec> batch = {seq(prompt, 20, 0.8f, 1), seq(prompt, 20, 0.9f, 2), seq(dev->tokenize("Hello there", true, false), 20, 0.7f, 3)};
            batch[1].steer.push_back(SteerTerm{2, d, 3.0f});
            auto together = generate_all(dc, batch);
            for (size_t i = 0; i < batch.size(); i++) {
                Context solo(dev, ctx_params(256, 1, false, mode));
                auto alone = generate_all(solo, {batch[i]});
                CHECK(alone[0].tokens == together[i].tokens, "sequence " + std::to_string(i) + " differs alone and in the batch");
            }
            return "3 sequences x 20 tokens (seeds 1-3, one steered) identical alone and batched";
        });
    }

    std::vector<SequenceResult> cpu_mon;  // the monitored greedy generation on the CPU (the gate's thresholds come from it)
    const std::vector<MonitorSpec> mons = {{2, d}, {n_layer - 1, d2}};
    run("greedy: device tokens = CPU tokens; monitors = CPU (rel < 1e-4)", [&]() -> std::string {
        Context cc(cpu, cpu_params(256, 2, true)), dc(dev, ctx_params(256, 2, true));
        auto s = seq(prompt, 16);
        s.steer.push_back(SteerTerm{2, d, 3.0f});
        cpu_mon = generate_all(cc, {s, seq(prompt, 16)}, mons);
        auto dev_mon = generate_all(dc, {s, seq(prompt, 16)}, mons);
        double worst = 0;
        for (size_t i = 0; i < 2; i++) {
            CHECK(dev_mon[i].tokens == cpu_mon[i].tokens, "sequence " + std::to_string(i) + ": greedy tokens differ from the CPU's");
            worst = std::max(worst, rel_err(dev_mon[i].scores, cpu_mon[i].scores));
        }
        CHECK(worst < 1e-4, "monitor scores rel err " + sci(worst));
        return "16 greedy tokens x 2 sequences (one steered) equal; monitor scores max rel err " + sci(worst);
    });

    run("gates: device decisions, tokens and scores = CPU (rel < 1e-4)", [&]() -> std::string {
        if (cpu_mon.empty()) throw Skip{"needs the greedy check's CPU run"};
        // thresholds from the unsteered projections at block 2, tried until the gate switches both
        // ways on the CPU (steering at block 3 moves later positions' projections)
        std::vector<float> p;
        for (size_t t = 0; t < cpu_mon[1].tokens.size(); t++) p.push_back(cpu_mon[1].scores[t * mons.size()]);
        std::sort(p.begin(), p.end());
        const float spread = std::max(1e-4f, (p.back() - p.front()) / 16);
        Context cc(cpu, cpu_params(256, 1, true)), dc(dev, ctx_params(256, 1, true));
        auto s = seq(prompt, 16);
        s.gate.layer = 2;
        s.gate.direction = d;
        s.gate.steer.push_back(SteerTerm{3, d, 4.0f});
        std::vector<SequenceResult> a;
        int steered = 0;
        for (double q : {0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9}) {
            const float mid = p[std::min(p.size() - 1, (size_t) (q * p.size()))];
            s.gate.on = mid - spread / 2;
            s.gate.off = mid + spread / 2;
            a = generate_all(cc, {s}, mons);
            steered = 0;
            for (auto g : a[0].gate) steered += g;
            if (steered > 0 && steered < (int) a[0].gate.size()) break;
        }
        CHECK(steered > 0 && steered < (int) a[0].gate.size(), "no threshold made the gate switch on the CPU");
        auto b = generate_all(dc, {s}, mons);
        CHECK(b[0].gate == a[0].gate, "gate decisions differ from the CPU's");
        CHECK(b[0].tokens == a[0].tokens, "tokens differ from the CPU's");
        const double e = rel_err(b[0].scores, a[0].scores);
        CHECK(e < 1e-4, "monitor scores rel err " + sci(e));
        return "gate on at " + std::to_string(steered) + "/" + std::to_string(a[0].gate.size()) + " tokens on both; scores max rel err " + sci(e);
    });

    run("open generation: joins and cancels on the device give each sequence's tokens alone", [&]() -> std::string {
        const int room = 256;  // the sampling check's layout (a cold shader cache compiles fewer pipelines)
        std::vector<SequenceSpec> specs = {seq(prompt, 30, 0.8f, 1), seq(dev->tokenize("In this game I must", true, false), 30, 0.9f, 2),
                                           seq(dev->tokenize("Hello there", true, false), 30), seq(dev->tokenize("My friend stopped answering", true, false), 12, 0.7f, 7)};
        specs[0].steer.push_back(SteerTerm{2, d, 3.0f});
        specs[3].steer.push_back(SteerTerm{2, d, 5.0f});
        std::vector<std::vector<llama_token>> alone;
        for (auto & s : specs) {
            Context solo(dev, ctx_params(room, 1, false));
            alone.push_back(generate_all(solo, {s})[0].tokens);
        }
        Context oc(dev, ctx_params(room * 4, 4, false));
        Generation g(oc, {});
        std::vector<int> ids = {g.add(specs[0]), g.add(specs[1]), g.add(specs[2])};
        std::vector<SequenceResult> done;
        StepOutput out;
        int steps = 0;
        bool joined = false, cancelled = false;
        while (!g.done()) {
            out = StepOutput();
            g.step(1, out);
            for (auto & r : out.finished) done.push_back(r);
            steps++;
            if (steps == 6 && !joined) { ids.push_back(g.add(specs[3])); joined = true; }
            if (steps == 9 && !cancelled) { CHECK(g.cancel(ids[1]), "cancel of a running sequence returned false"); cancelled = true; }
            if (joined && cancelled) g.close();
            if (steps > 10000) throw Failure{"the open generation does not finish"};
        }
        CHECK(done.size() == 4, "expected 4 finish events, got " + std::to_string(done.size()));
        for (auto & r : done) {
            const size_t k = (size_t) (std::find(ids.begin(), ids.end(), r.seq) - ids.begin());
            CHECK(k < ids.size(), "unknown sequence id in a finish event");
            if (k == 1) {
                CHECK(r.finish == Finish::Cancel, "the cancelled sequence did not finish as cancelled");
                CHECK(std::equal(r.tokens.begin(), r.tokens.end(), alone[1].begin()), "the cancelled sequence's tokens before the cancel differ from alone");
                continue;
            }
            CHECK(r.tokens == alone[k], "sequence " + std::to_string(k) + " differs from its tokens alone");
        }
        return "4 sequences (one joined at step 6, one cancelled at step 9) = their tokens alone";
    });

    if (!tmpdir.empty()) std::filesystem::remove_all(tmpdir);
    if (g_json) std::printf("{\"passed\":%d,\"failed\":%d,\"skipped\":%d}\n", g_passed, g_failed, g_skipped);
    else std::printf("%d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
    return g_failed ? 1 : 0;
}
