/**
 * The Fastify plugin: loads (or takes) one classifier, keeps named support sets on it,
 * and serves the /v1 API with limits, auth, metrics and an OpenAPI document. It is an
 * encapsulated plugin: its hooks, error handler and multipart parser apply to its own
 * routes only, never to the host application's.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { FewShotClassifier } from '../classifier/classifier.js';
import { packageVersion } from '../package_info.js';
import { bearerChecker } from './auth.js';
import { Gate } from './gate.js';
import { toErrorReply, HttpError } from './http_errors.js';
import { ServiceMetrics } from './metrics.js';
import { OpenApiCollector } from './openapi.js';
import { resolveOptions, type LwfmSpmPluginOptions } from './options.js';
import { SupportRegistry } from './registry.js';
import { SupportStore } from './store.js';
import { registerModelRoutes } from './routes_model.js';
import { registerOpsRoutes } from './routes_ops.js';
import { registerSetRoutes } from './routes_sets.js';
import type { ServiceContext } from './context.js';

/**
 * The lwfm-spm Fastify plugin (also exported as `lwfm-spm/fastify`).
 * @example
 * import Fastify from 'fastify';
 * import lwfmSpm from 'lwfm-spm/fastify';
 * const app = Fastify();
 * await app.register(lwfmSpm, { model: './my-model', prefix: '/fewshot' });
 * await app.listen({ port: 8080 });
 */
export async function lwfmSpmPlugin(app: FastifyInstance, options: LwfmSpmPluginOptions): Promise<void> {
  const opts = resolveOptions(options);
  const { limits } = opts;
  const classifier = opts.classifier ?? (await FewShotClassifier.load(opts.model, opts.load));
  const owned = opts.classifier === undefined;
  try {
    const model = classifier.info().model;
    const store = opts.store ? await SupportStore.open(opts.store, model) : undefined;
    const registry = new SupportRegistry(classifier, limits, store);
    const loaded = await registry.loadStored((file, reason) => app.log.warn({ file, reason }, 'lwfm-spm: stored support set skipped'));
    if (store)
      app.log.info({ store: store.dir, loaded: registry.size }, `lwfm-spm: ${registry.size} of ${loaded} stored support sets loaded`);
    const gate = new Gate(limits.maxConcurrent, limits.maxQueue);
    const state = { ready: false, closing: false };
    const metrics = opts.metrics
      ? new ServiceMetrics({
          queueDepth: () => gate.waiting,
          inFlight: () => gate.active,
          supportSets: () => registry.size,
          supportImages: () => registry.images,
        })
      : undefined;
    const openapi = new OpenApiCollector({ title: 'lwfm-spm', version: packageVersion() }, opts.apiKeys !== undefined);
    const ctx: ServiceContext = {
      classifier,
      registry,
      gate,
      metrics,
      openapi,
      limits,
      state,
      work: (req, reply, fn) => {
        const abort = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        return gate.run(limits.requestTimeoutMs, fn, abort.signal);
      },
    };

    if (!app.hasRequestDecorator('parts')) await app.register(multipart, { throwFileSizeLimit: true });
    app.addHook('onRoute', (route) => openapi.add(route));
    installGuards(app, ctx, opts.apiKeys);
    app.addHook('preClose', async () => {
      state.closing = true;
    });
    app.addHook('onClose', async () => {
      state.ready = false;
      await registry.flush();
      if (owned) await classifier.dispose();
    });
    app.addHook('onReady', async () => {
      state.ready = true;
    });

    registerOpsRoutes(app, ctx);
    registerSetRoutes(app, ctx);
    registerModelRoutes(app, ctx);
  } catch (err) {
    if (owned) await classifier.dispose();
    throw err;
  }
}

/** Auth, shutdown refusal, metrics and the JSON error shape, for this plugin's routes. */
function installGuards(app: FastifyInstance, ctx: ServiceContext, apiKeys: string[] | undefined): void {
  const check = apiKeys ? bearerChecker(apiKeys) : undefined;
  const isPublic = (req: FastifyRequest): boolean => req.routeOptions.config.openapi?.public === true;
  app.addHook('onRequest', async (req, reply) => {
    if (ctx.state.closing && !isPublic(req)) {
      reply.header('connection', 'close');
      throw new HttpError(503, 'ERR_LWFM_SHUTTING_DOWN', 'The server is shutting down; retry on another instance', { 'retry-after': '1' });
    }
    if (check && !isPublic(req)) check(req.headers.authorization);
  });
  // Replies sent while closing end their keep-alive connection, so close() need not wait for idle clients.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (ctx.state.closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics?.request(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err, req, reply) => {
    const out = toErrorReply(err, ctx.limits);
    if (out.status >= 500 && out.body.error.code === 'ERR_LWFM_INTERNAL') req.log.error({ err }, 'lwfm-spm: internal error');
    else req.log.info({ code: out.body.error.code, status: out.status }, out.body.error.message);
    ctx.metrics?.error(out.body.error.code);
    // Over a size limit the rest of the body may be large: close rather than drain it. (503s
    // keep the connection: measured, closing made refusals slower, 1 ms -> 2.5 s p50 at 4x.)
    if (out.status === 413) reply.header('connection', 'close');
    void reply.code(out.status).headers(out.headers).send(out.body);
  });
  app.setNotFoundHandler((req, reply) => {
    ctx.metrics?.error('ERR_LWFM_NOT_FOUND');
    void reply
      .code(404)
      .send({ error: { code: 'ERR_LWFM_NOT_FOUND', message: `No route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}` } });
  });
}
