// POST /v1/chat/completions and POST /v1/completions: one job per prompt through the scheduler,
// answered whole or streamed (SSE). A streamed response starts once its first job has a slot, so a
// request refused or failed before then still gets its HTTP error (later failures end the stream with
// an error event); a client that goes away cancels its jobs (their slots and KV cells are freed at
// the next step boundary at the latest; queued ones leave the queue).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, toApiError } from '../api-error.js';
import { Job, type JobResult, type JobToken } from '../job.js';
import { ResponseFormat, type ChoiceOutcome, type Endpoint, type TokenExtras, type Usage } from '../openai-format.js';
import { prepareRequest, type ChatBody, type CompletionBody, type PreparedRequest } from '../request.js';
import { chatBodySchema, completionBodySchema } from '../schema.js';
import { SSE_HEADERS, SseStream } from '../sse.js';
import { TextStream } from '../text-stream.js';
import type { ServerState } from '../state.js';

/** [monitor][token] -> [token][monitor] */
function perToken(scores: Float32Array[]): number[][] {
  const n = scores.length > 0 ? scores[0].length : 0;
  return Array.from({ length: n }, (_, t) => scores.map((s) => s[t]));
}

function tokenExtras(ts: JobToken[], returnTokens: boolean, returnPieces: boolean): TokenExtras {
  const x: TokenExtras = {};
  if (ts[0].scores) x.probe_scores = ts.map((t) => t.scores!);
  if (ts[0].gate !== null) x.gate = ts.map((t) => t.gate!);
  if (returnTokens) x.tokens = ts.map((t) => t.token);
  if (returnPieces) x.pieces = ts.map((t) => t.piece);
  return x;
}

function outcome(r: JobResult, returnTokens: boolean, piece: ((t: number) => string) | null): ChoiceOutcome {
  const c: ChoiceOutcome = { text: r.text, finishReason: r.finishReason };
  if (r.scores) c.probe_scores = perToken(r.scores);
  if (r.gate) { c.gate = Array.from(r.gate, (g) => g === 1); c.gateSteered = r.gateSteered; }
  if (returnTokens) c.tokens = Array.from(r.tokens);
  if (piece) c.pieces = Array.from(r.tokens, piece);
  return c;
}

/** A job that ended without finishing its text (forced shutdown) has no answer to give. */
function checkComplete(r: JobResult): void {
  if (r.finishReason === 'cancel' || r.finishReason === 'abort') throw new ApiError(503, 'shutting_down', 'the server stopped this request before it finished');
}

async function complete(endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, s: ServerState): Promise<unknown> {
  const model = s.model;
  let prep: PreparedRequest;
  if (endpoint === 'chat') {
    const body = request.body as ChatBody;
    prep = prepareRequest(body, [await s.prompts.chat(body.messages)], body.max_completion_tokens ?? body.max_tokens, s.prepare, () => 'messages');
  } else {
    const body = request.body as CompletionBody;
    prep = prepareRequest(body, await s.prompts.completion(body.prompt), body.max_tokens, s.prepare);
  }
  // notes on the request's vectors: norms other than 1 (used as unit directions), probes of another model
  const warnings = [...prep.warnings, ...await s.modelCheck.warnings(prep.used)];
  if (warnings.length > 0 && request.log) request.log.warn({ warnings }, 'request vectors');
  const fmt = new ResponseFormat(endpoint, s.modelId, prep.seed, warnings);
  const detok = (tokens: number[]) => model.detokenize(tokens);
  const texts = prep.sequences.map(() => new TextStream(detok, prep.stop));
  const sse = prep.stream ? new SseStream() : null;
  let completionTokens = 0;
  let open = prep.sequences.length;
  const promptTokens = prep.sequences.reduce((a, q) => a + (q.prompt as Int32Array).length, 0);
  // a chat choice's stream opens with the assistant role (OpenAI's first chunk)
  const roleSent = prep.sequences.map(() => endpoint !== 'chat');
  const opening = (i: number) => {
    if (roleSent[i]) return;
    roleSent[i] = true;
    sse!.send(fmt.roleChunk(i));
  };
  const jobs = prep.sequences.map((seq, i) => new Job(seq, prep.gated, sse ? {
    tokens: (ts) => {
      completionTokens += ts.length;
      opening(i);
      const text = ts.map((t) => texts[i].push(t.token, t.piece)).join('');
      sse.send(fmt.chunk(i, text, tokenExtras(ts, prep.returnTokens, prep.returnPieces)));
    },
    finish: (r) => {
      if (r.finishReason === 'cancel' || r.finishReason === 'abort') {
        sse.fail(new ApiError(503, 'shutting_down', 'the server stopped this request before it finished'));
        return;
      }
      opening(i);
      sse.send(fmt.finishChunk(i, texts[i].finish(r.text), r.finishReason));
      if (--open > 0) return;
      if (prep.includeUsage) sse.send(fmt.usageChunk({ prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }));
      sse.done();
    },
  } : {}));
  s.scheduler.submit(jobs);
  s.metrics.promptTokens.inc(promptTokens);
  /** Ends every job of the request: its client left, or one of its jobs failed (the others have no response to join). */
  const cancelAll = (why: 'client_closed' | 'request_failed' = 'request_failed') => jobs.forEach((j) => s.scheduler.cancel(j, why));
  // the connection closed before the response was complete: the client is gone
  let clientGone = false;
  const onClose = () => {
    if (reply.raw.writableFinished) return;
    clientGone = true;
    cancelAll('client_closed');
  };
  reply.raw.on('close', onClose);
  if (reply.raw.destroyed) onClose();  // it went while the body was being read

  if (sse) {
    // the first job has the first slot (FIFO): a request of more prompts than slots streams while the rest wait
    try {
      await jobs[0].started;
    } catch (e) {
      cancelAll();
      throw e;
    }
    // failures after this point end the stream with an error event
    for (const j of jobs) j.result.catch((e: unknown) => { cancelAll(); sse.fail(toApiError(e)); });
    reply.headers(SSE_HEADERS);
    return reply.send(sse.stream);
  }
  const results = await Promise.all(jobs.map((j) => j.result)).catch((e: unknown) => { cancelAll(); throw e; });
  // nobody to answer (recorded as 499, nginx's code for it, in the request metrics)
  if (clientGone) throw new ApiError(499, 'client_closed_request', 'the client closed the connection');
  results.forEach(checkComplete);
  const usage: Usage = { prompt_tokens: promptTokens, completion_tokens: results.reduce((a, r) => a + r.tokens.length, 0), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const piece = prep.returnPieces ? (t: number) => model.tokenPiece(t) : null;
  return fmt.final(results.map((r) => outcome(r, prep.returnTokens, piece)), usage);
}

export function completionRoutes(app: FastifyInstance, s: ServerState): void {
  app.post('/v1/chat/completions', { schema: { body: chatBodySchema } }, (req, reply) => complete('chat', req, reply, s));
  app.post('/v1/completions', { schema: { body: completionBodySchema } }, (req, reply) => complete('completion', req, reply, s));
}
