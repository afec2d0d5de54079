/** Public data types of the backbone. */

/**
 * One image: a file path, or the encoded bytes of a JPEG/PNG/WebP/GIF (a Buffer is a Uint8Array).
 * @example const inputs: ImageInput[] = ['cat.jpg', await readFile('dog.png')];
 */
export type ImageInput = string | Uint8Array;

/**
 * Already preprocessed images, NCHW float32 with dims [N, 3, S, S] (S = config.crop).
 * @example const t: ImageTensor = { data: new Float32Array(2 * 3 * 84 * 84), dims: [2, 3, 84, 84] };
 */
export interface ImageTensor {
  data: Float32Array;
  dims: [number, 3, number, number];
}

/**
 * Embeddings of a batch (docs/computation.md §2): image i's C x P tensor is data[i*C*P .. (i+1)*C*P),
 * channel-major, pixel p = row * F + col.
 * @example
 * const batch = await backbone.embed(['a.jpg', 'missing.jpg']);
 * batch.errors[1]; // ImageDecodeError: Cannot read image missing.jpg: ...
 */
export interface EmbedBatch {
  /** N x C x P float32; rows of images that failed are NaN. */
  data: Float32Array;
  /** [N, C, P]. */
  dims: [number, number, number];
  /** Per input: null, the ImageDecodeError naming the file / '<buffer #i>', or a BackboneError when its worker job failed as a whole. */
  errors: (Error | null)[];
  /** Milliseconds: decode and backbone are summed over the workers' jobs (they overlap), total is wall time. */
  timings: { decode: number; backbone: number; total: number };
}
