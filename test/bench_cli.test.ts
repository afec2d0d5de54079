/** `lwfm-spm bench match|head`: the microbenchmarks shipped in the package, on tiny settings. */
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

describe('lwfm-spm bench', () => {
  it('match --json: microseconds per problem on 1 and T threads for each size, with the machine line', async () => {
    const r = await runCli(['bench', 'match', '--sizes', '9,25', '--batch', '300', '--threads', '2', '--repeats', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.benchmark).toBe('match');
    expect(out.machine).toMatch(/addon SIMD path (scalar|avx2|avx512) \(CPU supports (scalar|avx2|avx512); /);
    expect(out.rows.map((row: { n: number }) => row.n)).toEqual([9, 25]);
    for (const row of out.rows) {
      expect(row).toMatchObject({ batch: 300, threads: 2 });
      expect(row.usPerProblem1).toBeGreaterThan(0);
      expect(row.usPerProblemT).toBeGreaterThan(0);
      expect(row.speedup).toBeCloseTo(row.usPerProblem1 / row.usPerProblemT, 9);
    }
  });

  it('head: prepare + score, the engine stages adding up to each call, text by default', async () => {
    const r = await runCli([
      'bench',
      'head',
      '--way',
      '3',
      '--queries',
      '6',
      '--channels',
      '64,64',
      '--repeats',
      '3',
      '--threads',
      '1',
      '--matcher',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      benchmark: 'head',
      way: 3,
      shot: 1,
      queries: 6,
      channels: [64, 64],
      featureSize: 3,
      matcher: true,
      pairs: 18,
    });
    expect(out.prepareMs).toBeGreaterThan(0);
    expect(out.scoreMs).toBeGreaterThan(0);
    const sum = (prefix: string) =>
      Object.entries(out.stages as Record<string, number>).reduce((s, [k, v]) => (k.startsWith(prefix) ? s + v : s), 0);
    expect(sum('score.')).toBeGreaterThanOrEqual(out.scoreMs * (1 - 1e-9));
    const text = await runCli(['bench', 'head', '--queries', '5', '--repeats', '2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^prepare \+ score: [\d.]+ m?s \(prepare [\d.]+ m?s, score [\d.]+ m?s; 25 query-support pairs\)$/m);
    expect(text.stdout).toContain('5-way 1-shot, 5 queries, channels [512, 512], 3x3 pixels, no matcher MLP');
  });

  it('says what it expected for bad arguments (exit 2) and lists the benchmarks', async () => {
    for (const [args, message] of [
      [['bench', 'match', '--sizes', '9,x'], "--sizes expects comma-separated integers (e.g. 9,25,49,100), got '9,x'"],
      [['bench', 'match', '--sizes', '0'], '--sizes values must be between 1 and 2048, got 0'],
      [['bench', 'head', '--feature-size', '1'], '--feature-size must be between 2 and 64, got 1'],
      [['bench', 'frob'], "bench: unknown benchmark 'frob'; expected match, head or peers"],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const help = await runCli(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}match /m);
    expect(help.stdout).toMatch(/^ {2}head /m);
    expect(help.stdout).toMatch(/^ {2}peers /m);
  });
});
