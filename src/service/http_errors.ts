/**
 * HTTP errors of the service: every failure leaves as `{ error: { code, message } }`
 * with a status that a client or load balancer can act on, and never with a stack
 * trace. The package's own errors keep their codes; Fastify's and the multipart
 * parser's errors are translated into the same shape.
 */
import { LwfmError } from '../errors.js';

/**
 * An error with the HTTP status to answer with (and optional headers, e.g. Retry-After).
 * @example
 * throw new HttpError(404, 'ERR_LWFM_NOT_FOUND', "No support set 'cats'");
 */
export class HttpError extends LwfmError {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  constructor(statusCode: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message, code);
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

/** What the error handler sends. */
export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string } };
}

/** Status of a package error code when it reaches HTTP (image and argument problems are the client's). */
const CODE_STATUS: Record<string, number> = {
  ERR_LWFM_IMAGE: 422,
  ERR_LWFM_NO_SUPPORT: 404,
  ERR_LWFM_DISPOSED: 503,
  ERR_LWFM_SUPPORT_FORMAT: 400,
  ERR_LWFM_SUPPORT_VERSION: 400,
  ERR_LWFM_SUPPORT_MODEL: 409,
};

/** Fastify / @fastify/multipart error codes and what they mean here. */
const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'ERR_LWFM_TOO_LARGE'],
  FST_REQ_FILE_TOO_LARGE: [413, 'ERR_LWFM_TOO_LARGE'],
  FST_FILES_LIMIT: [413, 'ERR_LWFM_TOO_LARGE'],
  FST_PARTS_LIMIT: [413, 'ERR_LWFM_TOO_LARGE'],
  FST_FIELDS_LIMIT: [413, 'ERR_LWFM_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'ERR_LWFM_MEDIA_TYPE'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'ERR_LWFM_MEDIA_TYPE'],
  FST_PROTO_VIOLATION: [400, 'ERR_LWFM_BAD_REQUEST'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'ERR_LWFM_BAD_REQUEST'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'ERR_LWFM_BAD_REQUEST'],
  FST_ERR_VALIDATION: [400, 'ERR_LWFM_BAD_REQUEST'],
  FST_ERR_BAD_URL: [400, 'ERR_LWFM_BAD_REQUEST'],
  FST_REQ_PREMATURE_CLOSE: [400, 'ERR_LWFM_BAD_REQUEST'],
};

/**
 * Translates any thrown value into the reply: status, headers and the JSON error body.
 * Unknown errors become a 500 with a generic message (the details go to the log only).
 * @example
 * const { status, body } = toErrorReply(new HttpError(413, 'ERR_LWFM_TOO_LARGE', 'too big'));
 */
export function toErrorReply(err: unknown, limits?: { maxImageBytes: number; maxImagesPerRequest: number }): ErrorReply {
  if (err instanceof HttpError) return reply(err.statusCode, err.code, err.message, err.headers);
  if (err instanceof LwfmError) return reply(CODE_STATUS[err.code] ?? 500, err.code, err.message);
  if (err instanceof TypeError || err instanceof RangeError) {
    // Thrown by the package's argument checks: the request asked for something invalid.
    return reply(400, 'ERR_LWFM_BAD_REQUEST', err.message);
  }
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  const known = typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (known) {
    const [status, code] = known;
    let message = typeof e.message === 'string' ? e.message : code;
    if (limits && e.code === 'FST_REQ_FILE_TOO_LARGE') message = `An image is larger than the limit of ${limits.maxImageBytes} bytes`;
    if (limits && e.code === 'FST_FILES_LIMIT') message = `More than the limit of ${limits.maxImagesPerRequest} images in one request`;
    return reply(status, code, message);
  }
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply(e.statusCode, 'ERR_LWFM_BAD_REQUEST', typeof e.message === 'string' ? e.message : 'Bad request');
  }
  return reply(500, 'ERR_LWFM_INTERNAL', 'Internal error; the server log has the details');
}

function reply(status: number, code: string, message: string, headers: Record<string, string> = {}): ErrorReply {
  return { status, headers, body: { error: { code, message } } };
}
