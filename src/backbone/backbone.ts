/**
 * The Backbone: turns images into docs/computation.md §2 embeddings with ONNX Runtime, in a pool of
 * worker threads so the event loop stays free while images decode and the graph runs.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BackboneError, DisposedError, ImageDecodeError, ModelBundleError } from '../errors.js';
import { expectOneOf, expectOptions, expectThreads, expectWorkers, expectedMessage, expectPositiveInteger } from '../validate.js';
import type { ModelBundle } from '../model/bundle.js';
import type { ModelConfig } from '../model/config.js';
import { backboneDeviceToTry, cudaUnusable, DEVICE_REQUESTS, type Device } from '../device.js';
import { cudaProviderInstalled, cudaUnavailableMessage, gpuLooksPresent } from './device.js';
import { WorkerInitError, WorkerPool } from './pool.js';
import { expectMaxImagePixels } from './image_limits.js';
import type { JobResult, WorkerInit } from './protocol.js';
import type { EmbedBatch, ImageInput, ImageTensor } from './types.js';

/** Images per worker job: small enough that decoding of the next job overlaps this one's inference. */
const MAX_JOB_IMAGES = 16;
/**
 * Rows per job of a tensor input: one 5-way 1-shot episode (80 images) stays one job, and
 * copying one job's rows (6.8 MB) takes a few ms of a loop turn.
 */
const MAX_TENSOR_JOB_IMAGES = 80;

/**
 * Options of {@link Backbone.create}.
 * @example
 * const options: BackboneOptions = { device: 'cpu', workers: 1, threads: 2 };
 * await using backbone = await Backbone.create(await defaultBundle(), options);
 */
export interface BackboneOptions {
  /** 'auto' (default): CUDA when usable, else CPU. 'cuda' throws DeviceUnavailableError when it is not usable. */
  device?: 'auto' | 'cpu' | 'cuda';
  /** Worker threads, each with its own ONNX Runtime session (default 1). */
  workers?: number;
  /** ONNX Runtime intra-op threads per worker (default: hardware threads / workers). */
  threads?: number;
  /**
   * Images with more pixels than this (width x height) fail with ImageDecodeError reason
   * 'too-many-pixels', from their header, before decoding. Default 40,000,000; at most 268,402,689.
   */
  maxImagePixels?: number;
}

function checkBundle(bundle: unknown): ModelBundle {
  const b = bundle as ModelBundle;
  if (b === null || typeof b !== 'object' || typeof b.backbonePath !== 'string' || typeof b.config !== 'object' || b.config === null) {
    throw new TypeError(expectedMessage('ModelBundle from loadBundle() or defaultBundle()', 'bundle', bundle));
  }
  return b;
}

/** A failed image of a job: the image's fault (ImageDecodeError) or ours (BackboneError). */
function imageError(source: string, e: JobResult['errors'][number]): ImageDecodeError | BackboneError {
  return e.internal ? new BackboneError(source, e.message) : new ImageDecodeError(source, e.message, { reason: e.reason });
}

/**
 * ResNet-18 tap embeddings of images on ONNX Runtime.
 * @example
 * await using backbone = await Backbone.create(await defaultBundle(), { device: 'cpu' });
 * const batch = await backbone.embed(['cat.jpg', 'dog.png']);
 * console.log(batch.dims); // [2, 1024, 9]
 */
export class Backbone {
  readonly device: Device;
  readonly config: ModelConfig;
  private readonly pool: WorkerPool;
  private readonly featureLength: number;
  private disposed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(config: ModelConfig, device: Device, pool: WorkerPool) {
    this.config = config;
    this.device = device;
    this.pool = pool;
    this.featureLength = config.channels.reduce((a, b) => a + b, 0) * config.featureSize * config.featureSize;
  }

  /**
   * Starts the worker pool and creates one ONNX Runtime session per worker.
   * @example const backbone = await Backbone.create(await loadBundle('./model'), { workers: 2, threads: 1 });
   */
  static async create(bundle: ModelBundle, opts?: BackboneOptions): Promise<Backbone> {
    const b = checkBundle(bundle);
    const o = expectOptions(opts, 'opts');
    const device = o.device === undefined ? 'auto' : expectOneOf(o.device, 'opts.device', DEVICE_REQUESTS);
    const workers = expectWorkers(o.workers, 'opts.workers') ?? 1;
    const threads = expectThreads(o.threads, 'opts.threads') ?? Math.max(1, Math.floor(availableParallelism() / workers));
    const maxImagePixels = expectMaxImagePixels(o.maxImagePixels, 'opts.maxImagePixels');
    const c = b.config;
    const featureLength = c.channels.reduce((x, y) => x + y, 0) * c.featureSize * c.featureSize;
    const init = (dev: Device): WorkerInit => ({
      modelPath: b.backbonePath,
      device: dev,
      threads,
      featureLength,
      maxImagePixels,
      spec: { resize: c.resize, crop: c.crop, mean: c.mean, std: c.std },
    });
    const startCpu = async (): Promise<Backbone> => {
      try {
        return new Backbone(c, 'cpu', await WorkerPool.start(workers, init('cpu')));
      } catch (e) {
        if (e instanceof WorkerInitError)
          throw new ModelBundleError(b.backbonePath, `ONNX Runtime cannot load it (${e.message})`, { cause: e });
        throw e;
      }
    };

    // device.ts decides; this only knows how to probe ONNX Runtime and start sessions.
    const first = backboneDeviceToTry(device, gpuLooksPresent, () =>
      cudaProviderInstalled() ? undefined : cudaUnavailableMessage("onnxruntime-node's CUDA execution provider is not installed"),
    );
    if (first === 'cpu') return startCpu();
    try {
      return new Backbone(c, 'cuda', await WorkerPool.start(workers, init('cuda')));
    } catch (e) {
      if (!(e instanceof WorkerInitError)) throw e;
      cudaUnusable(device as 'auto' | 'cuda', 'backbone', cudaUnavailableMessage(`creating a CUDA session failed: ${e.message}`));
    }
    return startCpu();
  }

  /**
   * Embeds images (paths or encoded bytes, decoded and preprocessed in the workers) or an
   * already preprocessed tensor. One bad image yields an ImageDecodeError in `errors` and
   * NaN features; the others are unaffected. A worker that fails as a whole gives each image
   * of its job a BackboneError (and is replaced). A tensor's rows are copied in slices over the
   * next few event-loop turns, so leave its data unchanged until the promise settles.
   * `options.jobImages` raises the images per worker job (default 16, so that decoding of
   * one job overlaps inference of the previous one within a call): a caller that overlaps
   * whole calls itself, as classifyStream does, runs fuller ONNX Runtime batches with it.
   * @example
   * const { data, dims, errors } = await backbone.embed(['a.jpg', bytes]);
   */
  async embed(inputs: readonly ImageInput[] | ImageTensor, options?: { jobImages?: number }): Promise<EmbedBatch> {
    if (this.disposed) throw new DisposedError('Backbone');
    const t0 = performance.now();
    const jobImages =
      options?.jobImages === undefined ? MAX_JOB_IMAGES : expectPositiveInteger(options.jobImages, 'options.jobImages', 4096);
    const task = Array.isArray(inputs)
      ? this.embedImages(inputs as readonly ImageInput[], jobImages)
      : this.embedTensor(inputs as ImageTensor);
    this.inFlight.add(task);
    try {
      const batch = await task;
      batch.timings.total = performance.now() - t0;
      return batch;
    } finally {
      this.inFlight.delete(task);
    }
  }

  private newBatch(n: number): EmbedBatch {
    const c = this.config.channels.reduce((a, b) => a + b, 0);
    const p = this.config.featureSize * this.config.featureSize;
    return {
      data: new Float32Array(0),
      dims: [n, c, p],
      errors: new Array<Error | null>(n).fill(null),
      timings: { decode: 0, backbone: 0, total: 0 },
    };
  }

  /** Job ranges: one per worker, images further capped at MAX_JOB_IMAGES so decoding overlaps inference. */
  private chunks(n: number, cap: number): [number, number][] {
    const size = Math.max(1, Math.min(cap, Math.ceil(n / Math.max(1, this.pool.size))));
    const out: [number, number][] = [];
    for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
    return out;
  }

  /**
   * Collects job results into one N x C x P array as each job finishes, so the main thread
   * never copies (or NaN-fills) the whole batch in one turn: a 500-image batch is 18 MB, and
   * filling and copying it at once blocked the event loop for 15-30 ms. A single job that
   * decoded every image hands over its transferred buffer as is.
   */
  private async assemble(
    batch: EmbedBatch,
    jobs: { start: number; end: number; result: Promise<JobResult> }[],
    describe: (i: number) => string,
  ): Promise<EmbedBatch> {
    const n = batch.dims[0];
    const len = this.featureLength;
    let out: Float32Array | undefined;
    // Fresh zeroed memory is mapped lazily, so allocating costs little; each job then faults
    // in only the pages of its own rows.
    const output = (): Float32Array => (out ??= new Float32Array(n * len));
    const collect = async (job: (typeof jobs)[number]): Promise<void> => {
      let r: JobResult;
      try {
        r = await job.result;
      } catch (reason) {
        // A whole job failed (the worker crashed or its session failed): not an image problem,
        // so every image of it reports a BackboneError, never an ImageDecodeError.
        const why = (reason as Error)?.message ?? String(reason);
        output().fill(NaN, job.start * len, job.end * len);
        for (let i = job.start; i < job.end; i++) batch.errors[i] = new BackboneError(describe(i), why, { cause: reason });
        // Images the worker had found unreadable before the job failed are still image errors.
        for (const e of (reason as { imageErrors?: JobResult['errors'] }).imageErrors ?? []) {
          if (!e.internal) batch.errors[job.start + e.index] = imageError(describe(job.start + e.index), e);
        }
        return;
      }
      batch.timings.decode += r.decodeMs;
      batch.timings.backbone += r.backboneMs;
      if (jobs.length === 1 && r.ok.length === n) {
        out = r.features;
        return;
      }
      const d = output();
      r.ok.forEach((local, row) => d.set(r.features.subarray(row * len, (row + 1) * len), (job.start + local) * len));
      for (const e of r.errors) {
        const i = job.start + e.index;
        d.fill(NaN, i * len, (i + 1) * len);
        batch.errors[i] = imageError(describe(i), e);
      }
    };
    await Promise.all(jobs.map(collect));
    batch.data = output();
    return batch;
  }

  private embedImages(inputs: readonly ImageInput[], jobImages: number): Promise<EmbedBatch> {
    inputs.forEach((x, i) => {
      if (typeof x !== 'string' && !(x instanceof Uint8Array))
        throw new TypeError(expectedMessage('image path string or Uint8Array of encoded image bytes', `inputs[${i}]`, x));
      if (typeof x === 'string' && x.length === 0) throw new TypeError(expectedMessage('non-empty image path', `inputs[${i}]`, x));
    });
    const batch = this.newBatch(inputs.length);
    if (inputs.length === 0) return Promise.resolve(batch);
    const jobs = this.chunks(inputs.length, jobImages).map(([s, e]) => ({
      start: s,
      end: e,
      // Bytes are copied by postMessage's structured clone: the caller keeps its buffers.
      result: this.pool.run({ type: 'images', images: inputs.slice(s, e) as (string | Uint8Array)[] }, []),
    }));
    return this.assemble(batch, jobs, (i) => (typeof inputs[i] === 'string' ? (inputs[i] as string) : `<buffer #${i}>`));
  }

  private embedTensor(t: ImageTensor): Promise<EmbedBatch> {
    const s = this.config.crop;
    if (t === null || typeof t !== 'object' || !(t.data instanceof Float32Array) || !Array.isArray(t.dims)) {
      throw new TypeError(expectedMessage('array of images or { data: Float32Array, dims: [N, 3, S, S] }', 'inputs', t));
    }
    const d = t.dims;
    if (d.length !== 4 || !Number.isInteger(d[0]) || d[0] < 0 || d[1] !== 3 || d[2] !== s || d[3] !== s) {
      throw new RangeError(`Expected dims [N, 3, ${s}, ${s}] for inputs.dims but received [${d.join(', ')}]`);
    }
    const n = d[0];
    const per = 3 * s * s;
    if (t.data.length !== n * per)
      throw new RangeError(expectedMessage(`Float32Array of length ${n * per} (N x 3 x ${s} x ${s})`, 'inputs.data', t.data));
    const batch = this.newBatch(n);
    if (n === 0) return Promise.resolve(batch);
    // Each job gets its own copy of its rows (transferred to the worker, the caller keeps its
    // tensor). Copying into fresh pages costs about 1 ms per 1-2 MB here, so copying all of a
    // 500-image tensor (42 MB) at once blocked the loop for 30-120 ms: jobs are capped and each
    // one's rows are copied and posted in a turn of their own.
    let turn: Promise<unknown> = Promise.resolve();
    const jobs = this.chunks(n, MAX_TENSOR_JOB_IMAGES).map(([a, b], k) => {
      if (k > 0) turn = turn.then(() => nextTurn());
      const result = turn.then(() => {
        const data = t.data.slice(a * per, b * per);
        return this.pool.run({ type: 'tensor', count: b - a, data }, [data.buffer]);
      });
      return { start: a, end: b, result };
    });
    return this.assemble(batch, jobs, (i) => `<tensor row #${i}>`);
  }

  /**
   * Waits for running embeds, releases the sessions and stops the workers. Idempotent.
   * @example await backbone.dispose();
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.pool.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
