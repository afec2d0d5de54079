/**
 * docs/computation.md §1 preprocessing: sharp decodes (first frame, within the limits of decode.ts) and applies EXIF orientation,
 * then the native addon (native/core/pil_resize.cc) does Pillow's antialiased bilinear
 * resize to R x R ignoring aspect, the S x S center crop, scaling to [0, 1] and
 * normalization to NCHW float32 (measured 0.6 ms per 96 x 96 image in JavaScript, 0.12 ms
 * natively: 80 calls of writePreprocessed took 9.6-9.9 ms). Runs inside the backbone workers.
 */
import { native } from '../binding.js';
import { DecodeFailure, decodeRgb } from './decode.js';

export interface PreprocessSpec {
  resize: number;
  crop: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * Crop offset round((R - S) / 2), rounding halves to even as Python's round() does in
 * torchvision's CenterCrop (they differ from Math.round only when R - S is odd).
 */
export function centerCropOffset(resize: number, crop: number): number {
  const x = (resize - crop) / 2;
  const f = Math.floor(x);
  if (x - f !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Writes the resized, center-cropped, normalized image (3 x S x S, CHW) into
 * out[offset .. offset + 3*S*S).
 * @example writePreprocessed(rgb, width, height, spec, batch, i * 3 * spec.crop * spec.crop);
 */
export function writePreprocessed(
  rgb: Uint8Array,
  width: number,
  height: number,
  spec: PreprocessSpec,
  out: Float32Array,
  offset: number,
): void {
  native.preprocessRgb(rgb, width, height, nativeSpec(spec), out, offset);
}

/** The longest side native preprocessing takes (native/bindings/preprocess_binding.cc). */
export const MAX_PREPROCESS_SIDE = 1 << 20;

/** The spec with its crop offset, as the native calls take it. */
export function nativeSpec(spec: PreprocessSpec): PreprocessSpec & { offset: number } {
  return { ...spec, offset: centerCropOffset(spec.resize, spec.crop) };
}

/**
 * Decodes encoded bytes with sharp (any format, the limits of decode.ts) and preprocesses
 * them into `out` at `offset`: the path of everything the fast PNG decoder does not take.
 * @example await preprocessWithSharp(jpegBytes, spec, batch, 0, DEFAULT_MAX_IMAGE_PIXELS);
 */
export async function preprocessWithSharp(
  bytes: Uint8Array,
  spec: PreprocessSpec,
  out: Float32Array,
  offset: number,
  maxPixels: number,
): Promise<void> {
  const { rgb, width, height } = await decodeRgb(bytes, { maxPixels, resize: spec.resize, fastPng: false });
  if (Math.max(width, height) > MAX_PREPROCESS_SIDE) {
    throw new DecodeFailure(
      'too-many-pixels',
      `image of ${width} x ${height} pixels has a side longer than ${MAX_PREPROCESS_SIDE}, the longest the resize takes`,
    );
  }
  writePreprocessed(rgb, width, height, spec, out, offset);
}
