#include "model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "error.h"
#include "gguf.h"
#include "ggml-backend.h"
#include "runtime.h"

namespace eia {

// A GPU device whose buffers are not host memory (CUDA, Vulkan; not Metal's unified memory): only
// there does a buffer's location tell where an op ran (placement.h).
static bool discrete_gpu_present() {
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t d = ggml_backend_dev_get(i);
        const auto t = ggml_backend_dev_type(d);
        if ((t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU) && !ggml_backend_buft_is_host(ggml_backend_dev_buffer_type(d)))
            return true;
    }
    return false;
}

// Checked before llama.cpp sees the path, so the common mistakes get plain messages.
static void precheck_file(const std::string & path) {
    if (path.empty()) fail("model path is empty");
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(Code::ModelLoad, "cannot open model file '" + path + "' (missing or unreadable)");
    char magic[4] = {0, 0, 0, 0};
    f.read(magic, 4);
    if (f.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0) fail(Code::ModelLoad, "'" + path + "' is not a GGUF file (bad magic)");
}

// Metadata that llama.cpp trusts and GGML_ASSERTs on (found by test/fuzz-gguf.test.ts): checked
// here, through ggml's own GGUF parser (metadata only, no tensor data), so that a hostile file is
// a JS error instead of an abort of the host process.
static void precheck_gguf(const std::string & path) {
    take_thread_log_errors();
    gguf_init_params gp = {/*no_alloc =*/ true, /*ctx =*/ nullptr};
    gguf_context * g = gguf_init_from_file(path.c_str(), gp);
    if (!g) {
        std::string why = take_thread_log_errors();
        fail(Code::ModelLoad, "failed to load model '" + path + "': " + (why.empty() ? "invalid GGUF" : why));
    }
    std::unique_ptr<gguf_context, void (*)(gguf_context *)> guard(g, gguf_free);
    const auto bad = [&](const std::string & what) { fail(Code::ModelLoad, "failed to load model '" + path + "': " + what); };
    // integer value(s) of a key: scalar or per-layer array of any integer type; other types are
    // left to llama.cpp (it rejects a wrongly typed key with an error of its own)
    const auto ints = [&](const std::string & key, std::vector<int64_t> & out) -> bool {
        out.clear();
        const int64_t id = gguf_find_key(g, key.c_str());
        if (id < 0) return false;
        gguf_type t = gguf_get_kv_type(g, id);
        const bool arr = t == GGUF_TYPE_ARRAY;
        if (arr) t = gguf_get_arr_type(g, id);
        const size_t n = arr ? gguf_get_arr_n(g, id) : 1;
        const void * d = arr ? gguf_get_arr_data(g, id) : gguf_get_val_data(g, id);
        for (size_t i = 0; i < n; i++) {
            switch (t) {
                case GGUF_TYPE_UINT8: out.push_back(((const uint8_t *) d)[i]); break;
                case GGUF_TYPE_INT8: out.push_back(((const int8_t *) d)[i]); break;
                case GGUF_TYPE_UINT16: out.push_back(((const uint16_t *) d)[i]); break;
                case GGUF_TYPE_INT16: out.push_back(((const int16_t *) d)[i]); break;
                case GGUF_TYPE_UINT32: out.push_back(((const uint32_t *) d)[i]); break;
                case GGUF_TYPE_INT32: out.push_back(((const int32_t *) d)[i]); break;
                case GGUF_TYPE_UINT64: out.push_back((int64_t) std::min<uint64_t>(((const uint64_t *) d)[i], INT64_MAX)); break;
                case GGUF_TYPE_INT64: out.push_back(((const int64_t *) d)[i]); break;
                default: return false;
            }
        }
        return true;
    };
    const int64_t arch_id = gguf_find_key(g, "general.architecture");
    if (arch_id >= 0 && gguf_get_kv_type(g, arch_id) == GGUF_TYPE_STRING) {
        const std::string arch = gguf_get_val_str(g, arch_id);
        std::vector<int64_t> v;
        if (ints(arch + ".block_count", v) && (v.size() != 1 || v[0] < 1 || v[0] > 512))
            bad(arch + ".block_count must be one integer in [1, 512]");
        // graph builders of these archs GGML_ASSERT head_dim_v == head_dim_k == n_rot (llama.cpp only
        // checks n_rot at load time for llama itself)
        static const std::unordered_set<std::string> kRotEqHead = {
            "apertus", "arcee", "arctic", "baichuan", "chameleon", "codeshell", "cogvlm", "cohere2moe", "dbrx", "deci",
            "deepseek", "dots1", "dream", "ernie4_5", "exaone", "exaone4", "exaone-moe", "falcon", "granite", "grok",
            "grovemoe", "hunyuan-moe", "internlm2", "jais2", "llada", "llada-moe", "llama", "llama4", "maincoder", "mellum",
            "minimax-01", "minimax-m2", "mistral3", "nemotron", "olmo", "olmo2", "olmoe", "orion", "plamo", "qwen2",
            "qwen2moe", "qwen2vl", "qwen3", "qwen3moe", "qwen3vl", "qwen3vlmoe", "rnd1", "seed_oss", "smallthinker",
            "smollm3", "starcoder2", "xverse"};
        std::vector<int64_t> embd, head, kl, vl, rot;
        if (ints(arch + ".embedding_length", embd) && ints(arch + ".attention.head_count", head) && embd.size() == 1 && !head.empty() &&
            head[0] > 0) {
            const int64_t hk = ints(arch + ".attention.key_length", kl) && kl.size() == 1 ? kl[0] : embd[0] / head[0];
            const int64_t hv = ints(arch + ".attention.value_length", vl) && vl.size() == 1 ? vl[0] : embd[0] / head[0];
            const bool eq = kRotEqHead.count(arch) > 0;
            if ((eq || arch == "phi3") && hk != hv)
                bad("attention key length " + std::to_string(hk) + " != value length " + std::to_string(hv) + " (" + arch + " needs them equal)");
            if (ints(arch + ".rope.dimension_count", rot)) {
                if (eq && (rot.size() != 1 || rot[0] != hk)) bad(arch + ".rope.dimension_count must equal the head size " + std::to_string(hk));
                // ggml's rope asserts n_dims even and <= the head size (and runs for ages on 0 / huge values)
                if (rot.size() != 1 || rot[0] <= 0 || rot[0] % 2 != 0 || rot[0] > hk)
                    bad(arch + ".rope.dimension_count must be one even number in [2, head size " + std::to_string(hk) + "]");
            }
        }
        for (const char * eps : {".attention.layer_norm_rms_epsilon", ".attention.layer_norm_epsilon"}) {
            const int64_t id = gguf_find_key(g, (arch + eps).c_str());
            if (id >= 0 && gguf_get_kv_type(g, id) == GGUF_TYPE_FLOAT32) {
                const float e = gguf_get_val_f32(g, id);
                if (!std::isfinite(e) || e < 0) bad(arch + eps + " must be a finite number >= 0");
            }
        }
    }
    // llama.cpp asserts that token strings are unique (id_to_token vs token_to_id), as it stores
    // them: an empty string becomes "[EMPTY_<id>]", and a 'no_vocab'/'none' tokenizer reads no
    // strings at all (llama.cpp's own test models list 128 empty ones)
    const int64_t tok_model = gguf_find_key(g, "tokenizer.ggml.model");
    const std::string tokenizer = tok_model >= 0 && gguf_get_kv_type(g, tok_model) == GGUF_TYPE_STRING ? gguf_get_val_str(g, tok_model) : "";
    const int64_t tok_id = gguf_find_key(g, "tokenizer.ggml.tokens");
    if (tokenizer != "no_vocab" && tokenizer != "none" && tok_id >= 0 && gguf_get_kv_type(g, tok_id) == GGUF_TYPE_ARRAY &&
        gguf_get_arr_type(g, tok_id) == GGUF_TYPE_STRING) {
        const size_t n = gguf_get_arr_n(g, tok_id);
        std::unordered_set<std::string> seen;
        seen.reserve(n);
        for (size_t i = 0; i < n; i++) {
            std::string word = gguf_get_arr_str(g, tok_id, i);
            if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]";
            if (!seen.emplace(std::move(word)).second)
                bad("tokenizer.ggml.tokens has a duplicate token string at id " + std::to_string(i));
        }
    }
}

static const char * vocab_type_name(enum llama_vocab_type t) {
    switch (t) {
        case LLAMA_VOCAB_TYPE_SPM: return "spm";
        case LLAMA_VOCAB_TYPE_BPE: return "bpe";
        case LLAMA_VOCAB_TYPE_WPM: return "wpm";
        case LLAMA_VOCAB_TYPE_UGM: return "ugm";
        case LLAMA_VOCAB_TYPE_RWKV: return "rwkv";
        case LLAMA_VOCAB_TYPE_PLAMO2: return "plamo2";
        default: return "none";
    }
}

// The longest piece of any token, special tokens rendered as their text (one pass over the vocabulary).
static int max_token_bytes(const llama_vocab * vocab, int n_vocab) {
    int best = 0;
    char buf[256];
    for (llama_token t = 0; t < n_vocab; t++) {
        const int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, true);
        best = std::max(best, n < 0 ? -n : n);  // negative: the piece's length when it is longer than buf
    }
    return best;
}

std::shared_ptr<Model> Model::load(const std::string & path, const ModelParams & params) {
    ensure_backend();
    precheck_file(path);
    precheck_gguf(path);
    take_thread_log_errors();
    auto mp = llama_model_default_params();
    mp.n_gpu_layers = params.n_gpu_layers < 0 ? 999 : params.n_gpu_layers;
    if (!params.use_mmap) mp.load_mode = LLAMA_LOAD_MODE_NONE;  // default (auto) maps the file
    mp.vocab_only = params.vocab_only;
    llama_model * m = llama_model_load_from_file(path.c_str(), mp);
    if (!m) {
        std::string why = take_thread_log_errors();
        fail(Code::ModelLoad, "failed to load model '" + path + "'" + (why.empty() ? "" : ": " + why));
    }
    std::shared_ptr<Model> self(new Model());
    self->model_ = m;
    self->vocab_ = llama_model_get_vocab(m);
    ModelInfo & i = self->info_;
    i.path = path;
    i.arch = self->meta("general.architecture");
    i.name = self->meta("general.name");
    char buf[256];
    llama_model_desc(m, buf, sizeof buf);
    i.desc = buf;
    const char * tmpl = llama_model_chat_template(m, nullptr);
    i.chat_template = tmpl ? tmpl : "";
    i.n_layer = llama_model_n_layer(m);
    i.n_embd = llama_model_n_embd(m);
    i.n_vocab = llama_vocab_n_tokens(self->vocab_);
    i.has_vocab = llama_vocab_type(self->vocab_) != LLAMA_VOCAB_TYPE_NONE;
    i.recurrent = llama_model_is_recurrent(m);
    i.hybrid = llama_model_is_hybrid(m);
    i.diffusion = llama_model_is_diffusion(m);
    i.n_ctx_train = llama_model_n_ctx_train(m);
    i.n_head = params.vocab_only ? 0 : llama_model_n_head(m);  // vocab-only: no layers (llama.cpp aborts on n_head)
    i.n_head_kv = params.vocab_only ? 0 : llama_model_n_head_kv(m);
    i.bos = llama_vocab_bos(self->vocab_);
    i.eos = llama_vocab_eos(self->vocab_);
    i.add_bos = llama_vocab_get_add_bos(self->vocab_);
    i.n_params = llama_model_n_params(m);
    i.size_bytes = llama_model_size(m);
    i.offloaded = !params.vocab_only && mp.n_gpu_layers > 0 && runtime_info().has_gpu;
    if ((!params.vocab_only && (i.n_layer <= 0 || i.n_embd <= 0)) || i.n_vocab <= 0) fail(Code::ModelLoad, "model '" + path + "' has no usable layers/vocabulary");
    if (i.offloaded && params.n_gpu_layers < 0 && discrete_gpu_present()) {
        // "every layer" was asked for: measure where they run instead of trusting the request
        i.placement = probe_placement(m, i.n_layer);
        i.offloaded = !i.placement.device.empty();
    }
    // any CPU-type Vulkan device in use counts (llama.cpp splits the layers over every GPU device)
    i.cpu_vulkan = i.offloaded && runtime_info().has_cpu_vulkan;
    i.vocab_type = vocab_type_name(llama_vocab_type(self->vocab_));
    // token strings and attributes exist only with a vocabulary (llama.cpp asserts on a no_vocab model's):
    // without one no text is tokenised, so there is no size bound to give (max_token_bytes 0)
    if (i.has_vocab) {
        i.max_token_bytes = max_token_bytes(self->vocab_, i.n_vocab);
        for (llama_token t = 0; t < i.n_vocab && !i.strips_whitespace; t++)
            i.strips_whitespace = (llama_vocab_get_attr(self->vocab_, t) & (LLAMA_TOKEN_ATTR_LSTRIP | LLAMA_TOKEN_ATTR_RSTRIP)) != 0;
    }
    return self;
}

Model::~Model() {
    if (model_) llama_model_free(model_);
}

std::string Model::meta(const std::string & key) const {
    char buf[512];
    int n = llama_model_meta_val_str(model_, key.c_str(), buf, sizeof buf);
    if (n < 0) return "";
    if ((size_t) n >= sizeof buf) {
        std::string big(n + 1, '\0');
        llama_model_meta_val_str(model_, key.c_str(), big.data(), (size_t) n + 1);
        big.resize(n);
        return big;
    }
    return std::string(buf, n);
}

std::vector<llama_token> Model::tokenize(const std::string & text, bool add_special, bool parse_special) const {
    // llama.cpp aborts on text for a model without a tokenizer
    if (!info_.has_vocab)
        fail(Code::UnsupportedModel, "this " + info_.arch + " model has no tokenizer (tokenizer.ggml.model 'no_vocab'): it takes token ids, not text");
    if (text.size() > (size_t) INT32_MAX / 2) fail("text too long to tokenize");
    std::vector<llama_token> out(text.size() + 8);
    int n = llama_tokenize(vocab_, text.data(), (int32_t) text.size(), out.data(), (int32_t) out.size(), add_special, parse_special);
    if (n == INT32_MIN) fail("tokenization overflow");
    if (n < 0) {
        out.resize(-n);
        n = llama_tokenize(vocab_, text.data(), (int32_t) text.size(), out.data(), (int32_t) out.size(), add_special, parse_special);
        if (n < 0) fail("tokenization failed");
    }
    out.resize(n);
    return out;
}

void Model::check_token(llama_token token) const {
    if (token < 0 || token >= info_.n_vocab)
        fail("token id " + std::to_string(token) + " out of range [0, " + std::to_string(info_.n_vocab) + ")");
}

std::string Model::token_piece(llama_token token, bool special) const {
    check_token(token);
    if (!info_.has_vocab) return "";  // no token strings (llama.cpp asserts on their attributes)
    char buf[256];
    int n = llama_token_to_piece(vocab_, token, buf, sizeof buf, 0, special);
    if (n < 0) {
        std::string big(-n, '\0');
        n = llama_token_to_piece(vocab_, token, big.data(), (int32_t) big.size(), 0, special);
        return n < 0 ? std::string() : big.substr(0, n);
    }
    return std::string(buf, n);
}

std::string Model::detokenize(const std::vector<llama_token> & tokens, bool remove_special, bool unparse_special) const {
    for (auto t : tokens) check_token(t);
    if (tokens.empty()) return "";
    std::string out(tokens.size() * 8 + 16, '\0');
    int n = llama_detokenize(vocab_, tokens.data(), (int32_t) tokens.size(), out.data(), (int32_t) out.size(), remove_special, unparse_special);
    if (n < 0) {
        out.resize(-n);
        n = llama_detokenize(vocab_, tokens.data(), (int32_t) tokens.size(), out.data(), (int32_t) out.size(), remove_special, unparse_special);
        if (n < 0) fail("detokenization failed");
    }
    out.resize(n);
    return out;
}

std::string Model::apply_chat_template(const std::vector<std::pair<std::string, std::string>> & messages, bool add_assistant,
                                       const std::string & tmpl) const {
    const std::string & t = tmpl.empty() ? info_.chat_template : tmpl;
    if (t.empty()) fail("the model has no chat template; pass one explicitly");
    if (messages.empty()) fail("chat template needs at least one message");
    std::vector<llama_chat_message> msgs;
    size_t total = 0;
    for (auto & m : messages) {
        msgs.push_back({m.first.c_str(), m.second.c_str()});
        total += m.first.size() + m.second.size();
    }
    std::string buf(total * 2 + 512, '\0');
    int n = llama_chat_apply_template(t.c_str(), msgs.data(), msgs.size(), add_assistant, buf.data(), (int32_t) buf.size());
    if (n < 0) fail("chat template not supported by llama.cpp: " + t.substr(0, 80));
    if ((size_t) n > buf.size()) {
        buf.resize(n);
        n = llama_chat_apply_template(t.c_str(), msgs.data(), msgs.size(), add_assistant, buf.data(), (int32_t) buf.size());
    }
    buf.resize(n);
    return buf;
}

}  // namespace eia
