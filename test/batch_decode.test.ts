import fc from 'fast-check';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type PngOptions } from 'sharp';
import { native } from '../src/binding.js';
import { BatchDecoder } from '../src/backbone/batch_decode.js';
import { DEFAULT_MAX_IMAGE_PIXELS, DecodeFailure } from '../src/backbone/decode.js';
import { nativeSpec, preprocessWithSharp, type PreprocessSpec } from '../src/backbone/preprocess.js';
import { rng } from './helpers/seeded_rng.js';

// The batch path (one native job decoding and preprocessing a batch's PNGs on every core) must
// give, image by image, exactly the floats of the per-image path through sharp, and must decline
// or report everything else without touching memory it does not own.

const SPEC: PreprocessSpec = { resize: 92, crop: 84, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const PER = 3 * SPEC.crop * SPEC.crop;

function noise(width: number, height: number, channels: 1 | 2 | 3 | 4, seed: number): Buffer {
  const next = rng(seed);
  return Buffer.from(Array.from({ length: width * height * channels }, () => Math.floor(next() * 256)));
}

function png(width: number, height: number, channels: 1 | 2 | 3 | 4, seed: number, options: PngOptions = {}): Promise<Buffer> {
  return sharp(noise(width, height, channels, seed), { raw: { width, height, channels } })
    .png(options)
    .toBuffer();
}

async function viaSharp(bytes: Uint8Array): Promise<Float32Array> {
  const row = new Float32Array(PER);
  await preprocessWithSharp(bytes, SPEC, row, 0, DEFAULT_MAX_IMAGE_PIXELS);
  return row;
}

const row = (floats: Float32Array, i: number): Float32Array => floats.subarray(i * PER, (i + 1) * PER);

describe('decodePngBatch (native)', () => {
  it('decodes the PNGs of its subset to the floats of the sharp path, declines the rest and leaves their rows zero', async () => {
    const good = [await png(96, 96, 3, 1), await png(61, 130, 4, 2), await png(40, 33, 1, 3), await png(120, 90, 3, 4, { palette: true })];
    const corrupt = Buffer.from(good[0]!);
    corrupt[corrupt.length - 20]! ^= 0xff; // inside the image data: its CRC no longer matches
    const declined = [
      null,
      new Uint8Array(0),
      corrupt,
      good[0]!.subarray(0, good[0]!.length - 40), // cut short
      await sharp(noise(50, 50, 3, 5), { raw: { width: 50, height: 50, channels: 3 } })
        .jpeg()
        .toBuffer(),
      await png(50, 50, 3, 6, { progressive: true }), // interlaced: sharp's
    ];
    const images = [...good, ...declined];
    const { floats, decoded } = await native.decodePngBatch(images, DEFAULT_MAX_IMAGE_PIXELS, nativeSpec(SPEC));
    expect(floats.length).toBe(images.length * PER);
    expect([...decoded]).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < good.length; i++) expect(row(floats, i)).toEqual(await viaSharp(good[i]!));
    for (let i = good.length; i < images.length; i++) expect(row(floats, i).every((v) => v === 0)).toBe(true);
  });

  it('declines a PNG over maxPixels from its header', async () => {
    const bytes = await png(30, 20, 3, 7);
    expect([...(await native.decodePngBatch([bytes], 600, nativeSpec(SPEC))).decoded]).toEqual([1]);
    expect([...(await native.decodePngBatch([bytes], 599, nativeSpec(SPEC))).decoded]).toEqual([0]);
  });

  it('copies its inputs: overwriting them after the call changes nothing', async () => {
    const bytes = await png(96, 96, 3, 8);
    const expected = await viaSharp(bytes);
    const mine = new Uint8Array(bytes);
    const pending = native.decodePngBatch([mine], DEFAULT_MAX_IMAGE_PIXELS, nativeSpec(SPEC));
    mine.fill(0);
    const { floats, decoded } = await pending;
    expect(decoded[0]).toBe(1);
    expect(floats).toEqual(expected);
  });

  it('rejects bad arguments with TypeError / RangeError naming them', async () => {
    const spec = nativeSpec(SPEC);
    const bytes = await png(8, 8, 3, 9);
    const call = (...args: unknown[]) => (native.decodePngBatch as (...a: unknown[]) => Promise<unknown>)(...args);
    expect(() => call('x.png', 100, spec)).toThrow(TypeError);
    expect(() => call([bytes, 'x.png'], 100, spec)).toThrow(/images\[1\]/);
    expect(() => call([new Float32Array(4)], 100, spec)).toThrow(TypeError);
    expect(() => call([bytes], 0, spec)).toThrow(RangeError);
    expect(() => call([bytes], 1.5, spec)).toThrow(/maxPixels/);
    expect(() => call([bytes], 100, { ...spec, crop: 200 })).toThrow(/spec\.crop/);
    expect(() => call([bytes], 100, { ...spec, std: [0, 1, 1] })).toThrow(RangeError);
    expect(() => call([bytes], 100, undefined)).toThrow(/spec/);
    expect(() => (native.decodePng as (...a: unknown[]) => unknown)(bytes, -1)).toThrow(RangeError);
    expect(() => (native.decodePng as (...a: unknown[]) => unknown)('x', 100)).toThrow(TypeError);
  });

  it('mutated PNGs: never a crash, and whatever it decodes equals the sharp path', async () => {
    const originals = [
      await png(48, 40, 3, 10),
      await png(33, 17, 4, 11),
      await png(40, 40, 1, 12),
      await png(64, 20, 3, 13, { palette: true }),
    ];
    const edit = fc.record({
      source: fc.nat(),
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), async (edits) => {
        const images = edits.map((e) => {
          let b = Buffer.from(originals[e.source % originals.length]!);
          // Header bytes (signature, IHDR) stay mostly intact so that deeper paths run too.
          for (const f of e.flips) b[8 + (f.at % (b.length - 8))] = f.value;
          if (e.cut !== undefined) b = b.subarray(0, e.cut % b.length);
          return b;
        });
        const { floats, decoded } = await native.decodePngBatch(images, DEFAULT_MAX_IMAGE_PIXELS, nativeSpec(SPEC));
        for (let i = 0; i < images.length; i++) {
          if (decoded[i] !== 1) continue;
          const reference = await viaSharp(images[i]!).catch((e: Error) => e);
          expect(reference).toBeInstanceOf(Float32Array);
          expect(row(floats, i)).toEqual(reference);
        }
      }),
      { seed: 20261203, numRuns: 150 },
    );
  });
});

describe('BatchDecoder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lwfm-batch-decode-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one job of PNG files, a JPEG, bytes and bad entries: the floats of the per-image path, failures with their reasons', async () => {
    const pngs = [await png(96, 96, 3, 20), await png(70, 100, 4, 21), await png(50, 50, 3, 22, { progressive: true })];
    const jpeg = await sharp(noise(80, 60, 3, 23), { raw: { width: 80, height: 60, channels: 3 } })
      .jpeg()
      .toBuffer();
    const files = pngs.map((b, i) => {
      const f = join(dir, `p${i}.png`);
      writeFileSync(f, b);
      return f;
    });
    writeFileSync(join(dir, 'photo.jpg'), jpeg);
    writeFileSync(join(dir, 'broken.png'), pngs[0]!.subarray(0, 100));
    mkdirSync(join(dir, 'folder.png'));
    const images: (string | Uint8Array)[] = [
      files[0]!,
      join(dir, 'photo.jpg'),
      join(dir, 'missing.png'),
      files[1]!,
      pngs[2]!,
      join(dir, 'broken.png'),
      join(dir, 'folder.png'),
      files[2]!,
    ];
    for (const batchBytes of [undefined, 1]) {
      // With a budget of 1 byte no PNG joins the batch call: every image takes the one-by-one path.
      const decoder = new BatchDecoder(SPEC, DEFAULT_MAX_IMAGE_PIXELS, undefined, batchBytes);
      const { floats, failures } = await decoder.decode(images);
      const reasons = failures.map((f) => (f === undefined ? 'ok' : f instanceof DecodeFailure ? f.reason : `other: ${String(f)}`));
      expect(reasons).toEqual(['ok', 'ok', 'missing', 'ok', 'ok', 'truncated', 'not-a-file', 'ok']);
      const sources = [pngs[0]!, jpeg, undefined, pngs[1]!, pngs[2]!, undefined, undefined, pngs[2]!];
      for (let i = 0; i < images.length; i++) {
        const source = sources[i];
        if (source) expect(row(floats, i)).toEqual(await viaSharp(source));
        else expect(row(floats, i).every((v) => v === 0)).toBe(true);
      }
    }
  });
});
