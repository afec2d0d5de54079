import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpisodeSampler } from '../src/classifier/episodes.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { DatasetError } from '../src/classifier/dataset_error.js';
import { Rng } from '../src/classifier/rng.js';

let root: string;

function makeFolder(name: string, sizes: Record<string, number>): string {
  const dir = join(root, name);
  for (const [cls, n] of Object.entries(sizes)) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, cls, `${cls}-${i}.png`), '');
  }
  return dir;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-episodes-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
    expect(new Rng('abc').below(1000)).toBe(new Rng('abc').below(1000));
  });
  it('draws distinct indices and roughly uniform integers', () => {
    const rng = new Rng(7);
    const s = rng.sample(10, 10);
    expect([...s].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 4000; i++) counts[rng.below(4)]!++;
    for (const k of counts) expect(Math.abs(k - 1000)).toBeLessThan(150);
    expect(() => rng.sample(3, 4)).toThrow(RangeError);
  });
});

describe('scanImageFolder', () => {
  it('lists classes and images sorted, ignoring hidden and non-image files', () => {
    const dir = makeFolder('scan', { b: 2, a: 3 });
    writeFileSync(join(dir, 'a', 'notes.txt'), '');
    writeFileSync(join(dir, 'a', '.hidden.png'), '');
    writeFileSync(join(dir, 'README.md'), '');
    mkdirSync(join(dir, '.cache'));
    const folder = scanImageFolder(dir);
    expect(folder.classes.map((c) => c.name)).toEqual(['a', 'b']);
    expect(folder.classes[0]!.files.map((f) => f.slice(dir.length + 1))).toEqual(['a/a-0.png', 'a/a-1.png', 'a/a-2.png']);
  });
  it('names a missing directory, a file, and a directory without classes', () => {
    expect(() => scanImageFolder(join(root, 'nope'))).toThrow(DatasetError);
    expect(() => scanImageFolder(join(root, 'nope'))).toThrow(/nope: dataset directory does not exist/);
    const file = join(root, 'file.png');
    writeFileSync(file, '');
    expect(() => scanImageFolder(file)).toThrow(/is not a directory/);
    mkdirSync(join(root, 'flat'));
    writeFileSync(join(root, 'flat', 'x.png'), '');
    expect(() => scanImageFolder(join(root, 'flat'))).toThrow(/no class subdirectories/);
  });
});

describe('EpisodeSampler', () => {
  it('draws way classes, shot + query distinct images each, class-major', () => {
    const dir = makeFolder('shape', { a: 6, b: 6, c: 6, d: 6 });
    const sampler = new EpisodeSampler(scanImageFolder(dir), { way: 3, shot: 2, query: 3 }, 1);
    const ep = sampler.next();
    expect(ep.classes).toHaveLength(3);
    expect(new Set(ep.classes).size).toBe(3);
    expect(ep.support.map((x) => x.label)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(ep.query.map((x) => x.label)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const all = [...ep.support, ...ep.query];
    expect(new Set(all.map((x) => x.file)).size).toBe(all.length);
    for (const x of all) expect(x.file).toContain(`/${ep.classes[x.label]}/`);
  });

  it('is deterministic for a seed and varies with it', () => {
    const dir = makeFolder('det', { a: 8, b: 8, c: 8, d: 8, e: 8, f: 8 });
    const folder = scanImageFolder(dir);
    const run = (seed: number | string) => {
      const s = new EpisodeSampler(folder, { way: 5, shot: 1, query: 3 }, seed);
      return Array.from({ length: 20 }, () => s.next());
    };
    expect(run(5)).toEqual(run(5));
    expect(run('five')).toEqual(run('five'));
    expect(run(5)).not.toEqual(run(6));
    // Every class shows up over 20 episodes of 5 of 6 classes.
    expect(new Set(run(5).flatMap((e) => e.classes)).size).toBe(6);
  });

  it('refuses too few classes or a class smaller than shot + query, naming it', () => {
    const dir = makeFolder('small', { big1: 5, big2: 5, tiny: 3 });
    const folder = scanImageFolder(dir);
    expect(() => new EpisodeSampler(folder, { way: 4, shot: 1, query: 1 })).toThrow(/has 3 class directories but way = 4/);
    let error: unknown;
    try {
      new EpisodeSampler(folder, { way: 2, shot: 1, query: 3 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toContain('shot + query = 1 + 3 = 4');
    expect((error as Error).message).toContain('tiny (3)');
    expect((error as DatasetError).code).toBe('ERR_LWFM_DATASET');
    expect(() => new EpisodeSampler(folder, { way: 0, shot: 1, query: 1 })).toThrow(
      'Expected positive integer for way but received 0 of type number',
    );
  });

  it('excludes unreadable files and re-checks sizes', () => {
    const dir = makeFolder('excl', { a: 3, b: 3 });
    const folder = scanImageFolder(dir);
    const sampler = new EpisodeSampler(folder, { way: 2, shot: 1, query: 1 }, 3);
    const bad = folder.classes[0]!.files[0]!;
    sampler.exclude([bad]);
    for (let i = 0; i < 30; i++) {
      const ep = sampler.next();
      expect([...ep.support, ...ep.query].map((x) => x.file)).not.toContain(bad);
    }
    expect(() => sampler.exclude(folder.classes[0]!.files.slice(1, 2))).toThrow(/after skipping 2 unreadable images/);
  });
});
