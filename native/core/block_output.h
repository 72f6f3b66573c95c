// Which node of llama.cpp's graph is the output of decoder block L (the residual stream after the
// block: what a forward hook on model.layers[L] returns in HF transformers), per architecture.
// Most graph builders name it "l_out-L" (and apply control vectors there); a few name it otherwise
// or rename the node afterwards, and hyper-connection models keep several residual streams per
// token. docs/architectures.md lists the map and the sources it was read from; the support check
// (residual_support.h) verifies it on every context.
#pragma once
#include <cstring>
#include <string>

namespace eia {

struct BlockOutputMap {
    std::string arch;
    std::string tensor;      // for people: the node read, e.g. "l_out-{L}"
    std::string refusal;     // non-empty: this architecture has no single residual stream (why)
    // "<prefix>N" is the output of block N + offset (block >= 0); last_name (when set) is the last block's
    const char * prefix = "l_out-";
    size_t prefix_len = 6;
    int offset = 0;
    const char * last_name = nullptr;

    // Block of a graph node, -1 for every other node. Called for every node of every pass: cheap.
    int block_of(const char * name, int n_layer) const {
        if (name[0] == prefix[0] && std::strncmp(name, prefix, prefix_len) == 0) {
            const char * p = name + prefix_len;
            if (*p < '0' || *p > '9') return -1;
            int v = 0;
            for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (*p - '0');
                if (v > 1 << 20) return -1;
            }
            if (*p != '\0') return -1;
            v += offset;
            return v >= 0 && v < n_layer ? v : -1;
        }
        if (last_name && name[0] == last_name[0] && std::strcmp(name, last_name) == 0) return n_layer - 1;
        return -1;
    }
};

BlockOutputMap block_output_map(const std::string & arch);

}  // namespace eia
