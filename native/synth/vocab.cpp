// The SentencePiece ("llama") vocabulary of the synthetic models (see vocab.h).
#include "vocab.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <set>
#include <unordered_set>

#include "error.h"
#include "pair_texts.h"
#include "words.h"

namespace eia::synth {

namespace {

int word_class(const std::string & w, const std::set<std::string> & emp, const std::set<std::string> & task) {
    const std::string lw = lower(w);
    if (emp.count(lw)) return 1;
    if (task.count(lw)) return -1;
    if (contains_any(lw, kEmpathyKeywords, kNEmpathyKeywords)) return 1;
    if (contains_any(lw, kTaskKeywords, kNTaskKeywords)) return -1;
    return 0;
}

std::vector<std::string> control_tokens(const std::string & arch) {
    if (arch == "qwen2") return {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    if (arch == "phi3") return {"<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"};
    return {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
}

// Pronounceable filler pieces, never containing a paper keyword, never clashing with the vocab.
std::string filler_word(uint64_t i) {
    static const char * cons[] = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh", "th", "br", "gr", "pl", "st"};
    static const char * vow[] = {"a", "e", "i", "o", "u", "ai", "ou"};
    const uint64_t nsyl = std::size(cons) * std::size(vow);
    std::string w;
    uint64_t x = i + nsyl * nsyl;   // at least three syllables
    while (x > 0) {
        const uint64_t s = x % nsyl;
        x /= nsyl;
        w += cons[s / std::size(vow)];
        w += vow[s % std::size(vow)];
    }
    return w;
}

}  // namespace

Vocab build_vocab(const std::string & arch, bool planted, int64_t n_vocab_target, bool realistic) {
    Vocab V;
    V.add("<unk>", 0.0f, TT_UNKNOWN, K_SPECIAL);
    V.add("<s>", 0.0f, TT_CONTROL, K_SPECIAL);
    V.add("</s>", 0.0f, TT_CONTROL, K_SPECIAL);
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        V.add(buf, 0.0f, TT_BYTE, K_BYTE);
    }
    for (const auto & c : control_tokens(arch)) V.add(c, 0.0f, TT_CONTROL, K_CONTROL);

    // single characters
    V.add(kSpace, -1000.0f, TT_NORMAL, K_CHAR);
    for (int c = 0x21; c <= 0x7E; ++c) {
        const std::string t(1, (char) c);
        const bool punct = std::strchr(".,?!", c) != nullptr;
        V.add(t, -1000.0f - (float) c * 0.01f, TT_NORMAL, punct ? K_PUNCT : K_CHAR);
    }

    // words: explicit lists + every word of the templates, in a fixed order
    std::set<std::string> emp, task;
    for (auto & w : split_ws(kEmpathyWords)) emp.insert(w);
    for (auto & w : split_ws(kTaskWords)) task.insert(w);
    std::vector<std::string> canon;
    std::unordered_set<std::string> seen;
    auto push = [&](const std::string & w) { if (seen.insert(w).second) canon.push_back(w); };
    for (auto & w : split_ws(kNeutralWords)) push(w);
    for (auto & w : split_ws(kEmpathyWords)) push(w);
    for (auto & w : split_ws(kTaskWords)) push(w);
    // template words: sentence-initial capitals map to the lowercase word (its capitalised variant
    // is added below); names ("I", "D", "Jimmie", ...) are listed capitalised in kNeutralWords
    std::unordered_set<std::string> names;
    for (auto & w : split_ws(kNeutralWords)) if (std::isupper((unsigned char) w[0])) names.insert(w);
    auto push_t = [&](const std::string & w) { push(names.count(w) ? w : lower(w)); };
    for (const auto & sc : scenario_texts()) {
        for (auto * lists : {&sc.settings, &sc.empathic, &sc.task}) {
            for (const char * s : *lists) for (auto & w : sentence_words(s)) push_t(w);
        }
    }
    for (auto * lists : {&general_empathic(), &general_task()}) {
        for (const char * s : *lists) for (auto & w : sentence_words(s)) push_t(w);
    }
    if (planted && realistic) {
        // after the easy profile's words, so that their token ids stay as they were
        const RealisticTexts & T = realistic_texts();
        for (const auto & sc : T.scenarios) {
            for (auto * lists : {&sc.settings, &sc.empathic, &sc.task, &sc.emp_ack, &sc.task_ack}) {
                for (const char * s : *lists) for (auto & w : sentence_words(s)) push_t(w);
            }
        }
        for (auto * lists : {&T.general_empathic, &T.general_task, &T.openers_a, &T.closings_a, &T.openers_b}) {
            for (const char * s : *lists) for (auto & w : sentence_words(s)) push_t(w);
        }
        for (const auto & [w, alts] : ablation_synonyms()) {
            std::string a = alts;
            for (auto & c : a) if (c == '|') c = ' ';
            for (auto & x : split_ws(a)) push(x);
        }
    }
    // words as written (lowercase canonical forms get a capitalised variant below)
    V.base_words = canon;
    float sc = -10.0f;
    for (size_t i = 0; i < canon.size(); ++i) {
        V.add(kSpace + canon[i], sc, TT_NORMAL, K_WORD, word_class(canon[i], emp, task), (int) i);
        sc -= 0.001f;
    }
    for (size_t i = 0; i < canon.size(); ++i) {
        const std::string & w = canon[i];
        if (w.empty() || !std::islower((unsigned char) w[0])) continue;
        std::string cap = w;
        cap[0] = (char) std::toupper((unsigned char) cap[0]);
        V.add(kSpace + cap, sc, TT_NORMAL, K_CAP, word_class(w, emp, task), (int) i);
        sc -= 0.001f;
    }
    // prefix pieces: llama.cpp's SPM tokenizer merges adjacent symbols only into pieces present in
    // the vocabulary, so every "▁word" needs a merge path "▁w" -> "▁wo" -> ... -> "▁word".
    const size_t n_words = V.size();
    for (size_t t = 0; t < n_words; ++t) {
        if (V.kind[t] != K_WORD && V.kind[t] != K_CAP) continue;
        const std::string w = V.text[t].substr(kSpace.size());
        for (size_t k = 1; k < w.size(); ++k) {
            const std::string p = w.substr(0, k);
            V.add(kSpace + p, -100.0f - (float) k, TT_NORMAL, K_PREFIX, word_class(p, emp, task));
        }
    }
    if (planted) return V;

    if ((int64_t) V.size() > n_vocab_target) {
        fail("internal: base vocabulary (" + std::to_string(V.size()) + ") exceeds the shape's vocab size (" +
             std::to_string(n_vocab_target) + ")");
    }
    uint64_t fi = 0;
    while ((int64_t) V.size() < n_vocab_target) {
        const std::string w = filler_word(fi++);
        if (contains_any(w, kEmpathyKeywords, kNEmpathyKeywords) ||
            contains_any(w, kTaskKeywords, kNTaskKeywords)) continue;
        V.add(kSpace + w, -10000.0f, TT_NORMAL, K_FILLER);
    }
    return V;
}

std::string chat_template(const std::string & arch) {
    if (arch == "qwen2") {
        return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
               "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
               "{% endif %}";
    }
    if (arch == "phi3") {
        return "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\\n' + "
               "message['content'] + '<|end|>\\n' }}{% elif message['role'] == 'user' %}{{ '<|user|>\\n' + "
               "message['content'] + '<|end|>\\n' }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\\n' "
               "+ message['content'] + '<|end|>\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}"
               "{{ '<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}";
    }
    return "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
           "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
           "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
}

}  // namespace eia::synth
