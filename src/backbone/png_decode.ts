/**
 * A cheaper decoder for the PNGs that datasets are made of (issue 13). sharp spends about
 * 0.3 ms of fixed pipeline cost on every image plus libpng's decode, 0.7-1.0 ms of CPU for a
 * 96 x 96 PNG on this machine, while inflating its data costs 0.1 ms: on 2 cores that
 * overhead alone held streaming classification below 75% of the backbone's rate. pngjs
 * (zlib inflate + unfiltering in JavaScript) decodes the same file in about 0.3 ms.
 *
 * Only PNGs whose pixels pngjs and sharp turn into the same RGB bytes take this path
 * (test/png_decode.test.ts and the image fuzzer compare the two byte for byte): 8-bit RGB,
 * RGBA, gray and gray+alpha, and gray or palette images of 1-8 bits, not interlaced, without
 * colour management (iCCP, gAMA, cHRM: sharp converts with them, pngjs ignores them), EXIF
 * (eXIf: sharp rotates by it), animation (acTL) or a transparent colour key for gray/RGB
 * (tRNS: pngjs zeroes the pixel where sharp keeps it). Interlaced images are excluded too:
 * pngjs inflates them without an output bound. Everything else, and every file pngjs
 * rejects, goes to sharp, so errors keep sharp's wording.
 */
import { PNG } from 'pngjs';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks whose meaning sharp applies and pngjs does not. */
const SHARP_ONLY = new Set(['iCCP', 'gAMA', 'cHRM', 'eXIf', 'acTL']);
/** The critical chunks pngjs reads (and checks the CRC of): any other critical chunk goes to sharp. */
const CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO 3309, as PNG uses it) of b[from, to). */
function crc32(b: Uint8Array, from: number, to: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const isLetter = (v: number): boolean => (v >= 65 && v <= 90) || (v >= 97 && v <= 122);

/** What the header says, when the fast path can decode the image exactly as sharp would. */
interface PngHeader {
  width: number;
  height: number;
}

function ascii(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

/**
 * Width and height from a PNG's header when the fast path can decode it exactly as sharp
 * would, else undefined. Reads the chunk list, not the image data.
 * @example const size = fastPngSize(bytes); if (size && size.width * size.height > limit) reject();
 */
export function fastPngSize(b: Uint8Array): PngHeader | undefined {
  if (b.length < 33 || SIGNATURE.some((v, i) => b[i] !== v) || ascii(b, 12) !== 'IHDR') return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const [depth, colorType, , , interlace] = [b[24]!, b[25]!, b[26], b[27], b[28]!];
  const lowDepthOk = colorType === 0 || colorType === 3;
  if (!(depth === 8 || (lowDepthOk && (depth === 1 || depth === 2 || depth === 4)))) return undefined;
  if (![0, 2, 3, 4, 6].includes(colorType) || interlace !== 0 || width === 0 || height === 0) return undefined;
  for (let at = 8; at + 8 <= b.length;) {
    const length = view.getUint32(at);
    const type = ascii(b, at + 4);
    // libpng rejects malformed names and unknown critical chunks; pngjs would skip some of them.
    if (![0, 1, 2, 3].every((k) => isLetter(b[at + 4 + k]!))) return undefined;
    if (SHARP_ONLY.has(type) || (type === 'tRNS' && colorType !== 3)) return undefined;
    const critical = b[at + 4]! < 97;
    if (critical && !CRITICAL.has(type)) return undefined;
    // pngjs skips the ancillary chunks it does not read without checking their CRC.
    const end = at + 8 + length;
    if (!critical && type !== 'tRNS' && (end + 4 > b.length || crc32(b, at + 4, end) !== view.getUint32(end))) return undefined;
    if (type === 'IEND') break;
    at = end + 4;
  }
  return { width, height };
}

/**
 * Decodes an eligible PNG (see fastPngSize) to interleaved 8-bit RGB, or returns undefined
 * when pngjs rejects the data (the caller then asks sharp, for sharp's error message).
 * The caller checks the size against its pixel limit first.
 * @example const img = decodePngFast(bytes); // { rgb, width, height } | undefined
 */
export function decodePngFast(bytes: Uint8Array): { rgb: Uint8Array; width: number; height: number } | undefined {
  let png: { width: number; height: number; data: Buffer };
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    png = PNG.sync.read(buffer, { checkCRC: true });
  } catch {
    return undefined;
  }
  const { width, height, data } = png;
  const pixels = width * height;
  if (data.length !== pixels * 4) return undefined;
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, o = 0; o < rgb.length; i += 4, o += 3) {
    rgb[o] = data[i]!;
    rgb[o + 1] = data[i + 1]!;
    rgb[o + 2] = data[i + 2]!;
  }
  return { rgb, width, height };
}
