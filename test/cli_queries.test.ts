import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectQueries } from '../src/cli/commands/classify.js';
import { DatasetError } from '../src/classifier/dataset_error.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-queries-'));
  mkdirSync(join(root, 'q', 'cat'), { recursive: true });
  mkdirSync(join(root, 'q', 'dog'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  for (const f of ['q/loose.jpg', 'q/notes.txt', 'q/cat/c1.png', 'q/dog/d1.jpg', 'q/dog/d0.webp', 'single.gif'])
    writeFileSync(join(root, f), '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('classify query expansion', () => {
  it('takes files as given and directories as their images, subdirectory name = truth', () => {
    const items = collectQueries([join(root, 'q'), join(root, 'single.gif')]);
    expect(items.map((i) => [i.file.slice(root.length + 1), i.truth])).toEqual([
      ['q/loose.jpg', undefined],
      ['q/cat/c1.png', 'cat'],
      ['q/dog/d0.webp', 'dog'],
      ['q/dog/d1.jpg', 'dog'],
      ['single.gif', undefined],
    ]);
  });
  it('names a missing path and an image-less directory', () => {
    expect(() => collectQueries([join(root, 'nope.jpg')])).toThrow(DatasetError);
    expect(() => collectQueries([join(root, 'empty')])).toThrow(/query directory has no images/);
  });
});
