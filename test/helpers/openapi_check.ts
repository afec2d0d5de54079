/**
 * Checks an OpenAPI 3.1 document the way a client generator would rely on it: the
 * required structure, unique operation ids, every schema compilable as JSON Schema
 * 2020-12, and real responses valid against the schema of their route and status.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Structural problems of the document (empty when none). */
export function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (doc.openapi !== '3.1.0') problems.push(`openapi is ${doc.openapi}, expected 3.1.0`);
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') problems.push('info.title / info.version missing');
  if (!doc.paths || typeof doc.paths !== 'object') return [...problems, 'paths missing'];
  const ids = new Set<string>();
  const ajv = newAjv();
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item as Json)) {
      if (!METHODS.includes(method)) problems.push(`${path}: unknown method ${method}`);
      const where = `${method.toUpperCase()} ${path}`;
      if (typeof op.operationId !== 'string' || ids.has(op.operationId)) problems.push(`${where}: missing or duplicate operationId`);
      ids.add(op.operationId);
      const params = (op.parameters ?? []) as Json[];
      for (const name of templated) {
        if (!params.some((p) => p.name === name && p.in === 'path' && p.required === true))
          problems.push(`${where}: path parameter ${name} not declared`);
      }
      if (!op.responses || Object.keys(op.responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, res] of Object.entries(op.responses as Json)) {
        if (!/^[1-5]\d\d$/.test(status)) problems.push(`${where}: bad status ${status}`);
        if (typeof res.description !== 'string') problems.push(`${where} ${status}: no description`);
        for (const [media, content] of Object.entries((res.content ?? {}) as Json)) {
          try {
            ajv.compile(content.schema);
          } catch (e) {
            problems.push(`${where} ${status} ${media}: schema does not compile (${(e as Error).message})`);
          }
        }
      }
      const body = op.requestBody?.content?.['multipart/form-data']?.schema;
      if (op.requestBody && !body) problems.push(`${where}: requestBody without a multipart/form-data schema`);
      if (body) {
        try {
          ajv.compile(body);
        } catch (e) {
          problems.push(`${where}: request schema does not compile (${(e as Error).message})`);
        }
      }
      for (const s of (op.security ?? []) as Json[]) {
        for (const scheme of Object.keys(s))
          if (!doc.components?.securitySchemes?.[scheme]) problems.push(`${where}: unknown security scheme ${scheme}`);
      }
    }
  }
  return problems;
}

/** The (method path) pairs of the document, e.g. 'POST /v1/support-sets/{id}/classify'. */
export function operations(doc: Json): string[] {
  return Object.entries(doc.paths as Json)
    .flatMap(([path, item]) => Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

/**
 * Validates a response against the document: returns a problem or undefined. `path` is
 * the template ('/v1/support-sets/{id}').
 */
export function responseProblem(doc: Json, method: string, path: string, status: number, body: unknown): string | undefined {
  const op = doc.paths?.[path]?.[method.toLowerCase()];
  if (!op) return `${method} ${path} is not in the document`;
  const res = op.responses?.[String(status)];
  if (!res) return `${method} ${path} answered ${status}, which the document does not list`;
  const schema = Object.values((res.content ?? {}) as Json)[0]?.schema;
  if (!schema) return body === undefined || body === '' ? undefined : `${method} ${path} ${status} has a body but no schema`;
  const validate = cached.get(schema) ?? newAjv().compile(schema);
  cached.set(schema, validate);
  return validate(body) ? undefined : `${method} ${path} ${status}: ${JSON.stringify(validate.errors).slice(0, 300)}`;
}

const cached = new Map<unknown, ReturnType<Ajv2020['compile']>>();

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  return ajv;
}
