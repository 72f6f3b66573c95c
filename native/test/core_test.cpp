// eia-native-test: tests of the C++ core with no Node in the way (so they also run under
// AddressSanitizer/LeakSanitizer: `node scripts/build.mjs --sanitize` builds
// build-asan/bin/eia-native-test). Synthesises tiny models into a temp folder, then exercises
// load, tokenisation, capture, generation with steering and monitors, llama.cpp control vectors,
// the sampler, and the bad-argument paths, which must throw eia::Error (never abort).
//
//   eia-native-test [--filter SUBSTRING] [--keep]
// Prints one line per test and `N passed, N failed`; exits 1 on any failure.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>
#include <unistd.h>

#include "batch.h"
#include "capture.h"
#include "context.h"
#include "cvec.h"
#include "error.h"
#include "evaluate.h"
#include "generate.h"
#include "gguf.h"
#include "model.h"
#include "placement.h"
#include "quantize.h"
#include "runtime.h"
#include "../tools/unit_vector.h"
#include "sampler.h"
#include "synth.h"

using namespace eia;
namespace fs = std::filesystem;

namespace {

int g_passed = 0, g_failed = 0;
std::string g_filter;

struct Failure {
    std::string msg;
};

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) throw Failure{__FILE__ ":" EIA_STR(__LINE__) ": CHECK(" #cond ")"}; \
    } while (0)

// The call must throw eia::Error whose message contains `needle`. (A function, not an inline
// try/catch per use: keeps this file quick to compile under the sanitizers.)
void expect_error(const char * where, const char * expr, const std::function<void()> & fn, const std::string & needle) {
    try {
        fn();
    } catch (const eia::Error & e) {
        if (std::string(e.what()).find(needle) == std::string::npos)
            throw Failure{std::string(where) + ": error '" + e.what() + "' does not mention '" + needle + "'"};
        return;
    }
    throw Failure{std::string(where) + ": no eia::Error from " + expr};
}
#define EIA_STR2(x) #x
#define EIA_STR(x) EIA_STR2(x)
#define EXPECT_ERROR(expr, needle) expect_error(__FILE__ ":" EIA_STR(__LINE__), #expr, [&] { (void) (expr); }, needle)

void run(const std::string & name, const std::function<void()> & fn) {
    if (!g_filter.empty() && name.find(g_filter) == std::string::npos) return;
    try {
        fn();
        g_passed++;
        std::printf("ok   %s\n", name.c_str());
    } catch (const Failure & f) {
        g_failed++;
        std::printf("FAIL %s: %s\n", name.c_str(), f.msg.c_str());
    } catch (const std::exception & e) {
        g_failed++;
        std::printf("FAIL %s: unexpected exception: %s\n", name.c_str(), e.what());
    }
    std::fflush(stdout);
}

std::vector<char> read_bytes(const std::string & p) {
    std::ifstream f(p, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string & p, const std::vector<char> & b, size_t n) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(b.data(), (std::streamsize) std::min(n, b.size()));
}

// Offset of the value of a scalar KV (GGUF: u64 key length, key bytes, u32 type, value).
size_t kv_value_offset(const std::vector<char> & b, const std::string & key) {
    const std::string needle = key;
    auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
    if (it == b.end()) throw Failure{"key " + key + " not found"};
    return (size_t) (it - b.begin()) + key.size() + 4;
}

std::string patched(const std::string & dir, const std::string & base, const std::string & name, const std::string & key,
                    const void * value, size_t n) {
    auto b = read_bytes(base);
    std::memcpy(b.data() + kv_value_offset(b, key), value, n);
    const std::string out = dir + "/" + name + ".gguf";
    write_bytes(out, b, b.size());
    return out;
}

ContextParams small_ctx(int n_ctx = 256, int n_seq = 4, bool unified = true) {
    ContextParams p;
    p.n_ctx = n_ctx;
    p.n_batch = 64;
    p.n_ubatch = 64;
    p.n_seq_max = n_seq;
    p.n_threads = 1;
    p.kv_unified = unified;
    return p;
}

SequenceSpec seq(const std::vector<llama_token> & prompt, int max_tokens, float temp = 0.0f, uint32_t seed = 0) {
    SequenceSpec s;
    s.prompt = prompt;
    s.max_tokens = max_tokens;
    s.sampling.temperature = temp;
    s.sampling.seed = seed;
    s.ignore_eog = true;
    return s;
}

std::vector<SequenceResult> generate_all(Context & ctx, const std::vector<SequenceSpec> & specs, const std::vector<MonitorSpec> & mons = {}) {
    Generation g(ctx, specs, mons);
    StepOutput ev;
    int guard = 0;
    while (!g.done()) {
        g.step(8, ev);
        if (++guard > 100000) throw Failure{"generation does not finish"};
    }
    return g.results();
}

double rel_err(const std::vector<float> & a, const std::vector<float> & b) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); i++) { num += (a[i] - b[i]) * (double) (a[i] - b[i]); den += (double) b[i] * b[i]; }
    return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace

int main(int argc, char ** argv) {
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--filter" && i + 1 < argc) g_filter = argv[++i];
        else if (a == "--keep") keep = true;
        else if (a == "--plant-leak") {
            // LeakSanitizer's positive control (test/engine/native-core.test.ts): lose one allocation
            // and exit, so a clean run means LSan looked and found nothing, not that it never looked
            void * p = std::malloc(4096);
            std::printf("planted a 4096-byte leak at %p\n", p);
            p = nullptr;
            return 0;
        }
    }
    set_log_level(0);
    char tmpl[] = "/tmp/eia-native-test-XXXXXX";
    if (!mkdtemp(tmpl)) { std::perror("mkdtemp"); return 2; }
    const std::string dir = tmpl;

    std::string llama_path, qwen_path, planted_path;
    try {
        SynthOptions o;
        o.shape = "tiny"; o.arch = "llama"; o.seed = 5; o.out = dir + "/llama.gguf";
        llama_path = synth_model(o).path;
        o.arch = "qwen2"; o.out = dir + "/qwen2.gguf";
        qwen_path = synth_model(o).path;
        SynthOptions p;
        p.planted = true; p.seed = 3; p.out = dir + "/planted.gguf";
        planted_path = synth_model(p).path;
    } catch (const std::exception & e) {
        std::printf("FAIL setup: synth: %s\n0 passed, 1 failed\n", e.what());
        return 1;
    }

    // ---------------------------------------------------------------------------------- load
    run("load: tiny llama and qwen2 give sane info", [&] {
        for (auto & p : {llama_path, qwen_path}) {
            auto m = Model::load(p, {});
            CHECK(m->n_layer() == 6);
            CHECK(m->n_embd() == 64);
            CHECK(m->info().n_vocab > 100);
            CHECK(m->info().n_head == 4 && m->info().n_head_kv == 2);
        }
    });
    run("load: missing, empty path, directory, not GGUF, empty file -> eia::Error", [&] {
        EXPECT_ERROR(Model::load(dir + "/nope.gguf", {}), "cannot open");
        EXPECT_ERROR(Model::load("", {}), "empty");
        EXPECT_ERROR(Model::load(dir, {}), "");
        { std::ofstream(dir + "/text.gguf") << "hello world"; }
        EXPECT_ERROR(Model::load(dir + "/text.gguf", {}), "not a GGUF");
        { std::ofstream(dir + "/empty.gguf"); }
        EXPECT_ERROR(Model::load(dir + "/empty.gguf", {}), "not a GGUF");
    });
    run("load: truncated files (header, metadata, tensor data) -> eia::Error", [&] {
        auto b = read_bytes(llama_path);
        for (size_t n : {(size_t) 6, (size_t) 20, (size_t) 1000, b.size() / 2, b.size() - 1}) {
            write_bytes(dir + "/trunc.gguf", b, n);
            EXPECT_ERROR(Model::load(dir + "/trunc.gguf", {}), "failed to load model");
        }
    });
    run("load: hostile metadata found by the fuzzer -> eia::Error (block_count, rms epsilon, rope dims)", [&] {
        for (uint32_t v : {0u, 513u, 0xffffffffu}) {
            auto p = patched(dir, llama_path, "blocks", "llama.block_count", &v, 4);
            EXPECT_ERROR(Model::load(p, {}), "block_count");
        }
        for (float v : {-1.0f, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
            auto p = patched(dir, llama_path, "eps", "llama.attention.layer_norm_rms_epsilon", &v, 4);
            EXPECT_ERROR(Model::load(p, {}), "epsilon");
        }
        for (uint32_t v : {0u, 1u, 7u, 31u, 0xfffffffeu}) {
            auto p = patched(dir, qwen_path, "rot", "qwen2.rope.dimension_count", &v, 4);
            EXPECT_ERROR(Model::load(p, {}), "rope.dimension_count");
        }
    });
    run("load: vocab-only model tokenises but cannot make a context", [&] {
        ModelParams mp;
        mp.vocab_only = true;
        auto m = Model::load(llama_path, mp);
        CHECK(m->info().n_vocab > 100);
        CHECK(!m->tokenize("hello world", true, false).empty());
        EXPECT_ERROR(Context(m, small_ctx()), "vocabOnly");
    });
    run("load/free: 5 cycles of load -> context -> capture -> free", [&] {
        for (int i = 0; i < 5; i++) {
            auto m = Model::load(llama_path, {});
            Context ctx(m, small_ctx());
            CaptureOptions o;
            o.layers = {0, 5};
            auto r = capture_texts(ctx, {"hello there", "x"}, o);
            CHECK(r.n_texts == 2);
        }
    });

    run("load: a 'no_vocab' model with empty token strings (llama.cpp's test models) loads and runs on token ids", [&] {
        // the tiny llama rewritten as llama.cpp's test-llama-archs writes its models: tokenizer
        // 'no_vocab' and every token string empty (llama.cpp loads it; a duplicate-string check
        // that ignores how llama.cpp stores empty strings refused it)
        const std::string nv = dir + "/novocab.gguf";
        {
            ggml_context * data = nullptr;
            gguf_init_params gp = {false, &data};
            gguf_context * src = gguf_init_from_file(llama_path.c_str(), gp);
            CHECK(src != nullptr);
            gguf_context * out = gguf_init_empty();
            gguf_set_kv(out, src);
            gguf_set_val_str(out, "tokenizer.ggml.model", "no_vocab");
            const int64_t n = gguf_get_arr_n(src, gguf_find_key(src, "tokenizer.ggml.tokens"));
            std::vector<const char *> empty((size_t) n, "");
            gguf_set_arr_str(out, "tokenizer.ggml.tokens", empty.data(), empty.size());
            for (int64_t t = 0; t < gguf_get_n_tensors(src); t++) gguf_add_tensor(out, ggml_get_tensor(data, gguf_get_tensor_name(src, t)));
            CHECK(gguf_write_to_file(out, nv.c_str(), false));
            gguf_free(out);
            gguf_free(src);
            ggml_free(data);
        }
        auto m = Model::load(nv, {});
        CHECK(!m->info().has_vocab);
        CHECK(m->info().n_vocab > 100);
        EXPECT_ERROR(m->tokenize("hello", true, false), "no tokenizer");
        CHECK(m->token_piece(5).empty());
        Context ctx(m, small_ctx());
        CHECK(ctx.residual_support().supported);
        auto g = generate_all(ctx, {seq({5, 6, 7}, 4)});
        CHECK(g[0].tokens.size() == 4 && g[0].text.empty());
        CaptureOptions o;
        o.layers = {0, m->n_layer() - 1};
        auto r = capture_tokens(ctx, {{5, 6, 7}}, o);
        CHECK(r.n_texts == 1);
    });
    run("context: the support check sees every block once; llama prunes its last block to the output rows", [&] {
        auto m = Model::load(llama_path, {});
        Context ctx(m, small_ctx());
        const auto & s = ctx.residual_support();
        CHECK(s.supported && s.reason.empty());
        CHECK(s.tensor == "l_out-{L}");
        CHECK((int) s.found.size() == m->n_layer() && s.missing.empty());
        for (int h : s.hits) CHECK(h == 1);
        for (int l = 0; l < m->n_layer(); l++) CHECK(s.pruned[l] == (l == m->n_layer() - 1));
        ContextParams one = small_ctx(256, 1);
        one.n_ubatch = 1;  // the check's two tokens in two micro-batches
        Context ctx1(m, one);
        CHECK(ctx1.residual_support().supported);
        for (int h : ctx1.residual_support().hits) CHECK(h == 2);
        CHECK(ctx1.residual_support().pruned == s.pruned);
    });

    auto model = Model::load(llama_path, {});
    const int n_embd = model->n_embd(), n_layer = model->n_layer(), n_vocab = model->info().n_vocab;

    // ----------------------------------------------------------------------------- context
    run("context: invalid parameters -> eia::Error", [&] {
        auto p = small_ctx();
        p.n_ctx = 0; EXPECT_ERROR(Context(model, p), "nCtx");
        p = small_ctx(); p.n_ctx = 1 << 30; EXPECT_ERROR(Context(model, p), "nCtx");
        p = small_ctx(); p.n_batch = 0; EXPECT_ERROR(Context(model, p), "nBatch");
        p = small_ctx(); p.n_ubatch = -5; EXPECT_ERROR(Context(model, p), "nBatch");
        p = small_ctx(); p.n_seq_max = 0; EXPECT_ERROR(Context(model, p), "nSeqMax");
        p = small_ctx(); p.n_seq_max = 1000; EXPECT_ERROR(Context(model, p), "nSeqMax");
        p = small_ctx(16, 64); EXPECT_ERROR(Context(model, p), "nSeqMax");  // more sequences than nCtx
        p = small_ctx(); p.n_seq_max = 65; EXPECT_ERROR(Context(model, p), "nSeqMax");  // more than nBatch
        p = small_ctx(); p.n_threads = -1; EXPECT_ERROR(Context(model, p), "nThreads");
        p = small_ctx(); p.flash_attn = 7; EXPECT_ERROR(Context(model, p), "flashAttn");
        EXPECT_ERROR(Context(nullptr, small_ctx()), "model");
    });
    run("context: busy guard rejects a second operation", [&] {
        Context ctx(model, small_ctx());
        Context::Busy b(ctx);
        CHECK(ctx.busy());
        EXPECT_ERROR(Context::Busy(ctx), "context is busy");
    });

    // -------------------------------------------------------------------------- tokenizer
    run("tokenizer: round trip; bad ids -> eia::Error", [&] {
        auto t = model->tokenize("hello world", false, false);
        CHECK(!t.empty());
        CHECK(model->detokenize(t, false, false).find("hello") != std::string::npos);
        EXPECT_ERROR(model->detokenize({1, -1}, false, false), "out of range");
        EXPECT_ERROR(model->detokenize({n_vocab}, false, false), "out of range");
        EXPECT_ERROR(model->token_piece(-7), "out of range");
        EXPECT_ERROR(model->check_token(std::numeric_limits<int>::max()), "out of range");
        CHECK(model->detokenize({}, false, false).empty());
        CHECK(model->tokenize("", false, false).empty());
    });
    run("tokenizer: chat template errors", [&] {
        EXPECT_ERROR(model->apply_chat_template({}, true, ""), "");
        EXPECT_ERROR(model->apply_chat_template({{"user", "x"}}, true, "{% bogus"), "");
    });

    // ---------------------------------------------------------------------------- capture
    run("capture: shapes of mean/last/tokens; one text alone == inside a batch", [&] {
        Context ctx(model, small_ctx(512, 4));
        const std::vector<std::string> texts = {"I care about you.", "Win the game quickly and efficiently with a plan that is long enough", "Hi"};
        CaptureOptions o;
        o.layers = {1, 5};
        for (Pool pool : {Pool::Mean, Pool::Last, Pool::Tokens}) {
            o.pool = pool;
            auto all = capture_texts(ctx, texts, o);
            CHECK(all.data.size() == 2);
            const size_t rows = pool == Pool::Tokens ? (size_t) all.offsets.back() : texts.size();
            CHECK(all.data[0].size() == rows * n_embd);
            for (float x : all.data[1]) CHECK(std::isfinite(x));
            auto one = capture_texts(ctx, {texts[1]}, o);
            const size_t r0 = pool == Pool::Tokens ? (size_t) all.offsets[1] : 1;
            std::vector<float> a(all.data[1].begin() + r0 * n_embd, all.data[1].begin() + r0 * n_embd + one.data[1].size());
            CHECK(rel_err(a, one.data[1]) < 1e-4);
        }
    });
    run("capture: bad arguments -> eia::Error", [&] {
        Context ctx(model, small_ctx(64, 2));
        CaptureOptions o;
        o.layers = {0};
        EXPECT_ERROR(capture_texts(ctx, {}, o), "at least one text");
        o.layers = {};
        EXPECT_ERROR(capture_texts(ctx, {"x"}, o), "at least one layer");
        o.layers = {-1}; EXPECT_ERROR(capture_texts(ctx, {"x"}, o), "out of range");
        o.layers = {n_layer}; EXPECT_ERROR(capture_texts(ctx, {"x"}, o), "out of range");
        o.layers = {1, 1}; EXPECT_ERROR(capture_texts(ctx, {"x"}, o), "distinct");
        o.layers = {0}; o.truncate = -1; EXPECT_ERROR(capture_texts(ctx, {"x"}, o), "truncate");
        o.truncate = 0; o.add_special = false;
        EXPECT_ERROR(capture_texts(ctx, {""}, o), "no tokens");
        std::string long_text;
        for (int i = 0; i < ctx.n_ctx_seq() + 10; i++) long_text += "word ";
        EXPECT_ERROR(capture_texts(ctx, {long_text}, o), "more than the context");
        o.truncate = 16;
        CHECK(capture_texts(ctx, {long_text}, o).n_tokens[0] == 16);
        EXPECT_ERROR(capture_tokens(ctx, {{1, 2, -3}}, o), "out of range");
        EXPECT_ERROR(capture_tokens(ctx, {{n_vocab}}, o), "out of range");
        EXPECT_ERROR(parse_pool("max"), "unknown pooling");
        EXPECT_ERROR(embeddings_per_token(ctx, "hello", true, nullptr), "embeddings");
    });

    // ------------------------------------------------------------------------- generation
    const auto prompt = model->tokenize("The quick brown fox", true, false);
    run("generate: greedy is deterministic; alpha 0 == unsteered bit for bit; batch == alone", [&] {
        Context ctx(model, small_ctx(512, 4));
        auto plain = generate_all(ctx, {seq(prompt, 12)});
        auto again = generate_all(ctx, {seq(prompt, 12)});
        CHECK(plain[0].tokens == again[0].tokens);
        CHECK(plain[0].tokens.size() == 12);
        auto s0 = seq(prompt, 12);
        s0.steer.push_back({2, unit_vector(n_embd, 1), 0.0f});
        auto z = generate_all(ctx, {s0});
        CHECK(z[0].tokens == plain[0].tokens);
        auto s1 = seq(prompt, 12, 0.8f, 7);
        auto alone = generate_all(ctx, {s1});
        auto batch = generate_all(ctx, {seq(prompt, 12, 0.8f, 3), s1, seq(prompt, 5, 0.8f, 9)});
        CHECK(batch[1].tokens == alone[0].tokens);
    });
    run("generate: steering changes the output; monitors give one score per token", [&] {
        Context ctx(model, small_ctx(512, 4));
        const auto d = unit_vector(n_embd, 2);
        auto s = seq(prompt, 10);
        s.steer.push_back({3, d, 50.0f});
        auto plain = generate_all(ctx, {seq(prompt, 10)});
        auto steered = generate_all(ctx, {s}, {{3, d}, {5, unit_vector(n_embd, 3)}});
        CHECK(steered[0].tokens != plain[0].tokens);
        CHECK(steered[0].scores.size() == steered[0].tokens.size() * 2);
        for (float x : steered[0].scores) CHECK(std::isfinite(x));
    });
    run("steer plan: normalize keeps each steered row's norm (rel < 1e-5); ranges and order", [&] {
        // rows of block L after the hook's steering, read by a capture sink in the same pass
        struct Rows : CaptureSink {
            std::vector<float> data;
            void on_rows(int, const int32_t *, int n, const float * rows, int n_embd) override { data.insert(data.end(), rows, rows + (size_t) n * n_embd); }
        };
        Context ctx(model, small_ctx(256, 1));
        const int L = 2;
        auto pass = [&](const SteerPlan * plan) {
            Rows sink;
            ResidualHook & h = ctx.hook();
            h.clear_plans();
            h.clear_monitors();
            h.set_plan(0, plan, nullptr);
            h.set_capture({L}, &sink, false);
            ctx.clear_memory();
            TokenBatch b(64);
            for (size_t i = 0; i < prompt.size(); i++) b.add(prompt[i], (llama_pos) i, 0, 0, false, i + 1 == prompt.size());
            h.begin_batch(b.slots(), b.phases(), b.size(), b.outputs().data(), (int) b.outputs().size());
            CHECK(ctx.decode(b.raw()));
            h.clear_capture();
            h.clear_plans();
            return sink.data;
        };
        const auto d = unit_vector(n_embd, 6), e = unit_vector(n_embd, 7);
        const auto plain = pass(nullptr);
        SteerTerm t{L, d, 4.0f};
        t.normalize = true;
        SteerPlan norm({t}, GateSpec{}, n_layer, n_embd, "test");
        const auto kept = pass(&norm);
        t.normalize = false;
        SteerPlan add({t}, GateSpec{}, n_layer, n_embd, "test");
        const auto added = pass(&add);
        CHECK(plain.size() == kept.size() && plain.size() == prompt.size() * (size_t) n_embd);
        double worst = 0, moved = 0, grew = 0;
        for (size_t r = 0; r < prompt.size(); r++) {
            double n0 = 0, n1 = 0, n2 = 0, diff = 0;
            for (int j = 0; j < n_embd; j++) {
                const size_t k = r * n_embd + j;
                n0 += (double) plain[k] * plain[k];
                n1 += (double) kept[k] * kept[k];
                n2 += (double) added[k] * added[k];
                diff += ((double) kept[k] - plain[k]) * ((double) kept[k] - plain[k]);
            }
            worst = std::max(worst, std::fabs(std::sqrt(n1) - std::sqrt(n0)) / std::sqrt(n0));
            moved = std::max(moved, std::sqrt(diff / n0));
            grew = std::max(grew, std::fabs(std::sqrt(n2) - std::sqrt(n0)) / std::sqrt(n0));
        }
        CHECK(worst < 1e-5);   // norm kept
        CHECK(moved > 1e-2);   // and the row did move
        CHECK(grew > 1e-3);    // a plain add changes the norm: normalize did something
        // a block range is the same term at every block of the range; terms apply in order
        SteerTerm r1{1, d, 2.0f};
        r1.layer_end = 3;
        SteerPlan range({r1}, GateSpec{}, n_layer, n_embd, "test");
        for (int l = 0; l < n_layer; l++) CHECK((int) range.ops(l).size() == (l >= 1 && l <= 3 ? 1 : 0));
        SteerTerm a{2, d, 1.0f}, b{2, e, -1.0f};
        b.normalize = true;
        SteerPlan order({a, b}, GateSpec{}, n_layer, n_embd, "test");
        CHECK(order.ops(2).size() == 2 && !order.ops(2)[0].normalize && order.ops(2)[1].normalize);
        EXPECT_ERROR(SteerPlan({SteerTerm{3, d, 1.0f, 2}}, GateSpec{}, n_layer, n_embd, "test"), "layer range 3-2");
        EXPECT_ERROR(SteerPlan({SteerTerm{1, d, 1.0f, n_layer}}, GateSpec{}, n_layer, n_embd, "test"), "layer range");
    });
    run("generate: steering == llama.cpp control vector (eval_logits)", [&] {
        Context ctx(model, small_ctx(256, 1));
        const auto d = unit_vector(n_embd, 4);
        auto ours = eval_logits(ctx, prompt, {{2, d, 3.0f}});
        std::vector<float> cv((size_t) (n_layer - 1) * n_embd, 0.0f);
        for (int j = 0; j < n_embd; j++) cv[(size_t) (2 - 1) * n_embd + j] = 3.0f * d[j];
        ctx.set_control_vector(cv, 1, n_layer - 1);
        auto theirs = eval_logits(ctx, prompt, {});
        ctx.clear_control_vector();
        auto plain = eval_logits(ctx, prompt, {});
        CHECK(rel_err(ours, theirs) < 1e-4);
        CHECK(rel_err(plain, theirs) > 1e-3);
    });
    run("token_logprobs: the log-softmax of eval_logits' rows; packed items = alone; bad items -> eia::Error", [&] {
        Context ctx(model, small_ctx(512, 4));
        const int V = model->info().n_vocab;
        std::vector<llama_token> cont = model->tokenize(" jumps over the lazy dog", false, false);
        CHECK(cont.size() >= 2);
        std::vector<llama_token> all = prompt;
        all.insert(all.end(), cont.begin(), cont.end() - 1);
        const auto logits = eval_logits(ctx, all, {});
        const auto lp = token_logprobs(ctx, {ScoreItem{prompt, cont}});
        CHECK(lp.size() == 1 && lp[0].size() == cont.size());
        for (size_t k = 0; k < cont.size(); k++) {
            const float * row = logits.data() + (prompt.size() - 1 + k) * (size_t) V;
            double mx = row[0], sum = 0;
            for (int v = 1; v < V; v++) mx = std::max(mx, (double) row[v]);
            for (int v = 0; v < V; v++) sum += std::exp((double) row[v] - mx);
            CHECK(std::fabs(lp[0][k] - (row[cont[k]] - mx - std::log(sum))) < 1e-4);
        }
        // several items share decode calls (batch 64 < their total); an empty continuation gives nothing
        std::vector<ScoreItem> items = {{prompt, cont}, {{prompt[0]}, prompt}, {prompt, {}}, {all, cont}};
        const auto packed = token_logprobs(ctx, items);
        CHECK(packed.size() == items.size() && packed[2].empty());
        for (size_t i = 0; i < items.size(); i++) {
            const auto alone = token_logprobs(ctx, {items[i]});
            CHECK(alone[0].size() == packed[i].size());
            for (size_t k = 0; k < alone[0].size(); k++) CHECK(std::fabs(alone[0][k] - packed[i][k]) < 1e-4);
        }
        EXPECT_ERROR(token_logprobs(ctx, {}), "at least one item");
        EXPECT_ERROR(token_logprobs(ctx, {ScoreItem{{}, cont}}), "prompt is empty");
        EXPECT_ERROR(token_logprobs(ctx, {ScoreItem{prompt, {V}}}), "out of range");
        EXPECT_ERROR(token_logprobs(ctx, {ScoreItem{prompt, std::vector<llama_token>(600, 5)}}), "more than the context");
        CHECK(token_logprobs(ctx, {ScoreItem{prompt, cont}})[0].size() == cont.size());  // still usable
    });
    run("generate: abort stops with what was produced", [&] {
        Context ctx(model, small_ctx(512, 2));
        Generation g(ctx, {seq(prompt, 200), seq(prompt, 200, 0.7f, 1)}, {});
        StepOutput ev;
        g.step(3, ev);
        ctx.request_abort();
        g.step(5, ev);
        ctx.reset_abort();
        CHECK(g.done());
        for (auto & r : g.results()) CHECK(r.finish == Finish::Abort && !r.tokens.empty() && r.tokens.size() < 200);
    });
    run("generate: bad arguments -> eia::Error", [&] {
        Context ctx(model, small_ctx(256, 2));
        const auto d = unit_vector(n_embd, 5);
        auto mk = [&](const std::function<void(SequenceSpec &)> & f) { auto s = seq(prompt, 4); f(s); return std::vector<SequenceSpec>{s}; };
        EXPECT_ERROR(Generation(ctx, {}, {}), "at least one sequence");
        EXPECT_ERROR(Generation(ctx, {seq(prompt, 2), seq(prompt, 2), seq(prompt, 2)}, {}), "at most 2");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.prompt.clear(); }), {}), "empty prompt");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.prompt.push_back(n_vocab); }), {}), "out of range");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.prompt.push_back(-1); }), {}), "out of range");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.max_tokens = 1 << 30; }), {}), "exceeds");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.sampling.temperature = NAN; }), {}), "temperature");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.sampling.temperature = -1; }), {}), "temperature");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.sampling.top_p = 0; }), {}), "topP");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.sampling.top_p = NAN; }), {}), "topP");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.sampling.min_p = 2; }), {}), "minP");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.sampling.top_k = -1; }), {}), "topK");
        EXPECT_ERROR(Generation(ctx, mk([](SequenceSpec & s) { s.stop = {""}; }), {}), "stop");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.steer = {{-1, d, 1}}; }), {}), "out of range");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.steer = {{n_layer, d, 1}}; }), {}), "out of range");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.steer = {{1, d, INFINITY}}; }), {}), "finite");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.steer = {{1, std::vector<float>(n_embd + 1), 1}}; }), {}), "length");
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.steer = {{1, {}, 1}}; }), {}), "length");
        auto nan_dir = d;
        nan_dir[3] = NAN;
        EXPECT_ERROR(Generation(ctx, mk([&](SequenceSpec & s) { s.steer = {{1, nan_dir, 1}}; }), {}), "NaN");
        EXPECT_ERROR(Generation(ctx, {seq(prompt, 2)}, {{n_layer, d}}), "monitor layer");
        EXPECT_ERROR(Generation(ctx, {seq(prompt, 2)}, {{0, std::vector<float>(3)}}), "length");
        EXPECT_ERROR(Generation(ctx, {seq(prompt, 2)}, {{0, nan_dir}}), "NaN");
        EXPECT_ERROR(parse_positions("middle"), "positions");
        // still usable
        CHECK(generate_all(ctx, {seq(prompt, 3)})[0].tokens.size() == 3);
    });
    run("evaluate: bad arguments -> eia::Error", [&] {
        Context ctx(model, small_ctx(64, 1));
        const auto d = unit_vector(n_embd, 6);
        EXPECT_ERROR(eval_logits(ctx, {}, {}), "at least one token");
        EXPECT_ERROR(eval_logits(ctx, {1, n_vocab}, {}), "out of range");
        EXPECT_ERROR(eval_logits(ctx, std::vector<llama_token>(ctx.n_ctx_seq() + 1, 1), {}), "longer than the context");
        EXPECT_ERROR(eval_logits(ctx, {1}, {{n_layer, d, 1}}), "out of range");
        EXPECT_ERROR(eval_logits(ctx, {1}, {{0, std::vector<float>(1), 1}}), "has length");
        EXPECT_ERROR(eval_logits(ctx, {1}, {{0, d, NAN}}), "finite");
        EXPECT_ERROR(read_gguf_tensor(llama_path, "no.such.tensor", nullptr), "");
        EXPECT_ERROR(read_gguf_tensor(dir + "/nope.gguf", "x", nullptr), "");
    });
    run("sampler: NaN/inf logits never crash and give an id in range", [&] {
        std::vector<float> logits(n_vocab, 0.0f);
        std::mt19937 rng(1);
        for (auto & x : logits) x = std::uniform_real_distribution<float>(-5, 5)(rng);
        for (int i = 0; i < n_vocab; i += 3) logits[i] = NAN;
        logits[5] = INFINITY;
        logits[7] = -INFINITY;
        for (float temp : {0.0f, 0.7f, 1e-30f}) {
            for (int top_k : {0, 40}) {
                for (float top_p : {1.0f, 0.5f}) {
                    SamplingParams p;
                    p.temperature = temp; p.top_k = top_k; p.top_p = top_p; p.min_p = 0.05f;
                    Sampler s(p, n_vocab);
                    for (int k = 0; k < 5; k++) {
                        llama_token t = s.sample(logits.data());
                        CHECK(t >= 0 && t < n_vocab);
                    }
                }
            }
        }
        std::vector<float> all_nan(n_vocab, NAN);
        SamplingParams p;
        Sampler s(p, n_vocab);
        const llama_token t = s.sample(all_nan.data());
        CHECK(t >= 0 && t < n_vocab);
    });

    run("sampler: top-k and greedy from one pass over the row draw what the chain draws over the whole vocabulary", [&] {
        // the reference: HF order (temperature, top-k, top-p, min-p, draw) over every logit, NaN and
        // -inf as -inf and +inf as FLT_MAX / 4, as the sampler did before it took the top k first
        const auto reference = [&](const SamplingParams & p) {
            llama_sampler * c = llama_sampler_chain_init(llama_sampler_chain_default_params());
            if (p.temperature <= 0.0f) {
                llama_sampler_chain_add(c, llama_sampler_init_greedy());
                return c;
            }
            if (p.temperature != 1.0f) llama_sampler_chain_add(c, llama_sampler_init_temp(p.temperature));
            if (p.top_k > 0) llama_sampler_chain_add(c, llama_sampler_init_top_k(p.top_k));
            if (p.top_p < 1.0f) llama_sampler_chain_add(c, llama_sampler_init_top_p(p.top_p, 1));
            if (p.min_p > 0.0f) llama_sampler_chain_add(c, llama_sampler_init_min_p(p.min_p, 1));
            llama_sampler_chain_add(c, llama_sampler_init_dist(p.seed));
            return c;
        };
        const auto draw = [&](llama_sampler * c, const std::vector<float> & row) {
            std::vector<llama_token_data> cur(row.size());
            for (size_t i = 0; i < row.size(); i++) {
                float x = row[i];
                if (std::isnan(x) || x == -INFINITY) x = -INFINITY;
                else if (x == INFINITY) x = FLT_MAX / 4;
                cur[i] = llama_token_data{(llama_token) i, x, 0.0f};
            }
            llama_token_data_array arr = {cur.data(), cur.size(), -1, false};
            llama_sampler_apply(c, &arr);
            const llama_token t = arr.data[arr.selected].id;
            llama_sampler_accept(c, t);
            return t;
        };
        std::mt19937 rng(11);
        int draws = 0, differing = 0;
        for (int trial = 0; trial < 24; trial++) {
            SamplingParams p;
            p.temperature = trial % 6 == 0 ? 0.0f : trial % 6 == 1 ? 1.0f : 0.3f + 0.1f * (float) (trial % 7);
            p.top_k = trial % 3 == 0 ? 1 + trial : trial % 3 == 1 ? 50 : 200;
            p.top_p = trial % 4 == 0 ? 0.9f : 1.0f;
            p.min_p = trial % 5 == 0 ? 0.02f : 0.0f;
            p.seed = (uint32_t) trial;
            Sampler fast(p, n_vocab);
            llama_sampler * ref = reference(p);
            std::vector<float> row(n_vocab);
            for (int k = 0; k < 40; k++) {
                const float spread = 0.5f + (float) (k % 4) * 3.0f;  // from flat to peaked distributions
                for (auto & x : row) x = std::normal_distribution<float>(0.0f, spread)(rng);
                if (k % 5 == 0) { row[(k * 7) % n_vocab] = NAN; row[(k * 13) % n_vocab] = -INFINITY; }
                // +inf (the largest finite value) wins; the reference agrees for k <= 128 only: above,
                // llama.cpp's bucket sort turns such a logit into an int (overflow) and drops it
                const bool inf_row = k % 10 == 3 && p.top_k <= 128;
                if (inf_row) row[(k * 17) % n_vocab] = INFINITY;
                const llama_token a = fast.sample(row.data()), b = draw(ref, row);
                draws++;
                differing += a != b;
                if (inf_row) CHECK(a == (k * 17) % n_vocab);
            }
            llama_sampler_free(ref);
        }
        // distinct random floats: the same candidates in the same order, the same draw from the same RNG
        if (differing != 0) throw Failure{"the one-pass sampler drew " + std::to_string(differing) + " of " + std::to_string(draws) + " tokens differently"};
        // every logit equal (ties everywhere): greedy takes the lowest id, top-k draws among the first k ids
        std::vector<float> flat(n_vocab, 1.5f);
        SamplingParams g;
        Sampler greedy(g, n_vocab);
        CHECK(greedy.sample(flat.data()) == 0);
        SamplingParams t;
        t.temperature = 0.8f; t.top_k = 7; t.seed = 3;
        Sampler topk(t, n_vocab);
        for (int k = 0; k < 50; k++) {
            const llama_token tok = topk.sample(flat.data());
            CHECK(tok >= 0 && tok < 7);
        }
    });

    // ----------------------------------------------------------------------- control vectors
    run("cvec: write/read round trip; llama.cpp's loader agrees", [&] {
        ControlVector cv;
        cv.model_hint = "llama";
        cv.n_embd = n_embd;
        cv.layers[2] = unit_vector(n_embd, 8);
        cv.layers[4] = unit_vector(n_embd, 9);
        write_control_vector(dir + "/cv.gguf", cv);
        auto back = read_control_vector(dir + "/cv.gguf");
        CHECK(back.n_embd == n_embd && back.layers.size() == 2 && back.layers[4] == cv.layers[4]);
        int ne = 0;
        auto data = load_control_vector_llama(dir + "/cv.gguf", 2.0f, &ne);
        CHECK(ne == n_embd);
        CHECK(data.size() >= (size_t) 4 * n_embd);
        CHECK(std::fabs(data[(size_t) 3 * n_embd + 5] - 2.0f * cv.layers[4][5]) < 1e-6);
        Context ctx(model, small_ctx(64, 1));
        ctx.set_control_vector(data, 1, n_layer - 1);
        ctx.clear_control_vector();
    });
    run("cvec: bad files and arguments -> eia::Error", [&] {
        ControlVector cv;
        cv.n_embd = n_embd;
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "no layers");
        cv.layers[0] = unit_vector(n_embd, 1);
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "block 1");
        cv.layers.clear();
        cv.layers[1] = std::vector<float>(n_embd - 1);
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "wrong width");
        cv.layers[1] = std::vector<float>(n_embd, NAN);
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "NaN");
        cv.layers[1] = unit_vector(n_embd, 1);
        EXPECT_ERROR(write_control_vector("", cv), "empty");
        EXPECT_ERROR(write_control_vector(dir + "/no/such/dir/x.gguf", cv), "cannot write");
        EXPECT_ERROR(read_control_vector(dir + "/nope.gguf"), "cannot open");
        EXPECT_ERROR(read_control_vector(dir + "/text.gguf"), "not a GGUF");
        EXPECT_ERROR(read_control_vector(llama_path), "");  // a model, not a control vector
        EXPECT_ERROR(load_control_vector_llama(dir + "/text.gguf", 1.0f, nullptr), "not a GGUF");
        Context ctx(model, small_ctx(64, 1));
        EXPECT_ERROR(ctx.set_control_vector(std::vector<float>(n_embd + 1), 1, 2), "multiple of nEmbd");
    });

    run("cvec: eia.* metadata round trip (every kind), refused outside the namespace or malformed", [&] {
        ControlVector cv;
        cv.n_embd = n_embd;
        cv.layers[2] = unit_vector(n_embd, 3);
        MetaValue s; s.kind = MetaValue::Kind::Str; s.s = "eia-vector-card";
        MetaValue i; i.kind = MetaValue::Kind::Int; i.i = 12;
        MetaValue f; f.kind = MetaValue::Kind::Float; f.f = 0.987;
        MetaValue b; b.kind = MetaValue::Kind::Bool; b.b = true;
        MetaValue ai; ai.kind = MetaValue::Kind::IntArray; ai.ints = {-4, 0, 4};
        MetaValue af; af.kind = MetaValue::Kind::FloatArray; af.floats = {0.25, 0.5};
        MetaValue as; as.kind = MetaValue::Kind::StrArray; as.strs = {"food_delivery", "the_listener"};
        cv.meta = {{"eia.card.2.format", s}, {"eia.card.2.block", i}, {"eia.card.2.auroc", f}, {"eia.x.flag", b},
                   {"eia.card.2.alphas", ai}, {"eia.card.2.share", af}, {"eia.card.2.scenarios", as}};
        write_control_vector(dir + "/cv-meta.gguf", cv);
        auto back = read_control_vector(dir + "/cv-meta.gguf");
        CHECK(back.meta.size() == cv.meta.size());
        CHECK(back.meta["eia.card.2.format"].s == "eia-vector-card" && back.meta["eia.card.2.block"].i == 12);
        CHECK(back.meta["eia.card.2.auroc"].f == 0.987 && back.meta["eia.x.flag"].b);
        CHECK(back.meta["eia.card.2.alphas"].ints == ai.ints && back.meta["eia.card.2.share"].floats == af.floats && back.meta["eia.card.2.scenarios"].strs == as.strs);
        int ne = 0;
        CHECK(!load_control_vector_llama(dir + "/cv-meta.gguf", 1.0f, &ne).empty() && ne == n_embd);  // llama.cpp still reads it
        cv.meta = {{"general.name", s}};
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "namespace");
        cv.meta = {{"eia.a..b", s}};
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "empty part");
        MetaValue nan; nan.kind = MetaValue::Kind::Float; nan.f = NAN;
        cv.meta = {{"eia.x", nan}};
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "NaN");
        MetaValue empty; empty.kind = MetaValue::Kind::IntArray;
        cv.meta = {{"eia.x", empty}};
        EXPECT_ERROR(write_control_vector(dir + "/x.gguf", cv), "empty array");
    });

    // -------------------------------------------------------------------------- quantize
    run("quantize: q8_0 written, checked and loadable; bad input -> eia::Error before llama.cpp", [&] {
        QuantizeOptions q;
        q.in = llama_path;
        q.out = dir + "/q8.gguf";
        q.type = "q8_0";
        q.threads = 1;
        QuantizeProgress pr;
        const QuantizeResult r = quantize_model(q, &pr);
        CHECK(r.type == "q8_0" && r.n_tensors > 0 && pr.done.load() == r.n_tensors && pr.total.load() == r.n_tensors);
        CHECK(r.out_bytes > 0 && r.out_bytes < r.in_bytes);
        CHECK(!std::filesystem::exists(q.out + ".tmp-" + std::to_string((long) getpid())));
        auto m = Model::load(q.out, {});
        CHECK(m->n_layer() == 6);
        q.type = "q9_9"; EXPECT_ERROR(quantize_model(q, nullptr), "unknown type");
        q.type = "q8_0"; q.out = q.in; EXPECT_ERROR(quantize_model(q, nullptr), "is the input");
        q.out = dir + "/q.gguf"; q.in = dir + "/text.gguf"; EXPECT_ERROR(quantize_model(q, nullptr), "not a GGUF");
        q.in = dir + "/cv.gguf"; EXPECT_ERROR(quantize_model(q, nullptr), "control vector");
        q.in = llama_path; q.out = dir + "/no/such/q.gguf"; EXPECT_ERROR(quantize_model(q, nullptr), "cannot write");
        q.out = dir + "/q.gguf"; q.threads = -1; EXPECT_ERROR(quantize_model(q, nullptr), "threads");
    });

    // ----------------------------------------------------------------------------- synth
    run("synth: bad options -> eia::Error", [&] {
        SynthOptions o;
        o.out = dir + "/s.gguf";
        o.shape = "huge"; EXPECT_ERROR(synth_model(o), "unknown shape");
        o.shape = "tiny"; o.arch = "gpt2"; EXPECT_ERROR(synth_model(o), "unknown arch");
        o.arch = ""; o.type = "q4_0"; EXPECT_ERROR(synth_model(o), "unknown type");
        o.type = "f32"; o.out = ""; EXPECT_ERROR(synth_model(o), "empty output path");
        o.out = dir; EXPECT_ERROR(synth_model(o), "directory");
        o.out = dir + "/missing/sub/s.gguf"; EXPECT_ERROR(synth_model(o), "");
        o.out = dir + "/p.gguf"; o.planted = true; o.arch = "gpt2"; EXPECT_ERROR(synth_model(o), "unknown arch");
        o.planted_profile = "odd"; o.arch = "qwen2"; EXPECT_ERROR(synth_model(o), "planted profile");
    });
    run("planted model: capture + steered generation run end to end", [&] {
        auto pm = Model::load(planted_path, {});
        Context ctx(pm, small_ctx(512, 2));
        CaptureOptions o;
        o.layers = {0, pm->n_layer() - 1};
        auto r = capture_texts(ctx, {"I feel for you", "Finish the task"}, o);
        CHECK(r.n_texts == 2);
        auto s = seq(pm->tokenize("I", true, false), 6, 0.7f, 1);
        s.steer.push_back({1, unit_vector(pm->n_embd(), 1), 4.0f});
        auto g = generate_all(ctx, {s}, {{2, unit_vector(pm->n_embd(), 2)}});
        CHECK(g[0].tokens.size() == 6);
    });

    run("placement: the detector names every block when all run on the CPU (ops and weights)", [&] {
        // the negative case of the device-placement check (placement.h): here nothing is on a device
        auto pl = probe_placement(model->raw(), n_layer);
        CHECK(pl.probed && pl.device.empty() && pl.device_layers == 0);
        CHECK((int) pl.on_host.size() == n_layer + 1);  // every block and the output head
        for (int l = 0; l <= n_layer; l++) {
            CHECK(pl.on_host[l].layer == l);
            CHECK(pl.on_host[l].reason.find("ran on the CPU: ") != std::string::npos);
            CHECK(pl.on_host[l].reason.find("weights in host memory") != std::string::npos);
        }
        CHECK(pl.on_host[0].reason.find("MUL_MAT") != std::string::npos);
        CHECK(pl.on_host[0].reason.find("blk.0.") != std::string::npos);
        CHECK(pl.on_host[n_layer].reason.find("output") != std::string::npos);  // output.weight (f32)
        CHECK(!model->info().placement.probed && !model->info().cpu_vulkan);  // a CPU load is not measured
    });

    model.reset();
    if (!keep) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
