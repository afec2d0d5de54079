/**
 * Issue 11 items 2 and 6: decompression bombs are rejected from their header, per item,
 * with peak memory independent of the batch; paths that are not files are refused; broken
 * images say why (truncated JPEGs no longer report "Unknown error").
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeFailure, decodeRgb, EXACT_DECODE_MAX_PIXELS, Gate } from '../src/backbone/decode.js';
import { DEFAULT_MAX_IMAGE_PIXELS, expectMaxImagePixels, MAX_IMAGE_PIXELS_CAP } from '../src/backbone/image_limits.js';
import { writePreprocessed } from '../src/backbone/preprocess.js';
import { lowerThreadsNamed, WORKER_NICE } from '../src/backbone/thread_priority.js';
import type { BombReport } from '../benchmarks/image_bombs.js';
import { pngBomb } from './helpers/image_bomb.js';
import { repoRoot } from './support/cli.js';

const run = promisify(execFile);
const opts = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, resize: 92 };
let dir: string;
let bomb: Buffer;
let noiseJpeg: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-decode-'));
  bomb = await pngBomb(16000);
  const w = 320;
  const h = 240;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  noiseJpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg()
    .toBuffer();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<DecodeFailure> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DecodeFailure);
  return e as DecodeFailure;
}

describe('pixel limit', () => {
  it('rejects a 249 KB PNG declaring 16000 x 16000 from its header, in milliseconds', async () => {
    expect(bomb.length).toBeLessThan(300_000);
    const t0 = performance.now();
    const f = await failure(decodeRgb(bomb, opts));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(f.reason).toBe('too-many-pixels');
    expect(f.message).toBe(
      `PNG of 16000 x 16000 = 256000000 pixels exceeds maxImagePixels (${DEFAULT_MAX_IMAGE_PIXELS}); rejected before decoding`,
    );
  });

  it('applies a lower maxImagePixels to ordinary images, and accepts them at the limit', async () => {
    const png = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    expect((await failure(decodeRgb(png, { maxPixels: 4999, resize: 92 }))).reason).toBe('too-many-pixels');
    const ok = await decodeRgb(png, { maxPixels: 5000, resize: 92 });
    expect([ok.width, ok.height]).toEqual([100, 50]);
  });

  it('checks the option: integers in [1, sharp limit]', () => {
    expect(expectMaxImagePixels(undefined, 'o')).toBe(DEFAULT_MAX_IMAGE_PIXELS);
    expect(expectMaxImagePixels(10, 'o')).toBe(10);
    expect(() => expectMaxImagePixels(0, 'o')).toThrow(RangeError);
    expect(() => expectMaxImagePixels(MAX_IMAGE_PIXELS_CAP + 1, 'o')).toThrow(RangeError);
    expect(() => expectMaxImagePixels(1.5, 'o')).toThrow(TypeError);
    expect(() => expectMaxImagePixels('1e6', 'o')).toThrow(TypeError);
  });

  it('is a load option, checked before anything loads', async () => {
    const { FewShotClassifier } = await import('../src/index.js');
    await expect(FewShotClassifier.load(undefined, { maxImagePixels: 0 })).rejects.toThrow(/options\.maxImagePixels/);
    await expect(FewShotClassifier.load(undefined, { maxImagePixels: 2 ** 40 })).rejects.toThrow(RangeError);
  });

  it('with the limit raised to the cap, a bomb is reduced while it streams in, not held in memory', async () => {
    const before = process.memoryUsage().rss;
    const out = await decodeRgb(bomb, { maxPixels: MAX_IMAGE_PIXELS_CAP, resize: 92 });
    // 8 x R per side: far more than the docs/computation.md §1 resize to 92 needs, far less than 16000.
    expect([out.width, out.height]).toEqual([736, 736]);
    // A full decode is 768 MB of RGB; the streamed reduction stays well under a tenth of it.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
  }, 30_000);
});

describe('shrink-on-load of large images', () => {
  // The exact-decode size is lowered to 1 MP here so the images stay quick to encode; the
  // reduction path is the one a 16+ MP image takes (EXACT_DECODE_MAX_PIXELS).
  it.each(['jpeg', 'png', 'webp'] as const)(
    'changes the docs/computation.md §1 output of a %s above the exact-decode size by at most 2 gray levels',
    async (format) => {
      const w = 3000;
      const h = 2000;
      expect(EXACT_DECODE_MAX_PIXELS).toBe(16_000_000);
      // Smooth random content (upscaled noise): what photos look like to a low-pass filter.
      const img = sharp({
        create: { width: w / 50, height: h / 50, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
      }).resize(w, h, {
        kernel: 'cubic',
      });
      const bytes = await (
        format === 'jpeg' ? img.jpeg({ quality: 92 }) : format === 'png' ? img.png({ compressionLevel: 1 }) : img.webp()
      ).toBuffer();
      // mean 0, std 1/255: outputs are in gray levels.
      const spec = { resize: 92, crop: 84, mean: [0, 0, 0] as const, std: [1 / 255, 1 / 255, 1 / 255] as const };
      const outputs = [];
      for (const exactMaxPixels of [Infinity, 1_000_000]) {
        const { rgb, width, height } = await decodeRgb(bytes, { ...opts, exactMaxPixels });
        const o = new Float32Array(3 * 84 * 84);
        writePreprocessed(rgb, width, height, spec, o, 0);
        outputs.push({ o, width });
      }
      expect(outputs[0]!.width).toBe(w);
      expect(outputs[1]!.width).toBe(736);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < outputs[0]!.o.length; i++) {
        const d = Math.abs(outputs[0]!.o[i]! - outputs[1]!.o[i]!);
        max = Math.max(max, d);
        sum += d;
      }
      expect(max).toBeLessThanOrEqual(2.0001);
      expect(sum / outputs[0]!.o.length).toBeLessThan(0.5);
    },
    60_000,
  );
});

describe('paths that are not image files', () => {
  it('refuses a FIFO without waiting for a writer, and /dev/zero without reading it', async () => {
    const fifo = join(dir, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    const f = await failure(decodeRgb(fifo, opts));
    expect(f.reason).toBe('not-a-file');
    expect(f.message).toMatch(/FIFO/);
    const zero = join(dir, 'zero.png');
    symlinkSync('/dev/zero', zero);
    expect((await failure(decodeRgb(zero, opts))).message).toMatch(/character device/);
    expect((await failure(decodeRgb(dir, opts))).reason).toBe('not-a-file');
    expect((await failure(decodeRgb(join(dir, 'nope.jpg'), opts))).reason).toBe('missing');
  });

  it('refuses a file larger than any image within the limit could be', async () => {
    const big = join(dir, 'big.png');
    writeFileSync(big, Buffer.concat([bomb, Buffer.alloc(1_100_000)]));
    const f = await failure(decodeRgb(big, { maxPixels: 1000, resize: 92 }));
    expect(f.reason).toBe('file-too-large');
    expect(f.message).toMatch(/more than the 1056576 bytes allowed/);
  });
});

describe('broken images say why', () => {
  it('reports a truncated JPEG as "truncated or corrupt JPEG", also when 32 decode at once', async () => {
    // libvips keeps one error buffer per process: concurrent failures used to come back as "Unknown error".
    const inputs = Array.from({ length: 32 }, (_, i) => noiseJpeg.subarray(0, Math.floor(noiseJpeg.length * (0.2 + (i % 7) / 10))));
    const settled = await Promise.allSettled(inputs.map((b) => decodeRgb(b, opts)));
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const e = (s as PromiseRejectedResult).reason as DecodeFailure;
      expect(e).toBeInstanceOf(DecodeFailure);
      expect(e.reason).toBe('truncated');
      expect(e.message).toMatch(/^truncated or corrupt JPEG: the data ends before the image does/);
      expect(e.message).not.toMatch(/Unknown error/);
    }
  });

  it('names unsupported formats, empty data and a corrupt header', async () => {
    expect((await failure(decodeRgb(Buffer.from('hello, not an image'), opts))).reason).toBe('unsupported-format');
    expect((await failure(decodeRgb(new Uint8Array(0), opts))).reason).toBe('truncated');
    const corrupt = await failure(decodeRgb(readFileSync(join(repoRoot, 'test', 'fixtures', 'images', 'corrupt.jpg')), opts));
    expect(['truncated', 'corrupt']).toContain(corrupt.reason);
    expect(corrupt.message).toMatch(/^truncated or corrupt JPEG/);
  });
});

describe('decode threads', () => {
  it.runIf(process.platform === 'linux')("lowerThreadsNamed lowers libvips decode threads to the workers' nice value", async () => {
    await decodeRgb(noiseJpeg, opts); // libvips starts its threads lazily
    lowerThreadsNamed('libvips worker');
    const tids = readdirSync('/proc/self/task').filter(
      (t) => readFileSync(`/proc/self/task/${t}/comm`, 'latin1').trim() === 'libvips worker',
    );
    expect(tids.length).toBeGreaterThan(0);
    for (const t of tids) expect(getPriority(Number(t))).toBeGreaterThanOrEqual(WORKER_NICE);
  });
});

describe('Gate', () => {
  it('runs at most `limit` tasks at once and all of them eventually', async () => {
    const gate = new Gate(2);
    let active = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        gate
          .run(async () => {
            active++;
            peak = Math.max(peak, active);
            await new Promise((r) => setTimeout(r, 2 + (i % 3)));
            active--;
            if (i === 4) throw new Error('task 4');
            return i;
          })
          .catch((e: Error) => e.message),
      ),
    );
    expect(peak).toBe(2);
    expect(done).toEqual([0, 1, 2, 3, 'task 4', 5, 6, 7, 8]);
  });
});

describe('16 bombs in one classify call (fresh process, benchmarks/image_bombs.ts)', () => {
  it('rejects each per item with peak RSS far under 1 GB above the baseline', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'benchmarks', 'image_bombs.ts'), '--count', '16', '--json'],
      {
        cwd: repoRoot,
        timeout: 120_000,
      },
    );
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as BombReport;
    expect(r.fileBytes).toBeLessThan(300_000);
    expect(r.outcomes).toEqual({ 'too-many-pixels': 16 });
    expect(r.validImagePredicted).toBe(true);
    expect(r.peakAboveBaselineMB).toBeLessThan(1024);
    expect(r.ms).toBeLessThan(20_000);
  }, 150_000);
});
