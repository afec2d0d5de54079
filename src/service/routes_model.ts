/**
 * One-off model routes: classify an episode (support and queries in one request, nothing
 * kept) and embed images (the backbone's C x P features, base64 float32).
 */
import type { FastifyInstance } from 'fastify';
import { readForm } from './form.js';
import { HttpError } from './http_errors.js';
import type { ServiceContext } from './context.js';
import { classificationReply } from './results.js';
import { COMMON_ERRORS, classificationSchema, embeddingSchema, errors } from './schemas.js';

export function registerModelRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.post(
    '/v1/classify-episode',
    {
      config: {
        openapi: {
          operationId: 'classifyEpisode',
          summary: 'Classify query images against a one-off support set (nothing is kept)',
          tags: ['classification'],
          form: {
            image: { kind: 'file', repeated: true, required: true, description: 'Support images, repeated' },
            label: { kind: 'text', repeated: true, required: true, description: 'One label per support image, in the same order' },
            query: { kind: 'file', repeated: true, required: true, description: 'Query images, repeated; results come back in this order' },
          },
        },
      },
      schema: { response: { 200: classificationSchema, ...errors(...COMMON_ERRORS, 413, 415, 422) } },
    },
    async (req, reply) => {
      const result = await ctx.work(req, reply, async () => {
        const form = await readForm(req, { files: ['image', 'query'], fields: ['label'] }, ctx.limits);
        const support = form.files.get('image')!;
        const labels = form.fields.get('label')!;
        const queries = form.files.get('query')!;
        if (support.length === 0 || queries.length === 0) {
          throw new HttpError(
            400,
            'ERR_LWFM_BAD_REQUEST',
            `Expected support 'image' parts and 'query' parts but received ${support.length} and ${queries.length}`,
          );
        }
        if (labels.length !== support.length) {
          throw new HttpError(
            400,
            'ERR_LWFM_BAD_REQUEST',
            `Expected one 'label' part per 'image' part (${support.length}) but received ${labels.length}`,
          );
        }
        return ctx.classifier.classifyEpisode(support, labels, queries);
      });
      return classificationReply(ctx, result);
    },
  );

  app.post(
    '/v1/embed',
    {
      config: {
        openapi: {
          operationId: 'embed',
          summary: 'Backbone embeddings (N x C x P float32) of images',
          tags: ['classification'],
          form: { image: { kind: 'file', repeated: true, required: true, description: 'Images, repeated' } },
        },
      },
      schema: { response: { 200: embeddingSchema, ...errors(...COMMON_ERRORS, 413, 415) } },
    },
    async (req, reply) => {
      const emb = await ctx.work(req, reply, async () => {
        const form = await readForm(req, { files: ['image'], fields: [] }, ctx.limits);
        const images = form.files.get('image')!;
        if (images.length === 0) throw new HttpError(400, 'ERR_LWFM_BAD_REQUEST', "Expected at least one file part named 'image'");
        return ctx.classifier.embed(images);
      });
      ctx.metrics?.stages(emb.timings);
      const le = Buffer.from(emb.data.buffer, emb.data.byteOffset, emb.data.byteLength);
      return {
        dims: emb.dims,
        encoding: 'base64-float32le',
        data: le.toString('base64'),
        errors: emb.errors.map((e) => (e ? { code: e.code, message: e.message } : null)),
        timings: emb.timings,
      };
    },
  );
}
