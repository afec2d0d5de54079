// The HTTP service (`lwfm-spm serve`, loopback) under autocannon, next to in-process
// classify of the same images in alternating rounds of one run: requests of 1 and of 16
// images against a 5-way support set, the same number in flight on both sides. Then
// overload at 4x the server's capacity (maxConcurrent + maxQueue): 503s must come fast,
// accepted requests must succeed, RSS must stay bounded and /healthz must answer.
//   node --import tsx benchmarks/run.ts service   (or: node --import tsx benchmarks/service.bench.ts)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { FewShotClassifier } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { startServe, type ServeProcess } from '../test/helpers/serve_process.js';
import { median } from './median.js';
import type { Row } from './render.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');

export interface ServiceBenchOptions {
  rounds?: number;
  /** Requests in flight, on both sides (default 4 = the server's default maxConcurrent). */
  inFlight?: number;
  /** Requests per measurement: [1-image, 16-image] (default [80, 24]). */
  requests?: [number, number];
  /** Seconds of 4x overload (default 10). */
  overloadSeconds?: number;
}

/** A multipart body (as fetch would send it) with `images` as repeated 'image' parts. */
async function multipart(images: Buffer[], extra: [string, string][] = []): Promise<{ body: Buffer; contentType: string }> {
  const fd = new FormData();
  images.forEach((b, i) => fd.append('image', new Blob([b]), `q${i}.jpg`));
  for (const [k, v] of extra) fd.append(k, v);
  const req = new Request('http://127.0.0.1/', { method: 'POST', body: fd });
  return { body: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type')! };
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** `count` classify calls of `batch`, `inFlight` at a time: wall ms and per-call latencies. */
async function inProcess(
  classifier: FewShotClassifier,
  batch: Buffer[],
  count: number,
  inFlight: number,
): Promise<{ ms: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < count) {
        const t = performance.now();
        const r = await classifier.classify(batch);
        if (r.some((x) => x.error)) throw new Error('in-process classify failed on a benchmark image');
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ms: performance.now() - t0, latencies: latencies.sort((a, b) => a - b) };
}

async function overHttp(url: string, body: { body: Buffer; contentType: string }, count: number, inFlight: number) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': body.contentType },
    body: body.body,
    connections: inFlight,
    amount: count,
    timeout: 60,
  });
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0)
    throw new Error(`service answered ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return { ms: r.duration * 1000, p50: r.latency.p50, p99: r.latency.p99 };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export async function runServiceBenchmarks(opts: ServiceBenchOptions = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 5;
  const inFlight = opts.inFlight ?? 4;
  const [count1, count16] = opts.requests ?? [80, 24];
  const folder = scanImageFolder(join(root, 'samples')).classes.slice(0, 5);
  const support = folder.map((c) => readFileSync(c.files[0]!));
  const labels = folder.map((c) => c.name);
  const pool = folder.flatMap((c) => c.files.slice(1)).map((f) => readFileSync(f));
  const batches = { 1: [pool[0]!], 16: Array.from({ length: 16 }, (_, i) => pool[i % pool.length]!) };
  const rows: Row[] = [];
  let server: ServeProcess | undefined;
  const classifier = await FewShotClassifier.load(undefined, { device: 'cpu' });
  try {
    server = await startServe(['--device', 'cpu', '--log-level', 'warn', '--max-concurrent', String(inFlight)]);
    const created = await multipart(support, [...labels.map((l): [string, string] => ['label', l]), ['id', 'bench']]);
    const res = await fetch(`${server.url}/v1/support-sets`, {
      method: 'POST',
      body: created.body,
      headers: { 'content-type': created.contentType },
    });
    if (res.status !== 201) throw new Error(`creating the support set answered ${res.status}: ${await res.text()}`);
    await classifier.setSupport(support, labels);
    const classifyUrl = `${server.url}/v1/support-sets/bench/classify`;
    for (const size of [1, 16] as const) {
      const batch = batches[size];
      const count = size === 1 ? count1 : count16;
      const body = await multipart(batch);
      // Warm-up on both sides (ONNX Runtime's first runs of a batch shape are slower).
      await inProcess(classifier, batch, inFlight, inFlight);
      await overHttp(classifyUrl, body, inFlight, inFlight);
      const local: { ips: number; p50: number; p99: number }[] = [];
      const http: { ips: number; p50: number; p99: number }[] = [];
      for (let r = 0; r < rounds; r++) {
        const a = await inProcess(classifier, batch, count, inFlight);
        local.push({ ips: (count * size) / (a.ms / 1000), p50: percentile(a.latencies, 0.5), p99: percentile(a.latencies, 0.99) });
        const b = await overHttp(classifyUrl, body, count, inFlight);
        http.push({ ips: (count * size) / (b.ms / 1000), p50: b.p50, p99: b.p99 });
      }
      const base = median(local.map((x) => x.ips));
      const note = `${count} requests of ${size} image${size > 1 ? 's' : ''}, ${inFlight} in flight, median of ${rounds} alternating rounds`;
      for (const [name, runs] of [
        [`in-process classify, ${size}-image calls`, local],
        [`serve over HTTP (autocannon), ${size}-image requests`, http],
      ] as const) {
        const ips = median(runs.map((x) => x.ips));
        rows.push({
          name,
          imagesPerS: ips,
          requestsPerS: ips / size,
          p50Ms: median(runs.map((x) => x.p50)),
          p99Ms: median(runs.map((x) => x.p99)),
          ratio: ips / base,
          note,
        });
      }
    }
  } finally {
    await server?.stop();
    await classifier.dispose();
  }
  rows.push(...(await overload(support, labels, batches[16], opts.overloadSeconds ?? 10)));
  return rows;
}

/** 4x overload of a server with capacity 2 + 4: what the refused and the accepted requests saw. */
async function overload(support: Buffer[], labels: string[], batch: Buffer[], seconds: number): Promise<Row[]> {
  const server = await startServe(['--device', 'cpu', '--log-level', 'warn', '--max-concurrent', '2', '--max-queue', '4']);
  try {
    const created = await multipart(support, [...labels.map((l): [string, string] => ['label', l]), ['id', 'bench']]);
    await fetch(`${server.url}/v1/support-sets`, { method: 'POST', body: created.body, headers: { 'content-type': created.contentType } });
    const body = await multipart(batch);
    const pid = server.child.pid!;
    const rssBefore = rssMiB(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pid))), 100);
    const byStatus = new Map<number, number[]>();
    const run = autocannon({
      url: `${server.url}/v1/support-sets/bench/classify`,
      method: 'POST',
      headers: { 'content-type': body.contentType },
      body: body.body,
      connections: 24,
      duration: seconds,
      timeout: 60,
    });
    run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (!byStatus.has(status)) byStatus.set(status, []);
      byStatus.get(status)!.push(ms);
    });
    // Liveness while overloaded: /healthz is not gated by the model slots.
    await new Promise((r) => setTimeout(r, (seconds * 1000) / 2));
    const h0 = performance.now();
    const health = await fetch(`${server.url}/healthz`);
    const healthMs = performance.now() - h0;
    const result = await run;
    clearInterval(sampler);
    const rssAfter = rssMiB(pid);
    const ok = (byStatus.get(200) ?? []).sort((a, b) => a - b);
    const refused = (byStatus.get(503) ?? []).sort((a, b) => a - b);
    const other = [...byStatus.entries()].filter(([s]) => s !== 200 && s !== 503).reduce((n, [, v]) => n + v.length, 0);
    const note = `24 connections against maxConcurrent 2 + maxQueue 4 (4x), ${seconds} s, 16-image requests; other statuses ${other}, errors ${result.errors}, timeouts ${result.timeouts}`;
    return [
      { name: 'overload 4x: accepted (200)', requests: ok.length, p50Ms: percentile(ok, 0.5), p99Ms: percentile(ok, 0.99), note },
      {
        name: 'overload 4x: refused (503 + Retry-After)',
        requests: refused.length,
        p50Ms: percentile(refused, 0.5),
        p99Ms: percentile(refused, 0.99),
        note,
      },
      {
        name: 'overload 4x: server',
        note: `RSS ${rssBefore.toFixed(0)} MiB before, peak ${rssPeak.toFixed(0)} MiB, ${rssAfter.toFixed(0)} MiB after; /healthz ${health.status} in ${healthMs.toFixed(1)} ms mid-overload`,
      },
    ];
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { markdownTable } = await import('./render.js');
  console.log(markdownTable(await runServiceBenchmarks()));
}
