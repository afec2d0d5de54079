/**
 * Delivery guarantees with real worker processes and a real redis-server (private,
 * append-only): two workers share the load; a worker killed with SIGKILL mid-run and
 * Redis killed and restarted mid-run lose nothing and duplicate nothing over 500 jobs.
 * "Exactly once" is read from Redis itself: every job id has one result, and the
 * queue's event stream holds exactly one `completed` event per job.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FewShotClassifier, type ClassifyResult } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { ClassificationQueue, type ClassifyHandle, type QueueClassification } from '../src/queue/index.js';
import { redisUnavailable, startRedis, type TestRedis } from './helpers/redis.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/queue_workers.js';
import { writeSmallBundle } from './helpers/small_bundle.js';
import { repoRoot } from './support/cli.js';

const unavailable = redisUnavailable();
if (unavailable) console.warn(`queue process tests skipped: ${unavailable}`);

const JOBS = 500;
let dir: string;
let model: string;
let pool: Buffer[];
let expected: ClassifyResult[];
let support: string[];
let labels: string[];
let redis: TestRedis | undefined;
let workers: WorkerProcess[] = [];

function comparable(r: ClassifyResult): unknown {
  return r.error ? { error: r.error.code } : { label: r.label, logits: r.logits, probabilities: r.probabilities };
}

async function worker(url: string): Promise<WorkerProcess> {
  // A short lock: a killed worker's jobs are retaken after about 3 s, not 30.
  const w = await startWorkerProcess([
    '--redis',
    url,
    '--model',
    model,
    '--device',
    'cpu',
    '--threads',
    '1',
    '--workers',
    '1',
    '--concurrency',
    '2',
    '--lock-ms',
    '3000',
  ]);
  workers.push(w);
  return w;
}

/** Job ids of the `completed` events in the queue's event stream, with their counts. */
async function completedEvents(url: string): Promise<Map<string, number>> {
  const r = new Redis(url);
  try {
    const entries = await r.xrange('bull:lwfm-spm:events', '-', '+');
    const counts = new Map<string, number>();
    for (const [, fields] of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
      if (f.get('event') === 'completed') counts.set(f.get('jobId')!, (counts.get(f.get('jobId')!) ?? 0) + 1);
    }
    return counts;
  } finally {
    await r.quit();
  }
}

async function waitCompleted(q: ClassificationQueue, atLeast: number): Promise<void> {
  while ((await q.status({ failedLimit: 0 })).counts.completed < atLeast) await new Promise((r) => setTimeout(r, 100));
}

/** Every job finished once, with the in-process result for its image. */
async function expectAllExactlyOnce(
  url: string,
  q: ClassificationQueue,
  handles: ClassifyHandle[],
  prefix: string,
): Promise<QueueClassification[]> {
  const results = await Promise.all(handles.map((h) => h.result({ timeoutMs: 240_000 })));
  results.forEach((r, i) => {
    expect(r.jobId).toBe(`${prefix}-${i}`);
    expect(r).toHaveLength(1);
    expect(comparable(r[0]!), `job ${i}`).toEqual(comparable(expected[i % pool.length]!));
  });
  const status = await q.status({ failedLimit: 10 });
  expect(status.failed).toEqual([]);
  expect(status.counts.completed).toBe(JOBS + 1); // and the putSupportSet job
  const events = await completedEvents(url);
  const ours = [...events].filter(([id]) => id.startsWith(`${prefix}-`));
  expect(ours).toHaveLength(JOBS);
  expect(ours.filter(([, n]) => n !== 1)).toEqual([]);
  return results;
}

describe.skipIf(unavailable !== undefined /* reason printed above */)('queue with worker processes', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lwfm-queue-proc-'));
    model = writeSmallBundle(join(dir, 'model'));
    const folder = scanImageFolder(join(repoRoot, 'samples')).classes.slice(0, 3);
    support = folder.flatMap((c) => c.files.slice(0, 2));
    labels = folder.flatMap((c) => [c.name, c.name]);
    pool = folder.flatMap((c) => c.files.slice(2, 9)).map((f) => readFileSync(f));
    const reference = await FewShotClassifier.load(model, { device: 'cpu', threads: 1, workers: 1 });
    try {
      await reference.setSupport(support, labels);
      expected = [...(await reference.classify(pool))];
    } finally {
      await reference.dispose();
    }
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
    await redis?.stop();
    redis = undefined;
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two worker processes share the load', async () => {
    redis = await startRedis();
    const [a, b] = await Promise.all([worker(redis.url), worker(redis.url)]);
    const q = new ClassificationQueue({ connection: redis.url });
    try {
      await q.putSupportSet('shapes', support, labels);
      const handles = [];
      for (let i = 0; i < 60; i++) handles.push(await q.classify('shapes', [pool[i % pool.length]!]));
      const results = await Promise.all(handles.map((h) => h.result()));
      const by = new Map<string, number>();
      for (const r of results) by.set(r.worker, (by.get(r.worker) ?? 0) + 1);
      expect([...by.keys()].sort()).toEqual([a!.id, b!.id].sort());
      expect(Math.min(...by.values())).toBeGreaterThanOrEqual(5);
      results.forEach((r, i) => expect(comparable(r[0]!)).toEqual(comparable(expected[i % pool.length]!)));
    } finally {
      await q.close();
    }
  });

  it(`kill -9 of a worker mid-run: all ${JOBS} jobs complete exactly once`, async () => {
    redis = await startRedis();
    const [victim] = await Promise.all([worker(redis.url), worker(redis.url)]);
    const q = new ClassificationQueue({ connection: redis.url });
    try {
      await q.putSupportSet('shapes', support, labels);
      const handles: ClassifyHandle[] = [];
      for (let i = 0; i < JOBS; i++) handles.push(await q.classify('shapes', [pool[i % pool.length]!], { jobId: `kill-${i}` }));
      await waitCompleted(q, 100);
      await victim!.kill();
      const results = await expectAllExactlyOnce(redis.url, q, handles, 'kill');
      // The victim had jobs in hand: some job was started twice and still stored once.
      const raw = new Redis(redis.url);
      const starts = await Promise.all(handles.map((h) => raw.hget(`bull:lwfm-spm:${h.jobId}`, 'ats')));
      await raw.quit();
      expect(starts.some((s) => Number(s) >= 2)).toBe(true);
      expect(results.some((r) => r.worker === victim!.id)).toBe(true);
    } finally {
      await q.close();
    }
  });

  it(`Redis killed and restarted mid-run (append-only): all ${JOBS} jobs complete exactly once`, async () => {
    redis = await startRedis();
    await Promise.all([worker(redis.url), worker(redis.url)]);
    const q = new ClassificationQueue({ connection: redis.url });
    try {
      await q.putSupportSet('shapes', support, labels);
      const handles: ClassifyHandle[] = [];
      for (let i = 0; i < JOBS / 2; i++) handles.push(await q.classify('shapes', [pool[i % pool.length]!], { jobId: `restart-${i}` }));
      await waitCompleted(q, 50);
      // The second half is submitted while Redis is down and coming back.
      const restarted = redis.restart({ signal: 'SIGKILL', downMs: 1500 });
      for (let i = JOBS / 2; i < JOBS; i++) handles.push(await q.classify('shapes', [pool[i % pool.length]!], { jobId: `restart-${i}` }));
      await restarted;
      await expectAllExactlyOnce(redis.url, q, handles, 'restart');
      // The workers did see Redis go away (and came back by themselves).
      for (const w of workers) expect(w.log()).toMatch(/redis: |worker error: /);
    } finally {
      await q.close();
    }
  });
});
