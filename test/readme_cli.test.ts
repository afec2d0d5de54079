/**
 * The README's table of CLI mistakes: every row is run as written (in a directory holding the
 * files the rows name) and must print what the table says, with its exit code. `...` in the
 * table matches any text (paths that depend on the machine, long lists).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './support/cli.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('What common mistakes print'));
const rows = [
  ...section.slice(0, section.indexOf('\n\n', section.indexOf('| --- |'))).matchAll(/^\| `lwfm-spm ([^`]*)`[^|]*\|(.*)\| (\d+) \|$/gm),
].map((m) => ({
  args: m[1]!.split(' '),
  expected: [...m[2]!.matchAll(/`([^`]+)`/g)].map((e) => e[1]!),
  exit: Number(m[3]),
}));

function pattern(text: string): RegExp {
  return new RegExp(
    text
      .split('...')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\s\\S]*'),
  );
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-readme-cli-'));
  const samples = join(repoRoot, 'samples');
  cpSync(samples, join(dir, 'data'), { recursive: true });
  cpSync(samples, join(dir, 'with-bmp'), { recursive: true });
  writeFileSync(join(dir, 'with-bmp', 'circle', 'old.bmp'), 'BM');
  mkdirSync(join(dir, 'one-class', 'circle'), { recursive: true });
  cpSync(join(samples, 'circle', 'circle-00.jpg'), join(dir, 'one-class', 'circle', 'circle-00.jpg'));
  cpSync(join(samples, 'circle', 'circle-01.jpg'), join(dir, 'a.jpg'));
  writeFileSync(join(dir, 'broken.jpg'), 'this is not a JPEG');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("README's CLI mistakes table", () => {
  it('has rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
  });

  for (const row of rows) {
    it(`lwfm-spm ${row.args.join(' ')} -> exit ${row.exit}`, async () => {
      const r = await runCli([...row.args, ...(row.args.includes('--model') || row.exit === 2 ? [] : ['--threads', '2'])], { cwd: dir });
      const output = `${r.stdout}\n${r.stderr}`;
      expect(r.code, output).toBe(row.exit);
      for (const text of row.expected) expect(output).toMatch(pattern(text));
    });
  }
});
