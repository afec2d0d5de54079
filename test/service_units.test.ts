/**
 * The service's parts on their own: the concurrency gate, bearer auth, error mapping,
 * the atomic store and option checks. (test/service_http.test.ts runs the whole
 * service over real HTTP.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gate } from '../src/service/gate.js';
import { bearerChecker, readApiKeyFile } from '../src/service/auth.js';
import { HttpError, toErrorReply } from '../src/service/http_errors.js';
import { SupportStore } from '../src/service/store.js';
import { resolveOptions } from '../src/service/options.js';
import { ImageDecodeError, LwfmError } from '../src/errors.js';
import { classifierFromEngine, type SupportSnapshot } from '../src/classifier/classifier.js';
import { SupportRegistry } from '../src/service/registry.js';
import { FAKE_C, fakeEngine, fakeNativeInfo } from './support/fakes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Gate', () => {
  it('runs at most maxConcurrent, queues maxQueue in order, refuses the rest at once with Retry-After', async () => {
    const gate = new Gate(2, 2);
    const blockers = [deferred(), deferred(), deferred(), deferred()];
    const order: number[] = [];
    const runs = blockers.map((b, i) =>
      gate.run(10_000, async () => {
        order.push(i);
        await b.promise;
        return i;
      }),
    );
    await sleep(5);
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(2);
    const t = performance.now();
    const refused = await gate.run(10_000, async () => 99).catch((e: unknown) => e);
    expect(performance.now() - t).toBeLessThan(50);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ statusCode: 503, code: 'ERR_LWFM_OVERLOADED' });
    expect(Number((refused as HttpError).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    blockers.forEach((b) => b.resolve());
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(gate.active).toBe(0);
  });

  it('times out (503 ERR_LWFM_TIMEOUT) but keeps the slot until the work really ends', async () => {
    const gate = new Gate(1, 0);
    const block = deferred();
    const slow = gate.run(20, () => block.promise.then(() => 'late'));
    await expect(slow).rejects.toMatchObject({ statusCode: 503, code: 'ERR_LWFM_TIMEOUT' });
    expect(gate.active).toBe(1);
    await expect(gate.run(1000, async () => 1)).rejects.toMatchObject({ code: 'ERR_LWFM_OVERLOADED' });
    block.resolve();
    await sleep(1);
    expect(gate.active).toBe(0);
    expect(await gate.run(1000, async () => 2)).toBe(2);
  });

  it('a waiter times out in the queue, and an aborted waiter leaves it', async () => {
    const gate = new Gate(1, 2);
    const block = deferred();
    const first = gate.run(10_000, () => block.promise);
    const waiting = gate.run(20, async () => 'never');
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_LWFM_TIMEOUT' });
    const ac = new AbortController();
    const aborted = gate.run(10_000, async () => 'never', ac.signal);
    expect(gate.waiting).toBe(1);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_LWFM_CLIENT_CLOSED' });
    expect(gate.waiting).toBe(0);
    block.resolve();
    await first;
  });

  it('a failing job releases its slot and reports its own error', async () => {
    const gate = new Gate(1, 0);
    await expect(gate.run(1000, async () => Promise.reject(new RangeError('bad')))).rejects.toThrow('bad');
    expect(gate.active).toBe(0);
  });
});

describe('bearer auth', () => {
  const key = 'k'.repeat(15) + '1';
  it('accepts any configured key and refuses everything else with 401 and WWW-Authenticate', () => {
    const check = bearerChecker([key, 'x'.repeat(40)]);
    expect(() => check(`Bearer ${key}`)).not.toThrow();
    expect(() => check(`bearer ${'x'.repeat(40)}`)).not.toThrow();
    for (const bad of [undefined, '', key, `Bearer ${key}x`, `Bearer ${key.slice(0, -1)}`, `Basic ${key}`, 'Bearer ']) {
      let err: unknown;
      try {
        check(bad);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toMatchObject({ statusCode: 401, code: 'ERR_LWFM_UNAUTHORIZED' });
      expect((err as HttpError).headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('refuses short keys and reads key files', () => {
    expect(() => bearerChecker(['short'])).toThrow(RangeError);
    expect(() => bearerChecker([])).toThrow(RangeError);
    const dir = mkdtempSync(join(tmpdir(), 'lwfm-keys-'));
    writeFileSync(join(dir, 'keys'), `# ops\n${key}\n\n  ${'y'.repeat(20)}  \n`);
    expect(readApiKeyFile(join(dir, 'keys'))).toEqual([key, 'y'.repeat(20)]);
    writeFileSync(join(dir, 'empty'), '# none\n');
    expect(() => readApiKeyFile(join(dir, 'empty'))).toThrow(RangeError);
    rmSync(dir, { recursive: true });
  });
});

describe('error replies', () => {
  it('maps package, argument, Fastify and unknown errors, never exposing internals', () => {
    expect(toErrorReply(new ImageDecodeError('<buffer #0>', 'bad'))).toMatchObject({
      status: 422,
      body: { error: { code: 'ERR_LWFM_IMAGE' } },
    });
    expect(toErrorReply(new RangeError('Expected x'))).toMatchObject({
      status: 400,
      body: { error: { code: 'ERR_LWFM_BAD_REQUEST', message: 'Expected x' } },
    });
    const limits = { maxImageBytes: 123, maxImagesPerRequest: 7 };
    expect(toErrorReply(Object.assign(new Error('x'), { code: 'FST_REQ_FILE_TOO_LARGE' }), limits).body.error.message).toContain('123');
    expect(toErrorReply(Object.assign(new Error('x'), { code: 'FST_FILES_LIMIT' }), limits)).toMatchObject({
      status: 413,
      body: { error: { message: expect.stringContaining('7') } },
    });
    const internal = toErrorReply(new Error('secret path /etc/x at line 3'));
    expect(internal).toMatchObject({ status: 500, body: { error: { code: 'ERR_LWFM_INTERNAL' } } });
    expect(internal.body.error.message).not.toContain('/etc/x');
    expect(toErrorReply(new LwfmError('gone', 'ERR_LWFM_DISPOSED')).status).toBe(503);
  });
});

describe('SupportStore', () => {
  let dir: string;
  const model = { channels: [2], featureSize: 1, crop: 84, fingerprint: 'sha256:m' };
  const snap = (labels: string[]): SupportSnapshot => ({
    features: Float32Array.from(labels.flatMap((_, i) => [i, -i])),
    dims: [labels.length, 2, 1],
    labels,
  });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lwfm-store-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes, replaces and removes sets atomically; loads them back; skips damaged and foreign files', async () => {
    const store = await SupportStore.open(join(dir, 's'), model);
    await Promise.all([store.write('a', snap(['x'])), store.write('a', snap(['x', 'y'])), store.write('b.v2', snap(['z']))]);
    await store.flush();
    expect(readdirSync(join(dir, 's')).sort()).toEqual(['a.lwfmsup', 'b.v2.lwfmsup']);
    writeFileSync(join(dir, 's', 'broken.lwfmsup'), 'garbage');
    writeFileSync(join(dir, 's', '.tmp-123456'), 'left by a crash');
    writeFileSync(join(dir, 's', 'notes.txt'), 'ignored');
    const other = await SupportStore.open(join(dir, 'other'), { ...model, fingerprint: 'sha256:other' });
    await other.write('c', snap(['q']));
    writeFileSync(join(dir, 's', 'c.lwfmsup'), readFileSync(join(dir, 'other', 'c.lwfmsup'))); // a set of another model
    const skipped: string[] = [];
    const loaded = await store.loadAll((file) => skipped.push(file));
    expect(loaded.map((s) => [s.id, s.snapshot.labels])).toEqual(
      expect.arrayContaining([
        ['a', ['x', 'y']],
        ['b.v2', ['z']],
      ]),
    );
    expect(loaded).toHaveLength(2);
    expect(skipped.sort()).toEqual(['broken.lwfmsup', 'c.lwfmsup']);
    expect(readdirSync(join(dir, 's'))).not.toContain('.tmp-123456');
    await store.remove('a');
    await store.remove('never-there');
    expect(readdirSync(join(dir, 's'))).not.toContain('a.lwfmsup');
    await expect(store.write('../evil', snap(['x']))).rejects.toThrow(RangeError);
  });
});

describe('plugin options', () => {
  it('fills defaults and names a bad option', () => {
    const o = resolveOptions({});
    expect(o.limits).toMatchObject({ maxConcurrent: 4, maxQueue: 32, requestTimeoutMs: 30_000, maxImagesPerRequest: 64 });
    expect(resolveOptions({ maxQueue: 0 }).limits.maxQueue).toBe(0);
    expect(() => resolveOptions({ maxConcurrent: 0 })).toThrow(/options.maxConcurrent/);
    expect(() => resolveOptions({ auth: { apiKeys: ['short'] } })).toThrow(/options.auth.apiKeys/);
    expect(() => resolveOptions({ device: 'tpu' })).toThrow(/options.device/);
    expect(() => resolveOptions({ classifier: {} })).toThrow(/options.classifier/);
    expect(() => resolveOptions({ metrics: 'yes' })).toThrow(/options.metrics/);
  });
});

describe('SupportRegistry', () => {
  const features = (n: number, seed: number) => Float32Array.from({ length: n * FAKE_C }, (_, i) => Math.sin(i + seed));
  const snap = (labels: string[], seed = 1): SupportSnapshot => ({
    features: features(labels.length, seed),
    dims: [labels.length, FAKE_C, 1],
    labels,
  });

  it('concurrent PATCHes of one set keep every image; limits answer 507; ids are checked', async () => {
    const classifier = classifierFromEngine(fakeEngine(0.1), fakeNativeInfo);
    const registry = new SupportRegistry(classifier, { maxSupportSets: 2, maxSupportImages: 10 });
    await registry.write('a', 'create', snap(['x', 'y']));
    await Promise.all(Array.from({ length: 4 }, (_, i) => registry.write('a', 'add', snap([`n${i}`], i))));
    expect(registry.get('a')).toMatchObject({ size: 6, way: 6 });
    expect(registry.images).toBe(6);
    await expect(registry.write('a', 'create', snap(['x']))).rejects.toMatchObject({ statusCode: 409 });
    await expect(registry.write('b', 'add', snap(['x']))).rejects.toMatchObject({ statusCode: 404 });
    await expect(registry.write('b', 'create', snap(['1', '2', '3', '4', '5']))).rejects.toMatchObject({
      statusCode: 507,
      code: 'ERR_LWFM_CAPACITY',
    });
    await registry.write('b', 'create', snap(['1', '2']));
    await expect(registry.write('c', 'create', snap(['1']))).rejects.toMatchObject({ statusCode: 507 });
    await registry.write('a', 'replace', snap(['only']));
    expect(registry.images).toBe(3);
    await expect(registry.write('../a', 'create', snap(['1']))).rejects.toMatchObject({ statusCode: 400 });
    await registry.remove('b');
    expect(registry.list().map((s) => s.id)).toEqual(['a']);
    await classifier.dispose();
  });

  it('a classify in flight finishes on its set while the set is deleted', async () => {
    const engine = fakeEngine(0.1);
    const classifier = classifierFromEngine(engine, fakeNativeInfo);
    const registry = new SupportRegistry(classifier, { maxSupportSets: 5, maxSupportImages: 50 });
    await classifier.setSupport(['cat-1', 'dog-1'], ['cat', 'dog']);
    await registry.write('pets', 'create', classifier.exportSupport());
    const running = registry.classify('pets', ['dog-4', 'cat-4']);
    await registry.remove('pets');
    expect((await running).map((r) => r.label)).toEqual(['dog', 'cat']);
    await expect(registry.classify('pets', ['cat-1'])).rejects.toMatchObject({ statusCode: 404 });
    expect(engine.head.prepared.filter((p) => !p.disposed)).toHaveLength(1); // the classifier's own set only
    await classifier.dispose();
  });
});
