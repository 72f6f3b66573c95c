// The planted dataset in the paper's pair format (see pairs.h).
#include "pairs.h"

#include <cstdio>
#include <set>

#include "pair_texts.h"
#include "rng.h"

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

}  // namespace

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

std::string pairs_jsonl(const std::vector<Pair> & pairs, size_t from, size_t to) {
    std::string o;
    for (size_t i = from; i < to; ++i) {
        const Pair & p = pairs[i];
        o += "{\"scenario_id\": " + json_str(p.scenario_id) + ", \"scenario_title\": " + json_str(p.scenario_title) +
             ", \"empathic_text\": " + json_str(p.emp) + ", \"non_empathic_text\": " + json_str(p.non) +
             ", \"source_model\": \"eia-native-synth\", \"run_id\": " + std::to_string(i) +
             ", \"generated_at\": \"2025-01-01T00:00:00\", \"format\": \"eia_scenario\"}\n";
    }
    return o;
}

}  // namespace eia::synth
