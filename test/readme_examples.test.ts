/**
 * Every `js` block of README.md runs as written, with plain `node` (no TypeScript loader, so a
 * syntax that Node 20 lacks fails here as it would for a user), against the compiled package
 * linked as node_modules/lwfm-spm. The files the examples name are made here from the samples.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';
import { staleDist } from './support/dist.js';

const run = promisify(execFile);
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

/** Whether this Node parses `await using` (explicit resource management: Node 24+). */
function supportsAwaitUsing(): boolean {
  try {
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (body: string) => unknown;
    new AsyncFunction('await using x = null;');
    return true;
  } catch {
    return false;
  }
}

let dir = '';
beforeAll(() => {
  const stale = staleDist();
  if (stale) throw new Error(stale);
  dir = mkdtempSync(join(tmpdir(), 'lwfm-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'lwfm-spm'));
  writeFileSync(join(dir, 'package.json'), '{"name":"readme-examples","private":true,"type":"module"}');
  const samples = join(repoRoot, 'samples');
  const files: Record<string, string> = {
    'cat1.jpg': 'circle/circle-00.jpg',
    'cat2.jpg': 'circle/circle-01.jpg',
    'dog1.jpg': 'square/square-00.jpg',
    'a.jpg': 'circle/circle-02.jpg',
    'b.jpg': 'square/square-02.jpg',
  };
  for (const [name, from] of Object.entries(files)) copyFileSync(join(samples, from), join(dir, name));
  symlinkSync(samples, join(dir, 'my-dataset'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('has the examples this test expects (try/finally + dispose first, await using as the alternative)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks[0]).toContain('finally');
    expect(blocks[0]).toContain('dispose()');
    expect(blocks[0]).not.toContain('await using');
    expect(blocks.some((b) => b.includes('await using'))).toBe(true);
  });

  const awaitUsing = supportsAwaitUsing();
  blocks.forEach((code, i) => {
    const needsAwaitUsing = code.includes('await using');
    if (needsAwaitUsing && !awaitUsing)
      console.warn(
        `[readme] js block ${i + 1} uses \`await using\`, which Node ${process.versions.node} cannot parse: not run here (the README notes it needs Node 24+)`,
      );
    it.skipIf(needsAwaitUsing && !awaitUsing /* reason printed above */)(`js block ${i + 1} runs with plain node`, async () => {
      const file = join(dir, `example-${i + 1}.mjs`);
      writeFileSync(file, code);
      const { stdout, stderr } = await run(process.execPath, [file], { cwd: dir, timeout: 120_000 });
      // Process warnings (e.g. LWFM_CUDA_FALLBACK where a CUDA build runs without a GPU, whose text
      // names cudaErrorInsufficientDriver) are not errors of the example.
      const errors = stderr
        .split('\n')
        .filter((l) => !/^\(node:\d+\) \[[A-Z_]+\] Warning:/.test(l) && !l.startsWith('(Use `node --trace-warnings'));
      expect(errors.join('\n')).not.toMatch(/error/i);
      if (code.includes("classify(['a.jpg', 'b.jpg'])")) {
        const lines = stdout.trim().split('\n');
        expect(lines.filter((l) => /^(cat|dog) 0?\.\d+/.test(l))).toHaveLength(2);
        expect(stdout).toMatch(/embed: [\d.]+,\s+head: [\d.]+,\s+other: [\d.]+,\s+total: [\d.]+/);
      }
      if (code.includes('evaluate(')) expect(stdout).toMatch(/^accuracy \d+\.\d% \+- \d+\.\d%$/m);
      if (needsAwaitUsing) expect(stdout.trim()).toMatch(/^(cat|dog)$/);
    });
  });
});
