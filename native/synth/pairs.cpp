// The planted dataset in the paper's pair format (see pairs.h).
#include "pairs.h"

#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "pair_texts.h"
#include "rng.h"
#include "words.h"

namespace eia::synth {

namespace {

std::string json_str(const std::string & s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\t': o += "\\t"; break;
            case '\r': o += "\\r"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    o += buf;
                } else {
                    o += (char) c;
                }
        }
    }
    return o + "\"";
}

// k distinct items of a pool, in random order
std::vector<const char *> pick_distinct(Rng & rng, const std::vector<const char *> & pool, size_t k) {
    std::vector<const char *> left = pool, out;
    for (size_t i = 0; i < k && !left.empty(); ++i) {
        const size_t j = rng.below(left.size());
        out.push_back(left[j]);
        left.erase(left.begin() + (long) j);
    }
    return out;
}

// "In this situation," + "My objective ..." -> "In this situation, my objective ..." (the pronoun I
// and names keep their capital).
std::string with_opener(const std::string & opener, const std::string & sentence) {
    std::string s = sentence;
    const size_t sp = s.find(' ');
    const std::string first = s.substr(0, sp);
    const bool keep = first == "I" || first == "Jimmie" || first == "D" || first == "B";
    if (!keep && !s.empty()) s[0] = (char) std::tolower((unsigned char) s[0]);
    return opener + " " + s;
}

// One realistic text of one class: the situation in the writer's words, perhaps the other side
// weighed, the choice, perhaps a general sentence and (writer A) a closing.
std::string realistic_text(Rng & rng, const RealisticTexts & T, const RealisticScenario & s, bool empathic, int writer) {
    const bool a = writer == 0;
    const auto & stance = empathic ? s.empathic : s.task;
    const auto & ack = empathic ? s.emp_ack : s.task_ack;
    const auto & general = empathic ? T.general_empathic : T.general_task;
    std::vector<std::string> parts;
    for (auto * p : pick_distinct(rng, s.settings, a ? 1 + rng.below(2) : 1)) parts.push_back(p);
    if (rng.uniform() < (a ? 0.4 : 0.3)) parts.push_back(ack[rng.below(ack.size())]);
    const size_t first_choice = parts.size();
    for (auto * p : pick_distinct(rng, stance, a ? 1 + rng.below(3) : 1 + rng.below(2))) parts.push_back(p);
    if (rng.uniform() < (a ? 0.5 : 0.3)) parts.push_back(general[rng.below(general.size())]);
    const auto & openers = a ? T.openers_a : T.openers_b;
    if (rng.uniform() < (a ? 0.7 : 0.5)) {
        parts[first_choice] = with_opener(openers[rng.below(openers.size())], parts[first_choice]);
    }
    if (a && rng.uniform() < 0.6) parts.push_back(T.closings_a[rng.below(T.closings_a.size())]);
    std::string t;
    for (const auto & p : parts) { if (!t.empty()) t += " "; t += p; }
    return t;
}

std::string replace_words(const std::string & text, const std::map<std::string, std::vector<std::string>> & syn, Rng & rng,
                          int * count) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        if (!std::isalpha((unsigned char) text[i])) { out += text[i++]; continue; }
        size_t j = i;
        while (j < text.size() && std::isalpha((unsigned char) text[j])) ++j;
        const std::string w = text.substr(i, j - i);
        auto it = syn.find(lower(w));
        if (it == syn.end()) {
            out += w;
        } else {
            std::string r = it->second[rng.below(it->second.size())];
            if (std::isupper((unsigned char) w[0])) r[0] = (char) std::toupper((unsigned char) r[0]);
            out += r;
            ++*count;
        }
        i = j;
    }
    return out;
}

}  // namespace

std::vector<Pair> realistic_pairs(uint64_t seed) {
    Rng rng(mix3(seed, fnv1a("planted-dataset-realistic"), 0));
    const RealisticTexts & T = realistic_texts();
    std::vector<Pair> pairs;
    std::set<std::string> used;
    for (int i = 0; i < 50; ++i) {
        const RealisticScenario & s = T.scenarios[(size_t) i % T.scenarios.size()];
        const int writer = (i / (int) T.scenarios.size()) % 2;   // each scenario: five pairs by each writer
        for (int attempt = 0;; ++attempt) {
            Pair p{s.id, s.title, realistic_text(rng, T, s, true, writer), realistic_text(rng, T, s, false, writer),
                   writer == 0 ? "eia-native-synth-a" : "eia-native-synth-b"};
            if ((used.insert(p.emp).second && used.insert(p.non).second) || attempt > 20) {
                pairs.push_back(std::move(p));
                break;
            }
        }
    }
    return pairs;
}

std::vector<Pair> ablate_pairs(const std::vector<Pair> & pairs, uint64_t seed, double * mean_replacements) {
    std::map<std::string, std::vector<std::string>> syn;
    for (const auto & [w, alts] : ablation_synonyms()) {
        std::string a = alts;
        for (auto & c : a) if (c == '|') c = ' ';
        syn[w] = split_ws(a);
    }
    Rng rng(mix3(seed, fnv1a("planted-ablation"), 0));
    std::vector<Pair> out = pairs;
    int total = 0;
    for (auto & p : out) p.emp = replace_words(p.emp, syn, rng, &total);
    if (mean_replacements) *mean_replacements = out.empty() ? 0.0 : (double) total / (double) out.size();
    return out;
}

std::vector<Pair> planted_pairs(uint64_t seed) {
    Rng rng(mix3(seed, fnv1a("planted-dataset"), 0));
    const auto & sc = scenario_texts();
    std::vector<Pair> pairs;
    std::set<std::string> used;
    for (int i = 0; i < 50; ++i) {
        const ScenarioText & s = sc[i % sc.size()];
        for (int attempt = 0;; ++attempt) {
            const int n_extra = 1 + (int) rng.below(3);   // 2-4 sentences in all
            const std::string setting = s.settings[rng.below(s.settings.size())];
            auto pick = [&](const std::vector<const char *> & own, const std::vector<const char *> & gen) {
                std::vector<const char *> pool;
                std::vector<const char *> out;
                out.push_back(own[rng.below(own.size())]);   // at least one scenario sentence
                for (auto * p : own) if (p != out[0]) pool.push_back(p);
                for (auto * p : gen) pool.push_back(p);
                for (int k = 1; k < n_extra; ++k) {
                    const size_t j = rng.below(pool.size());
                    out.push_back(pool[j]);
                    pool.erase(pool.begin() + (long) j);
                }
                std::string t = setting;
                for (auto * p : out) { t += " "; t += p; }
                return t;
            };
            Pair p{s.id, s.title, pick(s.empathic, general_empathic()), pick(s.task, general_task())};
            if (used.insert(p.emp).second || attempt > 20) {
                pairs.push_back(std::move(p));
                break;
            }
        }
    }
    return pairs;
}

std::string pairs_jsonl(const std::vector<Pair> & pairs, size_t from, size_t to, size_t id_offset) {
    std::string o;
    for (size_t i = from; i < to; ++i) {
        const Pair & p = pairs[i];
        o += "{\"scenario_id\": " + json_str(p.scenario_id) + ", \"scenario_title\": " + json_str(p.scenario_title) +
             ", \"empathic_text\": " + json_str(p.emp) + ", \"non_empathic_text\": " + json_str(p.non) +
             ", \"source_model\": " + json_str(p.source.empty() ? "eia-native-synth" : p.source) + ", \"run_id\": " + std::to_string(i + id_offset) +
             ", \"generated_at\": \"2025-01-01T00:00:00\", \"format\": \"eia_scenario\"}\n";
    }
    return o;
}

}  // namespace eia::synth
