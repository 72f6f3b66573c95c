// The concept measures of one steered sample that need no model: the paper's keyword test (which
// keywords occur, and whether empathy keywords outnumber task keywords: the per-sample input of the
// paper's keyword rate) and the keyword share, the empathy-keyword occurrences per word. The
// paper's rate is a share of samples and saturates at 1 as soon as every sample leans empathic (on
// the planted model already at a small alpha); the keyword share keeps rising with the strength of
// the concept in the text, so it is what `tune` maximises. The probe projection, the model-side
// concept measure, is the sample's probe_score (the sweep's live monitor, or a capture pass).
import { countKeywords, EMPATHY_KEYWORDS, splitWords, TASK_KEYWORDS } from '../scoring.js';

export interface ConceptScore {
  /** The paper's test: more empathy keywords present than task keywords. */
  empathetic: boolean;
  empathy_keywords: number;
  task_keywords: number;
  /** Empathy-keyword occurrences (substrings of the lower-cased text, each occurrence counted) per word, at most 1; 0 for no words. */
  keyword_share: number;
}

/** Non-overlapping occurrences of `needle` in `hay`. */
function occurrences(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Empathy-keyword occurrences per whitespace-separated word (the paper's keywords and substring rule), capped at 1. */
export function keywordShare(text: string, keywords: readonly string[] = EMPATHY_KEYWORDS): number {
  const words = splitWords(text).length;
  if (words === 0) return 0;
  const lower = text.toLowerCase();
  let hits = 0;
  for (const k of keywords) hits += occurrences(lower, k);
  return Math.min(1, hits / words);
}

export function conceptScore(text: string): ConceptScore {
  const e = countKeywords(text, EMPATHY_KEYWORDS);
  const t = countKeywords(text, TASK_KEYWORDS);
  return { empathetic: e > t, empathy_keywords: e, task_keywords: t, keyword_share: keywordShare(text) };
}
