// Who may talk to the server. It binds loopback by default; any other address needs an API key,
// checked as a Bearer token in constant time (SHA-256 digests of equal length compared with
// crypto.timingSafeEqual, so neither the key's length nor its content leaks through timing).
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ApiError } from './api-error.js';

/** 127.0.0.0/8, ::1, and 'localhost'. */
export function isLoopback(host: string): boolean {
  const h = host.trim().replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return !!mapped && mapped[1].startsWith('127.');
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class ApiKeyCheck {
  private readonly expected: Buffer;

  constructor(key: string) {
    if (key.length === 0) throw new Error('the API key must not be empty');
    this.expected = digest(key);
  }

  /** Throws 401 unless `authorization` is `Bearer <the key>`. */
  check(authorization: string | undefined): void {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    const unauthorized = (message: string) => new ApiError(401, 'invalid_api_key', message, null, 'authentication_error', { 'www-authenticate': 'Bearer' });
    if (!m) throw unauthorized('missing API key: send the header Authorization: Bearer <key>');
    if (!timingSafeEqual(digest(m[1].trim()), this.expected)) throw unauthorized('incorrect API key');
  }
}
