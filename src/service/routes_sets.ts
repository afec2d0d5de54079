/**
 * Support set routes: create (POST), replace (PUT), extend (PATCH), list, get, delete,
 * and classify against a set. Support images are embedded once, on upload; the sets
 * are kept (and stored) as embeddings.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SupportSnapshot } from '../classifier/classifier.js';
import { readForm } from './form.js';
import { HttpError } from './http_errors.js';
import type { RouteDoc } from './openapi.js';
import type { ServiceContext } from './context.js';
import type { WriteMode } from './registry.js';
import { classificationReply } from './results.js';
import { COMMON_ERRORS, classificationSchema, errors, idParams, supportSetListSchema, supportSetSchema } from './schemas.js';
import { SUPPORT_SET_ID } from './store.js';

const TAGS = ['support sets'];
const SUPPORT_FORM: RouteDoc['form'] = {
  image: { kind: 'file', repeated: true, required: true, description: 'Support images (encoded JPEG/PNG/WebP/...), repeated' },
  label: { kind: 'text', repeated: true, required: true, description: 'One label per image, in the same order' },
};
const QUERY_FORM: RouteDoc['form'] = {
  image: { kind: 'file', repeated: true, required: true, description: 'Query images, repeated; results come back in this order' },
};

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

export function registerSetRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const write = (mode: WriteMode) => async (req: FastifyRequest, reply: FastifyReply) => {
    const params = req.params as { id?: string };
    const info = await ctx.work(req, reply, async () => {
      const form = await readForm(req, { files: ['image'], fields: mode === 'create' ? ['label', 'id'] : ['label'] }, ctx.limits);
      const ids = form.fields.get('id') ?? [];
      if (ids.length > 1) throw new HttpError(400, 'ERR_LWFM_BAD_REQUEST', `Expected at most one 'id' part but received ${ids.length}`);
      const id = params.id ?? ids[0] ?? randomUUID();
      if (!SUPPORT_SET_ID.test(id)) {
        throw new HttpError(
          400,
          'ERR_LWFM_BAD_REQUEST',
          `Support set ids are 1-64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit`,
        );
      }
      const snapshot = await embedSupport(ctx, form.files.get('image')!, form.fields.get('label')!);
      return ctx.registry.write(id, mode, snapshot);
    });
    return reply.code(mode === 'create' ? 201 : 200).send(info);
  };

  app.post(
    '/v1/support-sets',
    {
      config: {
        openapi: {
          operationId: 'createSupportSet',
          summary: 'Create a support set from images and labels (optional text part `id`; default: a new UUID)',
          tags: TAGS,
          form: { ...SUPPORT_FORM, id: { kind: 'text', repeated: false, required: false, description: 'Id of the new set' } },
        },
      },
      schema: { response: { 201: supportSetSchema, ...errors(...COMMON_ERRORS, 409, 413, 415, 422, 507) } },
    },
    write('create'),
  );
  app.put(
    '/v1/support-sets/:id',
    {
      config: {
        openapi: { operationId: 'replaceSupportSet', summary: 'Create or replace the support set', tags: TAGS, form: SUPPORT_FORM },
      },
      schema: { params: idParams, response: { 200: supportSetSchema, ...errors(...COMMON_ERRORS, 413, 415, 422, 507) } },
    },
    write('replace'),
  );
  app.patch(
    '/v1/support-sets/:id',
    {
      config: {
        openapi: {
          operationId: 'extendSupportSet',
          summary: 'Add images (of known or new labels) to the support set',
          tags: TAGS,
          form: SUPPORT_FORM,
        },
      },
      schema: { params: idParams, response: { 200: supportSetSchema, ...errors(...COMMON_ERRORS, 404, 413, 415, 422, 507) } },
    },
    write('add'),
  );
  app.get(
    '/v1/support-sets',
    {
      config: { openapi: { operationId: 'listSupportSets', summary: 'All support sets', tags: TAGS } },
      schema: { response: { 200: supportSetListSchema, ...errors(401) } },
    },
    async () => ({ supportSets: ctx.registry.list() }),
  );
  app.get(
    '/v1/support-sets/:id',
    {
      config: { openapi: { operationId: 'getSupportSet', summary: 'One support set', tags: TAGS } },
      schema: { params: idParams, response: { 200: supportSetSchema, ...errors(400, 401, 404) } },
    },
    async (req: IdRequest) => ctx.registry.get(req.params.id),
  );
  app.delete(
    '/v1/support-sets/:id',
    {
      config: { openapi: { operationId: 'deleteSupportSet', summary: 'Delete the support set (and its stored file)', tags: TAGS } },
      schema: { params: idParams, response: { 204: { type: 'null' }, ...errors(400, 401, 404) } },
    },
    async (req: IdRequest, reply) => {
      await ctx.registry.remove(req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    '/v1/support-sets/:id/classify',
    {
      config: {
        openapi: {
          operationId: 'classify',
          summary: 'Classify query images against the support set',
          tags: ['classification'],
          form: QUERY_FORM,
        },
      },
      schema: { params: idParams, response: { 200: classificationSchema, ...errors(...COMMON_ERRORS, 404, 413, 415) } },
    },
    async (req: IdRequest, reply) => {
      const id = req.params.id;
      ctx.registry.get(id); // 404 before reading the body
      const result = await ctx.work(req, reply, async () => {
        const form = await readForm(req, { files: ['image'], fields: [] }, ctx.limits);
        const images = form.files.get('image')!;
        if (images.length === 0) throw new HttpError(400, 'ERR_LWFM_BAD_REQUEST', "Expected at least one file part named 'image'");
        return ctx.registry.classify(id, images);
      });
      return classificationReply(ctx, result);
    },
  );
}

/** Embeds support images; every one must be readable (422 naming the first that is not). */
async function embedSupport(ctx: ServiceContext, images: Buffer[], labels: string[]): Promise<SupportSnapshot> {
  if (images.length === 0) throw new HttpError(400, 'ERR_LWFM_BAD_REQUEST', "Expected at least one file part named 'image'");
  if (labels.length !== images.length) {
    throw new HttpError(
      400,
      'ERR_LWFM_BAD_REQUEST',
      `Expected one 'label' part per 'image' part (${images.length}) but received ${labels.length}`,
    );
  }
  const emb = await ctx.classifier.embed(images);
  ctx.metrics?.stages(emb.timings);
  const bad = emb.errors.findIndex((e) => e !== null);
  if (bad >= 0) throw new HttpError(422, 'ERR_LWFM_IMAGE', `Support image #${bad} could not be read: ${emb.errors[bad]!.message}`);
  return { features: emb.data, dims: emb.dims, labels };
}
