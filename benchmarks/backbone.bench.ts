/**
 * Backbone benchmark: milliseconds per image for one 5-way 1-shot episode's
 * worth of images (a batch of 80 at 84 x 84) through
 *   - Backbone.embed on a preprocessed tensor (worker pool + transfers),
 *   - Backbone.embed on image files (decoding in the workers, overlapping inference),
 *   - a bare onnxruntime-node session on the same graph with the same threads,
 *   - a PyTorch forward of the same model in a /usr/bin/python3 subprocess,
 * plus the maximum event-loop delay while 500 images (files, then a tensor) are embedded.
 * Run: node --import tsx benchmarks/backbone.bench.ts [--threads N] [--reps N] [--python PATH]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { Backbone } from '../src/backbone/backbone.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { fillUniform, streamKey } from '../src/model/rng.js';
import { measureStalls } from '../test/helpers/loop_stall.js';
import { median } from './median.js';

export type BenchRow = {
  name: string;
  msPerImage: number;
  /** msPerImage relative to the bare onnxruntime-node session (1 = same speed). */
  ratio?: number;
  note?: string;
};

export interface BackboneBenchOptions {
  /** ONNX Runtime / PyTorch intra-op threads (default: hardware threads). */
  threads?: number;
  /** Timed rounds (bare session, tensor, files once each); medians are reported (default 9). */
  reps?: number;
  /** Batch size (default 80 = 5-way 1-shot with 15 queries per class). */
  batch?: number;
  /** Images for the event-loop measurement (default 500). */
  loopImages?: number;
  /** Python with torch + torchvision (default /usr/bin/python3). */
  python?: string;
  /** Cache directory for the default model (default: a temporary directory). */
  cacheDir?: string;
}

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const IMAGES = ['scene.jpg', 'upscale_rgba.png', 'square.webp', 'animated.gif', 'exif_rotated.jpg', 'gray.png'].map((f) =>
  join(ROOT, 'test', 'fixtures', 'images', f),
);

/**
 * Median wall time of each measurement, taken in rounds (one run of each per round, after one
 * warm-up run each) so that a slow spell on these shared cores hits all of them alike instead
 * of whichever happened to run during it.
 */
export async function interleavedMedians(reps: number, fns: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < reps; i++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      times[k]!.push(performance.now() - t0);
    }
  }
  return times.map(median);
}

/**
 * Runs the backbone benchmarks and returns one row per measurement.
 * @example
 * const rows = await runBackboneBenchmarks({ threads: 2 });
 * console.table(rows);
 */
export async function runBackboneBenchmarks(opts: BackboneBenchOptions = {}): Promise<BenchRow[]> {
  const threads = opts.threads ?? availableParallelism();
  const reps = opts.reps ?? 9;
  const n = opts.batch ?? 80;
  const loopImages = opts.loopImages ?? 500;
  const python = opts.python ?? '/usr/bin/python3';
  const tmp = opts.cacheDir ? undefined : mkdtempSync(join(tmpdir(), 'lwfm-bench-'));
  const rows: BenchRow[] = [];
  try {
    const bundle = await defaultBundle({ cacheDir: opts.cacheDir ?? tmp! });
    const x = fillUniform(new Float32Array(n * 3 * 84 * 84), streamKey(1, 7), -2, 2);
    const files = Array.from({ length: n }, (_, i) => IMAGES[i % IMAGES.length]!);

    const session = await ort.InferenceSession.create(bundle.backbonePath, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    let bareMs = NaN;
    const backbone = await Backbone.create(bundle, { device: 'cpu', workers: 1, threads });
    try {
      const [bare, tensor, filesTotal] = await interleavedMedians(reps, [
        () => session.run({ images: new ort.Tensor('float32', x, [n, 3, 84, 84]) }),
        () => backbone.embed({ data: x, dims: [n, 3, 84, 84] }),
        () => backbone.embed(files),
      ]);
      await session.release();
      bareMs = bare! / n;
      const tensorMs = tensor! / n;
      const filesMs = filesTotal! / n;
      rows.push({
        name: `bare onnxruntime-node session, batch ${n}`,
        msPerImage: bareMs,
        ratio: 1,
        note: `${threads} threads, graphOptimizationLevel 'all'`,
      });
      rows.push({
        name: `Backbone.embed(tensor), batch ${n}`,
        msPerImage: tensorMs,
        ratio: tensorMs / bareMs,
        note: '1 worker, one job (tensor jobs hold <= 80 rows)',
      });
      rows.push({
        name: `Backbone.embed(files), batch ${n}`,
        msPerImage: filesMs,
        ratio: filesMs / bareMs,
        note: 'includes sharp decode + resize of small test images',
      });

      const big = Array.from({ length: loopImages }, (_, i) => IMAGES[i % IMAGES.length]!);
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t0 = performance.now();
      let r: Awaited<ReturnType<Backbone['embed']>> | undefined;
      const stalls = await measureStalls(async () => {
        r = await backbone.embed(big);
      });
      const wall = performance.now() - t0;
      h.disable();
      const idle = monitorEventLoopDelay({ resolution: 1 });
      idle.enable();
      await new Promise((res) => setTimeout(res, Math.min(wall, 5000)));
      idle.disable();
      const failed = r!.errors.filter((e) => e).length;
      rows.push({
        name: `event loop while embedding ${loopImages} files`,
        msPerImage: wall / loopImages,
        ratio: wall / loopImages / bareMs,
        note:
          `max event-loop delay ${(h.max / 1e6).toFixed(1)} ms (p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms), ` +
          `loop busy within one turn at most ${stalls.maxBusyMs.toFixed(1)} ms (main-thread CPU ${stalls.maxCpuMs.toFixed(1)} ms); idle loop here: max delay ${(idle.max / 1e6).toFixed(1)} ms${failed ? `; ${failed} failed` : ''}`,
      });

      // The same for a preprocessed tensor: the main thread copies its rows into the jobs.
      const bigTensor = fillUniform(new Float32Array(loopImages * 3 * 84 * 84), streamKey(1, 8), -2, 2);
      const ht = monitorEventLoopDelay({ resolution: 1 });
      ht.enable();
      const t1 = performance.now();
      const tensorStalls = await measureStalls(() => backbone.embed({ data: bigTensor, dims: [loopImages, 3, 84, 84] }));
      const wallT = performance.now() - t1;
      ht.disable();
      rows.push({
        name: `event loop while embedding a ${loopImages}-image tensor`,
        msPerImage: wallT / loopImages,
        ratio: wallT / loopImages / bareMs,
        note: `max event-loop delay ${(ht.max / 1e6).toFixed(1)} ms (p99 ${(ht.percentile(99) / 1e6).toFixed(1)} ms), loop busy within one turn at most ${tensorStalls.maxBusyMs.toFixed(1)} ms (main-thread CPU ${tensorStalls.maxCpuMs.toFixed(1)} ms)`,
      });
    } finally {
      await backbone.dispose();
    }

    const py = spawnSync(
      python,
      [
        join(ROOT, 'tools', 'reference', 'bench_torch_backbone.py'),
        '--batch',
        String(n),
        '--threads',
        String(threads),
        '--reps',
        String(reps),
      ],
      {
        encoding: 'utf8',
      },
    );
    if (py.error || py.status !== 0) {
      const why = py.error ? py.error.message : py.stderr.trim().split('\n').pop();
      rows.push({
        name: 'PyTorch forward (skipped)',
        msPerImage: NaN,
        note: `skipped: ${python} with torch unavailable (${why}); apt-get install python3-torch python3-torchvision`,
      });
    } else {
      const res = JSON.parse(py.stdout.trim().split('\n').pop()!) as { msPerImage: number; torch: string };
      rows.push({
        name: `PyTorch forward, batch ${n}`,
        msPerImage: res.msPerImage,
        ratio: res.msPerImage / bareMs,
        note: `torch ${res.torch}, ${threads} threads, eval + no_grad`,
      });
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const pythonAt = process.argv.indexOf('--python');
  const python = pythonAt > 0 ? process.argv[pythonAt + 1] : undefined;
  const rows = await runBackboneBenchmarks({
    threads: arg('--threads'),
    reps: arg('--reps'),
    batch: arg('--batch'),
    loopImages: arg('--loop-images'),
    python,
  });
  console.table(
    rows.map((r) => ({ ...r, msPerImage: Number(r.msPerImage.toFixed(3)), ratio: r.ratio === undefined ? '' : r.ratio.toFixed(2) })),
  );
}
