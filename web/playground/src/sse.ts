// Server-sent events as the server writes them (`data: <json>\n\n`, `data: [DONE]\n\n`), read from a
// fetch() body in pieces of any size: a frame split across reads waits for its end.

export type SseEvent = { done: true } | { done: false; data: unknown };

export class SseParser {
  private buf = '';

  /** Takes the next piece of the body; returns the events it completes. */
  push(text: string): SseEvent[] {
    this.buf += text.replace(/\r\n?/g, '\n');
    const out: SseEvent[] = [];
    let k: number;
    while ((k = this.buf.indexOf('\n\n')) >= 0) {
      const frame = this.buf.slice(0, k);
      this.buf = this.buf.slice(k + 2);
      const lines = frame.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
      if (lines.length === 0) continue;  // a comment or a keep-alive
      const data = lines.join('\n');
      out.push(data === '[DONE]' ? { done: true } : { done: false, data: JSON.parse(data) });
    }
    return out;
  }
}
