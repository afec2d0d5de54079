/**
 * The queue against a real redis-server (started here on a free loopback port): results
 * equal in-process classify, support sets by version, hostile jobs, size limits,
 * idempotent job ids and the dead-letter view. Workers run in this process here;
 * test/queue_processes.test.ts runs them as separate processes (kill -9, restarts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FewShotClassifier, type Classification, type ClassifyResult } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { ClassificationQueue, QueueJobError, startWorker, type QueueWorker } from '../src/queue/index.js';
import { redisUnavailable, startRedis, type TestRedis } from './helpers/redis.js';
import { writeSmallBundle } from './helpers/small_bundle.js';
import { repoRoot } from './support/cli.js';

const unavailable = redisUnavailable();
if (unavailable) console.warn(`queue tests skipped: ${unavailable}`);

let redis: TestRedis;
let dir: string;
let reference: FewShotClassifier;
let workerClassifier: FewShotClassifier;
let worker: QueueWorker;
let q: ClassificationQueue;
let support: string[];
let labels: string[];
let queries: string[];

/** What a caller compares: predictions (label, index, logits, probabilities) or the error's source. */
function comparable(results: readonly ClassifyResult[]): unknown[] {
  return results.map((r) =>
    r.error
      ? { error: r.error.source, code: r.error.code }
      : { label: r.label, index: r.index, logits: r.logits, probabilities: r.probabilities },
  );
}

function expectSame(actual: Classification, expected: Classification): void {
  expect(comparable(actual)).toEqual(comparable(expected));
  expect([...actual.labels]).toEqual([...expected.labels]);
}

describe.skipIf(unavailable !== undefined /* reason printed above */)('ClassificationQueue with an in-process worker', () => {
  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'lwfm-queue-'));
    const model = writeSmallBundle(join(dir, 'model'));
    const folder = scanImageFolder(join(repoRoot, 'samples')).classes.slice(0, 4);
    support = folder.flatMap((c) => c.files.slice(0, 2));
    labels = folder.flatMap((c) => [c.name, c.name]);
    queries = folder.flatMap((c) => c.files.slice(2, 6));
    reference = await FewShotClassifier.load(model, { device: 'cpu', threads: 1, workers: 1 });
    workerClassifier = await FewShotClassifier.load(model, { device: 'cpu', threads: 1, workers: 1 });
    worker = await startWorker({ connection: redis.url, classifier: workerClassifier, concurrency: 2 });
    q = new ClassificationQueue({ connection: redis.url, classifier: reference });
  });

  afterAll(async () => {
    await q?.close();
    await worker?.close();
    await workerClassifier?.dispose();
    await reference?.dispose();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('classify through the queue equals in-process classify, unreadable images included', async () => {
    const stored = await q.putSupportSet('shapes', support, labels);
    expect(stored).toMatchObject({ supportSetId: 'shapes', size: support.length });
    const corrupt = join(dir, 'corrupt.png');
    writeFileSync(corrupt, 'not a png');
    const inputs = [...queries.slice(0, 5), corrupt, join(dir, 'missing.jpg'), readFileSync(queries[5]!)];
    await reference.setSupport(support, labels);
    const expected = await reference.classify(inputs);
    const handle = await q.classify('shapes', inputs);
    const got = await handle.result();
    expectSame(got, expected);
    expect(got.supportVersion).toBe(stored.version);
    expect(got[5]!.error?.source).toBe(corrupt);
  });

  it('a support set embedded by a worker job gives the same results', async () => {
    const remote = new ClassificationQueue({ connection: redis.url });
    try {
      const stored = await remote.putSupportSet('shapes-remote', support, labels);
      expect(stored.version).toBe(1);
      await reference.setSupport(support, labels);
      const expected = await reference.classify(queries);
      expectSame(await (await remote.classify('shapes-remote', queries)).result(), expected);
    } finally {
      await remote.close();
    }
  });

  it('classifyMany streams every result in input order', async () => {
    await q.putSupportSet('many', support, labels);
    await reference.setSupport(support, labels);
    const inputs = Array.from({ length: 45 }, (_, i) => queries[i % queries.length]!);
    const expected = await reference.classify(inputs);
    async function* source(): AsyncGenerator<string> {
      for (const f of inputs) yield f;
    }
    const got: ClassifyResult[] = [];
    for await (const r of q.classifyMany('many', source(), { batchSize: 7, window: 3 })) got.push(r);
    expect(comparable(got)).toEqual(comparable(expected));
  });

  it('a support set updated while jobs run: each job is scored against one version', async () => {
    const versionA = { files: support, labels };
    // Version B: other shots, and the classes renamed, so a mix would show in labels or logits.
    const folder = scanImageFolder(join(repoRoot, 'samples')).classes.slice(0, 4);
    const versionB = { files: folder.flatMap((c) => c.files.slice(6, 8)), labels: folder.flatMap((c) => [`B-${c.name}`, `B-${c.name}`]) };
    const expected = new Map<number, Classification>();
    const first = await q.putSupportSet('moving', versionA.files, versionA.labels);
    await reference.setSupport(versionA.files, versionA.labels);
    expected.set(first.version, await reference.classify(queries));
    const handles = [];
    for (let i = 0; i < 30; i++) {
      handles.push(await q.classify('moving', queries));
      if (i === 10 || i === 20) {
        const v = i === 10 ? versionB : versionA;
        const stored = await q.putSupportSet('moving', v.files, v.labels);
        await reference.setSupport(v.files, v.labels);
        expected.set(stored.version, await reference.classify(queries));
      }
    }
    const seen = new Set<number>();
    for (const h of handles) {
      const r = await h.result();
      seen.add(r.supportVersion);
      expectSame(r, expected.get(r.supportVersion)!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a job id is idempotent: resubmitting returns the stored result, the job runs once', async () => {
    await q.putSupportSet('idem', support, labels);
    const a = await q.classify('idem', queries.slice(0, 2), { jobId: 'fixed-id-1' });
    const first = await a.result();
    const b = await q.classify('idem', queries.slice(2, 4), { jobId: 'fixed-id-1' });
    const second = await b.result();
    expect(comparable(second)).toEqual(comparable(first));
    expect(second.worker).toBe(first.worker);
  });

  it('shared: true sends paths, read by a worker started with shared: true', async () => {
    const sharedWorker = await startWorker({ connection: redis.url, queue: 'shared-q', classifier: workerClassifier, shared: true });
    const sq = new ClassificationQueue({ connection: redis.url, queue: 'shared-q' });
    try {
      await sq.putSupportSet('s', support, labels, { shared: true });
      await reference.setSupport(support, labels);
      const missing = join(dir, 'not-there.jpg');
      const inputs = [...queries.slice(0, 3), missing];
      const got = await (await sq.classify('s', inputs, { shared: true })).result();
      expectSame(got, await reference.classify(inputs));
      expect(got[3]!.error?.source).toBe(missing);
      await expect(sq.classify('s', [readFileSync(queries[0]!)], { shared: true })).rejects.toThrow(/shared: true sends paths/);
    } finally {
      await sq.close();
      await sharedWorker.close();
    }
  });

  it('classifyMany stopped early withdraws the jobs it did not consume', async () => {
    await q.putSupportSet('early', support, labels);
    const inputs = Array.from({ length: 40 }, (_, i) => queries[i % queries.length]!);
    let n = 0;
    for await (const r of q.classifyMany('early', inputs, { batchSize: 2, window: 10, runId: 'early-run' })) {
      expect(r.error).toBeUndefined();
      if (++n === 3) break;
    }
    const left = new Redis(redis.url);
    try {
      // Give the worker a moment to finish what it held, then count the run's jobs left.
      await new Promise((r) => setTimeout(r, 500));
      const keys = await left.keys('bull:lwfm-spm:early-run.*');
      // The job being consumed and those a worker held may remain (they expire); the rest are gone.
      expect(keys.length).toBeLessThanOrEqual(4);
    } finally {
      await left.quit();
    }
  });

  it('a failure that is not bad input is retried with backoff, then kept with its code', async () => {
    // A worker whose classifier is gone fails every job with ERR_LWFM_DISPOSED: not the
    // job's fault, so each one is tried `attempts` times before it is dead-lettered.
    const broken = await FewShotClassifier.load(join(dir, 'model'), { device: 'cpu', threads: 1, workers: 1 });
    const brokenWorker = await startWorker({ connection: redis.url, queue: 'retry-q', classifier: broken });
    await broken.dispose();
    const rq = new ClassificationQueue({ connection: redis.url, queue: 'retry-q', classifier: reference, attempts: 3, backoffMs: 100 });
    try {
      await rq.putSupportSet('s', support, labels);
      const t0 = Date.now();
      const h = await rq.classify('s', queries.slice(0, 1));
      await expect(h.result()).rejects.toMatchObject({ code: 'ERR_LWFM_DISPOSED' });
      // Backoff 100 ms then 200 ms between the three tries.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
      const [failed] = (await rq.status()).failed;
      expect(failed).toMatchObject({ id: h.jobId, code: 'ERR_LWFM_DISPOSED', attemptsMade: 3 });
    } finally {
      await rq.close();
      await brokenWorker.close();
    }
  });

  it('payload size limits: the producer refuses with a clear error', async () => {
    const small = new ClassificationQueue({ connection: redis.url, maxJobBytes: 1000 });
    try {
      const err = await small.classify('idem', queries).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueJobError);
      expect((err as QueueJobError).code).toBe('ERR_LWFM_QUEUE_PAYLOAD_TOO_LARGE');
      expect((err as Error).message).toMatch(/over the 1000-byte limit/);
      // One file over the limit is refused by its size, before it is read.
      const big = join(dir, 'big.bin');
      writeFileSync(big, Buffer.alloc(5000));
      await expect(small.classify('idem', [big])).rejects.toThrow(/holds 5000 bytes of images, over the 1000-byte limit/);
      await expect(small.classify('idem', { data: new Float32Array(0), dims: [0, 3, 84, 84] } as never)).rejects.toThrow(TypeError);
      await expect(small.classify('bad id!', queries)).rejects.toThrow(/support set id/);
    } finally {
      await small.close();
    }
  });

  it('hostile jobs fail permanently with their code; the worker goes on', async () => {
    const raw = new Queue('lwfm-spm', { connection: new Redis(redis.url, { maxRetriesPerRequest: null }) });
    const big = 'A'.repeat(24 * 1024 * 1024);
    const payloads: [string, unknown, string][] = [
      ['classify', null, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', 'text', 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 2, supportSetId: 'idem', images: ['AAAA'] }, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 1, supportSetId: '../../etc', images: ['AAAA'] }, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 1, supportSetId: 'idem', images: [] }, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 1, supportSetId: 'idem', images: [42] }, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 1, supportSetId: 'idem', images: ['not base64!'] }, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 1, supportSetId: 'idem', images: ['AAAA'], paths: ['/etc/passwd'] }, 'ERR_LWFM_QUEUE_JOB'],
      ['classify', { v: 1, supportSetId: 'idem', paths: ['/etc/passwd'] }, 'ERR_LWFM_QUEUE_SHARED_DISABLED'],
      ['classify', { v: 1, supportSetId: 'idem', images: [big] }, 'ERR_LWFM_QUEUE_PAYLOAD_TOO_LARGE'],
      ['classify', { v: 1, supportSetId: 'nobody', images: ['AAAA'] }, 'ERR_LWFM_QUEUE_UNKNOWN_SUPPORT'],
      ['support', { v: 1, supportSetId: 'x', images: ['AAAA'], labels: [{}] }, 'ERR_LWFM_QUEUE_JOB'],
      ['support', { v: 1, supportSetId: 'x', images: ['AAAA'], labels: ['a'] }, 'ERR_LWFM_IMAGE'],
      ['rm -rf', { v: 1 }, 'ERR_LWFM_QUEUE_JOB'],
    ];
    try {
      const ids: string[] = [];
      for (const [i, [name, data]] of payloads.entries()) {
        const job = await raw.add(name, data, { jobId: `hostile-${i}`, attempts: 3 });
        ids.push(job.id!);
      }
      // Corrupt support bytes in Redis: the job fails with the codec's code, not a crash.
      const direct = new Redis(redis.url);
      await direct.hset('bull:lwfm-spm:lwfm-support:broken', 'version', '1', 'v1', Buffer.from('garbage'));
      await direct.quit();
      ids.push(
        (await raw.add('classify', { v: 1, supportSetId: 'broken', images: ['AAAA'] }, { jobId: 'hostile-codec', attempts: 3 })).id!,
      );
      // A good job after all of them still completes.
      const after = await (await q.classify('idem', queries.slice(0, 1))).result();
      expect(after).toHaveLength(1);
      const status = await q.status({ failedLimit: 100 });
      const byId = new Map(status.failed.map((f) => [f.id, f]));
      payloads.forEach(([, , code], i) => {
        expect(byId.get(`hostile-${i}`)?.code, `hostile-${i}`).toBe(code);
        expect(byId.get(`hostile-${i}`)?.attemptsMade, `no retry for hostile-${i}`).toBe(1);
      });
      expect(byId.get('hostile-codec')?.code).toBe('ERR_LWFM_SUPPORT_FORMAT');
      expect(status.counts.failed).toBeGreaterThanOrEqual(payloads.length + 1);
      // handle.result() of a failed job rejects with its code.
      const h = await q.classify('nobody', queries.slice(0, 1));
      await expect(h.result()).rejects.toMatchObject({ code: 'ERR_LWFM_QUEUE_UNKNOWN_SUPPORT', jobId: h.jobId });
    } finally {
      await raw.close();
      await (raw.opts.connection as Redis).quit();
    }
  });
});
