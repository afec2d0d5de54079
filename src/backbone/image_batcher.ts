/**
 * Continuous batching of decoded images inside one backbone worker. Images of every queued
 * job decode concurrently; whenever the session is free it runs on the images decoded so far
 * (across job boundaries, up to `maxRun`), and a job's result is posted once all of its
 * images have run.
 *
 * Why: with fixed jobs of 16 images, each session run saw batch 16 (about 6% slower per image
 * than batch 80 here) and waited for all 16 decodes of the first job. With batches formed
 * from whatever is ready, the session starts as soon as a few images are decoded, later runs
 * grow towards `maxRun`, and decoding of the rest overlaps inference. The graph computes every
 * image independently (rows of any batch are bit-identical to the same rows of batch 80,
 * checked in test/image_batcher.test.ts via the real session too), so results do not depend
 * on how images were grouped.
 */
import type { JobOutcome } from './protocol.js';

export interface ImageBatcherOptions<I> {
  /** Floats of one preprocessed image (3 x S x S). */
  imageFloats: number;
  /** Floats of one image's features (C x P). */
  featureLength: number;
  /** Decodes and preprocesses `input` into `out` at `offset`; rejects for unreadable images. */
  decode: (input: I, out: Float32Array, offset: number) => Promise<void>;
  /** Runs the session on `count` images; runs never overlap (the batcher waits for each). */
  run: (input: Float32Array, count: number) => Promise<{ features: Float32Array; ms: number }>;
  /** Receives each finished job (in completion order) once all its images ran or failed. */
  done: (result: JobOutcome) => void;
  /** Receives a job whose session run failed (every job in that run fails). */
  failed: (id: number, message: string) => void;
  /** Turns a decode rejection into one line. */
  describe: (reason: unknown) => string;
  /** Most images per session run. Default 80 (one 5-way 1-shot episode). */
  maxRun?: number;
  /** Fewest images worth a run while more are still decoding. Default 8. */
  minRun?: number;
  /** Most images decoding at once. Default: no limit. */
  maxDecoding?: number;
  now?: () => number;
}

interface Job {
  id: number;
  n: number;
  staging: Float32Array;
  features: Float32Array;
  ran: boolean[];
  errors: { index: number; message: string }[];
  unsettled: number;
  decodesLeft: number;
  decodeMs: number;
  backboneMs: number;
  t0: number;
  dead: boolean;
}

interface Ready {
  job: Job;
  index: number;
}

interface Waiting<I> extends Ready {
  input: I;
}

export class ImageBatcher<I> {
  private readonly ready: Ready[] = [];
  private readonly waiting: Waiting<I>[] = [];
  private decoding = 0;
  private readonly maxDecoding: number;
  private running = false;
  private pumpScheduled = false;
  private readonly maxRun: number;
  private readonly minRun: number;
  private readonly now: () => number;
  private runBuffer: Float32Array | undefined;

  constructor(private readonly o: ImageBatcherOptions<I>) {
    this.maxRun = o.maxRun ?? 80;
    this.minRun = Math.min(o.minRun ?? 8, this.maxRun);
    this.now = o.now ?? (() => performance.now());
    this.maxDecoding = Math.max(1, o.maxDecoding ?? Infinity);
  }

  /** Queues a job: its images start decoding now. */
  add(id: number, images: readonly I[]): void {
    const n = images.length;
    const job: Job = {
      id,
      n,
      staging: new Float32Array(n * this.o.imageFloats),
      features: new Float32Array(n * this.o.featureLength),
      ran: new Array<boolean>(n).fill(false),
      errors: [],
      unsettled: n,
      decodesLeft: n,
      decodeMs: 0,
      backboneMs: 0,
      t0: this.now(),
      dead: false,
    };
    if (n === 0) {
      this.finish(job);
      return;
    }
    job.decodesLeft = n;
    images.forEach((input, index) => this.waiting.push({ job, index, input }));
    this.startDecodes();
  }

  private startDecodes(): void {
    while (this.decoding < this.maxDecoding && this.waiting.length > 0) {
      const { job, index, input } = this.waiting.shift()!;
      this.decoding++;
      let decoded: Promise<void>;
      try {
        decoded = this.o.decode(input, job.staging, index * this.o.imageFloats);
      } catch (e) {
        decoded = Promise.reject(e);
      }
      decoded
        .then(
          () => this.ready.push({ job, index }),
          (reason: unknown) => {
            job.errors.push({ index, message: this.o.describe(reason) });
            this.settle(job, 1);
          },
        )
        .finally(() => {
          this.decoding--;
          if (--job.decodesLeft === 0) job.decodeMs = this.now() - job.t0;
          this.startDecodes();
          this.schedulePump();
        });
    }
  }

  /** Whether nothing is queued, decoding or running. */
  get idle(): boolean {
    return !this.running && this.decoding === 0 && this.waiting.length === 0 && this.ready.length === 0;
  }

  /**
   * Forms the next batch in the check phase, after this loop turn has delivered every decode
   * that finished meanwhile. A synchronous session run blocks the thread, so many decodes
   * complete at once when it returns: deciding on the first of them would run a batch of
   * `minRun` and leave the rest for later.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.running || this.ready.length === 0) return;
    const moreComing = this.decoding > 0 || this.waiting.length > 0;
    if (this.ready.length < this.minRun && moreComing) return; // a few more are about to be ready
    const batch = this.ready.splice(0, this.maxRun);
    this.running = true;
    this.runBatch(batch)
      .catch((e: unknown) => {
        // Never leave a job waiting for rows that will not come.
        const message = (e as Error)?.message ?? String(e);
        for (const job of new Set(batch.map((r) => r.job))) this.kill(job, message);
      })
      .finally(() => {
        this.running = false;
        this.schedulePump();
      });
  }

  /** Input rows for `batch`: a view when they lie in order in one job's staging, else a copy. */
  private inputOf(batch: Ready[]): Float32Array {
    const f = this.o.imageFloats;
    const first = batch[0]!;
    const inPlace = batch.every((r, k) => r.job === first.job && r.index === first.index + k);
    if (inPlace) return first.job.staging.subarray(first.index * f, (first.index + batch.length) * f);
    if (!this.runBuffer || this.runBuffer.length < batch.length * f) this.runBuffer = new Float32Array(this.maxRun * f);
    const buffer = this.runBuffer;
    batch.forEach((r, k) => buffer.set(r.job.staging.subarray(r.index * f, (r.index + 1) * f), k * f));
    return buffer.subarray(0, batch.length * f);
  }

  private async runBatch(batch: Ready[]): Promise<void> {
    const live = batch.filter((r) => !r.job.dead);
    if (live.length === 0) return;
    const len = this.o.featureLength;
    let out: { features: Float32Array; ms: number };
    try {
      out = await this.o.run(this.inputOf(live), live.length);
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      for (const job of new Set(live.map((r) => r.job))) this.kill(job, message);
      return;
    }
    const share = out.ms / live.length;
    live.forEach((r, k) => {
      r.job.features.set(out.features.subarray(k * len, (k + 1) * len), r.index * len);
      r.job.ran[r.index] = true;
      r.job.backboneMs += share;
    });
    for (const r of live) this.settle(r.job, 1);
  }

  private settle(job: Job, count: number): void {
    job.unsettled -= count;
    if (job.unsettled === 0 && !job.dead) this.finish(job);
  }

  private kill(job: Job, message: string): void {
    if (job.dead) return;
    job.dead = true;
    this.o.failed(job.id, message);
  }

  private finish(job: Job): void {
    job.staging = new Float32Array(0); // release the inputs before the result travels
    const ok: number[] = [];
    job.ran.forEach((r, i) => r && ok.push(i));
    const len = this.o.featureLength;
    let features = job.features;
    if (ok.length !== job.n) {
      features = new Float32Array(ok.length * len);
      ok.forEach((i, row) => features.set(job.features.subarray(i * len, (i + 1) * len), row * len));
    }
    job.errors.sort((a, b) => a.index - b.index);
    this.o.done({ id: job.id, features, ok, errors: job.errors, decodeMs: job.decodeMs, backboneMs: job.backboneMs });
  }
}
