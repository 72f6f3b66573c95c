// Word lists: the paper's steering keywords, the empathy / task class words of the planted model,
// the neutral words every vocabulary holds, and the text helpers that use them.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace eia::synth {

// Paper keywords (PAPER.md, steering scoring).
constexpr size_t kNEmpathyKeywords = 11;
constexpr size_t kNTaskKeywords = 10;
extern const char * const kEmpathyKeywords[kNEmpathyKeywords];
extern const char * const kTaskKeywords[kNTaskKeywords];

// Space-separated word lists. Class words: explicit lists, plus (see word_class in vocab.cpp)
// every word that contains a paper keyword.
extern const char * const kEmpathyWords;
extern const char * const kTaskWords;
extern const char * const kNeutralWords;

std::vector<std::string> split_ws(const std::string & s);
// Words of a template sentence: split on spaces, sentence punctuation stripped.
std::vector<std::string> sentence_words(const std::string & s);
std::string lower(std::string s);
// Does the lower-cased word contain one of the keywords? (multi-word keywords are skipped: their
// words are listed on their own)
bool contains_any(const std::string & lw, const char * const * kws, size_t n);

}  // namespace eia::synth
