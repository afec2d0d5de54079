import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { preprocessInto } from '../src/backbone/batch_decode.js';
import { centerCropOffset, type PreprocessSpec } from '../src/backbone/preprocess.js';
import { native } from '../src/binding.js';
import { resizeBilinearPil } from './helpers/pil_resize_reference.js';
import { rng } from './helpers/seeded_rng.js';
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

  it('reference resize: leaves an image of the target size unchanged and keeps constants constant', () => {
    const src = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
    expect(resizeBilinearPil(src, 5, 4, 5, 4)).toEqual(src);
    const flat = new Uint8Array(30 * 20 * 3).fill(77);
    expect(resizeBilinearPil(flat, 30, 20, 92, 92).every((v) => v === 77)).toBe(true);
    expect(resizeBilinearPil(flat, 30, 20, 7, 3).every((v) => v === 77)).toBe(true);
  });
});

// The JavaScript reference of resize + crop + normalize, against which the native port
// (native/core/pil_resize.cc) must agree to the bit; the torchvision comparison above checks
// the algorithm itself.
function referencePreprocess(rgb: Uint8Array, width: number, height: number, spec: PreprocessSpec): Float32Array {
  const r = spec.resize,
    s = spec.crop,
    o = centerCropOffset(r, s);
  const img = resizeBilinearPil(rgb, width, height, r, r);
  const out = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) out[(c * s + y) * s + x] = (img[((y + o) * r + o + x) * 3 + c]! / 255 - spec.mean[c]!) / spec.std[c]!;
  return out;
}

describe('native resize / crop / normalize', () => {
  const base: PreprocessSpec = { resize: 92, crop: 84, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const cases: [number, number, PreprocessSpec][] = [
    [96, 96, base], // the samples' size, downscale
    [30, 20, base], // upscale, aspect ignored
    [200, 150, base], // strong downscale (wide filter)
    [92, 57, base], // width already R: vertical pass only
    [61, 92, base], // height already R: horizontal pass only
    [84, 84, { ...base, resize: 84 }], // no resize, no crop offset
    [97, 64, { ...base, resize: 93 }], // odd R - S: offset rounds half to even
    [7, 5, { resize: 4, crop: 3, mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 2] }],
  ];
  it('equals the JavaScript reference bit for bit', () => {
    const r = rng(2024);
    for (const [w, h, spec] of cases) {
      const rgb = Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256));
      const want = referencePreprocess(rgb, w, h, spec);
      const out = new Float32Array(want.length + 10).fill(NaN);
      native.preprocessRgb(rgb, w, h, { ...spec, offset: centerCropOffset(spec.resize, spec.crop) }, out, 5);
      expect(Array.from(out.subarray(5, 5 + want.length)), `${w}x${h} -> ${spec.resize}/${spec.crop}`).toEqual(Array.from(want));
      expect(Number.isNaN(out[4]!) && Number.isNaN(out[5 + want.length]!)).toBe(true); // nothing outside written
    }
  });

  it('rejects inconsistent sizes with RangeError / TypeError instead of reading out of bounds', () => {
    const rgb = new Uint8Array(10 * 10 * 3);
    const out = new Float32Array(3 * 84 * 84);
    const spec = { resize: 92, crop: 84, offset: 4, mean: [0, 0, 0], std: [1, 1, 1] };
    expect(() => native.preprocessRgb(rgb, 10, 11, spec, out, 0)).toThrow(/width \* height \* 3/);
    expect(() => native.preprocessRgb(rgb, 10, 10, spec, out, 1)).toThrow(RangeError);
    expect(() => native.preprocessRgb(rgb, 10, 10, { ...spec, offset: 9 }, out, 0)).toThrow(RangeError);
    expect(() => native.preprocessRgb(rgb, 10, 10, { ...spec, crop: 93 }, out, 0)).toThrow(RangeError);
    expect(() => native.preprocessRgb(rgb, 10, 10, { ...spec, std: [1, 0, 1] }, out, 0)).toThrow(RangeError);
    expect(() => native.preprocessRgb(rgb, 10, 10, { ...spec, mean: [0, 0] }, out, 0)).toThrow(TypeError);
    expect(() => native.preprocessRgb(new Float32Array(300) as unknown as Uint8Array, 10, 10, spec, out, 0)).toThrow(TypeError);
  });
});
