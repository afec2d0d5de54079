/**
 * `lwfm-spm worker` and `lwfm-spm queue status|classify` as a user runs them: a private
 * redis-server, a worker process, a folder classified through the queue (same labels as
 * in-process), and the dead-letter view naming a failed job's code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FewShotClassifier } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { collectQueries } from '../src/cli/commands/classify.js';
import { redisUnavailable, startRedis, type TestRedis } from './helpers/redis.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/queue_workers.js';
import { writeSmallBundle } from './helpers/small_bundle.js';
import { repoRoot, runCli } from './support/cli.js';

const unavailable = redisUnavailable();
if (unavailable) console.warn(`queue CLI tests skipped: ${unavailable}`);

describe('queue CLI usage errors', () => {
  it('worker needs --redis; queue needs a subcommand', async () => {
    const w = await runCli(['worker']);
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/missing required option --redis/);
    const q = await runCli(['queue', 'frobnicate', '--redis', 'redis://127.0.0.1:1']);
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/expected 'status' or 'classify'/);
    const c = await runCli(['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0']);
    expect(c.code).toBe(2);
  });
});

describe.skipIf(unavailable !== undefined)('queue CLI against a worker process', () => {
  let redis: TestRedis;
  let dir: string;
  let model: string;
  let worker: WorkerProcess;

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'lwfm-queue-cli-'));
    model = writeSmallBundle(join(dir, 'model'));
    for (const c of scanImageFolder(join(repoRoot, 'samples')).classes.slice(0, 3)) {
      mkdirSync(join(dir, 'support', c.name), { recursive: true });
      mkdirSync(join(dir, 'query'), { recursive: true });
      c.files.slice(0, 2).forEach((f) => copyFileSync(f, join(dir, 'support', c.name, basename(f))));
      c.files.slice(2, 5).forEach((f) => copyFileSync(f, join(dir, 'query', basename(f))));
    }
    worker = await startWorkerProcess(['--redis', redis.url, '--model', model, '--device', 'cpu', '--threads', '1', '--workers', '1']);
  });

  afterAll(async () => {
    await worker?.stop();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('queue classify prints one line per query in input order, as in-process classify', async () => {
    const out = await runCli([
      'queue',
      'classify',
      '--redis',
      redis.url,
      '--support',
      join(dir, 'support'),
      '--query',
      join(dir, 'query'),
      '--batch-size',
      '4',
      '--json',
    ]);
    expect(out.stderr).toMatch(/Support set support version 1: 6 images/);
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; label: string; probability: number });
    const folder = scanImageFolder(join(dir, 'support'));
    const queries = collectQueries([join(dir, 'query')]).map((q) => q.file);
    expect(lines.map((l) => l.file)).toEqual(queries);
    const reference = await FewShotClassifier.load(model, { device: 'cpu', threads: 1, workers: 1 });
    try {
      await reference.setSupport(
        folder.classes.flatMap((c) => c.files),
        folder.classes.flatMap((c) => c.files.map(() => c.name)),
      );
      const expected = await reference.classify(queries);
      expect(lines).toHaveLength(9);
      expect(lines.map((l) => l.label)).toEqual(expected.map((r) => r.label));
      expect(lines.map((l) => l.probability)).toEqual(expected.map((r) => r.probabilities![r.index!]));
    } finally {
      await reference.dispose();
    }
  });

  it('queue status shows counts and failed jobs with their error codes', async () => {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const raw = new Queue('lwfm-spm', { connection });
    const job = await raw.add('classify', { v: 1, supportSetId: 'support', images: ['%%%'] }, { jobId: 'cli-hostile' });
    while ((await raw.getJobState(job.id!)) !== 'failed') await new Promise((r) => setTimeout(r, 50));
    await raw.close();
    await connection.quit();
    const text = await runCli(['queue', 'status', '--redis', redis.url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Queue lwfm-spm: waiting 0, active 0,.* failed 1; workers 1/);
    expect(text.stdout).toMatch(/cli-hostile\s+classify\s+ERR_LWFM_QUEUE_JOB\s+attempts 1/);
    const json = JSON.parse((await runCli(['queue', 'status', '--redis', redis.url, '--json'])).stdout) as {
      counts: { completed: number };
      failed: { code: string }[];
    };
    // classifyMany removed the query jobs it consumed; the support job stays until it expires.
    expect(json.counts.completed).toBe(1);
    expect(json.failed.map((f) => f.code)).toEqual(['ERR_LWFM_QUEUE_JOB']);
  });

  it('SIGTERM stops the worker cleanly after its running jobs', async () => {
    await worker.stop();
    expect(worker.child.exitCode).toBe(0);
    expect(worker.log()).toMatch(/SIGTERM: finishing running jobs[\s\S]*stopped after \d+ jobs \(1 failed attempts\)/);
  });
});
