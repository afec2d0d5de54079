/**
 * Streaming benchmark (issue 13): images per second classifying a folder of 2,000 small PNG
 * files end to end with classifyStream (decode + backbone + head), fp32 and int8, next to a
 * bare fp32 onnxruntime-node session on pre-decoded tensors (batch 80) in the same run, in
 * alternating rounds; and the peak RSS of classifyStream over 20,000 files vs 2,000 files,
 * each in a fresh child process (benchmarks/stream_rss_child.ts). Files are generated in a
 * temporary directory (benchmarks/image_set.ts) and removed afterwards.
 * Run: node --import tsx benchmarks/stream.bench.ts [--threads N] [--rounds N] [--files N] [--big N]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, linkSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { FewShotClassifier } from '../src/classifier/classifier.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { quantizeBundle, SAMPLES_DIR } from '../src/model/quantize/quantize_bundle.js';
import { fillUniform, streamKey } from '../src/model/rng.js';
import { median } from './median.js';
import { bareSession } from './int8.bench.js';
import { linkPngSet, writePngSet } from './image_set.js';
import type { Row } from './render.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface StreamBenchOptions {
  threads?: number;
  /** Alternating rounds of the throughput measurements (default 5). */
  rounds?: number;
  /** Files of the throughput runs and the small RSS run (default 2000). */
  files?: number;
  /** Files of the large RSS run (default 20000). */
  big?: number;
  batchSize?: number;
}

/**
 * Runs the streaming benchmarks; rows carry images/s and the ratio to the bare session, or peak RSS.
 * @example const rows = await runStreamBenchmarks({ threads: 2 });
 */
export async function runStreamBenchmarks(opts: StreamBenchOptions = {}): Promise<Row[]> {
  const threads = opts.threads ?? availableParallelism();
  const rounds = opts.rounds ?? 5;
  const count = opts.files ?? 2000;
  const big = opts.big ?? 20000;
  const batchSize = opts.batchSize ?? 80;
  const tmp = mkdtempSync(join(tmpdir(), 'lwfm-bench-stream-'));
  const rows: Row[] = [];
  try {
    const fp32 = await defaultBundle({ cacheDir: tmp });
    const int8 = await quantizeBundle(fp32.dir, join(tmp, 'int8'), { calibrate: SAMPLES_DIR, threads });
    const files = await writePngSet(join(tmp, 'small'), count);
    const supportDir = join(tmp, 'support');
    for (let c = 0; c < 5; c++) {
      mkdirSync(join(supportDir, `class${c}`), { recursive: true });
      linkSync(files[c]!, join(supportDir, `class${c}`, 'shot.png'));
    }
    const support = scanImageFolder(supportDir);
    const load = async (dir: string): Promise<FewShotClassifier> => {
      const c = await FewShotClassifier.load(dir, { device: 'cpu', threads, workers: 1 });
      await c.setSupport(
        support.classes.flatMap((k) => k.files),
        support.classes.map((k) => k.name),
      );
      return c;
    };
    const classifiers = { fp32: await load(fp32.dir), int8: await load(int8.dir) };
    const n = 80;
    const x = fillUniform(new Float32Array(n * 3 * 84 * 84), streamKey(1, 9), -2, 2);
    const bare = await bareSession(fp32.backbonePath, threads);
    // As many images as a stream round classifies: both rates are then measured over the same
    // span of time, so a slower or faster phase of a shared host weighs on both alike.
    const bareRuns = Math.max(1, Math.round(count / n));
    const bareRate = async (): Promise<number> => {
      const t0 = performance.now();
      for (let k = 0; k < bareRuns; k++) await bare.run({ images: new ort.Tensor('float32', x, [n, 3, 84, 84]) });
      return (bareRuns * n) / ((performance.now() - t0) / 1000);
    };
    const streamRate = async (c: FewShotClassifier): Promise<number> => {
      const t0 = performance.now();
      let done = 0;
      for await (const r of c.classifyStream(files, { batchSize })) {
        if (r.error) throw r.error;
        done++;
      }
      return done / ((performance.now() - t0) / 1000);
    };
    const rates = { bare: [] as number[], fp32: [] as number[], int8: [] as number[] };
    try {
      await bareRate(); // warm-up
      await streamRate(classifiers.int8);
      for (let r = 0; r < rounds; r++) {
        rates.bare.push(await bareRate());
        rates.fp32.push(await streamRate(classifiers.fp32));
        rates.int8.push(await streamRate(classifiers.int8));
      }
    } finally {
      await bare.release();
      await classifiers.fp32.dispose();
      await classifiers.int8.dispose();
    }
    const b = median(rates.bare);
    const f = median(rates.fp32);
    const q = median(rates.int8);
    rows.push({
      name: 'bare onnxruntime-node session, fp32, pre-decoded tensors, batch 80',
      imagesPerSecond: b,
      ratioVsBare: 1,
      note: `${threads} threads, ${bareRuns} runs per round; median of ${rounds} alternating rounds`,
    });
    rows.push({
      name: `classifyStream fp32, ${count} PNG files end to end`,
      imagesPerSecond: f,
      ratioVsBare: f / b,
      note: `decode + backbone + head, batchSize ${batchSize}, 1 worker; per round ${rates.fp32.map((r, k) => (r / rates.bare[k]!).toFixed(2)).join(', ')}`,
    });
    rows.push({
      name: `classifyStream int8, ${count} PNG files end to end`,
      imagesPerSecond: q,
      ratioVsBare: q / b,
      note: 'same files and support set',
    });

    const linked = join(tmp, 'big');
    linkPngSet(linked, files, big);
    const child = (dir: string): { images: number; failed: number; seconds: number; peakRssMB: number; loadedRssMB: number } => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(HERE, 'stream_rss_child.ts'), int8.dir, supportDir, dir, String(threads), String(batchSize)],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`stream_rss_child failed (${r.status}): ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as ReturnType<typeof child>;
    };
    const small = child(join(tmp, 'small'));
    const large = child(linked);
    for (const [label, m] of [
      [`${count}`, small],
      [`${big}`, large],
    ] as const) {
      rows.push({
        name: `peak RSS, classifyStream int8 over ${label} files (fresh process)`,
        peakRssMB: m.peakRssMB,
        note: `${m.images} images (${m.failed} failed) at ${(m.images / m.seconds).toFixed(0)} images/s; RSS after loading ${m.loadedRssMB.toFixed(0)} MB`,
      });
    }
    rows.push({
      name: `peak RSS difference, ${big} vs ${count} files`,
      peakRssMB: large.peakRssMB - small.peakRssMB,
      note: 'target: within 100 MB',
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  console.table(
    await runStreamBenchmarks({ threads: arg('--threads'), rounds: arg('--rounds'), files: arg('--files'), big: arg('--big') }),
  );
}
