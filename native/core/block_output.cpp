#include "block_output.h"

namespace eia {

// Read from vendor/llama.cpp/src/models/<arch>.cpp at the pinned commit (docs/architectures.md):
//  - nemotron_h, nemotron_h_moe: "l_out-L" is the FFN output *before* the residual add (build_cvec
//    sits there, only on FFN blocks); the block output is "nemotron_h_block_out-L".
//  - plamo2: no "l_out" at all; the block output is "ffn_residual-L" (and no control vector).
//  - step35: "l_out-L" is renamed by the next block's cb(cur, "attn_norm_in", L + 1), and the last
//    one by cb(cur, "h_nextn", -1): a node has one name, the last one given.
//  - deepseek4, qwen4exp: hyper-connections; the residual is [n_embd x streams x tokens] ("l_last-L"),
//    mixed by learned weights into each sublayer's input. There is no one stream to read or steer.
BlockOutputMap block_output_map(const std::string & arch) {
    BlockOutputMap m;
    m.arch = arch;
    m.tensor = "l_out-{L}";
    const auto named = [&](const char * prefix, const std::string & shown) {
        m.prefix = prefix;
        m.prefix_len = std::strlen(prefix);
        m.tensor = shown;
    };
    if (arch == "nemotron_h" || arch == "nemotron_h_moe") {
        named("nemotron_h_block_out-", "nemotron_h_block_out-{L}");
    } else if (arch == "plamo2") {
        named("ffn_residual-", "ffn_residual-{L}");
    } else if (arch == "step35") {
        named("attn_norm_in-", "attn_norm_in-{L+1}, h_nextn for the last block");
        m.offset = -1;
        m.last_name = "h_nextn";
    } else if (arch == "deepseek4" || arch == "qwen4exp") {
        m.tensor = "";
        m.prefix = "\x01";  // matches no node
        m.prefix_len = 1;
        m.refusal = "the " + arch + " graph keeps several residual streams per token (hyper-connections: l_last-L is " +
                    "[n_embd x streams x tokens], mixed by learned weights before every sublayer), so there is no single " +
                    "residual stream per block to read or steer";
    }
    return m;
}

}  // namespace eia
