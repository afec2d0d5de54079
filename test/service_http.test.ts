/**
 * The real `lwfm-spm serve` process on a loopback port, over real HTTP: every route,
 * every error status, auth, and results equal to an in-process FewShotClassifier on
 * the same images. Every reply is also checked against the served OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FewShotClassifier, type Prediction } from '../src/index.js';
import { startServe, type ServeProcess } from './helpers/serve_process.js';
import { call, form, sampleImages, type Reply } from './helpers/service_client.js';
import { openApiProblems, responseProblem } from './helpers/openapi_check.js';

const KEY = 'test-key-0123456789abcdef';
let dir: string;
let server: ServeProcess;
let local: FewShotClassifier;
let images: Map<string, Buffer[]>;
let classes: string[];
const seen: { method: string; path: string; reply: Reply }[] = [];

/** A request with the API key, recorded for the OpenAPI check; `path` is the route template. */
async function api(
  method: string,
  path: string,
  opts: { params?: Record<string, string>; body?: RequestInit['body']; key?: string | null; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(opts.params?.[k] ?? ''));
  const reply = await call(`${server.url}${url}`, {
    method,
    body: opts.body,
    key: opts.key === null ? undefined : (opts.key ?? KEY),
    headers: opts.headers,
  });
  seen.push({ method, path, reply });
  if (reply.status >= 400) {
    expect(reply.body?.error?.code, `${method} ${url}: ${reply.text}`).toMatch(/^ERR_LWFM_/);
    expect(reply.text).not.toMatch(/\n\s+at /); // never a stack trace
  }
  return reply;
}

const support = (): [string, Buffer | string][] =>
  classes.flatMap((c) => [0, 1].flatMap((i) => [['image', images.get(c)![i]!] as [string, Buffer], ['label', c] as [string, string]]));
const queries = (): Buffer[] => classes.map((c) => images.get(c)![5]!);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-serve-'));
  images = sampleImages(join(dir, 'data'));
  classes = [...images.keys()].slice(0, 5);
  writeFileSync(join(dir, 'keys'), `# test key\n${KEY}\n`);
  [server, local] = await Promise.all([
    startServe([
      '--device',
      'cpu',
      '--threads',
      '1',
      '--workers',
      '1',
      '--api-key-file',
      join(dir, 'keys'),
      '--max-images',
      '12',
      '--max-image-bytes',
      '300000',
      '--max-pixels',
      '1000000',
      '--log-level',
      'warn',
    ]),
    FewShotClassifier.load(undefined, { device: 'cpu', threads: 1, workers: 1 }),
  ]);
});

afterAll(async () => {
  await server?.stop();
  await local?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('lwfm-spm serve over HTTP', () => {
  it('health routes answer without a key; the others need a valid bearer key', async () => {
    expect((await api('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
    expect((await api('GET', '/readyz', { key: null })).body).toEqual({ status: 'ready' });
    const none = await api('GET', '/v1/info', { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await api('GET', '/v1/info', { key: 'wrong-key-0123456789abcdef' })).status).toBe(401);
    expect((await api('GET', '/metrics', { key: null })).status).toBe(401);
    expect((await api('GET', '/v1/support-sets', { key: null })).status).toBe(401);
    const info = await api('GET', '/v1/info');
    expect(info.status).toBe(200);
    expect(info.body.model.fingerprint).toBe(local.info().model.fingerprint);
    expect(info.text).not.toContain(local.info().model.dir); // no server paths
    expect(info.body.limits.maxImagesPerRequest).toBe(12);
  });

  it('support sets: create, conflict, get, list, patch, put, delete', async () => {
    const created = await api('POST', '/v1/support-sets', { body: form([...support(), ['id', 'shapes']]) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'shapes', way: 5, shots: [2, 2, 2, 2, 2], labels: classes, size: 10 });
    expect((await api('POST', '/v1/support-sets', { body: form([...support(), ['id', 'shapes']]) })).status).toBe(409);
    const anon = await api('POST', '/v1/support-sets', { body: form(support().slice(0, 2)) });
    expect(anon.status).toBe(201);
    expect(anon.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api('GET', '/v1/support-sets/{id}', { params: { id: 'shapes' } })).body.size).toBe(10);
    expect((await api('GET', '/v1/support-sets')).body.supportSets.map((s: { id: string }) => s.id).sort()).toEqual(
      [anon.body.id, 'shapes'].sort(),
    );
    const patched = await api('PATCH', '/v1/support-sets/{id}', {
      params: { id: anon.body.id },
      body: form([
        ['image', images.get(classes[1]!)![0]!],
        ['label', 'other'],
      ]),
    });
    expect(patched.body).toMatchObject({ way: 2, shots: [1, 1], labels: [classes[0], 'other'], size: 2 });
    const put = await api('PUT', '/v1/support-sets/{id}', { params: { id: 'fresh.v1' }, body: form(support().slice(0, 4)) });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'fresh.v1', size: 2 });
    expect((await api('DELETE', '/v1/support-sets/{id}', { params: { id: anon.body.id } })).status).toBe(204);
    expect((await api('DELETE', '/v1/support-sets/{id}', { params: { id: anon.body.id } })).status).toBe(404);
    expect((await api('GET', '/v1/support-sets/{id}', { params: { id: anon.body.id } })).status).toBe(404);
    expect((await api('PATCH', '/v1/support-sets/{id}', { params: { id: 'nope' }, body: form(support().slice(0, 2)) })).status).toBe(404);
  });

  it('classify equals the in-process classifier on the same images; an unreadable image fails alone', async () => {
    await local.setSupport(
      support()
        .filter(([n]) => n === 'image')
        .map(([, v]) => v as Buffer),
      support()
        .filter(([n]) => n === 'label')
        .map(([, v]) => v as string),
    );
    const q = [...queries(), Buffer.from('not an image')];
    const reply = await api('POST', '/v1/support-sets/{id}/classify', { params: { id: 'shapes' }, body: form(q.map((b) => ['image', b])) });
    expect(reply.status).toBe(200);
    const mine = await local.classify(q);
    expect(reply.body.labels).toEqual(mine.labels);
    expect(reply.body.results).toHaveLength(q.length);
    mine.forEach((r, i) => {
      const got = reply.body.results[i];
      if (r.error) {
        expect(got.error.code).toBe('ERR_LWFM_IMAGE');
        return;
      }
      expect(got.label).toBe((r as Prediction).label);
      expect(got.index).toBe(r.index);
      got.probabilities.forEach((p: number, k: number) => expect(Math.abs(p - r.probabilities[k]!)).toBeLessThan(1e-6));
    });
    expect(reply.body.results.at(-1).error.code).toBe('ERR_LWFM_IMAGE');
  });

  it('classify-episode and embed equal the in-process calls', async () => {
    const s = support().slice(0, 12); // 3 classes x 2 shots, + 5 queries: within the 12-image limit
    const sup = s.filter(([n]) => n === 'image').map(([, v]) => v as Buffer);
    const labels = s.filter(([n]) => n === 'label').map(([, v]) => v as string);
    const q = queries();
    const episode = await api('POST', '/v1/classify-episode', { body: form([...s, ...q.map((b): [string, Buffer] => ['query', b])]) });
    expect(episode.status).toBe(200);
    const mine = (await local.classifyEpisode(sup, labels, q)) as Prediction[];
    expect(episode.body.results.map((r: { label: string }) => r.label)).toEqual(mine.map((r) => r.label));
    const embed = await api('POST', '/v1/embed', { body: form(q.slice(0, 2).map((b) => ['image', b])) });
    expect(embed.status).toBe(200);
    const mineEmb = await local.embed(q.slice(0, 2));
    expect(embed.body.dims).toEqual(mineEmb.dims);
    const bytes = Buffer.from(embed.body.data, 'base64');
    const got = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(Array.from(got)).toEqual(Array.from(mineEmb.data));
  });

  it('limits: 413 naming the limit, 415, 400, 422 and 404', async () => {
    const one = queries()[0]!;
    const tooMany = await api('POST', '/v1/support-sets/{id}/classify', {
      params: { id: 'shapes' },
      body: form(Array.from({ length: 13 }, () => ['image', one])),
    });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error.message).toContain('12');
    const big = await api('POST', '/v1/embed', { body: form([['image', Buffer.alloc(300_001, 1)]]) });
    expect(big.status).toBe(413);
    expect(big.body.error.message).toContain('300000');
    // A decompression bomb in miniature: a few KB of PNG that declares 4 megapixels.
    const bomb = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    expect(bomb.length).toBeLessThan(300_000);
    const bombed = await api('POST', '/v1/embed', { body: form([['image', bomb]]) });
    expect(bombed.status).toBe(413);
    expect(bombed.body.error.message).toMatch(/4000000 pixels.*1000000/);
    expect(
      (await api('POST', '/v1/embed', { body: JSON.stringify({ path: '/etc/passwd' }), headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(415);
    expect((await api('POST', '/v1/embed', { body: form([['path', '/etc/passwd']]) })).status).toBe(400);
    expect((await api('POST', '/v1/embed', { body: form([]) })).status).toBe(400);
    const mismatch = await api('POST', '/v1/support-sets', {
      body: form([
        ['image', one],
        ['label', 'a'],
        ['label', 'b'],
      ]),
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.message).toMatch(/one 'label' part per 'image'/);
    expect(
      (
        await api('POST', '/v1/support-sets', {
          body: form([
            ['image', one],
            ['label', 'a'],
            ['id', '../../etc'],
          ]),
        })
      ).status,
    ).toBe(400);
    const unreadable = await api('POST', '/v1/support-sets', {
      body: form([
        ['image', one],
        ['label', 'a'],
        ['image', Buffer.from('xx')],
        ['label', 'b'],
      ]),
    });
    expect(unreadable.status).toBe(422);
    expect(unreadable.body.error.message).toContain('#1');
    expect((await api('POST', '/v1/support-sets/{id}/classify', { params: { id: 'missing' }, body: form([['image', one]]) })).status).toBe(
      404,
    );
    expect((await api('GET', '/v1/nothing-here')).status).toBe(404);
  });

  it('metrics: requests by route template and status, stage latencies, images, errors by code, queue depth', async () => {
    const m = await api('GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(m.text).toMatch(/lwfm_http_requests_total\{method="POST",route="\/v1\/support-sets\/:id\/classify",status="200"\} [1-9]/);
    expect(m.text).toMatch(/lwfm_http_requests_total\{method="POST",route="\/v1\/embed",status="413"\} [1-9]/);
    for (const stage of ['decode', 'backbone', 'head'])
      expect(m.text).toMatch(new RegExp(`lwfm_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`));
    expect(m.text).toMatch(/lwfm_images_classified_total\{outcome="ok"\} [1-9]/);
    expect(m.text).toMatch(/lwfm_images_classified_total\{outcome="error"\} [1-9]/);
    expect(m.text).toMatch(/lwfm_errors_total\{code="ERR_LWFM_IMAGE"\} [1-9]/);
    expect(m.text).toMatch(/lwfm_queue_depth 0/);
    expect(m.text).toMatch(/lwfm_support_sets 2/);
    expect(m.text).toMatch(/lwfm_http_request_duration_seconds_bucket/);
  });

  it('overload: beyond maxConcurrent + maxQueue the excess gets 503 + Retry-After at once, the rest succeed', async () => {
    // This server runs with the defaults 4 + 32; 60 concurrent 12-image requests exceed them.
    const body = () => form(Array.from({ length: 12 }, () => ['image', queries()[0]!]));
    const replies = await Promise.all(
      Array.from({ length: 60 }, () => api('POST', '/v1/support-sets/{id}/classify', { params: { id: 'shapes' }, body: body() })),
    );
    const refused = replies.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body.error.code).toBe('ERR_LWFM_OVERLOADED');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(replies.filter((r) => r.status === 200).length + refused.length).toBe(60);
    expect((await api('GET', '/healthz', { key: null })).status).toBe(200);
  });

  it('the OpenAPI document is valid, lists every route, and every reply above matches it', async () => {
    const doc = await api('GET', '/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    expect(openApiProblems(doc.body)).toEqual([]);
    for (const { method, path, reply } of seen) {
      if (path === '/v1/nothing-here') continue;
      expect(responseProblem(doc.body, method, path, reply.status, reply.body ?? reply.text)).toBeUndefined();
    }
    expect(doc.body.paths['/v1/info'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.body.paths['/healthz'].get.security).toEqual([]);
  });
});
