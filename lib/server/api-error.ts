// Errors as the HTTP API reports them: OpenAI's shape `{error: {message, type, param, code}}` with
// a status. Every failure a route can meet ends up here: our own ApiErrors, EiaErrors from the
// engine (bad input and unsupported models -> 400, busy/full -> 429/503), Fastify's parser and validation errors.
import { isEiaError } from '../util/errors.js';

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'rate_limit_error' | 'server_error' | 'unavailable_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly type: ApiErrorType = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status === 503 ? 'unavailable_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
    /** Extra response headers (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { message: string; type: ApiErrorType; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 with the offending field named (`param`, dotted path as the client wrote it). */
export function badRequest(code: string, param: string | null, message: string): ApiError {
  return new ApiError(400, code, message, param);
}

interface FastifyLikeError { statusCode?: number; code?: string; message?: string; validation?: { instancePath?: string; keyword?: string; params?: Record<string, unknown>; message?: string }[]; validationContext?: string }

/** '/steering/vectors/0/scale' -> 'steering.vectors[0].scale' */
function jsonPointerToParam(pointer: string): string {
  return pointer.split('/').filter((s) => s.length > 0).reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

/** Any thrown value -> an ApiError (unknown ones become a 500 without internals in the message). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isEiaError(e, 'E_BAD_ARG')) return badRequest('invalid_value', null, e.message);
  if (isEiaError(e, 'E_UNSUPPORTED_MODEL')) return badRequest('unsupported_model', null, e.message);
  if (isEiaError(e, 'E_FULL')) return new ApiError(429, 'slots_full', e.message);
  if (isEiaError(e, 'E_STATE', 'E_ABORTED')) return new ApiError(503, 'unavailable', e.message);
  // paths and system details are for the server's log, not for clients
  if (isEiaError(e, 'E_IO')) return new ApiError(500, 'io_error', 'the server could not read or write a file (see its log)');
  const f = e as FastifyLikeError;
  if (f && typeof f === 'object') {
    if (Array.isArray(f.validation) && f.validation.length > 0) {
      const v = f.validation[0];
      let param = jsonPointerToParam(v.instancePath ?? '');
      let code = 'invalid_value';
      let message = `${param || 'body'} ${v.message ?? 'is invalid'}`;
      if (v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string') {
        param = param ? `${param}.${v.params.additionalProperty}` : v.params.additionalProperty;
        code = 'unknown_field';
        message = `unknown field '${param}' (not supported by this server)`;
      } else if (v.keyword === 'required' && typeof v.params?.missingProperty === 'string') {
        param = param ? `${param}.${v.params.missingProperty}` : v.params.missingProperty;
        message = `'${param}' is required`;
      }
      return badRequest(code, param || null, message);
    }
    switch (f.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return badRequest('body_too_large', null, `request body is larger than this server's limit (${f.message ?? ''})`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new ApiError(415, 'unsupported_media_type', 'send the request body as application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return badRequest('invalid_json', null, 'the request body is empty; send a JSON object');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return badRequest('invalid_request', null, 'the Content-Length header does not match the body');
      default:
        break;
    }
    // Fastify's parser (secure-json-parse) gives one error for both: a syntax error, and a "__proto__"
    // or "constructor.prototype" key (refused against prototype poisoning)
    if (f.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return badRequest('invalid_json', null, 'the request body is not valid JSON (or it holds a "__proto__" or "constructor.prototype" key, which this server refuses)');
    if (e instanceof SyntaxError) return badRequest('invalid_json', null, `the request body is not valid JSON: ${f.message ?? ''}`);
    if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
      return new ApiError(f.statusCode, (f.code ?? 'invalid_request').toLowerCase(), f.message ?? 'invalid request');
    }
  }
  return new ApiError(500, 'internal_error', 'internal server error (see the server log)');
}
