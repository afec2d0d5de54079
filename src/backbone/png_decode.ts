/**
 * The fast path for the PNGs that datasets are made of (issue 13). sharp spends about 0.3 ms
 * of fixed pipeline cost on every image plus libpng's decode, 0.7-1.0 ms of CPU for a
 * 96 x 96 PNG on this machine, while inflating its data costs 0.1 ms. The addon's decoder
 * (native/image/png_decode.h: Node's zlib, then row unfiltering) takes about 0.1 ms, off the
 * JavaScript thread (a backbone job's PNGs in one native job on every core, batch_decode.ts);
 * pngjs, the decoder before it, took 0.3-0.4 ms on the worker's own JavaScript thread, with
 * the second core idle.
 *
 * Only PNGs whose pixels the fast path and sharp turn into the same RGB bytes take it
 * (test/png_decode.test.ts and the image fuzzer compare the two byte for byte): 8-bit RGB,
 * RGBA, gray and gray+alpha, and gray or palette images of 1-8 bits, not interlaced, without
 * colour management (iCCP, gAMA, cHRM: sharp converts with them), EXIF (eXIf: sharp rotates
 * by it), animation (acTL) or a transparent colour key for gray/RGB (tRNS); the native
 * decoder checks all of this itself. Everything else, and every file it declines, goes to
 * sharp, so errors keep sharp's wording.
 */
import { native } from '../binding.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Whether the bytes start with PNG's signature: only those are offered to the fast decoder,
 * which decides the rest from the chunks.
 * @example if (isPng(bytes)) decoded = await decodePngFast(bytes, limit);
 */
export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);
}

/**
 * Decodes a PNG of the subset above to interleaved 8-bit RGB on libuv's pool, or resolves
 * undefined when the decoder declines it (the caller then asks sharp, which decodes it or
 * names what is wrong). Images over `maxPixels` are declined from the header.
 * @example const img = await decodePngFast(bytes, 16_000_000); // { rgb, width, height } | undefined
 */
export function decodePngFast(
  bytes: Uint8Array,
  maxPixels: number,
): Promise<{ rgb: Uint8Array; width: number; height: number } | undefined> {
  return native.decodePng(bytes, maxPixels);
}
