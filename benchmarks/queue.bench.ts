// Throughput through the Redis queue (BullMQ) with 1 and 2 worker processes, next to
// in-process classify of the same 16-image jobs, in alternating rounds of one run; and
// the queue's overhead per job (latency of a 1-image job through the queue minus
// in-process). Needs redis-server (started here, private, append-only with Redis's
// default fsync policy, everysec). Worker processes load the same model with the same
// options as the in-process classifier.
//   node --import tsx benchmarks/run.ts queue   (or: node --import tsx benchmarks/queue.bench.ts)
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { FewShotClassifier } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { ClassificationQueue } from '../src/queue/index.js';
import { startRedis } from '../test/helpers/redis.js';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/queue_workers.js';
import { median } from './median.js';
import type { Row } from './render.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');

export interface QueueBenchOptions {
  /** Jobs per measurement (default 24 jobs of 16 images). */
  jobs?: number;
  jobSize?: number;
  rounds?: number;
  /** Jobs each worker (and the in-process run) has in flight (default 2). */
  concurrency?: number;
}

/** Runs `jobs` classify calls with at most `concurrency` in flight. */
async function inProcess(classifier: FewShotClassifier, jobs: Buffer[][], concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) await classifier.classify(jobs[next++]!);
    }),
  );
  return performance.now() - t0;
}

async function throughQueue(q: ClassificationQueue, jobs: Buffer[][], jobSize: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const r of q.classifyMany('bench', jobs.flat(), { batchSize: jobSize, window: 8 })) if (!r.error) n++;
  if (n !== jobs.length * jobSize) throw new Error(`queue returned ${n} predictions for ${jobs.length * jobSize} images`);
  return performance.now() - t0;
}

export async function runQueueBenchmarks(opts: QueueBenchOptions = {}): Promise<Row[]> {
  const jobCount = opts.jobs ?? 24;
  const jobSize = opts.jobSize ?? 16;
  const rounds = opts.rounds ?? 3;
  const concurrency = opts.concurrency ?? 2;
  const folder = scanImageFolder(join(root, 'samples')).classes.slice(0, 5);
  const support = folder.flatMap((c) => c.files.slice(0, 1));
  const labels = folder.map((c) => c.name);
  const images = folder.flatMap((c) => c.files.slice(1)).map((f) => readFileSync(f));
  const jobs = Array.from({ length: jobCount }, (_, j) =>
    Array.from({ length: jobSize }, (_, i) => images[(j * jobSize + i) % images.length]!),
  );
  const load = { device: 'cpu' as const };
  const redis = await startRedis({ fsync: 'everysec' });
  const workers: WorkerProcess[] = [];
  // Two workers on one host split its cores (threads = cores / processes), as the README
  // advises; the in-process run with the same split (2 backbone workers) is their baseline.
  const split = Math.max(1, Math.floor(availableParallelism() / 2));
  const classifier = await FewShotClassifier.load(undefined, load);
  const splitClassifier = await FewShotClassifier.load(undefined, { ...load, workers: 2, threads: split });
  const queues: ClassificationQueue[] = [];
  try {
    const args = (queue: string): string[] => [
      '--redis',
      redis.url,
      '--queue',
      queue,
      '--device',
      'cpu',
      '--concurrency',
      String(concurrency),
      ...(queue === 'two' ? ['--threads', String(split)] : []),
    ];
    // One queue per setup; idle workers block in Redis and take no CPU.
    workers.push(
      ...(await Promise.all([startWorkerProcess(args('one')), startWorkerProcess(args('two')), startWorkerProcess(args('two'))])),
    );
    const one = new ClassificationQueue({ connection: redis.url, queue: 'one', classifier });
    const two = new ClassificationQueue({ connection: redis.url, queue: 'two', classifier });
    queues.push(one, two);
    await classifier.setSupport(support, labels);
    await splitClassifier.setSupport(support, labels);
    await one.putSupportSet('bench', support, labels);
    await two.putSupportSet('bench', support, labels);
    // Warm-up: every process runs a few jobs first.
    await inProcess(classifier, jobs.slice(0, 4), concurrency);
    await inProcess(splitClassifier, jobs.slice(0, 4), 2 * concurrency);
    await throughQueue(one, jobs.slice(0, 4), jobSize);
    await throughQueue(two, jobs.slice(0, 8), jobSize);
    const times = { inProcess: [] as number[], one: [] as number[], split: [] as number[], two: [] as number[] };
    // Redis load per job, for sizing: every command of producer and worker (adds, moves,
    // lock renewals, events, result reads, removals) during the 1-worker runs.
    const stamps = new Redis(redis.url);
    const commands = async (): Promise<number> => Number(/total_commands_processed:(\d+)/.exec(await stamps.info('stats'))![1]);
    let commandsPerJob = 0;
    for (let r = 0; r < rounds; r++) {
      times.inProcess.push(await inProcess(classifier, jobs, concurrency));
      const before = await commands();
      times.one.push(await throughQueue(one, jobs, jobSize));
      commandsPerJob += (await commands()) - before - 1;
      times.split.push(await inProcess(splitClassifier, jobs, 2 * concurrency));
      times.two.push(await throughQueue(two, jobs, jobSize));
    }
    // Overhead per job: one 1-image job at a time, through the queue and in-process. The
    // queue's own share is the round trip minus the worker's processing time (from the
    // job's processedOn/finishedOn stamps, ms resolution).
    const latency = { queue: [] as number[], local: [] as number[], overhead: [] as number[] };
    for (let i = 0; i < 20; i++) {
      const image = [images[i % images.length]!];
      let t0 = performance.now();
      const handle = await one.classify('bench', image);
      await handle.result();
      const roundTrip = performance.now() - t0;
      const [processedOn, finishedOn] = await stamps.hmget(`bull:one:${handle.jobId}`, 'processedOn', 'finishedOn');
      latency.queue.push(roundTrip);
      latency.overhead.push(roundTrip - (Number(finishedOn) - Number(processedOn)));
      t0 = performance.now();
      await classifier.classify(image);
      latency.local.push(performance.now() - t0);
    }
    await stamps.quit();
    const total = jobCount * jobSize;
    const rate = (ms: number): number => total / (ms / 1000);
    const base = median(times.inProcess);
    const note = `${jobCount} jobs x ${jobSize} images, ${concurrency} jobs in flight per process, median of ${rounds} alternating rounds`;
    const queueLat = median(latency.queue);
    const localLat = median(latency.local);
    return [
      { name: 'in-process classify', imagesPerS: rate(base), msPerJob: base / jobCount, ratio: 1, note },
      {
        name: 'queue, 1 worker process',
        imagesPerS: rate(median(times.one)),
        msPerJob: median(times.one) / jobCount,
        ratio: base / median(times.one),
        note: `Redis on 127.0.0.1, appendonly everysec; ${(commandsPerJob / rounds / jobCount).toFixed(0)} Redis commands per job`,
      },
      {
        name: `in-process classify, 2 backbone workers x ${split} threads`,
        imagesPerS: rate(median(times.split)),
        msPerJob: median(times.split) / jobCount,
        ratio: 1,
        note: `baseline of the next row: the same split of the cores, ${2 * concurrency} jobs in flight`,
      },
      {
        name: 'queue, 2 worker processes',
        imagesPerS: rate(median(times.two)),
        msPerJob: median(times.two) / jobCount,
        ratio: median(times.split) / median(times.two),
        note: `the same cores, split: --threads ${split} each`,
      },
      {
        name: '1-image job latency, in-process',
        imagesPerS: 1000 / localLat,
        msPerJob: localLat,
        ratio: 1,
        note: 'median of 20, one at a time',
      },
      {
        name: '1-image job latency, through the queue',
        imagesPerS: 1000 / queueLat,
        msPerJob: queueLat,
        ratio: localLat / queueLat,
        note: `queue's own overhead per job ${median(latency.overhead).toFixed(1)} ms (round trip minus the worker's processing)`,
      },
    ];
  } finally {
    for (const q of queues) await q.close();
    await Promise.all(workers.map((w) => w.stop()));
    await classifier.dispose();
    await splitClassifier.dispose();
    await redis.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { markdownTable } = await import('./render.js');
  console.log(markdownTable(await runQueueBenchmarks()));
}
