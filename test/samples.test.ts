import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { repoRoot } from './support/cli.js';

describe('bundled sample set', () => {
  const folder = scanImageFolder(join(repoRoot, 'samples'));

  it('is an ImageFolder of at least 5 classes with enough images for 5-way 1-shot 15-query episodes', () => {
    expect(folder.classes.length).toBeGreaterThanOrEqual(5);
    for (const c of folder.classes) expect(c.files.length, c.name).toBeGreaterThanOrEqual(16);
  });

  it('stays small (under 300 KB)', () => {
    const bytes = folder.classes.flatMap((c) => c.files).reduce((n, f) => n + statSync(f).size, 0);
    expect(bytes).toBeLessThan(300_000);
  });

  it('is exactly what tools/make_samples.mjs renders', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwfm-samples-'));
    try {
      execFileSync(process.execPath, [join(repoRoot, 'tools', 'make_samples.mjs'), out], { stdio: 'pipe' });
      const regenerated = scanImageFolder(out);
      expect(regenerated.classes.map((c) => c.files.map((f) => relative(out, f)))).toEqual(
        folder.classes.map((c) => c.files.map((f) => relative(folder.root, f))),
      );
      regenerated.classes.forEach((c, i) =>
        c.files.forEach((f, j) => expect(readFileSync(f).equals(readFileSync(folder.classes[i]!.files[j]!)), relative(out, f)).toBe(true)),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
