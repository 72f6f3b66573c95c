// Sentence templates of the planted dataset, per scenario of the paper: settings (neutral words
// only), empathic sentences (empathy and neutral words) and task sentences (task and neutral
// words), plus scenario-free sentences of either class. Every word of every template is a whole
// word of the planted vocabulary.
#pragma once
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

}  // namespace eia::synth
