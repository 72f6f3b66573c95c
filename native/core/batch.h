// TokenBatch: a llama_batch we own, plus the per-token tables the ResidualHook reads
// (slot and phase of every token, and the list of output tokens).
#pragma once
#include <cstdint>
#include <vector>

#include "llama.h"

namespace eia {

class TokenBatch {
public:
    explicit TokenBatch(int capacity);
    ~TokenBatch();
    TokenBatch(const TokenBatch &) = delete;
    TokenBatch & operator=(const TokenBatch &) = delete;

    void clear();
    void add(llama_token token, llama_pos pos, int seq, int slot, bool generated, bool output);
    int size() const { return batch_.n_tokens; }
    int capacity() const { return capacity_; }
    llama_batch & raw() { return batch_; }
    const int32_t * slots() const { return slot_.data(); }
    const uint8_t * phases() const { return phase_.data(); }
    const std::vector<int32_t> & outputs() const { return outputs_; }

private:
    llama_batch batch_;
    int capacity_;
    std::vector<int32_t> slot_;
    std::vector<uint8_t> phase_;
    std::vector<int32_t> outputs_;
};

}  // namespace eia
