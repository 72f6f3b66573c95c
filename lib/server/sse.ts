// Server-sent events as OpenAI streams them: `data: <json>\n\n` per chunk, `data: [DONE]\n\n` at the
// end, an `{error}` event when a stream cannot finish. Events written before the response starts are
// buffered by the stream and go out when Fastify sends it.
import { PassThrough } from 'node:stream';
import type { ApiError } from './api-error.js';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // proxies (nginx) must not hold the events back
  'x-accel-buffering': 'no',
} as const;

export class SseStream {
  readonly stream = new PassThrough();
  private ended = false;

  get closed(): boolean { return this.ended || this.stream.destroyed; }

  send(event: object): void {
    if (this.closed) return;
    this.stream.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  /** The last event of a stream that could not finish, then the end (no [DONE]: the client sees the failure). */
  fail(e: ApiError): void {
    if (this.closed) return;
    this.send(e.body());
    this.ended = true;
    this.stream.end();
  }

  done(): void {
    if (this.closed) return;
    this.stream.write('data: [DONE]\n\n');
    this.ended = true;
    this.stream.end();
  }
}
