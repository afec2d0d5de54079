/**
 * The OpenAPI 3.1 document of the service, generated from the routes as Fastify
 * registers them (their params and response schemas, which Fastify also uses to
 * validate and serialize), so the document cannot drift from the routes. Multipart
 * bodies and non-JSON responses, which Fastify does not describe, come from each
 * route's `config.openapi`.
 */
import type { RouteOptions } from 'fastify';

/** What a route adds to its Fastify schema for the document. */
export interface RouteDoc {
  /** Operation id (unique). */
  operationId: string;
  summary: string;
  tags?: string[];
  /** No auth even when the service requires it (health checks, this document). */
  public?: boolean;
  /** multipart/form-data parts: name -> { file or text, repeated, required, description }. */
  form?: Record<string, { kind: 'file' | 'text'; repeated: boolean; required: boolean; description: string }>;
  /** A non-JSON 200 response's media type (e.g. Prometheus text). */
  produces?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** lwfm-spm: the route's part of the OpenAPI document. */
    openapi?: RouteDoc;
  }
}

type Json = Record<string, unknown>;

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Bad request',
  401: 'Missing or invalid API key',
  404: 'Not found',
  409: 'Conflict',
  413: 'A size or count limit was exceeded (the message names it)',
  415: 'Not multipart/form-data',
  422: 'An image could not be read',
  503: 'Overloaded, timed out or shutting down (see Retry-After)',
  507: 'The server holds its limit of support sets or images',
};

/**
 * Collects routes (call `add` from an onRoute hook) and builds the document.
 * @example
 * const doc = new OpenApiCollector({ title: 'lwfm-spm', version: '0.1.0' }, true);
 * app.addHook('onRoute', (r) => doc.add(r));
 * doc.document(); // { openapi: '3.1.0', paths: { ... } }
 */
export class OpenApiCollector {
  readonly #info: { title: string; version: string };
  readonly #auth: boolean;
  readonly #paths: Record<string, Record<string, Json>> = {};

  constructor(info: { title: string; version: string; description?: string }, auth: boolean) {
    this.#info = info;
    this.#auth = auth;
  }

  /** Adds one route (HEAD routes Fastify derives from GET are left out). */
  add(route: RouteOptions): void {
    const doc = route.config?.openapi;
    if (!doc) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const schema = (route.schema ?? {}) as { params?: Json; response?: Record<string, Json> };
    for (const method of methods) {
      const op: Json = { operationId: doc.operationId, summary: doc.summary };
      if (doc.tags) op.tags = doc.tags;
      const params = schema.params as { properties?: Record<string, Json>; required?: string[] } | undefined;
      if (params?.properties) {
        op.parameters = Object.entries(params.properties).map(([name, s]) => ({ name, in: 'path', required: true, schema: s }));
      }
      if (doc.form) op.requestBody = formBody(doc.form);
      op.responses = Object.fromEntries(
        Object.entries(schema.response ?? {}).map(([status, s]) => {
          const media = status === '200' && doc.produces ? doc.produces : 'application/json';
          const body = status === '204' ? {} : { content: { [media]: { schema: s } } };
          return [status, { description: STATUS_TEXT[status] ?? status, ...body }];
        }),
      );
      if (this.#auth && !doc.public) op.security = [{ bearer: [] }];
      if (doc.public || !this.#auth) op.security = [];
      (this.#paths[path] ??= {})[method.toLowerCase()] = op;
    }
  }

  /** The document. */
  document(): Json {
    return {
      openapi: '3.1.0',
      info: {
        ...this.#info,
        description: 'Few-shot image classification with LWFM-SPM. Errors are JSON { error: { code, message } }.',
      },
      paths: this.#paths,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key from --api-key-file' } } },
      ...(this.#auth ? { security: [{ bearer: [] }] } : {}),
    };
  }
}

function formBody(form: NonNullable<RouteDoc['form']>): Json {
  const properties: Record<string, Json> = {};
  const required: string[] = [];
  for (const [name, part] of Object.entries(form)) {
    const one: Json = part.kind === 'file' ? { type: 'string', contentMediaType: 'application/octet-stream' } : { type: 'string' };
    properties[name] = part.repeated
      ? { type: 'array', items: one, description: part.description }
      : { ...one, description: part.description };
    if (part.required) required.push(name);
  }
  return {
    required: true,
    content: { 'multipart/form-data': { schema: { type: 'object', properties, required } } },
  };
}
