import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { centerCropOffset, preprocessInto, type PreprocessSpec } from '../src/backbone/preprocess.js';
import { resizeBilinearPil } from '../src/backbone/pil_resize.js';
import { diff, readF32 } from './helpers/tensors.js';

const IMAGES = join(import.meta.dirname, 'fixtures', 'images');
const FIX = join(import.meta.dirname, 'fixtures', 'preprocess');
const meta = JSON.parse(readFileSync(join(FIX, 'meta.json'), 'utf8')) as PreprocessSpec & { images: string[] };
const expected = readF32(join(FIX, 'expected.bin'));
const per = 3 * meta.crop * meta.crop;

describe('preprocessing against torchvision (Resize([92, 92]), CenterCrop(84), ToTensor, Normalize)', () => {
  for (const [i, name] of meta.images.entries()) {
    it(`${name}: mean abs diff < 0.02`, async () => {
      const out = new Float32Array(per);
      await preprocessInto(join(IMAGES, name), meta, out, 0);
      const d = diff(out, expected.subarray(i * per, (i + 1) * per));
      console.log(`[preprocess] ${name}: mean abs diff ${d.meanAbs.toExponential(3)}, max abs diff ${d.maxAbs.toExponential(3)}`);
      expect(d.meanAbs).toBeLessThan(0.02);
      expect(d.maxAbs).toBeLessThan(0.5);
    });
  }

  it('gives the same tensor for a path and for its bytes, at any offset', async () => {
    const a = new Float32Array(per);
    const b = new Float32Array(per + 7);
    await preprocessInto(join(IMAGES, 'scene.jpg'), meta, a, 0);
    await preprocessInto(readFileSync(join(IMAGES, 'scene.jpg')), meta, b, 7);
    expect(b.subarray(7)).toEqual(a);
  });

  it('rejects corrupt, non-image and missing files', async () => {
    const out = new Float32Array(per);
    await expect(preprocessInto(join(IMAGES, 'corrupt.jpg'), meta, out, 0)).rejects.toThrow(/corrupt|premature|JPEG/i);
    await expect(preprocessInto(join(IMAGES, 'not_an_image.png'), meta, out, 0)).rejects.toThrow(/unsupported image format/);
    await expect(preprocessInto(join(IMAGES, 'nope.jpg'), meta, out, 0)).rejects.toThrow(/missing/);
    await expect(preprocessInto(new Uint8Array([0xff, 0xd8, 0xff]), meta, out, 0)).rejects.toThrow();
  });
});

describe('crop offset and resize details', () => {
  it('rounds the crop offset half to even like torchvision (Python round)', () => {
    expect(centerCropOffset(92, 84)).toBe(4);
    expect(centerCropOffset(93, 84)).toBe(4); // 4.5 -> 4
    expect(centerCropOffset(95, 84)).toBe(6); // 5.5 -> 6
    expect(centerCropOffset(84, 84)).toBe(0);
  });

  it('leaves an image of the target size unchanged and keeps constants constant', () => {
    const src = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
    expect(resizeBilinearPil(src, 5, 4, 5, 4)).toEqual(src);
    const flat = new Uint8Array(30 * 20 * 3).fill(77);
    expect(resizeBilinearPil(flat, 30, 20, 92, 92).every((v) => v === 77)).toBe(true);
    expect(resizeBilinearPil(flat, 30, 20, 7, 3).every((v) => v === 77)).toBe(true);
  });
});
