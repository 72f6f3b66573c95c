#include "batch.h"

#include "error.h"

namespace eia {

TokenBatch::TokenBatch(int capacity) : capacity_(capacity) {
    batch_ = llama_batch_init(capacity, 0, 1);
    slot_.resize(capacity);
    phase_.resize(capacity);
    outputs_.reserve(capacity);
}

TokenBatch::~TokenBatch() { llama_batch_free(batch_); }

void TokenBatch::clear() {
    batch_.n_tokens = 0;
    outputs_.clear();
}

void TokenBatch::add(llama_token token, llama_pos pos, int seq, int slot, bool generated, bool output) {
    const int i = batch_.n_tokens;
    if (i >= capacity_) fail(Code::Internal, "internal: batch overflow");
    batch_.token[i] = token;
    batch_.pos[i] = pos;
    batch_.n_seq_id[i] = 1;
    batch_.seq_id[i][0] = seq;
    batch_.logits[i] = output ? 1 : 0;
    slot_[i] = slot;
    phase_[i] = generated ? 1 : 0;
    if (output) outputs_.push_back(i);
    batch_.n_tokens = i + 1;
}

}  // namespace eia
