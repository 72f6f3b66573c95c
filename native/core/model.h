// Model: a loaded GGUF (weights + vocabulary) and everything that needs only the model:
// info, tokenisation, chat templates. Shared by contexts through shared_ptr so that freeing the
// JS handle while a context still runs cannot pull the weights away under it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "llama.h"
#include "placement.h"

namespace eia {

struct ModelParams {
    int n_gpu_layers = 0;  // -1 = all
    bool use_mmap = true;
    bool vocab_only = false;
};

struct ModelInfo {
    std::string path, arch, desc, chat_template, name;
    int n_layer = 0, n_embd = 0, n_vocab = 0, n_ctx_train = 0, n_head = 0, n_head_kv = 0;
    int bos = -1, eos = -1;
    bool add_bos = false;
    bool has_vocab = true;   // false: tokenizer 'no_vocab' (token ids only; no text in or out)
    bool recurrent = false, hybrid = false, diffusion = false;  // llama.cpp's model kinds (diffusion: non-causal attention)
    bool offloaded = false;  // some layers run on a GPU device
    // offloaded while a CPU-type Vulkan device (Mesa's lavapipe) is in use: see vulkan_probe.h
    bool cpu_vulkan = false;
    // all layers asked for (gpu layers -1) on a GPU with its own memory: where they really run
    Placement placement;
    uint64_t n_params = 0, size_bytes = 0;
    // The tokenizer ("spm", "bpe", "wpm", "ugm", "rwkv", "plamo2", "none") and the longest text one
    // token stands for (special tokens' text included): a text of B bytes is at least B / max_token_bytes
    // tokens for the tokenizers that neither drop nor fold input bytes (spm, bpe), so a caller can
    // refuse a text that cannot fit a context before tokenising it.
    std::string vocab_type;
    int max_token_bytes = 0;
    // Some token drops the ASCII whitespace beside it (an lstrip/rstrip attribute, e.g. Phi-3's special
    // tokens): only then can a text become fewer tokens than its bytes over max_token_bytes.
    bool strips_whitespace = false;
};

class Model {
public:
    static std::shared_ptr<Model> load(const std::string & path, const ModelParams & params);
    ~Model();
    Model(const Model &) = delete;
    Model & operator=(const Model &) = delete;

    llama_model * raw() const { return model_; }
    const llama_vocab * vocab() const { return vocab_; }
    const ModelInfo & info() const { return info_; }
    int n_layer() const { return info_.n_layer; }
    int n_embd() const { return info_.n_embd; }

    std::vector<llama_token> tokenize(const std::string & text, bool add_special, bool parse_special) const;
    std::string detokenize(const std::vector<llama_token> & tokens, bool remove_special, bool unparse_special) const;
    std::string token_piece(llama_token token, bool special = false) const;
    bool is_eog(llama_token token) const { return llama_vocab_is_eog(vocab_, token); }
    void check_token(llama_token token) const;
    // messages: (role, content). tmpl empty = the model's own template.
    std::string apply_chat_template(const std::vector<std::pair<std::string, std::string>> & messages,
                                    bool add_assistant, const std::string & tmpl) const;
    std::string meta(const std::string & key) const;  // "" when absent

private:
    Model() = default;
    llama_model * model_ = nullptr;
    const llama_vocab * vocab_ = nullptr;
    ModelInfo info_;
};

}  // namespace eia
