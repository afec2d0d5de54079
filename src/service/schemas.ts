/**
 * JSON schemas of the service's responses. Fastify serializes replies with them (fast
 * and with no stray fields) and the OpenAPI document is built from them.
 */

const label = { type: ['string', 'number'] } as const;

/** `{ error: { code, message } }`. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

/** The error responses a route can give, each with errorSchema. */
export function errors(...statuses: number[]): Record<string, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [String(s), errorSchema]));
}

/** What every model route can answer besides its own errors: auth, overload/timeout. */
export const COMMON_ERRORS = [400, 401, 503] as const;

export const supportSetSchema = {
  type: 'object',
  required: ['id', 'way', 'shots', 'labels', 'size', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    way: { type: 'integer' },
    shots: { type: 'array', items: { type: 'integer' }, description: 'Support images per class, in label order' },
    labels: { type: 'array', items: label },
    size: { type: 'integer', description: 'Support images in all' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const supportSetListSchema = {
  type: 'object',
  required: ['supportSets'],
  properties: { supportSets: { type: 'array', items: supportSetSchema } },
} as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } },
} as const;

const timingsSchema = {
  type: 'object',
  description: 'Milliseconds per stage',
  properties: { decode: { type: 'number' }, backbone: { type: 'number' }, head: { type: 'number' }, total: { type: 'number' } },
} as const;

/** One query's result: a prediction or its image's error. */
const resultSchema = {
  type: 'object',
  properties: {
    label,
    index: { type: 'integer' },
    probabilities: { type: 'array', items: { type: 'number' } },
    error: errorSchema.properties.error,
  },
} as const;

export const classificationSchema = {
  type: 'object',
  required: ['results', 'labels'],
  properties: {
    results: { type: 'array', items: resultSchema, description: 'One per query image, in request order' },
    labels: { type: 'array', items: label, description: 'Class labels in index order' },
    timings: timingsSchema,
  },
} as const;

export const embeddingSchema = {
  type: 'object',
  required: ['dims', 'encoding', 'data', 'errors'],
  properties: {
    dims: { type: 'array', items: { type: 'integer' }, description: '[N, C, P]' },
    encoding: { type: 'string', enum: ['base64-float32le'] },
    data: { type: 'string', description: 'N x C x P float32, little-endian, base64; rows of unreadable images are NaN' },
    errors: { type: 'array', items: { anyOf: [{ type: 'null' }, errorSchema.properties.error] } },
    timings: timingsSchema,
  },
} as const;

export const healthSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, reason: { type: 'string' } },
} as const;

export const infoSchema = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    native: { type: 'object', properties: { origin: { type: 'string' }, cuda: { type: 'boolean' }, simd: { type: 'string' } } },
    devices: { type: 'object', properties: { backbone: { type: 'string' }, head: { type: 'string' } } },
    threads: { type: ['integer', 'null'] },
    workers: { type: ['integer', 'null'] },
    model: {
      type: 'object',
      properties: {
        crop: { type: 'integer' },
        channels: { type: 'array', items: { type: 'integer' } },
        featureSize: { type: 'integer' },
        trained: { type: 'boolean' },
        source: { type: 'string' },
        fingerprint: { type: 'string' },
      },
    },
    limits: { type: 'object', additionalProperties: { type: 'number' } },
    supportSets: { type: 'object', properties: { count: { type: 'integer' }, images: { type: 'integer' } } },
  },
} as const;
