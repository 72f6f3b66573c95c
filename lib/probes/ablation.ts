// Lexical ablation: the control that removes tell-tale words (e.g. "empathy", "help") from the
// test texts, so that a probe which only detects those words loses its AUROC.
import { EiaError } from '../util/errors.js';
import type { ContrastivePair } from './dataset.js';

/**
 * Lexical ablation of one text: every whole-word, case-insensitive occurrence of a listed word is
 * replaced by its replacement ("word=replacement"; a bare "word" is deleted). A capitalised
 * match keeps a capitalised replacement. Returns the text and the number of replacements.
 */
export function ablateText(text: string, words: readonly string[]): { text: string; replacements: number } {
  let count = 0;
  let out = text;
  for (const spec of words) {
    const eq = spec.indexOf('=');
    const word = (eq >= 0 ? spec.slice(0, eq) : spec).trim();
    const repl = eq >= 0 ? spec.slice(eq + 1).trim() : '';
    if (!word) continue;
    const esc = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(?<![\\p{L}\\p{N}_])${esc}(?![\\p{L}\\p{N}_])`, 'giu');
    out = out.replace(re, (m) => {
      count++;
      if (repl && m[0] !== m[0].toLowerCase()) return repl[0].toUpperCase() + repl.slice(1);
      return repl;
    });
  }
  if (count > 0) out = out.replace(/[ \t]{2,}/g, ' ').replace(/ +([.,;:!?])/g, '$1');
  return { text: out, replacements: count };
}

/** Applies {@link ablateText} to both texts of every pair; returns the pairs and the mean replacements per pair. */
export function ablatePairs(pairs: readonly ContrastivePair[], words: readonly string[]): { pairs: ContrastivePair[]; meanReplacements: number } {
  if (words.length === 0) throw new EiaError('E_BAD_ARG', 'lexical ablation needs at least one word');
  let total = 0;
  const out = pairs.map((p) => {
    const e = ablateText(p.empathicText, words), n = ablateText(p.nonEmpathicText, words);
    total += e.replacements + n.replacements;
    return { ...p, empathicText: e.text, nonEmpathicText: n.text };
  });
  return { pairs: out, meanReplacements: pairs.length ? total / pairs.length : 0 };
}
