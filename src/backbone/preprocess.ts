/**
 * SPEC.md §1 preprocessing: sharp decodes (first frame) and applies EXIF orientation,
 * then Pillow's antialiased bilinear resize to R x R ignoring aspect (pil_resize.ts),
 * center-crop S x S, scale to [0, 1], normalize, NCHW float32.
 * Runs inside the backbone workers so decoding overlaps inference.
 */
import sharp from 'sharp';
import { resizeBilinearPil } from './pil_resize.js';

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

/** Decodes one image to R x R x 3 uint8 RGB (HWC). Rejects with sharp's message for bad input. */
export async function decodeResized(input: string | Uint8Array, resize: number): Promise<Uint8Array> {
  const { data, info } = await sharp(input, { pages: 1, failOn: 'error' })
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new Error(`decoder produced ${info.channels} channels in ${data.length} bytes for ${info.width}x${info.height}, expected 3 channels of 8 bits`);
  }
  return resizeBilinearPil(data, info.width, info.height, resize, resize);
}

/**
 * Writes the normalized center crop of an R x R x 3 image into out[offset .. offset + 3*S*S) (CHW).
 * @example writeNormalizedCrop(rgb, spec, batch, i * 3 * spec.crop * spec.crop);
 */
export function writeNormalizedCrop(rgb: Uint8Array, spec: PreprocessSpec, out: Float32Array, offset: number): void {
  const { resize: r, crop: s } = spec;
  const o = centerCropOffset(r, s);
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const std = spec.std[c]!;
    const plane = offset + c * s * s;
    for (let y = 0; y < s; y++) {
      const src = ((y + o) * r + o) * 3 + c;
      const dst = plane + y * s;
      for (let x = 0; x < s; x++) out[dst + x] = (rgb[src + 3 * x]! / 255 - mean) / std;
    }
  }
}

/**
 * Preprocesses one image into `out` at `offset`.
 * @example await preprocessInto('cat.jpg', spec, batch, 0);
 */
export async function preprocessInto(input: string | Uint8Array, spec: PreprocessSpec, out: Float32Array, offset: number): Promise<void> {
  writeNormalizedCrop(await decodeResized(input, spec.resize), spec, out, offset);
}
