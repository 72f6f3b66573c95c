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
    std::string source;   // source_model ("" = eia-native-synth)
};

// easy profile: setting shared by both texts, 1-3 class sentences each
std::vector<Pair> planted_pairs(uint64_t seed);
// realistic profile: each text restates the scenario in its own words; writers A and B (five pairs
// of each per scenario) differ in connectives and length; either class may weigh the other side
std::vector<Pair> realistic_pairs(uint64_t seed);
// The paper's lexical ablation: the empathy words of ablation_synonyms() in the empathic texts are
// replaced by a seeded choice of their near-synonyms; mean replacements per pair out.
std::vector<Pair> ablate_pairs(const std::vector<Pair> & pairs, uint64_t seed, double * mean_replacements);
// JSON Lines of pairs [from, to); run_id = index + id_offset
std::string pairs_jsonl(const std::vector<Pair> & pairs, size_t from, size_t to, size_t id_offset = 0);

}  // namespace eia::synth
