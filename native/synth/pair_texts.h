// Sentence templates of the planted datasets. Every word of every template is a whole word of the
// planted vocabulary (vocab.cpp adds them).
//  * easy profile (scenario_texts, general_*): per scenario of the paper, settings (neutral words
//    only, shared by both texts of a pair), empathic sentences (empathy and neutral words) and task
//    sentences (task and neutral words), plus scenario-free sentences of either class;
//  * realistic profile (realistic_texts): as the paper's pairs vary (pair_texts_realistic.cpp).
#pragma once
#include <utility>
#include <vector>

namespace eia::synth {

struct ScenarioText {
    const char * id;
    const char * title;
    std::vector<const char *> settings, empathic, task;
};

const std::vector<ScenarioText> & scenario_texts();
const std::vector<const char *> & general_empathic();
const std::vector<const char *> & general_task();

struct RealisticScenario {
    const char * id;
    const char * title;
    std::vector<const char *> settings;   // the situation in neutral words (some restate the objective)
    std::vector<const char *> empathic;   // choosing the person
    std::vector<const char *> task;       // choosing the objective
    std::vector<const char *> emp_ack;    // an empathic text weighing the objective (task words inside)
    std::vector<const char *> task_ack;   // a task text noticing the distress (empathy words inside)
};

struct RealisticTexts {
    std::vector<RealisticScenario> scenarios;
    std::vector<const char *> general_empathic, general_task;
    std::vector<const char *> openers_a, closings_a;   // writer A: long connectives, closing sentences
    std::vector<const char *> openers_b;               // writer B: short connectives
};

const RealisticTexts & realistic_texts();

// The lexical ablation of the realistic test pairs: word -> "syn1|syn2|..." (lower case), applied
// to the empathic texts only, as the paper did.
const std::vector<std::pair<const char *, const char *>> & ablation_synonyms();

}  // namespace eia::synth
