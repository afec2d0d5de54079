/**
 * The fuzz suite (issue 11): every public entry driven with random shapes, values and byte
 * mutations by fast-check, each target in a child process so that a crash (a signal, an
 * abort) fails the test instead of taking the runner down. Targets live in test/fuzz/targets;
 * each asserts documented errors only and, on valid input, results equal to a reference.
 *
 * `npm test` runs each target briefly with a fixed seed (reproducible); `npm run fuzz` runs
 * them 100x longer (a few minutes) with a fresh seed, printed with any failure. Replay one with
 *   FUZZ_SCALE=100 node --import tsx test/fuzz/run.ts <target> --seed <seed>
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';

const TARGETS = ['assignment', 'head', 'bundle', 'image', 'cli', 'buffers'] as const;
const scale = Number(process.env.FUZZ_SCALE ?? '1');
const seedFor = (i: number): number =>
  process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261203) + i;

function runTarget(
  target: string,
  seed: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'fuzz', 'run.ts'), target, '--seed', String(seed)], {
      cwd: repoRoot,
      env: { ...process.env, FUZZ_SCALE: String(scale) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe(`fuzz (FUZZ_SCALE ${scale})`, () => {
  it.each(TARGETS.map((t, i) => [t, seedFor(i)] as const))(
    '%s (seed %i): no crash, documented errors only, reference results',
    async (target, seed) => {
      const r = await runTarget(target, seed);
      expect(r.signal, `${target} crashed with ${r.signal}:\n${r.stderr.slice(-4000)}`).toBeNull();
      expect(
        r.code,
        `${target} failed (replay: FUZZ_SCALE=${scale} node --import tsx test/fuzz/run.ts ${target} --seed ${seed}):\n${r.stderr.slice(-4000)}`,
      ).toBe(0);
      const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runs: number; ms: number };
      console.log(`[fuzz] ${target}: ${summary.runs} cases in ${summary.ms} ms (seed ${seed})`);
      expect(summary.runs).toBeGreaterThan(0);
    },
    Math.max(120_000, 60_000 * scale),
  );
});
