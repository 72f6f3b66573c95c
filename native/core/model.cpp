#include "model.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "error.h"
#include "runtime.h"

namespace eia {

// Checked before llama.cpp sees the path, so the common mistakes get plain messages.
static void precheck_file(const std::string & path) {
    if (path.empty()) fail("model path is empty");
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("cannot open model file '" + path + "' (missing or unreadable)");
    char magic[4] = {0, 0, 0, 0};
    f.read(magic, 4);
    if (f.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0) fail("'" + path + "' is not a GGUF file (bad magic)");
}

std::shared_ptr<Model> Model::load(const std::string & path, const ModelParams & params) {
    ensure_backend();
    precheck_file(path);
    take_thread_log_errors();
    auto mp = llama_model_default_params();
    mp.n_gpu_layers = params.n_gpu_layers < 0 ? 999 : params.n_gpu_layers;
    if (!params.use_mmap) mp.load_mode = LLAMA_LOAD_MODE_NONE;  // default (auto) maps the file
    mp.vocab_only = params.vocab_only;
    llama_model * m = llama_model_load_from_file(path.c_str(), mp);
    if (!m) {
        std::string why = take_thread_log_errors();
        fail("failed to load model '" + path + "'" + (why.empty() ? "" : ": " + why));
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
    i.n_ctx_train = llama_model_n_ctx_train(m);
    i.n_head = llama_model_n_head(m);
    i.n_head_kv = llama_model_n_head_kv(m);
    i.bos = llama_vocab_bos(self->vocab_);
    i.eos = llama_vocab_eos(self->vocab_);
    i.add_bos = llama_vocab_get_add_bos(self->vocab_);
    i.n_params = llama_model_n_params(m);
    i.size_bytes = llama_model_size(m);
    if (i.n_layer <= 0 || i.n_embd <= 0 || i.n_vocab <= 0) fail("model '" + path + "' has no usable layers/vocabulary");
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
