/**
 * The plugin inside a host Fastify app (as `lwfm-spm/fastify` users run it): a route
 * prefix, a classifier the host loaded itself (not disposed by the plugin), the host's
 * own routes and errors untouched, and an OpenAPI document listing exactly the
 * plugin's routes. Real HTTP on a loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lwfmSpm from '../src/fastify.js';
import { classifierFromEngine, type FewShotClassifier } from '../src/classifier/classifier.js';
import { fakeEngine, fakeNativeInfo } from './support/fakes.js';
import { call, form } from './helpers/service_client.js';
import { openApiProblems, operations } from './helpers/openapi_check.js';

let app: FastifyInstance;
let url: string;
let classifier: FewShotClassifier;
let dir: string;
const hostRoutes: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-plugin-'));
  // The fake engine (test/support/fakes.ts) reads a buffer's text as the image's name.
  classifier = classifierFromEngine(fakeEngine(0.1), fakeNativeInfo);
  app = Fastify();
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') hostRoutes.push(`${m} ${r.url}`);
  });
  app.get('/host', async () => ({ host: true }));
  app.get('/host-error', async () => {
    throw Object.assign(new Error('host failure'), { statusCode: 418 });
  });
  await app.register(lwfmSpm, { classifier, prefix: '/fewshot', maxConcurrent: 1, maxQueue: 0, store: join(dir, 'store') });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lwfm-spm/fastify in a host app', () => {
  it('serves under the prefix with the host classifier', async () => {
    const created = await call(`${url}/fewshot/v1/support-sets`, {
      method: 'POST',
      body: form([
        ['image', Buffer.from('cat-1')],
        ['label', 'cat'],
        ['image', Buffer.from('dog-1')],
        ['label', 'dog'],
        ['id', 'pets'],
      ]),
    });
    expect(created.status).toBe(201);
    const r = await call(`${url}/fewshot/v1/support-sets/pets/classify`, {
      method: 'POST',
      body: form([
        ['image', Buffer.from('dog-7')],
        ['image', Buffer.from('bad-1')],
        ['image', Buffer.from('cat-3')],
      ]),
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { label?: string; error?: { code: string } }) => x.label ?? x.error!.code)).toEqual([
      'dog',
      'ERR_LWFM_IMAGE',
      'cat',
    ]);
    expect((await call(`${url}/v1/support-sets`)).status).toBe(404); // nothing outside the prefix
  });

  it('leaves the host routes and their error format alone', async () => {
    expect((await call(`${url}/host`)).body).toEqual({ host: true });
    const e = await call(`${url}/host-error`);
    expect(e.status).toBe(418);
    expect(e.body.error).not.toHaveProperty('code', 'ERR_LWFM_INTERNAL');
    expect(e.body.message).toBe('host failure');
  });

  it('maxQueue 0: a second concurrent request is refused with 503 at once', async () => {
    const body = () => form(Array.from({ length: 40 }, (_, i): [string, Buffer] => ['image', Buffer.from(`cat-${i}`)]));
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => call(`${url}/fewshot/v1/support-sets/pets/classify`, { method: 'POST', body: body() })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  });

  it('the OpenAPI document lists exactly the plugin routes, prefixed', async () => {
    const doc = (await call(`${url}/fewshot/openapi.json`)).body;
    expect(openApiProblems(doc)).toEqual([]);
    const plugin = hostRoutes
      .filter((r) => r.includes(' /fewshot/'))
      .map((r) => r.replace(/:(\w+)/g, '{$1}'))
      .sort();
    expect(operations(doc)).toEqual([...new Set(plugin)].sort());
    expect(plugin).toContain('POST /fewshot/v1/support-sets/{id}/classify');
  });

  it('does not dispose a classifier it did not load', async () => {
    const other = Fastify();
    await other.register(lwfmSpm, { classifier });
    await other.ready();
    await other.close();
    expect(() => classifier.info()).not.toThrow();
  });
});
