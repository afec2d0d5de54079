/**
 * Folders of small PNG files for the streaming benchmarks, generated into a temporary
 * directory (never committed): `unique` distinct 96 x 96 RGB images (smooth seeded
 * patterns plus noise, so PNG decoding does real work), and larger sets made of hard links
 * to them under new names (separate directory entries and file opens; the same decode work
 * per file as a distinct image of that size).
 */
import { mkdirSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng } from '../src/cli/bench/numbers.js';

const SIZE = 96;

/**
 * Writes `unique` PNGs into `dir` (img-00000.png ...) and returns their paths.
 * @example const files = await writePngSet('/tmp/x/base', 2000);
 */
export async function writePngSet(dir: string, unique: number, seed = 1): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const next = rng(seed);
  for (let start = 0; start < unique; start += 32) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(unique, start + 32); i++) {
      const px = Buffer.alloc(SIZE * SIZE * 3);
      const [fx, fy, phase] = [1 + next() * 6, 1 + next() * 6, next() * 6.28];
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          for (let c = 0; c < 3; c++) {
            const v =
              127 + 100 * Math.sin(((fx * x) / SIZE) * 6.28 + phase * (c + 1)) * Math.cos(((fy * y) / SIZE) * 6.28) + 28 * (next() - 0.5);
            px[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
          }
        }
      }
      const file = join(dir, `img-${String(i).padStart(5, '0')}.png`);
      files.push(file);
      batch.push(
        sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
          .png()
          .toFile(file),
      );
    }
    await Promise.all(batch);
  }
  return files;
}

/**
 * A folder of `count` files named link-NNNNNN.png, hard links cycling over `base`.
 * @example linkPngSet('/tmp/x/20k', base, 20000);
 */
export function linkPngSet(dir: string, base: readonly string[], count: number): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) linkSync(base[i % base.length]!, join(dir, `link-${String(i).padStart(6, '0')}.png`));
}
