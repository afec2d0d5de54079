/**
 * Decompression bombs for the decode-limit tests, generated rather than committed: a
 * valid 8-bit grayscale PNG of `side` x `side` black pixels. Its IDAT is deflated from
 * zero rows streamed a few MB at a time, so making a 16000 x 16000 bomb (256 MB of
 * pixels, about 250 KB of file) never holds the pixels in memory.
 */
import { createDeflate, crc32, deflateSync } from 'node:zlib';

/**
 * One PNG chunk: length, type, data and CRC.
 * @example const iend = pngChunk('IEND', new Uint8Array(0));
 */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG declaring side x side gray pixels, all zero.
 * @example const bomb = await pngBomb(16000); // ~250 KB that decodes to 256 MB
 */
export async function pngBomb(side: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const rowsPerWrite = Math.max(1, Math.floor((4 << 20) / (side + 1)));
  const zeros = Buffer.alloc(rowsPerWrite * (side + 1)); // filter byte 0 + side zero pixels per row
  for (let row = 0; row < side; row += rowsPerWrite) {
    const n = Math.min(rowsPerWrite, side - row);
    if (!deflate.write(zeros.subarray(0, n * (side + 1)))) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.concat(parts)), pngChunk('IEND', new Uint8Array(0))]);
}

/**
 * A valid gray PNG of width x height (1 or 16 bits) with a sparse pattern: large images in few bytes.
 * @example const wide = grayBits(1_000_000, 16); // a few KB
 */
export function grayBits(width: number, height: number, depth: 1 | 16 = 1): Buffer {
  const stride = 1 + Math.ceil((width * depth) / 8);
  const rows = Buffer.alloc(stride * height);
  for (let i = 1; i < rows.length; i += 997) if (i % stride !== 0) rows[i] = 0xa5;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}
