// eia-synth: write a synthetic GGUF model (see native/synth/synth.h).
//   eia-synth --arch A --shape S [--type f32|f16|q8_0] [--seed N] [--planted [--planted-profile realistic|easy]] --out F.gguf
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "error.h"
#include "synth.h"

static void usage(FILE * f) {
    std::string shapes;
    for (const auto & s : eia::synth_shapes()) shapes += (shapes.empty() ? "" : "|") + s;
    std::fprintf(f,
                 "usage: eia-synth [--arch llama|qwen2|phi3] [--shape %s] [--type f32|f16|q8_0]\n"
                 "                 [--seed N] [--planted [--planted-profile realistic|easy]] --out F.gguf\n",
                 shapes.c_str());
}

int main(int argc, char ** argv) {
    eia::SynthOptions opt;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw eia::Error("missing value after " + a);
                return argv[++i];
            };
            if (a == "--arch") opt.arch = value();
            else if (a == "--shape") opt.shape = value();
            else if (a == "--type") opt.type = value();
            else if (a == "--out" || a == "-o") opt.out = value();
            else if (a == "--planted") opt.planted = true;
            else if (a == "--planted-profile") opt.planted_profile = value();
            else if (a == "--seed") {
                const std::string v = value();
                char * end = nullptr;
                errno = 0;
                const unsigned long long s = std::strtoull(v.c_str(), &end, 10);
                if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') throw eia::Error("bad --seed '" + v + "'");
                opt.seed = s;
            } else if (a == "-h" || a == "--help") {
                usage(stdout);
                return 0;
            } else {
                throw eia::Error("unknown argument '" + a + "'");
            }
        }
        const auto t0 = std::chrono::steady_clock::now();
        const eia::SynthResult r = eia::synth_model(opt);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("{\"path\": \"%s\", \"arch\": \"%s\", \"shape\": \"%s\", \"type\": \"%s\", \"n_layer\": %d, "
                    "\"n_embd\": %d, \"n_vocab\": %d, \"n_head\": %d, \"n_head_kv\": %d, \"n_ff\": %d, "
                    "\"n_ctx_train\": %d, \"seconds\": %.2f",
                    r.path.c_str(), r.arch.c_str(), r.shape.c_str(), r.type.c_str(), r.n_layer, r.n_embd, r.n_vocab,
                    r.n_head, r.n_head_kv, r.n_ff, r.n_ctx_train, secs);
        if (!r.planted_npy.empty()) {
            std::printf(", \"planted_profile\": \"%s\", \"planted_npy\": \"%s\", \"train_jsonl\": \"%s\", \"test_jsonl\": \"%s\"",
                        r.planted_profile.c_str(), r.planted_npy.c_str(), r.train_jsonl.c_str(), r.test_jsonl.c_str());
            if (!r.ablated_jsonl.empty()) {
                std::printf(", \"ablated_jsonl\": \"%s\", \"ablation_replacements\": %.2f", r.ablated_jsonl.c_str(), r.ablation_replacements);
            }
        }
        std::printf("}\n");
        return 0;
    } catch (const std::exception & e) {
        const std::string msg = e.what();
        std::fprintf(stderr, "%s%s\n", msg.rfind("eia-synth:", 0) == 0 ? "" : "eia-synth: ", msg.c_str());
        usage(stderr);
        return 1;
    }
}
