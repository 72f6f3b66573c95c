// synth_model: validates the options, builds the vocabulary and the tensor plans (random weights at
// a shape, or the planted model of planted.cpp), writes the metadata and streams the tensors
// (gguf_writer.cpp), then the planted model's side files. See synth.h.
#include "synth.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "error.h"
#include "ggml.h"
#include "gguf.h"
#include "gguf_writer.h"
#include "pairs.h"
#include "planted.h"
#include "shapes.h"
#include "vocab.h"

namespace eia {

namespace {

using namespace eia::synth;

std::string join(const std::vector<std::string> & v, const char * sep) {
    std::string r;
    for (size_t i = 0; i < v.size(); ++i) { if (i) r += sep; r += v[i]; }
    return r;
}

// Random weights (sigma 0.02, norms 1) in the arch's own tensor layout.
std::vector<TensorPlan> random_tensors(const std::string & arch, const Shape & shape, int64_t n_vocab, int64_t n_q,
                                       int64_t n_kv, bool tied, ggml_type wtype) {
    const int n_embd = shape.n_embd, n_ff = shape.n_ff;
    auto mat = [&](const std::string & name, int64_t ne0, int64_t ne1) { return matrix_plan(name, ne0, ne1, 0.02f, wtype); };
    std::vector<TensorPlan> plans;
    plans.push_back(mat("token_embd.weight", n_embd, n_vocab));
    for (int i = 0; i < shape.n_layer; ++i) {
        plans.push_back(vector_plan(block_tensor(i, "attn_norm.weight"), n_embd, I_CONST, 1.0f));
        if (arch == "phi3") {
            plans.push_back(mat(block_tensor(i, "attn_qkv.weight"), n_embd, n_q + 2 * n_kv));
        } else {
            plans.push_back(mat(block_tensor(i, "attn_q.weight"), n_embd, n_q));
            plans.push_back(mat(block_tensor(i, "attn_k.weight"), n_embd, n_kv));
            plans.push_back(mat(block_tensor(i, "attn_v.weight"), n_embd, n_kv));
            if (arch == "qwen2") {
                plans.push_back(vector_plan(block_tensor(i, "attn_q.bias"), n_q, I_NORMAL, 0.01f));
                plans.push_back(vector_plan(block_tensor(i, "attn_k.bias"), n_kv, I_NORMAL, 0.01f));
                plans.push_back(vector_plan(block_tensor(i, "attn_v.bias"), n_kv, I_NORMAL, 0.01f));
            }
        }
        plans.push_back(mat(block_tensor(i, "attn_output.weight"), n_q, n_embd));
        plans.push_back(vector_plan(block_tensor(i, "ffn_norm.weight"), n_embd, I_CONST, 1.0f));
        if (arch == "phi3") {
            plans.push_back(mat(block_tensor(i, "ffn_up.weight"), n_embd, 2 * (int64_t) n_ff));
        } else {
            plans.push_back(mat(block_tensor(i, "ffn_gate.weight"), n_embd, n_ff));
            plans.push_back(mat(block_tensor(i, "ffn_up.weight"), n_embd, n_ff));
        }
        plans.push_back(mat(block_tensor(i, "ffn_down.weight"), n_ff, n_embd));
    }
    plans.push_back(vector_plan("output_norm.weight", n_embd, I_CONST, 1.0f));
    if (!tied) plans.push_back(mat("output.weight", n_embd, n_vocab));
    return plans;
}

}  // namespace

std::vector<std::string> synth_shapes() { return shape_names(); }

SynthResult synth_model(const SynthOptions & opt) {
    // ---- validate
    const Shape * shape = find_shape(opt.shape);
    if (!shape) fail("eia-synth: unknown shape '" + opt.shape + "' (expected one of: " + join(synth_shapes(), ", ") + ")");
    if (!opt.arch.empty() && opt.arch != "llama" && opt.arch != "qwen2" && opt.arch != "phi3") {
        fail("eia-synth: unknown arch '" + opt.arch + "' (expected llama, qwen2 or phi3)");
    }
    ggml_type wtype;
    if (opt.type == "f32") wtype = GGML_TYPE_F32;
    else if (opt.type == "f16") wtype = GGML_TYPE_F16;
    else if (opt.type == "q8_0") wtype = GGML_TYPE_Q8_0;
    else fail("eia-synth: unknown type '" + opt.type + "' (expected f32, f16 or q8_0)");
    if (opt.out.empty()) fail("eia-synth: empty output path");
    {
        std::error_code ec;
        if (opt.out.back() == '/' || std::filesystem::is_directory(opt.out, ec)) {
            fail("eia-synth: output path '" + opt.out + "' names a directory");
        }
    }
    if (opt.planted_profile != "realistic" && opt.planted_profile != "easy") {
        fail("eia-synth: unknown planted profile '" + opt.planted_profile + "' (expected realistic or easy)");
    }
    const bool realistic = opt.planted && opt.planted_profile == "realistic";
    if (realistic && shape->n_layer < kAmpBlocks + 2) {
        fail("eia-synth: the realistic planted profile needs at least " + std::to_string(kAmpBlocks + 2) + " blocks");
    }
    {   // output directory must exist and be writable: probe with the temp file itself
        const std::string probe = opt.out + ".tmp";
        FILE * f = std::fopen(probe.c_str(), "wb");
        if (!f) {
            fail(Code::IO, "eia-synth: cannot write '" + probe + "': " + std::strerror(errno) +
                 " (the output directory must exist and be writable)");
        }
        std::fclose(f);
        std::remove(probe.c_str());
    }

    // a planted model is llama unless another arch is asked for (its default does not follow the shape)
    const std::string arch = opt.planted ? (opt.arch.empty() ? "llama" : opt.arch) : (opt.arch.empty() ? shape->arch : opt.arch);
    const int n_layer = shape->n_layer, n_embd = shape->n_embd, n_head = shape->n_head, n_head_kv = shape->n_head_kv;
    const int head_dim = n_embd / n_head;
    const int64_t n_q = (int64_t) head_dim * n_head, n_kv = (int64_t) head_dim * n_head_kv;
    const bool tied = opt.planted ? true : shape->tied;

    const Vocab V = build_vocab(arch, opt.planted, shape->n_vocab, realistic);
    const int64_t n_vocab = (int64_t) V.size();

    SynthResult res{};
    res.path = opt.out;
    res.arch = arch;
    res.shape = shape->name;
    res.type = opt.type;
    res.n_layer = n_layer;
    res.n_embd = n_embd;
    res.n_vocab = (int) n_vocab;
    res.n_head = n_head;
    res.n_head_kv = n_head_kv;
    res.n_ff = shape->n_ff;
    res.n_ctx_train = shape->n_ctx;

    // ---- tensors
    std::vector<TensorPlan> plans;
    std::vector<float> planted_v;
    if (opt.planted) {
        PlantedTensors p = planted_tensors(V, arch, n_embd, n_layer, n_q, n_kv, head_dim, shape->n_ff, wtype, opt.seed,
                                           realistic ? PlantedProfile::Realistic : PlantedProfile::Easy);
        plans = std::move(p.plans);
        planted_v = std::move(p.v);
    } else {
        plans = random_tensors(arch, *shape, n_vocab, n_q, n_kv, tied, wtype);
    }

    // ---- metadata
    auto set_kv = [&](gguf_context * g) {
        const std::string a = arch;
        auto k = [&](const char * s) { return a + "." + s; };
        gguf_set_val_str(g, "general.architecture", a.c_str());
        const std::string name = std::string("eia-synth ") + (opt.planted ? (realistic ? "planted-realistic " : "planted ") : "") +
                                 shape->name + " " + a;
        gguf_set_val_str(g, "general.name", name.c_str());
        gguf_set_val_u32(g, "general.file_type", wtype == GGML_TYPE_F32 ? 0u : wtype == GGML_TYPE_F16 ? 1u : 7u);
        gguf_set_val_u32(g, "general.quantization_version", GGML_QNT_VERSION);
        gguf_set_val_u64(g, "general.seed", opt.seed);
        gguf_set_val_u32(g, k("vocab_size").c_str(), (uint32_t) n_vocab);
        gguf_set_val_u32(g, k("context_length").c_str(), (uint32_t) shape->n_ctx);
        gguf_set_val_u32(g, k("embedding_length").c_str(), (uint32_t) n_embd);
        gguf_set_val_u32(g, k("block_count").c_str(), (uint32_t) n_layer);
        gguf_set_val_u32(g, k("feed_forward_length").c_str(), (uint32_t) shape->n_ff);
        gguf_set_val_u32(g, k("attention.head_count").c_str(), (uint32_t) n_head);
        gguf_set_val_u32(g, k("attention.head_count_kv").c_str(), (uint32_t) n_head_kv);
        gguf_set_val_f32(g, k("attention.layer_norm_rms_epsilon").c_str(), shape->rms_eps);
        gguf_set_val_f32(g, k("rope.freq_base").c_str(), shape->rope_theta);
        gguf_set_val_u32(g, k("rope.dimension_count").c_str(), (uint32_t) head_dim);

        gguf_set_val_str(g, "tokenizer.ggml.model", "llama");
        std::vector<const char *> toks(V.size());
        for (size_t i = 0; i < V.size(); ++i) toks[i] = V.text[i].c_str();
        gguf_set_arr_str(g, "tokenizer.ggml.tokens", toks.data(), toks.size());
        gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, V.score.data(), V.score.size());
        gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, V.type.data(), V.type.size());
        gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", 1);
        gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", 2);
        gguf_set_val_u32(g, "tokenizer.ggml.unknown_token_id", 0);
        gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", true);
        gguf_set_val_bool(g, "tokenizer.ggml.add_eos_token", false);
        gguf_set_val_bool(g, "tokenizer.ggml.add_space_prefix", true);
        const std::string tmpl = chat_template(a);
        gguf_set_val_str(g, "tokenizer.chat_template", tmpl.c_str());
    };

    FileGuard guard;
    ggml_quantize_init(wtype);
    write_gguf(opt.out, set_kv, plans, opt.seed, guard);
    guard.paths.push_back(opt.out);   // remove the model too if the side files fail

    if (opt.planted) {
        std::string F = opt.out;
        if (F.size() > 5 && F.compare(F.size() - 5, 5, ".gguf") == 0) F.resize(F.size() - 5);
        res.planted_npy = F + ".planted.npy";
        res.train_jsonl = F + ".train.jsonl";
        res.test_jsonl = F + ".test.jsonl";
        res.planted_profile = opt.planted_profile;
        const auto pairs = realistic ? realistic_pairs(opt.seed) : planted_pairs(opt.seed);
        write_text_atomic(res.planted_npy, npy_f32_1d(planted_v), guard);
        write_text_atomic(res.train_jsonl, pairs_jsonl(pairs, 0, 35), guard);
        write_text_atomic(res.test_jsonl, pairs_jsonl(pairs, 35, 50), guard);
        if (realistic) {
            res.ablated_jsonl = F + ".ablated.jsonl";
            const std::vector<Pair> test(pairs.begin() + 35, pairs.end());
            const auto ablated = ablate_pairs(test, opt.seed, &res.ablation_replacements);
            std::string lines = pairs_jsonl(ablated, 0, ablated.size(), 35);
            write_text_atomic(res.ablated_jsonl, lines, guard);
        }
    }
    guard.armed = false;
    return res;
}

}  // namespace eia
