import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { decodeRgb, DEFAULT_MAX_IMAGE_PIXELS } from '../src/backbone/decode.js';
import { decodePngFast, isPng } from '../src/backbone/png_decode.js';
import { pngChunk } from './helpers/image_bomb.js';
import { rng } from './helpers/seeded_rng.js';

// The fast PNG path (the addon's decoder) must give exactly the bytes sharp gives, for every PNG it takes.

const LIMIT = DEFAULT_MAX_IMAGE_PIXELS;

const W = 37;
const H = 23;

function pixels(channels: number, seed: number): Buffer {
  const next = rng(seed);
  return Buffer.from(Array.from({ length: W * H * channels }, () => Math.floor(next() * 256)));
}

/** A PNG written field by field: low bit depths and chunks the encoders here do not write. */
function handMade(
  depth: number,
  colorType: number,
  extra: [string, Uint8Array][] = [],
  seed = 3,
  { width = W, height = H, filters = false } = {},
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const samples = [1, 0, 3, 1, 2, 0, 4][colorType]!;
  const rowBytes = Math.ceil((width * samples * depth) / 8);
  const next = rng(seed);
  const rows: number[] = [];
  const paletteSize = 1 << Math.min(depth, 4);
  for (let y = 0; y < height; y++) {
    // Random bytes under any of the five filters are a valid image: every filter is invertible.
    rows.push(filters ? Math.floor(next() * 5) : 0);
    for (let x = 0; x < rowBytes; x++) {
      // Palette indices stay inside the palette written below.
      let v = Math.floor(next() * 256);
      if (colorType === 3 && depth === 8 && !filters) v %= paletteSize;
      rows.push(v);
    }
  }
  const parts: [string, Uint8Array][] = [['IHDR', ihdr], ...extra];
  if (colorType === 3) {
    const plte = Buffer.from(Array.from({ length: (1 << depth) * 3 }, (_, i) => (i * 53 + 17) & 255));
    parts.push(['PLTE', plte]);
    if (!extra.some(([t]) => t === 'tRNS')) parts.push(['tRNS', Buffer.from([0, 128, 255].slice(0, 1 << depth))]);
  }
  parts.push(['IDAT', deflateSync(Buffer.from(rows))], ['IEND', new Uint8Array(0)]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...parts.map(([t, d]) => pngChunk(t, d))]);
}

function pngjsWrite(colorType: 0 | 2 | 4 | 6, filterType: number, seed: number): Buffer {
  const png = new PNG({ width: W, height: H });
  png.data = pixels(4, seed);
  return PNG.sync.write(png, { colorType, filterType, inputColorType: 6 });
}

async function bothPaths(bytes: Buffer) {
  const opts = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, resize: 92 };
  return { fast: await decodeRgb(bytes, opts), sharp: await decodeRgb(bytes, { ...opts, fastPng: false }) };
}

describe('fast PNG decoding (native) against sharp', () => {
  const cases: [string, () => Promise<Buffer> | Buffer][] = [
    [
      'RGB (sharp)',
      () =>
        sharp(pixels(3, 1), { raw: { width: W, height: H, channels: 3 } })
          .png()
          .toBuffer(),
    ],
    [
      'RGBA (sharp)',
      () =>
        sharp(pixels(4, 2), { raw: { width: W, height: H, channels: 4 } })
          .png()
          .toBuffer(),
    ],
    [
      'gray (sharp)',
      () =>
        sharp(pixels(1, 3), { raw: { width: W, height: H, channels: 1 } })
          .png()
          .toBuffer(),
    ],
    [
      'gray + alpha (sharp)',
      () =>
        sharp(pixels(2, 4), { raw: { width: W, height: H, channels: 2 } })
          .png()
          .toBuffer(),
    ],
    [
      'palette (sharp)',
      () =>
        sharp(pixels(3, 5), { raw: { width: W, height: H, channels: 3 } })
          .png({ palette: true })
          .toBuffer(),
    ],
    [
      'palette of 4 colours (sharp)',
      () =>
        sharp(pixels(4, 6), { raw: { width: W, height: H, channels: 4 } })
          .png({ palette: true, colours: 4 })
          .toBuffer(),
    ],
    ...[0, 1, 2, 3, 4].flatMap((f) =>
      ([0, 2, 4, 6] as const).map((ct): [string, () => Buffer] => [
        `pngjs colour type ${ct}, filter ${f}`,
        () => pngjsWrite(ct, f, 10 + f + ct),
      ]),
    ),
    ...[1, 2, 4, 8].flatMap((d): [string, () => Buffer][] => [
      [`gray, ${d} bits`, () => handMade(d, 0)],
      [`palette + tRNS, ${d} bits`, () => handMade(d, 3)],
    ]),
    ['RGB with an sRGB chunk', () => handMade(8, 2, [['sRGB', Uint8Array.of(0)]])],
  ];
  for (const [name, make] of cases) {
    it(`${name}: takes the fast path and decodes to sharp's bytes`, async () => {
      const bytes = Buffer.from(await make());
      expect(isPng(bytes)).toBe(true);
      expect(await decodePngFast(bytes, LIMIT)).toMatchObject({ width: W, height: H });
      const { fast, sharp: reference } = await bothPaths(bytes);
      expect([fast.width, fast.height]).toEqual([reference.width, reference.height]);
      expect(Buffer.from(fast.rgb).equals(Buffer.from(reference.rgb))).toBe(true);
    });
  }

  const sharpOnly: [string, () => Promise<Buffer> | Buffer][] = [
    [
      'interlaced',
      () =>
        sharp(pixels(3, 7), { raw: { width: W, height: H, channels: 3 } })
          .png({ progressive: true })
          .toBuffer(),
    ],
    [
      '16-bit',
      () =>
        sharp(pixels(3, 8), { raw: { width: W, height: H, channels: 3 } })
          .toColourspace('rgb16')
          .png()
          .toBuffer(),
    ],
    ['gray with a transparent colour key', () => handMade(8, 0, [['tRNS', Uint8Array.of(0, 7)]])],
    ['with a gamma chunk', () => handMade(8, 2, [['gAMA', Uint8Array.of(0, 0, 0xb1, 0x8f)]])],
    ['with an ICC profile', () => handMade(8, 2, [['iCCP', Buffer.from('x\0\0')]])],
    ['with EXIF', () => handMade(8, 2, [['eXIf', Buffer.from('MM\0*')]])],
  ];
  for (const [name, make] of sharpOnly) {
    it(`${name}: left to sharp`, async () => {
      const bytes = Buffer.from(await make());
      expect(isPng(bytes)).toBe(true);
      expect(await decodePngFast(bytes, LIMIT)).toBeUndefined();
    });
  }

  it('random sizes, colour types, bit depths and row filters: the same pixels as sharp', async () => {
    const shape = fc.record({
      type: fc.constantFrom(0, 2, 3, 4, 6),
      depth: fc.constantFrom(1, 2, 4, 8),
      width: fc.integer({ min: 1, max: 70 }),
      height: fc.integer({ min: 1, max: 9 }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const depth = s.type === 0 || s.type === 3 ? s.depth : 8;
        // Palettes have 2^depth entries, so every random index is in range.
        const bytes = handMade(depth, s.type, [], s.seed, { ...s, filters: true });
        expect(await decodePngFast(bytes, LIMIT)).toBeDefined();
        const { fast, sharp: reference } = await bothPaths(bytes);
        expect([fast.width, fast.height]).toEqual([s.width, s.height]);
        expect(Buffer.from(fast.rgb).equals(Buffer.from(reference.rgb))).toBe(true);
      }),
      { seed: 20261203, numRuns: 300 },
    );
  });

  it('gives corrupt PNGs to sharp, which names the problem', async () => {
    const good = await sharp(pixels(3, 9), { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const bad = Buffer.from(good);
    bad[bad.length - 20] = bad[bad.length - 20]! ^ 0xff; // inside the image data: the CRC no longer matches
    expect(await decodePngFast(good, LIMIT)).toBeDefined();
    expect(await decodePngFast(bad, LIMIT)).toBeUndefined();
    await expect(decodeRgb(bad, { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, resize: 92 })).rejects.toMatchObject({ reason: 'corrupt' });
    const cut = good.subarray(0, good.length - 30);
    await expect(decodeRgb(cut, { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, resize: 92 })).rejects.toMatchObject({ reason: 'truncated' });
  });

  it('rejects a PNG over the pixel limit before decoding, as sharp does', async () => {
    const bytes = handMade(8, 2);
    await expect(decodeRgb(bytes, { maxPixels: W * H - 1, resize: 92 })).rejects.toMatchObject({ reason: 'too-many-pixels' });
  });
});
