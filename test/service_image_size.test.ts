/**
 * The header parsers of the pixel-limit guard agree with sharp (libvips) on PNG, JPEG
 * (baseline and progressive) and WebP (lossy, lossless, extended), and never throw on
 * truncated or random bytes.
 */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { headerSize } from '../src/service/image_size.js';
import { rng } from './helpers/seeded_rng.js';

async function image(
  width: number,
  height: number,
  format: 'png' | 'jpeg' | 'jpeg-progressive' | 'webp' | 'webp-lossless' | 'webp-alpha' | 'gif',
): Promise<Buffer> {
  const channels = format === 'webp-alpha' ? 4 : 3;
  const base = sharp({
    create: { width, height, channels, background: channels === 4 ? { r: 10, g: 200, b: 30, alpha: 0.5 } : '#3070a0' },
  });
  switch (format) {
    case 'png':
      return base.png().toBuffer();
    case 'jpeg':
      return base
        .withExif({ IFD0: { Copyright: 'test' } })
        .jpeg()
        .toBuffer();
    case 'jpeg-progressive':
      return base.jpeg({ progressive: true }).toBuffer();
    case 'webp':
      return base.webp({ quality: 50 }).toBuffer();
    case 'webp-lossless':
      return base.webp({ lossless: true }).toBuffer();
    case 'webp-alpha':
      return base.webp({ quality: 60 }).toBuffer();
    case 'gif':
      return base.gif().toBuffer();
  }
}

describe('headerSize', () => {
  it('matches sharp on PNG, JPEG and WebP of several sizes; leaves other formats to sharp', async () => {
    for (const [w, h] of [
      [1, 1],
      [97, 13],
      [640, 480],
      [3001, 2],
    ] as const) {
      for (const format of ['png', 'jpeg', 'jpeg-progressive', 'webp', 'webp-lossless', 'webp-alpha'] as const) {
        const bytes = await image(w, h, format);
        const m = await sharp(bytes).metadata();
        expect(headerSize(bytes), `${format} ${w}x${h}`).toEqual({ width: m.width, height: m.height });
      }
    }
    expect(headerSize(await image(8, 8, 'gif'))).toBeUndefined();
  });

  it('never throws on truncations of valid files or on random bytes', async () => {
    const rnd = rng(7);
    for (const format of ['png', 'jpeg', 'webp', 'webp-lossless'] as const) {
      const bytes = await image(50, 40, format);
      for (let n = 0; n <= Math.min(bytes.length, 400); n++) {
        const got = headerSize(bytes.subarray(0, n));
        if (got) expect(got).toEqual({ width: 50, height: 40 });
      }
    }
    for (let k = 0; k < 2000; k++) {
      const b = Buffer.alloc(1 + Math.floor(rnd() * 64));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
      if (k % 4 === 0 && b.length >= 2) b.set([0xff, 0xd8], 0);
      if (k % 4 === 1 && b.length >= 4) b.set([0x89, 0x50, 0x4e, 0x47], 0);
      if (k % 4 === 2 && b.length >= 12) b.write('RIFF----WEBP', 0, 'latin1');
      const got = headerSize(b);
      if (got) expect(Number.isInteger(got.width) && Number.isInteger(got.height)).toBe(true);
    }
  });
});
