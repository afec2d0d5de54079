/**
 * Decoding of one backbone job's images into the N x 3 x S x S float tensor ONNX Runtime takes.
 *
 * A worker's JavaScript thread is blocked while ONNX Runtime runs (onnxruntime-node runs the
 * session synchronously), so a job's images are decoded between two runs and that time adds
 * to every batch unless it is short. Plain PNGs, the bulk of dataset folders, therefore go to
 * the addon in one job per batch, decoded and preprocessed on every core
 * (native/bindings/png_binding.cc). One native call per image, as before, cost a round trip
 * through the event loop each and left a core idle for much of that gap: 22-47 ms between
 * runs of 80 images against about 10 ms for the batch call (stream benchmark, 2 cores).
 * Other images, and PNGs the fast decoder declines, are decoded one by one by sharp.
 *
 * Memory: files are read READ_AHEAD at a time; the PNGs waiting for the batch call hold at
 * most BATCH_DECODE_BYTES of encoded data (later ones are decoded one by one); the batch call
 * admits images while their estimated decode memory stays within 256 MB (png_binding.cc), and
 * an image it cannot allocate for is left to sharp alone. So a job's peak is bounded by these
 * and the batch's floats, whatever its files weigh or declare.
 */
import { native } from '../binding.js';
import { DECODE_CONCURRENCY, EXACT_DECODE_MAX_PIXELS, Gate, READ_AHEAD, readImage } from './decode.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from './image_limits.js';
import { isPng } from './png_decode.js';
import { nativeSpec, preprocessWithSharp, type PreprocessSpec } from './preprocess.js';

/** Encoded bytes of the PNGs one job hands to the batch decoder at most. */
export const BATCH_DECODE_BYTES = 64 << 20;

/** The images of one job: floats for all, and for each image that failed, why. */
export interface DecodedImages {
  /** images.length x 3 x S x S floats; the rows of failed images are zero. */
  floats: Float32Array;
  /** failures[i]: the error of image i (a DecodeFailure for bad images), or undefined. */
  failures: unknown[];
}

/** Runs a native call (onnxruntime-node's or sharp's) under the worker's exit guard. */
export type NativeCallWrapper = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Decodes jobs of images with the read and decode limits shared by all jobs of a worker.
 * @example const { floats, failures } = await new BatchDecoder(spec, maxPixels).decode(['a.png', 'b.jpg']);
 */
export class BatchDecoder {
  private readonly readGate = new Gate(READ_AHEAD);
  private readonly decodeGate = new Gate(DECODE_CONCURRENCY);

  constructor(
    private readonly spec: PreprocessSpec,
    private readonly maxPixels: number,
    private readonly guard: NativeCallWrapper = (fn) => fn(),
    /** Encoded PNG bytes one job hands to the batch call at most (tests lower it). */
    private readonly batchBytes = BATCH_DECODE_BYTES,
  ) {}

  async decode(images: readonly (string | Uint8Array)[]): Promise<DecodedImages> {
    const n = images.length;
    const per = 3 * this.spec.crop * this.spec.crop;
    const failures: unknown[] = new Array<unknown>(n).fill(undefined);
    const pngs: (Uint8Array | null)[] = new Array<Uint8Array | null>(n).fill(null);
    const single = new Map<number, Float32Array>();
    let budget = this.batchBytes;
    await Promise.all(
      images.map((image, i) =>
        this.readGate.run(async () => {
          try {
            const bytes = await readImage(image, this.maxPixels);
            if (isPng(bytes) && bytes.length <= budget) {
              budget -= bytes.length;
              pngs[i] = bytes;
              return;
            }
            single.set(i, await this.withSharp(bytes));
          } catch (e) {
            failures[i] = e;
          }
        }),
      ),
    );
    let floats: Float32Array;
    if (pngs.some((b) => b !== null)) {
      const exactMax = Math.min(this.maxPixels, EXACT_DECODE_MAX_PIXELS);
      const batch = await this.guard(() => native.decodePngBatch(pngs, exactMax, nativeSpec(this.spec)));
      floats = batch.floats;
      // Declined by the fast decoder (outside its subset, malformed, or large): sharp decodes
      // it or says what is wrong with it.
      await Promise.all(
        pngs.map(async (bytes, i) => {
          if (bytes === null || batch.decoded[i] === 1) return;
          try {
            floats.set(await this.withSharp(bytes), i * per);
          } catch (e) {
            failures[i] = e;
          }
        }),
      );
    } else {
      floats = new Float32Array(n * per);
    }
    for (const [i, row] of single) floats.set(row, i * per);
    return { floats, failures };
  }

  private withSharp(bytes: Uint8Array): Promise<Float32Array> {
    return this.decodeGate.run(() =>
      this.guard(async () => {
        const row = new Float32Array(3 * this.spec.crop * this.spec.crop);
        await preprocessWithSharp(bytes, this.spec, row, 0, this.maxPixels);
        return row;
      }),
    );
  }
}

/**
 * Preprocesses one image into `out` at `offset` (a job of one image): a plain PNG is decoded
 * natively, anything else by sharp; an image that fails rejects with its DecodeFailure.
 * @example await preprocessInto('cat.jpg', spec, batch, 0);
 */
export async function preprocessInto(
  input: string | Uint8Array,
  spec: PreprocessSpec,
  out: Float32Array,
  offset: number,
  maxPixels: number = DEFAULT_MAX_IMAGE_PIXELS,
): Promise<void> {
  const { floats, failures } = await new BatchDecoder(spec, maxPixels).decode([input]);
  if (failures[0] !== undefined) throw failures[0];
  out.set(floats, offset);
}
