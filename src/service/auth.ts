/**
 * Optional bearer-token auth. Tokens are compared in constant time: both sides are
 * hashed to 32 bytes first, so neither the length nor the first differing byte of a
 * guess changes how long the comparison takes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HttpError } from './http_errors.js';

/**
 * Checks `Authorization: Bearer <token>` headers against a set of accepted tokens.
 * @example
 * const check = bearerChecker(['s3cret']);
 * check('Bearer s3cret'); // passes; anything else throws a 401 HttpError
 */
export function bearerChecker(tokens: readonly string[]): (header: string | undefined) => void {
  if (tokens.length === 0) throw new RangeError('Expected at least one API key for auth but received none');
  const digests = tokens.map((t) => {
    if (typeof t !== 'string' || t.length < 16)
      throw new RangeError('Expected API keys of at least 16 characters for auth but received a shorter one');
    return digest(t);
  });
  return (header) => {
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    const given = digest(match ? match[1]! : '');
    // Compare against every key (no early exit), so the time says nothing about which matched.
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(given, d) || ok;
    if (!ok || !match) {
      throw new HttpError(401, 'ERR_LWFM_UNAUTHORIZED', match ? 'Invalid API key' : 'Missing "Authorization: Bearer <API key>" header', {
        'www-authenticate': 'Bearer realm="lwfm-spm"',
      });
    }
  };
}

/**
 * Reads API keys from a file: one per line, blank lines and `#` comments ignored.
 * @example
 * const keys = readApiKeyFile('/run/secrets/lwfm-keys');
 */
export function readApiKeyFile(file: string): string[] {
  const keys = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  if (keys.length === 0) throw new RangeError(`Expected at least one API key in ${file} but it has none`);
  return keys;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
