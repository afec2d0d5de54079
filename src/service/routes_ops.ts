/**
 * Operations routes: liveness, readiness, Prometheus metrics, service info and the
 * OpenAPI document. Liveness, readiness and the document need no API key, so load
 * balancers and orchestrators can probe without one.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteDoc } from './openapi.js';
import type { ServiceContext } from './context.js';
import { errors, healthSchema, infoSchema } from './schemas.js';

const doc = (d: RouteDoc): { openapi: RouteDoc } => ({ openapi: d });

export function registerOpsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get(
    '/healthz',
    {
      config: doc({ operationId: 'healthz', summary: 'Liveness: the process answers', tags: ['operations'], public: true }),
      schema: { response: { 200: healthSchema } },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: doc({
        operationId: 'readyz',
        summary: 'Readiness: model loaded, workers up, not shutting down',
        tags: ['operations'],
        public: true,
      }),
      schema: { response: { 200: healthSchema, 503: healthSchema } },
    },
    async (_req, reply) => {
      const reason = ctx.state.closing ? 'shutting down' : !ctx.state.ready ? 'starting' : undefined;
      if (reason) return reply.code(503).header('retry-after', '1').send({ status: 'unavailable', reason });
      try {
        ctx.classifier.info(); // throws once the classifier was disposed
      } catch {
        return reply.code(503).send({ status: 'unavailable', reason: 'model disposed' });
      }
      return { status: 'ready' };
    },
  );

  if (ctx.metrics) {
    const metrics = ctx.metrics;
    app.get(
      '/metrics',
      {
        config: doc({ operationId: 'metrics', summary: 'Prometheus metrics', tags: ['operations'], produces: 'text/plain' }),
        schema: { response: { 200: { type: 'string' }, ...errors(401) } },
      },
      async (_req, reply) => {
        const text = await metrics.registry.metrics();
        return reply
          .type(metrics.registry.contentType)
          .serializer((s: unknown) => s as string)
          .send(text);
      },
    );
  }

  app.get(
    '/v1/info',
    {
      config: doc({ operationId: 'info', summary: 'Version, devices, model identity, limits, support sets', tags: ['operations'] }),
      schema: { response: { 200: infoSchema, ...errors(401) } },
    },
    async () => {
      const info = ctx.classifier.info();
      // No server paths (model directory, addon path) leave the process.
      const { dir: _dir, ...model } = info.model;
      return {
        version: info.version,
        native: { origin: info.native.origin, cuda: info.native.cuda, simd: info.native.simd },
        devices: info.devices,
        threads: info.threads ?? null,
        workers: info.workers ?? null,
        model,
        limits: ctx.limits,
        supportSets: { count: ctx.registry.size, images: ctx.registry.images },
      };
    },
  );

  app.get(
    '/openapi.json',
    {
      config: doc({ operationId: 'openapi', summary: 'This OpenAPI document', tags: ['operations'], public: true }),
      schema: { response: { 200: { type: 'object', additionalProperties: true } } },
    },
    async () => ctx.openapi.document(),
  );
}
