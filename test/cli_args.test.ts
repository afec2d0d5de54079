/**
 * CLI behaviour that needs no model: help, argument errors and dataset checks,
 * which all answer before the model is loaded. Run as subprocesses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-cli-'));
  for (const [cls, n] of Object.entries({ a: 4, b: 4, tiny: 2 })) {
    mkdirSync(join(root, 'data', cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(root, 'data', cls, `${i}.png`), '');
  }
  mkdirSync(join(root, 'support', 'a'), { recursive: true });
  mkdirSync(join(root, 'support', 'empty'), { recursive: true });
  writeFileSync(join(root, 'support', 'a', '0.png'), '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lwfm-spm help', () => {
  it('prints the command list for --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['demo', 'classify', 'eval', 'convert', 'info', 'bench']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('has --help for every command', async () => {
    const commands = ['demo', 'classify', 'eval', 'convert', 'info', 'bench'];
    const results = await Promise.all(commands.map((c) => runCli([c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, `${commands[i]} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: lwfm-spm ${commands[i]}`);
    });
    expect(results[0]!.stdout).toContain('UNTRAINED');
    const viaHelp = await runCli(['help', 'eval']);
    expect(viaHelp.stdout).toBe(results[2]!.stdout);
  });

  it('prints the version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('lwfm-spm usage errors exit 2 with a pointer to --help', () => {
  const cases: [string[], RegExp][] = [
    [[], /Usage: lwfm-spm <command>/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['eval'], /missing required option --data/],
    [['eval', '--data', 'x', '--way', 'five'], /--way expects an integer >= 1, got 'five'/],
    [['eval', '--data', 'x', '--episodes', '0'], /--episodes must be between 1 and/],
    [['eval', '--data', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['eval', '--data', 'x', '--device', 'tpu'], /--device must be one of auto, cpu, cuda, got 'tpu'/],
    [['classify', '--support', 'x'], /missing required option --query/],
    [['demo', 'extra'], /unexpected argument 'extra'/],
    [['convert'], /Usage: lwfm-spm convert/],
  ];
  it.each(cases)('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('lwfm-spm data errors exit 1 before loading the model', () => {
  it('names a missing dataset directory', async () => {
    const r = await runCli(['eval', '--data', join(root, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(root, 'missing')}: dataset directory does not exist`);
    expect(r.stderr).not.toContain('Loading');
  });

  it('names a class with fewer images than shot + query', async () => {
    const r = await runCli(['eval', '--data', join(root, 'data'), '--way', '2', '--shot', '1', '--query', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('shot + query = 1 + 2 = 3');
    expect(r.stderr).toContain('tiny (2)');
  });

  it('refuses too few classes for the way', async () => {
    const r = await runCli(['eval', '--data', join(root, 'data'), '--way', '5', '--query', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has 3 class directories but way = 5/);
  });

  it('classify: missing support, empty support class, missing query', async () => {
    const [missing, empty, noQuery] = await Promise.all([
      runCli(['classify', '--support', join(root, 'nope'), '--query', join(root, 'support', 'a', '0.png')]),
      runCli(['classify', '--support', join(root, 'support'), '--query', join(root, 'support', 'a', '0.png')]),
      runCli(['classify', '--support', join(root, 'data'), '--query', join(root, 'nothing.jpg')]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope: dataset directory does not exist/);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/every support class needs at least one image; empty: empty/);
    expect(noQuery.code).toBe(1);
    expect(noQuery.stderr).toMatch(/nothing\.jpg: query path does not exist/);
  });
});

describe('lwfm-spm convert delegates to the converter', () => {
  it('passes arguments through and returns its failure code with its message', async () => {
    const r = await runCli(['convert', join(root, 'missing.pth'), join(root, 'out')]);
    // 1: the converter ran and named the missing checkpoint; 3: python3/torch missing, with what to install.
    expect([1, 3]).toContain(r.code);
    expect(r.stderr).toMatch(r.code === 1 ? /missing\.pth does not exist/ : /install/);
  });
});
