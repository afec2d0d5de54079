/**
 * Real data: Fashion-MNIST test images (Debian package dataset-fashion-mnist, which .ci/run
 * installs) turned into an ImageFolder by scripts/fashion-mnist.mjs, then `lwfm-spm eval` and
 * `lwfm-spm classify` on it as a user would run them, checking the documented output. The
 * default model is untrained, but its random features still separate these classes far better
 * than chance (the check is that the whole path works on real images, not the model's quality).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './support/cli.js';

const SOURCE = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';
const available = existsSync(join(SOURCE, 't10k-images-idx3-ubyte.gz'));
if (!available)
  console.warn(
    `[fashion-mnist] ${SOURCE}/t10k-images-idx3-ubyte.gz not found: install the Debian package dataset-fashion-mnist (.ci/run does); real-data checks not run`,
  );

const PER_CLASS = 31; // 1 support + 30 queries per class for classify; eval draws from all of them
let dir = '';
let data = '';

beforeAll(() => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'lwfm-fmnist-'));
  data = join(dir, 'fashion-mnist');
  const out = execFileSync(
    process.execPath,
    [join(repoRoot, 'scripts', 'fashion-mnist.mjs'), data, '--per-class', String(PER_CLASS), '--source', SOURCE],
    { encoding: 'utf8' },
  );
  expect(JSON.parse(out)).toMatchObject({ classes: 10, perClass: PER_CLASS, files: 10 * PER_CLASS });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available /* reason printed above */)('Fashion-MNIST through the CLI', () => {
  it('eval, 5-way 1-shot, 24 episodes, seed 7: completes above chance with the documented report', async () => {
    const r = await runCli(
      ['eval', '--data', data, '--way', '5', '--shot', '1', '--query', '5', '--episodes', '24', '--seed', '7', '--threads', '2'],
      { timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    // Progress as plain lines (stderr is a pipe here), ending with the last episode.
    expect(r.stderr).toMatch(/^\[#+\] 24\/24 episodes {2}[\d.]+ ep\/s {2}ETA .* {2}acc [\d.]+%$/m);
    expect(r.stdout).toContain(`5-way 1-shot, 5 queries per class, 24 episodes, seed 7: ${data}`);
    const m = /^Accuracy: ([\d.]+)% \+- ([\d.]+)% \(95% confidence interval\)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const [accuracy, ci95] = [Number(m![1]) / 100, Number(m![2]) / 100];
    console.log(
      `[fashion-mnist] eval 5-way 1-shot, 24 episodes, untrained default model: ${(100 * accuracy).toFixed(2)}% +- ${(100 * ci95).toFixed(2)}%`,
    );
    expect(accuracy - ci95).toBeGreaterThan(0.2); // chance is 20%
    expect(r.stdout).toMatch(
      /^Per episode \(wall clock\): embed .* \+ head .* \+ other .* = total .*; inside embed, the workers decoded for .* and ran the network for .*, overlapping$/m,
    );
  });

  it('classify of 300 files reports progress, one row per file and the accuracy', async () => {
    const support = join(dir, 'support');
    const queries = join(dir, 'queries');
    for (const cls of readdirSync(data).sort()) {
      const files = readdirSync(join(data, cls)).sort();
      mkdirSync(join(support, cls), { recursive: true });
      mkdirSync(join(queries, cls), { recursive: true });
      cpSync(join(data, cls, files[0]!), join(support, cls, files[0]!));
      for (const f of files.slice(1)) cpSync(join(data, cls, f), join(queries, cls, f));
    }
    const r = await runCli(['classify', '--support', support, '--query', queries, '--threads', '2'], { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const progress = r.stderr.split('\n').filter((l) => / images {2}[\d.]+ img\/s/.test(l));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toMatch(/^\[#+\] 300\/300 images {2}[\d.]+ img\/s {2}ETA .* {2}acc [\d.]+%$/);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith(queries));
    expect(rows).toHaveLength(300);
    for (const row of rows) expect(row).toMatch(/^\S+\.png\s+\S+\s+[01]\.\d{3}\s+\S+$/);
    const m = /^Accuracy on 300 queries with a known class: ([\d.]+)%$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    console.log(`[fashion-mnist] classify 10-way 1-shot, 300 queries, untrained default model: ${m![1]}%`);
    expect(Number(m![1])).toBeGreaterThan(10); // chance is 10%
    expect(r.stdout).toMatch(/^Timings \(wall clock\): embed .* = total /m);
    // --json: the same results as JSON, and no progress output.
    const json = await runCli(['classify', '--support', support, '--query', join(queries, 'bag'), '--json', '--threads', '2'], {
      timeoutMs: 300_000,
    });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stderr).not.toMatch(/img\/s/);
    expect(JSON.parse(json.stdout).results).toHaveLength(30);
  });
});
