// What a streamed response may show of a sequence's text so far. Two things are held back until they
// resolve: (1) a tail that could be the start of a stop string (the engine cuts the final text at a
// stop string, so a stream must never show one), and (2) tokens whose pieces are incomplete UTF-8
// (a character split over byte tokens arrives as U+FFFD per piece; the run is decoded together once
// complete, at most 4 tokens). At the finish the rest of the engine's final text is released, so the
// concatenated deltas equal the non-streamed text.
const REPLACEMENT = '\uFFFD';
const MAX_BYTE_RUN = 4;

export class TextStream {
  private emitted = '';
  private pending = '';
  private byteRun: number[] = [];

  constructor(private readonly detokenize: (tokens: number[]) => string, private readonly stops: readonly string[]) {}

  /** The text everything released so far spells. */
  get shown(): string { return this.emitted; }

  /** Takes one generated token; returns the text that can be shown now ('' when it must wait). */
  push(token: number, piece: string): string {
    let text = piece;
    if (this.byteRun.length > 0 || piece.includes(REPLACEMENT)) {
      this.byteRun.push(token);
      const decoded = this.detokenize(this.byteRun);
      if (decoded.endsWith(REPLACEMENT) && this.byteRun.length < MAX_BYTE_RUN) return '';
      this.byteRun = [];
      text = decoded;
    }
    const candidate = this.pending + text;
    if (this.stops.some((s) => candidate.includes(s))) {
      // the engine ends the sequence on this token and cuts its text there: finish() releases the rest
      this.pending = candidate;
      return '';
    }
    const keep = this.heldTail(candidate);
    const release = candidate.slice(0, candidate.length - keep);
    this.pending = candidate.slice(candidate.length - keep);
    this.emitted += release;
    return release;
  }

  /** The rest of the final text (the engine's, stop strings cut); '' when the stream already showed all of it. */
  finish(finalText: string): string {
    this.pending = '';
    this.byteRun = [];
    if (!finalText.startsWith(this.emitted)) return '';
    const rest = finalText.slice(this.emitted.length);
    this.emitted = finalText;
    return rest;
  }

  /** Length of the longest tail of `s` that is a proper prefix of a stop string. */
  private heldTail(s: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, s.length); k > best; k--) {
        if (s.endsWith(stop.slice(0, k))) { best = k; break; }
      }
    }
    return best;
  }
}
