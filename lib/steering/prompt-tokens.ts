// The token ids of a scenario's steering prompt as a model reads it: raw (the paper's way) or
// wrapped in the model's chat template as a user turn, BOS added by the tokenizer's rule. One home,
// so that the sweep generates from exactly the prompt the fluency measure later reads back.
import type { Model } from '../engine/model.js';
import { steeringPrompt, type Scenario } from './scenarios.js';

export function scenarioPromptTokens(model: Model, scenario: Scenario, chat: boolean): Int32Array {
  const text = steeringPrompt(scenario);
  const full = chat ? model.applyChatTemplate([{ role: 'user', content: text }]) : text;
  return model.tokenize(full, { addSpecial: true, parseSpecial: chat });
}

/** The prompt tokens of each scenario, keyed by id. */
export function promptTokensById(model: Model, scenarios: readonly Scenario[], chat: boolean): Map<string, Int32Array> {
  return new Map(scenarios.map((s) => [s.id, scenarioPromptTokens(model, s, chat)]));
}
