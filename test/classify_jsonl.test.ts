/**
 * `lwfm-spm classify --jsonl`: one complete JSON line per query in input order, and a
 * clean stop on Ctrl-C (SIGINT): exit code 130, every line written whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli } from './support/cli.js';

const SAMPLES = join(repoRoot, 'samples');
let cache: string;
const env = (): NodeJS.ProcessEnv => ({ LWFM_SPM_CACHE: cache });
const common = ['--support', SAMPLES, '--device', 'cpu', '--threads', '2', '--jsonl'];

beforeAll(() => {
  cache = mkdtempSync(join(tmpdir(), 'lwfm-jsonl-'));
});
afterAll(() => rmSync(cache, { recursive: true, force: true }));

interface Line {
  inputIndex: number;
  file: string;
  truth: string | null;
  label?: string;
  probability?: number;
  error?: string;
}

describe('lwfm-spm classify --jsonl', () => {
  it('streams one JSON line per query, in input order, with the truth of subdirectories', async () => {
    const r = await runCli(['classify', ...common, '--query', join(SAMPLES, 'circle'), SAMPLES, '--batch-size', '16'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const circles = readdirSync(join(SAMPLES, 'circle')).filter((f) => /\.(png|jpe?g)$/.test(f)).length;
    const all = readdirSync(SAMPLES, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .reduce((n, d) => n + readdirSync(join(SAMPLES, d.name)).filter((f) => /\.(png|jpe?g)$/.test(f)).length, 0);
    expect(lines.length).toBe(circles + all);
    expect(lines.map((l) => l.inputIndex)).toEqual(lines.map((_, i) => i));
    expect(lines.slice(0, circles).every((l) => l.truth === null && l.file.startsWith(join(SAMPLES, 'circle')))).toBe(true);
    expect(lines.slice(circles).every((l) => l.truth !== null && l.file.includes(`/${l.truth}/`))).toBe(true);
    expect(lines.every((l) => typeof l.label === 'string' && l.probability! > 0 && l.probability! <= 1)).toBe(true);
    expect(r.stderr).toMatch(/classified \d+ images \(0 unreadable\).*accuracy/);
  });

  it('stops cleanly on Ctrl-C: exit code 130, only whole lines, a contiguous prefix of the input', async () => {
    const queries = Array.from({ length: 40 }, () => SAMPLES); // ~4000 images: far more than run before the signal
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'classify', ...common, '--query', ...queries],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env() },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      void exited.then(() => resolve()); // exited early: the assertions below say why
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.split('\n').length > 20) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stdout.endsWith('\n')).toBe(true);
    const lines = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.inputIndex)).toEqual(lines.map((_, i) => i));
    expect(lines.length).toBeLessThan(3000);
    expect(stderr).toMatch(/stopped after \d+ images/);
  }, 120_000);

  it('rejects --json with --jsonl, and --batch-size without it', async () => {
    expect((await runCli(['classify', ...common, '--json', '--query', SAMPLES])).code).toBe(2);
    const r = await runCli(['classify', '--support', SAMPLES, '--query', SAMPLES, '--batch-size', '8']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch-size applies to --jsonl only/);
  });
});
