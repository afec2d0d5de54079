/**
 * The folder reader takes every raster format sharp decodes, in any letter case, and reports
 * (instead of silently dropping) the files it leaves out.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRgb } from '../src/backbone/decode.js';
import { describeSkipped, IMAGE_EXTENSIONS, isImageFile, scanImageFolder } from '../src/classifier/image_folder.js';

let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-folder-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pixels = Buffer.alloc(8 * 8 * 3, 128);
const raw = { raw: { width: 8, height: 8, channels: 3 as const } };

describe('image extensions', () => {
  it("are exactly the raster formats sharp's libvips reads here", () => {
    const readable = Object.entries(sharp.format)
      .filter(([name, f]) => f.input.file && !['svg', 'vips', 'raw'].includes(name))
      .flatMap(([, f]) => (f.input as { fileSuffix?: string[] }).fileSuffix ?? []);
    expect([...IMAGE_EXTENSIONS].sort()).toEqual([...new Set(readable)].sort());
  });

  it('decodes a file of every listed format, upper-case names included', async () => {
    const dir = join(root, 'formats');
    mkdirSync(dir, { recursive: true });
    const writers: [string, (s: Sharp) => Sharp][] = [
      ['a.JPG', (s) => s.jpeg()],
      ['b.jpe', (s) => s.jpeg()],
      ['c.JFIF', (s) => s.jpeg()],
      ['d.PNG', (s) => s.png()],
      ['e.webp', (s) => s.webp()],
      ['f.GIF', (s) => s.gif()],
      ['g.tif', (s) => s.tiff()],
      ['h.TIFF', (s) => s.tiff()],
      ['i.avif', (s) => s.avif()],
    ];
    for (const [name, write] of writers) {
      expect(isImageFile(name), name).toBe(true);
      const file = join(dir, name);
      await write(sharp(pixels, raw)).toFile(file);
      const { width, height } = await decodeRgb(file);
      expect([width, height], name).toEqual([8, 8]);
    }
  });

  it('leaves out what sharp cannot decode, hidden files silently', () => {
    for (const name of ['x.bmp', 'x.BMP', 'x.heic', 'x.txt', '.hidden.jpg', 'noext']) expect(isImageFile(name), name).toBe(false);
  });
});

describe('scanImageFolder', () => {
  it('lists upper-case images and reports the skipped files', () => {
    const data = join(root, 'data');
    for (const [cls, files] of Object.entries({
      cat: ['1.JPG', '2.png', 'notes.txt', '.DS_Store'],
      dog: ['1.jpeg', 'old.bmp', 'older.BMP'],
    })) {
      mkdirSync(join(data, cls), { recursive: true });
      for (const f of files) writeFileSync(join(data, cls, f), 'x');
    }
    const folder = scanImageFolder(data);
    expect(folder.classes.map((c) => c.files.map((f) => f.slice(data.length + 1)))).toEqual([['cat/1.JPG', 'cat/2.png'], ['dog/1.jpeg']]);
    expect(folder.skipped).toEqual([join(data, 'cat', 'notes.txt'), join(data, 'dog', 'old.bmp'), join(data, 'dog', 'older.BMP')]);
    const message = describeSkipped(folder.skipped);
    expect(message).toContain('skipped 3 files that are not images sharp decodes (1 .txt, 2 .bmp)');
    expect(message).toContain(join(data, 'dog', 'old.bmp'));
    expect(message).toContain('.jpg .jpeg');
  });
});
