// The planted model's contrastive dataset, in the paper's JSONL pair format: 50 pairs (10 per
// scenario), each an empathic and a non-empathic first-person text, built from the templates of
// pair_texts.h with the model's seed. F.train.jsonl = pairs 0..34, F.test.jsonl = pairs 35..49.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace eia::synth {

struct Pair {
    std::string scenario_id, scenario_title, emp, non;
};

std::vector<Pair> planted_pairs(uint64_t seed);
// JSON Lines of pairs [from, to)
std::string pairs_jsonl(const std::vector<Pair> & pairs, size_t from, size_t to);

}  // namespace eia::synth
