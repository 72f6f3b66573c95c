// The SentencePiece ("llama" tokenizer model) vocabulary of the synthetic models: specials, the 256
// byte tokens, the arch's chat control tokens, single characters, every word of the word lists and
// of the planted templates as a whole-word piece "▁word" (plus its capitalised variant), the prefix
// pieces llama.cpp's SPM merge path needs, and (random-weight models) pronounceable filler pieces up
// to the shape's real vocabulary size.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace eia::synth {

enum TokKind { K_SPECIAL, K_BYTE, K_CONTROL, K_CHAR, K_PUNCT, K_WORD, K_CAP, K_PREFIX, K_FILLER };

// llama.cpp token types (llama_token_type)
enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_BYTE = 6 };

inline const std::string kSpace = "\xE2\x96\x81";   // U+2581 "▁"

struct Vocab {
    std::vector<std::string> text;
    std::vector<float> score;
    std::vector<int32_t> type;
    std::vector<TokKind> kind;
    std::vector<int> cls;        // +1 empathy, -1 task, 0 neutral
    std::vector<int> base;       // index into base_words (words, caps), else -1
    std::vector<std::string> base_words;
    std::unordered_set<std::string> have;

    bool add(const std::string & t, float s, int32_t ty, TokKind k, int c = 0, int b = -1) {
        if (!have.insert(t).second) return false;
        text.push_back(t); score.push_back(s); type.push_back(ty); kind.push_back(k);
        cls.push_back(c); base.push_back(b);
        return true;
    }
    size_t size() const { return text.size(); }
};

// planted: stop after the words (no filler); else pad with filler pieces to n_vocab_target.
// realistic (planted only): also the words of the realistic templates and the ablation synonyms.
Vocab build_vocab(const std::string & arch, bool planted, int64_t n_vocab_target, bool realistic = false);
std::string chat_template(const std::string & arch);

}  // namespace eia::synth
