// A judge's verdict on one sample: its three rubric scores (0..2, null when the answer could not be
// parsed or no answer came), the harmonic mean of the three when all parsed (AxBench's per-sample
// score; 0 when any score is 0), and which questions were unparseable or failed.

export const JUDGE_QUESTIONS = ['concept', 'instruction', 'fluency'] as const;
export type JudgeQuestion = (typeof JUDGE_QUESTIONS)[number];

export interface JudgeVerdict {
  scores: Record<JudgeQuestion, number | null>;
  /** Harmonic mean of the three scores; null unless all three parsed. */
  harmonic: number | null;
  /** Questions whose answer held no single valid rating. */
  unparseable: JudgeQuestion[];
  /** Questions that got no answer (the request failed after its retries). */
  failed: JudgeQuestion[];
}

/** Harmonic mean of scores in 0..2; 0 when any is 0 (a sample that fails one question fails). */
export function harmonicMean(scores: readonly number[]): number {
  if (scores.some((s) => s <= 0)) return 0;
  return scores.length / scores.reduce((s, x) => s + 1 / x, 0);
}

export function verdictOf(scores: Record<JudgeQuestion, number | null>, unparseable: JudgeQuestion[], failed: JudgeQuestion[]): JudgeVerdict {
  const all = JUDGE_QUESTIONS.map((q) => scores[q]);
  const inOrder = (qs: JudgeQuestion[]) => JUDGE_QUESTIONS.filter((q) => qs.includes(q));
  return { scores, harmonic: all.every((s): s is number => s !== null) ? harmonicMean(all) : null, unparseable: inOrder(unparseable), failed: inOrder(failed) };
}
