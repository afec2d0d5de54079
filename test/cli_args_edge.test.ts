/**
 * Issue 11 item 6: negative numbers reach the options' own range checks (parseArgs called
 * `--seed -1` ambiguous), an empty --model is a usage error, --max-image-pixels is checked.
 */
import { describe, expect, it } from 'vitest';
import { intOption, modelOptions, MODEL_OPTIONS, parseCommandArgs, seedOption, UsageError, type CommandSpec } from '../src/cli/args.js';
import { runCli } from './support/cli.js';

const spec: CommandSpec = {
  name: 'eval',
  summary: '',
  help: '',
  options: { ...MODEL_OPTIONS, seed: { type: 'string', short: 's' }, episodes: { type: 'string' }, quiet: { type: 'boolean' } },
};
const parse = (argv: string[]) => parseCommandArgs(spec, argv);

describe('negative numbers as option values', () => {
  it.each([
    [['--seed', '-1'], 'seed', '-1'],
    [['-s', '-7'], 'seed', '-7'],
    [['--episodes', '-0.5'], 'episodes', '-0.5'],
    [['--episodes', '-1e3'], 'episodes', '-1e3'],
  ])('%j keeps the value', (argv, name, value) => {
    expect(parse(argv).values[name]).toBe(value);
  });

  it('leaves options, flags, "--" and non-numbers alone', () => {
    expect(() => parse(['--seed', '--quiet'])).toThrow(UsageError);
    expect(parseCommandArgs({ ...spec, positionals: true }, ['--quiet', '--', '-1']).positionals).toEqual(['-1']);
    expect(() => parse(['--seed', '-x'])).toThrow(/ambiguous|Unknown option/);
  });

  it('gives the range errors', () => {
    expect(() => seedOption(parse(['--seed', '-1']))).toThrow(/--seed must be an integer between 0 and \d+ \(or a word\), got '-1'/);
    expect(() => seedOption(parse(['--seed', '1.5']))).toThrow(UsageError);
    expect(seedOption(parse(['--seed', 'apple']))).toBe('apple');
    expect(seedOption(parse(['--seed', '42']))).toBe(42);
    expect(() => intOption(parse(['--episodes', '-1']), 'episodes', 100)).toThrow(/--episodes must be between 1 and \d+, got -1/);
    expect(() => intOption(parse(['--episodes', '-0.5']), 'episodes', 100)).toThrow(/--episodes expects an integer >= 1, got '-0.5'/);
  });
});

describe('model options', () => {
  it('rejects an empty --model as a usage error, not a TypeError', () => {
    for (const m of ['', '  '])
      expect(() => modelOptions(parse(['--model', m]))).toThrow(/--model expects a model bundle directory, got an empty path/);
  });

  it('checks --max-image-pixels', () => {
    expect(modelOptions(parse(['--max-image-pixels', '1000'])).load.maxImagePixels).toBe(1000);
    expect(() => modelOptions(parse(['--max-image-pixels', '0']))).toThrow(/--max-image-pixels must be between 1 and 268402689, got 0/);
    expect(() => modelOptions(parse(['--max-image-pixels', '-5']))).toThrow(UsageError);
  });
});

describe('the CLI as a user runs it', () => {
  it.each([
    [['eval', '--data', 'x', '--seed', '-1'], /--seed must be an integer between 0/],
    [['eval', '--data', 'x', '--episodes', '-1'], /--episodes must be between 1 and/],
    [['classify', '--model', '', '--support', 'x', '--query', 'y'], /--model expects a model bundle directory/],
  ])('%j exits 2 with the option named', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/ambiguous|TypeError/);
  });
});
