/**
 * Image decoding with limits (issue 11): an image's header is read first and one larger
 * than `maxImagePixels` is rejected before any pixel is decoded, so a 249 KB PNG that
 * declares 16000 x 16000 pixels costs a header parse instead of a gigabyte. Paths are
 * read only if they are regular files of a plausible size (src/regular_file.ts). Very
 * large images within the limit are reduced while they load (JPEG/WebP shrink-on-load,
 * libvips streaming for the rest) to a size still far above the model's resize, so the
 * docs/computation.md §1 resize that follows sees enough pixels; smaller images decode exactly. Every
 * failure carries a stable reason (ImageDecodeReason).
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { ImageDecodeReason } from '../errors.js';
import { FileCheckError, readRegularFile } from '../regular_file.js';
import { decodePngFast, isPng } from './png_decode.js';

import { DEFAULT_MAX_IMAGE_PIXELS } from './image_limits.js';

export { DEFAULT_MAX_IMAGE_PIXELS };

/**
 * Images up to this many pixels decode at full resolution, exactly as docs/computation.md §1 says.
 * Larger ones are reduced while loading to at most PRE_REDUCE_SIDE_FACTOR x R per side:
 * docs/computation.md §1's antialiased resize to R then averages 8+ source pixels per output pixel, so
 * the pre-reduction changes results by a fraction of a gray level (test/decode_limits.test.ts
 * measures it) while a 40 MP decode would hold 120 MB per image.
 */
export const EXACT_DECODE_MAX_PIXELS = 16_000_000;
const PRE_REDUCE_SIDE_FACTOR = 8;
/**
 * Decodes one worker runs at once. Peak decode memory is this times the per-image cost,
 * independent of how many images a batch holds; 2 is where sharp's throughput stops
 * growing here (benchmarks/RESULTS.md: 80 files take 96 ms with one libuv thread, 59 ms with 2 or 4).
 */
export const DECODE_CONCURRENCY = 2;
/**
 * Files one worker reads at once (batch_decode.ts). Reading a small file takes four libuv
 * round trips (open, fstat, read, close) and next to no CPU: read one at a time behind the
 * decode gate, those waits added up to a third of a batch's decode time (80 PNGs of 96 x 96:
 * 39-55 ms, against 28 ms from memory and 2 ms to read all 80 at once). An image decoded
 * one by one keeps its slot until decoded, so those hold at most this many files.
 */
export const READ_AHEAD = 8;

/**
 * The largest file an image within `maxPixels` can plausibly need: 8 bytes per pixel
 * (uncompressed 16-bit RGBA) plus 1 MiB of metadata.
 */
export function maxImageBytes(maxPixels: number): number {
  return 8 * maxPixels + (1 << 20);
}

/** A decode failure with its reason; crosses the worker boundary as { message, reason }. */
export class DecodeFailure extends Error {
  constructor(
    readonly reason: ImageDecodeReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** libvips repeats its messages over several lines; keep each distinct line once. */
function oneLine(text: string): string {
  return [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ].join(' ');
}

/** Trailing bytes that encoders or transports add after an image's end marker. */
function trimmedEnd(b: Uint8Array): number {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0 || b[end - 1] === 0x0a || b[end - 1] === 0x0d || b[end - 1] === 0x20)) end--;
  return end;
}

/** Whether the data ends before the format's end marker: the usual sign of a cut-off download. */
function looksTruncated(format: string | undefined, b: Uint8Array): boolean {
  const end = trimmedEnd(b);
  switch (format) {
    case 'jpeg':
      return !(end >= 2 && b[end - 2] === 0xff && b[end - 1] === 0xd9);
    case 'png':
      // The IEND chunk: length 0, 'IEND', CRC.
      return !(end >= 12 && String.fromCharCode(...b.subarray(end - 8, end - 4)) === 'IEND');
    case 'gif':
      return b[end - 1] !== 0x3b;
    case 'webp':
      return b.length < 8 || new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true) + 8 > b.length;
    default:
      return false;
  }
}

/** The format the first bytes announce, for messages about data the decoder could not even parse. */
function sniffFormat(b: Uint8Array): string | undefined {
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(4, 8) === 'ftyp') return /avif|avis/.test(ascii(8, 12)) ? 'avif' : 'heif';
  if (/<svg|<\?xml/.test(ascii(0, 256))) return 'svg';
  return undefined;
}

/** Maps a decoder error to a reason and a message that says what is wrong with the image. */
function decoderFailure(e: unknown, bytes: Uint8Array, format: string | undefined): DecodeFailure {
  const raw = e instanceof Error ? e.message : String(e);
  const detail = oneLine(raw);
  if (/unsupported image format/i.test(raw))
    return new DecodeFailure(
      'unsupported-format',
      'unsupported image format (the decoder reads JPEG, PNG, WebP, GIF, AVIF, TIFF and SVG)',
      { cause: e },
    );
  if (/exceeds pixel limit/i.test(raw))
    return new DecodeFailure('too-many-pixels', `more pixels than maxImagePixels allows (${detail})`, { cause: e });
  if (/buffer is empty/i.test(raw)) return new DecodeFailure('truncated', 'the image data is empty (0 bytes)', { cause: e });
  const name = format ? format.toUpperCase() : 'image data';
  // libvips keeps one error buffer per process, so a decode that fails while another runs
  // can come back as a bare "Unknown error": the format and the data still say enough.
  const why = /^unknown error$/i.test(detail) ? 'the decoder gave no details' : detail;
  if (looksTruncated(format, bytes))
    return new DecodeFailure('truncated', `truncated or corrupt ${name}: the data ends before the image does (${why})`, { cause: e });
  return new DecodeFailure('corrupt', `truncated or corrupt ${name} (${why})`, { cause: e });
}

/**
 * The bytes of an image: a path is read (a regular file of a size an image within `maxPixels`
 * can have, else DecodeFailure), bytes are returned as they are.
 * @example const bytes = await readImage('cat.jpg', DEFAULT_MAX_IMAGE_PIXELS);
 */
export async function readImage(input: string | Uint8Array, maxPixels: number): Promise<Uint8Array> {
  return typeof input === 'string' ? readImageFile(input, maxPixels) : input;
}

async function readImageFile(file: string, maxPixels: number): Promise<Uint8Array> {
  try {
    return await readRegularFile(file, maxImageBytes(maxPixels));
  } catch (e) {
    if (!(e instanceof FileCheckError)) throw e;
    const reason: ImageDecodeReason = e.kind === 'too-large' ? 'file-too-large' : e.kind === 'changed' ? 'unreadable' : e.kind;
    const hint =
      e.kind === 'too-large' ? ` (an image within maxImagePixels ${maxPixels} needs at most ${maxImageBytes(maxPixels)} bytes)` : '';
    throw new DecodeFailure(reason, `${e.problem}${hint}`, { cause: e });
  }
}

/** Options of decodeRgb. */
export interface DecodeOptions {
  /** Images with more pixels (width x height of one frame) are rejected before decoding. */
  maxPixels: number;
  /** The model's resize R: large images are reduced while loading to no less than 8R per side. */
  resize: number;
  /** Images up to this many pixels decode at full resolution (default EXACT_DECODE_MAX_PIXELS; tests compare both paths). */
  exactMaxPixels?: number;
  /** Decode plain PNGs with the addon's decoder instead of sharp (default true; same bytes, an eighth of the CPU; tests compare both paths). */
  fastPng?: boolean;
}

/**
 * Decodes one image (first frame, EXIF orientation applied) to interleaved 8-bit RGB
 * (HWC). Rejects with DecodeFailure saying why.
 * @example const { rgb, width, height } = await decodeRgb('cat.jpg', { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, resize: 92 });
 */
export async function decodeRgb(
  input: string | Uint8Array,
  opts: DecodeOptions = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, resize: 92 },
): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const bytes = await readImage(input, opts.maxPixels);
  if (bytes.length === 0) throw new DecodeFailure('truncated', 'the image data is empty (0 bytes)');
  const exactMax = Math.min(opts.maxPixels, opts.exactMaxPixels ?? EXACT_DECODE_MAX_PIXELS);
  // Over either limit, or declined by the fast decoder: sharp's path below says why or reduces it.
  if (opts.fastPng !== false && isPng(bytes)) {
    const decoded = await decodePngFast(bytes, exactMax);
    if (decoded) return decoded;
  }
  // Most images are within both limits: decode at once, libvips refusing from the header
  // (before any pixel) anything larger. Only those pay for a separate header read (0.15 ms).
  try {
    return await toRgb(sharp(bytes, { pages: 1, failOn: 'error', limitInputPixels: exactMax }).rotate());
  } catch (e) {
    if (e instanceof DecodeFailure) throw e;
    if (!/exceeds pixel limit/i.test(e instanceof Error ? e.message : String(e))) throw decoderFailure(e, bytes, sniffFormat(bytes));
  }
  let meta: Metadata;
  try {
    // Reads the header only: nothing is decoded yet.
    meta = await sharp(bytes, { pages: 1, limitInputPixels: false }).metadata();
  } catch (e) {
    throw decoderFailure(e, bytes, sniffFormat(bytes));
  }
  const { width = 0, height = 0, format } = meta;
  const pixels = width * height;
  if (!(pixels > 0))
    throw new DecodeFailure('corrupt', `truncated or corrupt ${format?.toUpperCase() ?? 'image'}: its header gives no size`);
  if (pixels > opts.maxPixels) {
    throw new DecodeFailure(
      'too-many-pixels',
      `${format?.toUpperCase() ?? 'image'} of ${width} x ${height} = ${pixels} pixels exceeds maxImagePixels (${opts.maxPixels}); rejected before decoding`,
    );
  }
  let pipeline = sharp(bytes, { pages: 1, failOn: 'error', limitInputPixels: opts.maxPixels }).rotate();
  if (pixels > exactMax) {
    // Sizes after EXIF orientation (5..8 swap the axes), which is what resize refers to.
    const [w, h] = (meta.orientation ?? 1) >= 5 ? [height, width] : [width, height];
    const cap = PRE_REDUCE_SIDE_FACTOR * opts.resize;
    pipeline = pipeline.resize(Math.min(w, cap), Math.min(h, cap), { fit: 'fill', fastShrinkOnLoad: true });
  }
  try {
    return await toRgb(pipeline);
  } catch (e) {
    throw e instanceof DecodeFailure ? e : decoderFailure(e, bytes, format);
  }
}

/** Runs a decode pipeline to interleaved 8-bit sRGB, checking what the decoder produced. */
async function toRgb(pipeline: Sharp): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await pipeline.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new DecodeFailure(
      'corrupt',
      `decoder produced ${info.channels} channels in ${data.length} bytes for ${info.width}x${info.height}, expected 3 channels of 8 bits`,
    );
  }
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/**
 * Runs at most `limit` tasks at once, in arrival order.
 * @example const gate = new Gate(2); await Promise.all(files.map((f) => gate.run(() => decode(f))));
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
