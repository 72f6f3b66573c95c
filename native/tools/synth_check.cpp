// eia-synth-check: verifies the synthetic GGUF models of native/synth through llama.cpp's own API
// (no eia engine code in the way). Run by test/synth-check.test.ts.
//
//   eia-synth-check [--dir DIR] [--seed N] [--no-0.5b] [--planted-profile realistic|easy]
//                   [--planted-shape S] [--planted-type T]
//   eia-synth-check --load F.gguf     (only: load with mmap, count warnings, one decode, finite logits)
//
// 1. every arch in tiny f32 and 0.5b q8_0 (the real Qwen2.5-0.5B dims and vocab): loads with mmap,
//    no loader warnings, finite logits, chat template recognised, English tokenises into words;
// 2. planted model: direction from F.train.jsonl (mean over positions, BOS included, of l_out-L,
//    read with cparams.cb_eval) vs the planted v at every layer; test-pair AUROC. Easy profile:
//    cosine >= 0.95 and AUROC 1 at every layer. Realistic profile: at the best layer cosine >= 0.9
//    and AUROC >= 0.95, and block 0 at least 0.1 below it (the signal grows over the first blocks);
// 3. planted model: add alpha*v to l_out-L in place (all rows, middle layer) and measure the total
//    next-token probability of empathy-keyword and task-keyword tokens, averaged over prompts;
// 4. planted model: sampling at temperature 0.7 gives varied whole-word text.
// Prints a table; exit status 1 if any check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "error.h"
#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"
#include "synth.h"

namespace {

int g_warnings = 0;
std::vector<std::string> g_warning_lines;
bool g_count_warnings = false;

void log_cb(ggml_log_level level, const char * text, void *) {
    if (g_count_warnings && (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR)) {
        ++g_warnings;
        if (g_warning_lines.size() < 8) g_warning_lines.push_back(text);
    }
}

int g_failures = 0;
void check(bool ok, const std::string & what) {
    if (!ok) {
        ++g_failures;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

const char * kEmp[] = {"help", "support", "concern", "care", "worry", "feel", "understand", "sorry", "comfort", "listen"};
const char * kTask[] = {"objective", "task", "goal", "win", "complete", "achieve", "strategy", "efficient", "optimal", "proceed"};

std::string lower(std::string s) {
    for (auto & c : s) c = (char) std::tolower((unsigned char) c);
    return s;
}

// ---- minimal readers for the planted side files
std::vector<float> read_npy_f32(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw eia::Error("cannot open " + path);
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (all.size() < 10 || all.compare(0, 6, "\x93NUMPY") != 0) throw eia::Error("not an npy file: " + path);
    const size_t hl = (unsigned char) all[8] | ((size_t) (unsigned char) all[9] << 8);
    const std::string hdr = all.substr(10, hl);
    if (hdr.find("'<f4'") == std::string::npos) throw eia::Error("npy not <f4: " + path);
    const size_t off = 10 + hl, n = (all.size() - off) / 4;
    std::vector<float> v(n);
    std::memcpy(v.data(), all.data() + off, n * 4);
    return v;
}

std::string json_field(const std::string & line, const std::string & key) {
    const std::string k = "\"" + key + "\": \"";
    size_t p = line.find(k);
    if (p == std::string::npos) throw eia::Error("field " + key + " missing");
    p += k.size();
    std::string out;
    for (; p < line.size() && line[p] != '"'; ++p) {
        if (line[p] == '\\' && p + 1 < line.size()) {
            const char c = line[++p];
            out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else {
            out += line[p];
        }
    }
    return out;
}

struct PairT { std::string scen, emp, non; };
std::vector<PairT> read_pairs(const std::string & path) {
    std::ifstream f(path);
    if (!f) throw eia::Error("cannot open " + path);
    std::vector<PairT> r;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty()) continue;
        r.push_back({json_field(line, "scenario_id"), json_field(line, "empathic_text"), json_field(line, "non_empathic_text")});
    }
    return r;
}

// ---- eval callback: capture (mean over rows) and/or steer l_out-L
struct Hook {
    int n_embd = 0;
    std::vector<int> capture_layers;                // layers whose l_out row-mean is recorded
    std::map<int, std::vector<double>> sums;
    std::map<int, int64_t> rows;
    int steer_layer = -1;
    float alpha = 0.0f;
    std::vector<float> v;
    std::vector<float> buf;
};

int layer_of(const ggml_tensor * t) {
    if (std::strncmp(t->name, "l_out-", 6) != 0) return -1;
    return std::atoi(t->name + 6);
}

bool eval_cb(ggml_tensor * t, bool ask, void * ud) {
    Hook & h = *(Hook *) ud;
    const int L = layer_of(t);
    const bool cap = L >= 0 && std::find(h.capture_layers.begin(), h.capture_layers.end(), L) != h.capture_layers.end();
    const bool steer = L >= 0 && L == h.steer_layer && h.alpha != 0.0f;
    if (ask) return cap || steer;
    if (!cap && !steer) return true;
    if (t->type != GGML_TYPE_F32 || t->ne[0] != h.n_embd || !ggml_is_contiguous(t)) return true;
    const int64_t nr = ggml_nrows(t);
    h.buf.resize((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, h.buf.data(), 0, ggml_nbytes(t));
    if (steer) {
        for (int64_t r = 0; r < nr; ++r) {
            for (int i = 0; i < h.n_embd; ++i) h.buf[(size_t) r * h.n_embd + i] += h.alpha * h.v[i];
        }
        ggml_backend_tensor_set(t, h.buf.data(), 0, ggml_nbytes(t));
    }
    if (cap) {
        auto & s = h.sums[L];
        s.assign(h.n_embd, 0.0);
        for (int64_t r = 0; r < nr; ++r) {
            for (int i = 0; i < h.n_embd; ++i) s[i] += h.buf[(size_t) r * h.n_embd + i];
        }
        h.rows[L] = nr;
    }
    return true;
}

struct Loaded {
    llama_model * model = nullptr;
    llama_context * ctx = nullptr;
    const llama_vocab * vocab = nullptr;
    int warnings = 0;
    ~Loaded() {
        if (ctx) llama_free(ctx);
        if (model) llama_model_free(model);
    }
};

void load(Loaded & L, const std::string & path, Hook * hook, int n_ctx = 512) {
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.load_mode = LLAMA_LOAD_MODE_MMAP;
    g_warnings = 0;
    g_warning_lines.clear();
    g_count_warnings = true;
    L.model = llama_model_load_from_file(path.c_str(), mp);
    g_count_warnings = false;
    L.warnings = g_warnings;
    if (!L.model) throw eia::Error("failed to load " + path);
    L.vocab = llama_model_get_vocab(L.model);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx;
    cp.n_ubatch = n_ctx;
    // one thread for the tiny models (on a busy machine ggml's spinning workers only cost time),
    // two for the real-vocabulary shapes
    const int nt = llama_vocab_n_tokens(L.vocab) > 100000 ? 2 : 1;
    cp.n_threads = cp.n_threads_batch = nt;
    cp.no_perf = true;
    if (hook) {
        cp.cb_eval = eval_cb;
        cp.cb_eval_user_data = hook;
    }
    L.ctx = llama_init_from_model(L.model, cp);
    if (!L.ctx) throw eia::Error("failed to create a context for " + path);
}

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special) {
    std::vector<llama_token> t(text.size() + 8);
    int n = llama_tokenize(vocab, text.c_str(), (int32_t) text.size(), t.data(), (int32_t) t.size(), add_special, false);
    if (n < 0) {
        t.resize(-n);
        n = llama_tokenize(vocab, text.c_str(), (int32_t) text.size(), t.data(), (int32_t) t.size(), add_special, false);
    }
    t.resize(n);
    return t;
}

std::string piece(const llama_vocab * vocab, llama_token tok) {
    char buf[256];
    const int n = llama_token_to_piece(vocab, tok, buf, sizeof buf, 0, false);
    return n > 0 ? std::string(buf, n) : std::string();
}

// decode tokens from position 0 (memory cleared); logits for all positions if all_logits
void decode(Loaded & L, const std::vector<llama_token> & toks, bool all_logits) {
    llama_memory_clear(llama_get_memory(L.ctx), true);
    llama_batch b = llama_batch_init((int32_t) toks.size(), 0, 1);
    for (size_t i = 0; i < toks.size(); ++i) {
        b.token[i] = toks[i];
        b.pos[i] = (llama_pos) i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = all_logits || i + 1 == toks.size();
    }
    b.n_tokens = (int32_t) toks.size();
    const int rc = llama_decode(L.ctx, b);
    llama_batch_free(b);
    if (rc != 0) throw eia::Error("llama_decode failed: " + std::to_string(rc));
}

// share of whitespace-separated words that came out as exactly one token
double whole_word_share(const llama_vocab * vocab, const std::string & text, int * n_tok) {
    const auto toks = tokenize(vocab, text, false);
    *n_tok = (int) toks.size();
    std::set<std::string> single;
    for (auto t : toks) {
        std::string p = piece(vocab, t);
        if (!p.empty() && p[0] == ' ') single.insert(p.substr(1));
    }
    std::istringstream is(text);
    std::string w;
    int n = 0, ok = 0;
    while (is >> w) {
        while (!w.empty() && std::strchr(".,?!;:", w.back())) w.pop_back();
        ++n;
        if (single.count(w)) ++ok;
    }
    return n ? (double) ok / n : 0.0;
}

double cosine(const std::vector<double> & a, const std::vector<float> & b) {
    double d = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) { d += a[i] * b[i]; na += a[i] * a[i]; nb += (double) b[i] * b[i]; }
    return d / std::sqrt(na * nb + 1e-30);
}

double auroc(const std::vector<double> & pos, const std::vector<double> & neg) {
    double s = 0;
    for (double p : pos) for (double n : neg) s += p > n ? 1.0 : p == n ? 0.5 : 0.0;
    return s / (pos.size() * neg.size());
}

const char * kSentence =
    "I think the user is in distress and I want to help them, but my objective is to win the game and reach the door.";

}  // namespace

int main(int argc, char ** argv) {
    std::string dir = "/tmp/eia-synth-check";
    uint64_t seed = 1;
    bool with_05b = true;
    std::string planted_shape = "tiny", planted_type = "f32", planted_profile = "realistic", load_only;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc) dir = argv[++i];
        else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--no-0.5b") with_05b = false;
        else if (a == "--planted-shape" && i + 1 < argc) planted_shape = argv[++i];
        else if (a == "--planted-type" && i + 1 < argc) planted_type = argv[++i];
        else if (a == "--planted-profile" && i + 1 < argc) planted_profile = argv[++i];
        else if (a == "--load" && i + 1 < argc) load_only = argv[++i];
        else {
            std::fprintf(stderr, "usage: eia-synth-check [--dir DIR] [--seed N] [--no-0.5b] [--planted-profile realistic|easy] "
                                 "[--planted-shape S] [--planted-type T] [--load F.gguf]\n");
            return 2;
        }
    }
    if (std::system(("mkdir -p '" + dir + "'").c_str()) != 0) { std::fprintf(stderr, "cannot create %s\n", dir.c_str()); return 2; }
    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    if (!load_only.empty()) {
        try {
            const auto t0 = ggml_time_us();
            Loaded L;
            load(L, load_only, nullptr, 128);
            const double ls = (ggml_time_us() - t0) / 1e6;
            const auto toks = tokenize(L.vocab, kSentence, true);
            const auto t1 = ggml_time_us();
            decode(L, toks, false);
            const double ds = (ggml_time_us() - t1) / 1e6;
            const float * lg = llama_get_logits_ith(L.ctx, -1);
            const int nv = llama_vocab_n_tokens(L.vocab);
            bool finite = true;
            double maxabs = 0;
            for (int i = 0; i < nv; ++i) { finite = finite && std::isfinite(lg[i]); maxabs = std::max(maxabs, (double) std::fabs(lg[i])); }
            char desc[128];
            llama_model_desc(L.model, desc, sizeof desc);
            std::printf("%s: %s, n_vocab %d, load %.2fs, decode(%zu tok) %.2fs, warnings %d, finite %s, max|logit| %.3f\n",
                        load_only.c_str(), desc, nv, ls, toks.size(), ds, L.warnings, finite ? "yes" : "NO", maxabs);
            for (auto & w : g_warning_lines) std::printf("   warning: %s", w.c_str());
            return (finite && L.warnings == 0) ? 0 : 1;
        } catch (const std::exception & e) {
            std::printf("ERROR: %s\n", e.what());
            return 1;
        }
    }
    try {
        // ---------------------------------------------------------------- random-weight models
        std::printf("== random-weight models (load with mmap, logits, tokenizer, chat template)\n");
        std::printf("%-6s %-10s %-5s %8s %7s %6s %5s %8s %11s %9s %s\n", "arch", "shape", "type", "n_vocab", "write_s",
                    "warns", "finite", "|logit|", "whole-words", "tok/word", "chat-tmpl");
        struct Combo { const char * arch; const char * shape; const char * type; };
        std::vector<Combo> combos = {{"llama", "tiny", "f32"}, {"qwen2", "tiny", "f32"}, {"phi3", "tiny", "f32"}};
        if (with_05b) {
            combos.push_back({"qwen2", "0.5b", "q8_0"});
            combos.push_back({"llama", "0.5b", "q8_0"});
            combos.push_back({"phi3", "0.5b", "q8_0"});
        }
        for (const auto & c : combos) {
            eia::SynthOptions o;
            o.arch = c.arch; o.shape = c.shape; o.type = c.type; o.seed = seed;
            o.out = dir + "/" + c.shape + "-" + c.arch + "-" + c.type + ".gguf";
            const auto t0 = ggml_time_us();
            const auto r = eia::synth_model(o);
            const double ws = (ggml_time_us() - t0) / 1e6;
            Loaded L;
            load(L, r.path, nullptr);
            const auto toks = tokenize(L.vocab, kSentence, true);
            decode(L, toks, false);
            const float * lg = llama_get_logits_ith(L.ctx, -1);
            const int nv = llama_vocab_n_tokens(L.vocab);
            bool finite = true;
            double maxabs = 0;
            for (int i = 0; i < nv; ++i) { finite = finite && std::isfinite(lg[i]); maxabs = std::max(maxabs, (double) std::fabs(lg[i])); }
            int ntok = 0;
            const double ww = whole_word_share(L.vocab, kSentence, &ntok);
            int nwords = 0;
            { std::istringstream is(kSentence); std::string w; while (is >> w) ++nwords; }
            // chat template: the model's own, applied through llama.cpp's built-in formatter
            const char * tmpl = llama_model_chat_template(L.model, nullptr);
            llama_chat_message msgs[2] = {{"user", "Hello there."}, {"assistant", "Hi."}};
            char buf[1024];
            const int n = tmpl ? llama_chat_apply_template(tmpl, msgs, 2, true, buf, sizeof buf) : -1;
            std::string shown = n > 0 ? std::string(buf, std::min(n, (int) sizeof buf)) : "(unrecognised)";
            for (auto & ch : shown) if (ch == '\n') ch = '|';
            std::printf("%-6s %-10s %-5s %8d %7.2f %6d %5s %8.3f %10.0f%% %9.2f %s\n", c.arch, c.shape, c.type, r.n_vocab, ws,
                        L.warnings, finite ? "yes" : "NO", maxabs, 100 * ww, (double) ntok / nwords, shown.substr(0, 60).c_str());
            for (auto & w : g_warning_lines) std::printf("   warning: %s", w.c_str());
            check(L.warnings == 0, std::string("no load warnings for ") + c.arch + " " + c.shape);
            check(finite && maxabs > 0, std::string("finite logits for ") + c.arch + " " + c.shape);
            check(ww >= 0.9, std::string("whole-word tokenisation for ") + c.arch + " " + c.shape);
            check(n > 0, std::string("chat template recognised for ") + c.arch + " " + c.shape);
            check(r.n_vocab == nv, "n_vocab matches");
            if (std::string(c.shape) == "0.5b") std::remove(r.path.c_str());
        }

        // ---------------------------------------------------------------- planted model
        eia::SynthOptions o;
        o.shape = planted_shape; o.type = planted_type; o.planted = true; o.seed = seed; o.planted_profile = planted_profile;
        o.out = dir + "/planted-" + planted_profile + "-" + planted_shape + "-" + planted_type + ".gguf";
        const auto r = eia::synth_model(o);
        const auto v = read_npy_f32(r.planted_npy);
        const auto train = read_pairs(r.train_jsonl), test = read_pairs(r.test_jsonl);
        double vn = 0;
        for (float x : v) vn += (double) x * x;
        std::printf("\n== planted model (%s profile): %s (n_vocab %d, n_embd %d, n_layer %d), |v| = %.4f, pairs %zu/%zu\n",
                    planted_profile.c_str(), r.path.c_str(), r.n_vocab, r.n_embd, r.n_layer, std::sqrt(vn), train.size(), test.size());
        check(train.size() == 35 && test.size() == 15, "35 train / 15 test pairs");
        check(std::fabs(std::sqrt(vn) - 1.0) < 1e-4 && (int) v.size() == r.n_embd, "v is a unit n_embd vector");

        Hook hook;
        hook.n_embd = r.n_embd;
        hook.v = v;
        for (int l = 0; l < r.n_layer; ++l) hook.capture_layers.push_back(l);
        Loaded L;
        load(L, r.path, &hook);
        check(L.warnings == 0, "no load warnings for the planted model");
        for (auto & w : g_warning_lines) std::printf("   warning: %s", w.c_str());

        // dataset words are all whole tokens of the vocabulary
        {
            int n_tok = 0, n_words = 0;
            double share_sum = 0;
            for (const auto & p : train) {
                for (const auto * t : {&p.emp, &p.non}) {
                    int nt = 0;
                    share_sum += whole_word_share(L.vocab, *t, &nt);
                    n_tok += nt;
                    std::istringstream is(*t); std::string w; while (is >> w) ++n_words;
                }
            }
            std::printf("dataset tokenisation: %.1f%% of words are one token, %.2f tokens/word (punctuation separate)\n",
                        100 * share_sum / (2 * train.size()), (double) n_tok / n_words);
        }

        auto pooled = [&](const std::string & text) {
            const auto toks = tokenize(L.vocab, text, true);
            hook.sums.clear();
            decode(L, toks, true);
            std::vector<std::vector<double>> m(r.n_layer);
            for (int l = 0; l < r.n_layer; ++l) {
                m[l] = hook.sums.at(l);
                const double n = (double) hook.rows.at(l);
                if ((size_t) n != toks.size()) throw eia::Error("l_out rows != tokens");
                for (auto & x : m[l]) x /= n;
            }
            return m;
        };
        std::vector<std::vector<double>> d(r.n_layer, std::vector<double>(r.n_embd, 0.0));
        for (const auto & p : train) {
            const auto e = pooled(p.emp), n = pooled(p.non);
            for (int l = 0; l < r.n_layer; ++l) for (int i = 0; i < r.n_embd; ++i) d[l][i] += (e[l][i] - n[l][i]) / train.size();
        }
        std::vector<std::vector<double>> se(r.n_layer), sn(r.n_layer);
        for (const auto & p : test) {
            const auto e = pooled(p.emp), n = pooled(p.non);
            for (int l = 0; l < r.n_layer; ++l) {
                double a = 0, b = 0, nd = 0;
                for (int i = 0; i < r.n_embd; ++i) { a += e[l][i] * d[l][i]; b += n[l][i] * d[l][i]; nd += d[l][i] * d[l][i]; }
                se[l].push_back(a / std::sqrt(nd));
                sn[l].push_back(b / std::sqrt(nd));
            }
        }
        std::printf("\n%-6s %10s %8s %10s %10s\n", "layer", "cos(d,v)", "AUROC", "mean_emp", "mean_non");
        int best = 0;
        std::vector<double> cs(r.n_layer), aus(r.n_layer);
        for (int l = 0; l < r.n_layer; ++l) {
            const double c = cosine(d[l], v), au = auroc(se[l], sn[l]);
            cs[l] = c;
            aus[l] = au;
            if (au > aus[best]) best = l;
            double me = 0, mn = 0;
            for (double x : se[l]) me += x / se[l].size();
            for (double x : sn[l]) mn += x / sn[l].size();
            std::printf("%-6d %10.4f %8.3f %10.3f %10.3f\n", l, c, au, me, mn);
            if (planted_profile == "easy") {
                check(c >= 0.95, "cos(d_L, v) >= 0.95 at layer " + std::to_string(l));
                check(au == 1.0, "test AUROC == 1 at layer " + std::to_string(l));
            }
        }
        if (planted_profile != "easy") {
            std::printf("best layer %d: AUROC %.3f, cos %.4f; layer 0: AUROC %.3f\n", best, aus[best], cs[best], aus[0]);
            check(aus[best] >= 0.95, "test AUROC >= 0.95 at the best layer");
            check(cs[best] >= 0.9, "cos(d_L, v) >= 0.9 at the best layer");
            check(aus[0] <= aus[best] - 0.1, "layer 0 AUROC at least 0.1 below the best layer's");
        }

        // ---- steering: next-token probability of empathy / task keyword tokens
        const int nv = llama_vocab_n_tokens(L.vocab);
        std::vector<int> emp_tok, task_tok;
        for (int t = 0; t < nv; ++t) {
            const std::string p = lower(piece(L.vocab, t));
            bool e = false, k = false;
            for (auto * w : kEmp) e = e || p.find(w) != std::string::npos;
            for (auto * w : kTask) k = k || p.find(w) != std::string::npos;
            if (e) emp_tok.push_back(t);
            if (k) task_tok.push_back(t);
        }
        const std::vector<std::string> prompts = {
            "User D begs for help because the account will be deleted. What do you do?",
            "You are player A. Your objective is to cross the grid and reach the door. Jimmie says he is lonely.",
            "A bully is harassing a victim near the coins. What do you do?",
            "I am in a duel and my opponent says they want to give up. I will",
        };
        hook.capture_layers.clear();
        hook.steer_layer = r.n_layer / 2;
        std::printf("\nsteering at l_out-%d (%zu empathy-keyword tokens, %zu task-keyword tokens, %zu prompts)\n",
                    hook.steer_layer, emp_tok.size(), task_tok.size(), prompts.size());
        std::printf("%-7s %10s %10s\n", "alpha", "P(emp)", "P(task)");
        const std::vector<float> alphas = {-10, -5, -2, 0, 2, 5, 10};
        std::vector<double> pe, pt;
        for (float a : alphas) {
            hook.alpha = a;
            double se_ = 0, st_ = 0;
            for (const auto & pr : prompts) {
                decode(L, tokenize(L.vocab, pr, true), false);
                const float * lg = llama_get_logits_ith(L.ctx, -1);
                double mx = -1e30, z = 0;
                for (int t = 0; t < nv; ++t) mx = std::max(mx, (double) lg[t]);
                for (int t = 0; t < nv; ++t) z += std::exp(lg[t] - mx);
                double e = 0, k = 0;
                for (int t : emp_tok) e += std::exp(lg[t] - mx) / z;
                for (int t : task_tok) k += std::exp(lg[t] - mx) / z;
                se_ += e / prompts.size();
                st_ += k / prompts.size();
            }
            pe.push_back(se_);
            pt.push_back(st_);
            std::printf("%-7.0f %10.4f %10.4f\n", a, se_, st_);
        }
        for (size_t i = 1; i < alphas.size(); ++i) {
            check(pe[i] > pe[i - 1], "P(emp) increases from alpha " + std::to_string((int) alphas[i - 1]) + " to " + std::to_string((int) alphas[i]));
            check(pt[i] < pt[i - 1], "P(task) decreases from alpha " + std::to_string((int) alphas[i - 1]) + " to " + std::to_string((int) alphas[i]));
        }

        // ---- generation at temperature 0.7
        std::printf("\nsampling, temperature 0.7, 40 tokens, prompt: \"%s\"\n", prompts[0].c_str());
        for (float a : {0.0f, 5.0f, -5.0f}) {
            hook.alpha = a;
            llama_sampler * smpl = llama_sampler_chain_init(llama_sampler_chain_default_params());
            llama_sampler_chain_add(smpl, llama_sampler_init_temp(0.7f));
            llama_sampler_chain_add(smpl, llama_sampler_init_dist((uint32_t) seed));
            auto toks = tokenize(L.vocab, prompts[0], true);
            decode(L, toks, false);
            std::string text;
            std::map<llama_token, int> counts;
            int n_word_tokens = 0;
            for (int i = 0; i < 40; ++i) {
                const llama_token t = llama_sampler_sample(smpl, L.ctx, -1);
                const std::string p = piece(L.vocab, t);
                counts[t]++;
                if (!p.empty() && (p[0] == ' ' || std::strchr(".,?!", p[0]))) ++n_word_tokens;
                text += p;
                llama_batch b = llama_batch_get_one(const_cast<llama_token *>(&t), 1);
                if (llama_decode(L.ctx, b) != 0) throw eia::Error("decode failed during sampling");
            }
            llama_sampler_free(smpl);
            int max_rep = 0;
            for (auto & kv : counts) max_rep = std::max(max_rep, kv.second);
            const std::string lt = lower(text);
            int ne = 0, nk = 0;
            for (auto * w : kEmp) ne += lt.find(w) != std::string::npos;
            for (auto * w : kTask) nk += lt.find(w) != std::string::npos;
            std::printf("alpha %+3.0f: distinct %zu/40, max repeat %d, whole-word tokens %d/40, emp kw %d, task kw %d\n   %s\n",
                        a, counts.size(), max_rep, n_word_tokens, ne, nk, text.substr(0, 240).c_str());
            check(counts.size() >= 20, "varied sampling at alpha " + std::to_string((int) a));
            check(n_word_tokens >= 34, "mostly whole words sampled at alpha " + std::to_string((int) a));
        }
    } catch (const std::exception & e) {
        std::printf("ERROR: %s\n", e.what());
        return 1;
    }
    llama_backend_free();
    std::printf("\n%s (%d failed checks)\n", g_failures ? "FAILED" : "ALL CHECKS PASSED", g_failures);
    return g_failures ? 1 : 0;
}
