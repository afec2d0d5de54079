/**
 * The image decoder (decodeRgb + the native docs/computation.md §1 preprocessing) on mutated JPEG, PNG,
 * WebP and GIF bytes: each must decode to a consistent RGB image (a PNG that the native fast
 * path takes: to sharp's pixels, exactly) or fail with a
 * DecodeFailure whose reason is one of ImageDecodeReason; a crash kills this process,
 * which the parent test sees.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { DecodeFailure, decodeRgb } from '../../../src/backbone/decode.js';
import { decodePngFast } from '../../../src/backbone/png_decode.js';
import { writePreprocessed } from '../../../src/backbone/preprocess.js';
import { check, runsFor } from '../contract.js';

const REASONS = new Set([
  'too-many-pixels',
  'file-too-large',
  'not-a-file',
  'missing',
  'unreadable',
  'unsupported-format',
  'truncated',
  'corrupt',
]);
const spec = { resize: 92, crop: 84, mean: [0.5, 0.5, 0.5] as const, std: [0.25, 0.25, 0.25] as const };

async function seeds(): Promise<Buffer[]> {
  const w = 40;
  const h = 30;
  const raw = Buffer.alloc(w * h * 4);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + (i >> 7) * 11) & 255;
  const img = () => sharp(raw, { raw: { width: w, height: h, channels: 4 } });
  return Promise.all([
    img().jpeg({ quality: 80 }).toBuffer(),
    img().jpeg({ progressive: true }).toBuffer(),
    img().png().toBuffer(),
    img().png({ palette: true }).toBuffer(),
    img().webp().toBuffer(),
    img().webp({ lossless: true }).toBuffer(),
    img().gif().toBuffer(),
  ]);
}

const mutation = fc.record({
  source: fc.nat(),
  edits: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
      // Header fields that declare sizes: the interesting place for a bomb or an overflow.
      fc.record({
        kind: fc.constant('header' as const),
        at: fc.integer({ min: 0, max: 40 }),
        value: fc.constantFrom(0x00, 0x7f, 0x80, 0xff),
      }),
    ),
    { minLength: 1, maxLength: 4 },
  ),
  maxPixels: fc.constantFrom(40_000_000, 1000, 1),
});

export default async function fuzzImage(seed: number): Promise<number> {
  const runs = runsFor(150);
  const originals = await seeds();
  const out = new Float32Array(3 * 84 * 84);
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      let bytes = Buffer.from(originals[m.source % originals.length]!);
      for (const e of m.edits) {
        const at = e.at % Math.max(1, bytes.length);
        if (e.kind === 'set' || e.kind === 'header') {
          if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = e.value;
        } else if (e.kind === 'cut') bytes = bytes.subarray(0, at);
        else bytes = Buffer.concat([bytes.subarray(0, at), e.bytes, bytes.subarray(at)]);
      }
      try {
        const { rgb, width, height } = await decodeRgb(bytes, { maxPixels: m.maxPixels, resize: spec.resize });
        check(width > 0 && height > 0 && rgb.length === width * height * 3, `decoded ${width}x${height} into ${rgb.length} bytes`);
        check(width * height <= m.maxPixels, 'an image over the pixel limit was decoded');
        if (await decodePngFast(bytes, m.maxPixels)) {
          // The native fast path must agree with sharp's decode of the same bytes, pixel for pixel.
          const viaSharp = await decodeRgb(bytes, { maxPixels: m.maxPixels, resize: spec.resize, fastPng: false }).catch((e: Error) => e);
          check(!(viaSharp instanceof Error), `the fast path decoded a PNG that sharp rejects: ${(viaSharp as Error).message}`);
          check(
            viaSharp.width === width && viaSharp.height === height && Buffer.from(viaSharp.rgb).equals(Buffer.from(rgb)),
            'the fast path and sharp decoded the same PNG to different pixels',
          );
        }
        writePreprocessed(rgb, width, height, spec, out, 0);
        check(
          out.every((v) => Number.isFinite(v)),
          'preprocessing produced a non-finite value',
        );
      } catch (e) {
        check(e instanceof DecodeFailure, `decodeRgb threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        check(REASONS.has(e.reason), `unknown reason ${e.reason}`);
        check(!/unknown error/i.test(e.message) || /gave no details/.test(e.message), `message says only "${e.message}"`);
      }
    }),
    { seed, numRuns: runs },
  );
  return runs;
}
