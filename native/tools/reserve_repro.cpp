// eia-reserve-repro: the llvmpipe crash of issue 22 with llama.cpp alone (no eia-native engine code):
// a scheduler re-reserve after a decode on a Vulkan device. docs/device-path.md has the table these
// modes give on Mesa 22.3 lavapipe; run it again to see whether a newer Mesa or llama.cpp still
// needs the engine's workaround (host sampling and fresh-context control vectors there).
//
//   EIA_GPU=vulkan GGML_VK_VISIBLE_DEVICES=0 eia-reserve-repro MODEL.gguf MODE [N_TOKENS]
// MODE, what happens after the prompt's decode and before the next ones (greedy, one sequence):
//   none      nothing (host argmax)              params    sampler given at context creation
//   before    llama_set_sampler before decoding  late      llama_set_sampler after the first decode
//   reattach  attached before, detached and a clone attached after the first decode
//   cvec      llama_set_adapter_cvec (zeros)     causal    llama_set_causal_attn(false), (true)
//   recreate  a new context (llama_free + llama_init_from_model), then the prompt again
// Prints the token ids; a crash (exit 134/139) is the defect. (load_backends.cpp loads the backends.)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "llama.h"

static llama_token argmax(llama_context * ctx, int i, int n_vocab) {
    const float * lg = llama_get_logits_ith(ctx, i);
    int best = 0;
    for (int t = 1; t < n_vocab; t++)
        if (lg[t] > lg[best]) best = t;
    return best;
}

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: eia-reserve-repro MODEL.gguf none|params|before|late|reattach|cvec|causal|recreate [N_TOKENS]\n");
        return 2;
    }
    const std::string mode = argv[2];
    const int n_gen = argc > 3 ? std::atoi(argv[3]) : 8;
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    auto mp = llama_model_default_params();
    mp.n_gpu_layers = 999;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { std::fprintf(stderr, "cannot load %s\n", argv[1]); return 2; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    llama_sampler * chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    llama_sampler * clone = nullptr;
    llama_sampler_seq_config cfg{0, chain};
    auto cp = llama_context_default_params();
    cp.n_ctx = 256; cp.n_batch = cp.n_ubatch = 256; cp.n_seq_max = 2; cp.kv_unified = true;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.n_threads = cp.n_threads_batch = 2;
    if (mode == "params") { cp.samplers = &cfg; cp.n_samplers = 1; }
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "cannot create a context\n"); return 2; }
    if (mode == "before" || mode == "reattach") llama_set_sampler(ctx, 0, chain);

    std::vector<llama_token> prompt(64);
    const char * text = "Hello there";
    prompt.resize(llama_tokenize(vocab, text, (int) std::strlen(text), prompt.data(), (int) prompt.size(), true, false));
    llama_batch b = llama_batch_init(256, 0, 1);
    auto decode_prompt = [&] {
        for (size_t i = 0; i < prompt.size(); i++) {
            b.token[i] = prompt[i]; b.pos[i] = (llama_pos) i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = i + 1 == prompt.size();
        }
        b.n_tokens = (int) prompt.size();
        if (llama_decode(ctx, b) != 0) { std::fprintf(stderr, "decode failed\n"); std::exit(1); }
    };
    decode_prompt();
    llama_token tok = llama_get_sampled_token_ith(ctx, -1);
    if (tok == LLAMA_TOKEN_NULL) tok = argmax(ctx, -1, n_vocab);

    if (mode == "late") llama_set_sampler(ctx, 0, chain);
    if (mode == "reattach") { llama_set_sampler(ctx, 0, nullptr); clone = llama_sampler_clone(chain); llama_set_sampler(ctx, 0, clone); }
    if (mode == "cvec") {
        std::vector<float> cv((size_t) llama_model_n_embd(model) * llama_model_n_layer(model), 0.0f);
        llama_set_adapter_cvec(ctx, cv.data(), cv.size(), llama_model_n_embd(model), 1, llama_model_n_layer(model) - 1);
    }
    if (mode == "causal") { llama_set_causal_attn(ctx, false); llama_set_causal_attn(ctx, true); }
    if (mode == "recreate") { llama_free(ctx); ctx = llama_init_from_model(model, cp); decode_prompt(); }

    std::printf("%d", tok);
    llama_pos pos = (llama_pos) prompt.size();
    for (int k = 1; k < n_gen; k++) {
        b.token[0] = tok; b.pos[0] = pos++; b.n_seq_id[0] = 1; b.seq_id[0][0] = 0; b.logits[0] = 1; b.n_tokens = 1;
        if (llama_decode(ctx, b) != 0) { std::fprintf(stderr, "decode failed\n"); return 1; }
        llama_token t = llama_get_sampled_token_ith(ctx, 0);
        tok = t != LLAMA_TOKEN_NULL ? t : argmax(ctx, 0, n_vocab);
        std::printf(" %d", tok);
        std::fflush(stdout);
    }
    std::printf("\n");
    llama_set_sampler(ctx, 0, nullptr);
    llama_batch_free(b);
    llama_free(ctx);
    llama_sampler_free(chain);
    if (clone) llama_sampler_free(clone);
    llama_model_free(model);
    return 0;
}
