/**
 * The CLI's argument parsing: random command lines built from every command's options,
 * odd values (negative, empty, huge, non-numeric, '--', '=' forms) and stray words, run
 * through parseCommandArgs and every typed option reader. Only UsageError may come out,
 * and accepted numbers must be within their documented ranges.
 */
import fc from 'fast-check';
import {
  choiceOption,
  intOption,
  modelOptions,
  parseCommandArgs,
  seedOption,
  stringList,
  stringOption,
  UsageError,
} from '../../../src/cli/args.js';
import { COMMANDS } from '../../../src/cli/specs.js';
import { check, runsFor } from '../contract.js';

const values = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '-1',
    '-0',
    '0',
    '1',
    '5',
    '+3',
    '1e3',
    '-1e3',
    '0x10',
    '1.5',
    '-0.5',
    '9007199254740993',
    'NaN',
    'Infinity',
    'cpu',
    'cuda',
    'int8',
    'x',
    '=',
    '--',
    '-',
    '-h',
  ),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -1e6, max: 1e9 }).map(String),
);

function tokensFor(spec: (typeof COMMANDS)[number]) {
  const names = Object.keys(spec.options).length ? Object.keys(spec.options) : ['help'];
  const shorts = Object.values(spec.options)
    .map((o) => o.short)
    .filter((s): s is string => s !== undefined);
  const option = fc.oneof(
    fc.constantFrom(...names).map((n) => `--${n}`),
    fc.constantFrom(...(shorts.length ? shorts : ['h'])).map((s) => `-${s}`),
    fc.tuple(fc.constantFrom(...names), values).map(([n, v]) => `--${n}=${v}`),
    fc.constantFrom('--bogus', '--help', '-h', '--', '-', '---x'),
  );
  return fc.array(fc.oneof({ weight: 3, arbitrary: option }, { weight: 2, arbitrary: values }), { maxLength: 8 });
}

function readAll(args: ReturnType<typeof parseCommandArgs>, options: Record<string, { type: string; multiple?: boolean }>): void {
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    if (o.multiple) stringList(args, name);
    stringOption(args, name);
    try {
      const n = intOption(args, name, 7, 1, 1000);
      check(Number.isInteger(n) && n >= 1 && n <= 1000, `intOption accepted ${n} for --${name}`);
    } catch (e) {
      check(e instanceof UsageError, `intOption threw ${(e as Error)?.constructor?.name}`);
    }
    try {
      choiceOption(args, name, ['a', 'b'] as const, 'a');
    } catch (e) {
      check(e instanceof UsageError, `choiceOption threw ${(e as Error)?.constructor?.name}`);
    }
  }
  if ('seed' in options) {
    const s = seedOption(args);
    check(
      typeof s === 'string' ? s.length > 0 && !/^[-+]?\d/.test(s.trim()) : Number.isSafeInteger(s) && s >= 0,
      `seedOption accepted ${JSON.stringify(s)}`,
    );
  }
  if ('model' in options) {
    const m = modelOptions(args);
    check(m.model === undefined || m.model.trim() !== '', 'an empty --model was accepted');
  }
}

export default async function fuzzCli(seed: number): Promise<number> {
  const runs = runsFor(400);
  const specs = fc.constantFrom(...COMMANDS);
  await fc.assert(
    fc.property(
      specs.chain((spec) => fc.tuple(fc.constant(spec), tokensFor(spec))),
      ([spec, argv]) => {
        try {
          const args = parseCommandArgs(spec, argv);
          if (args.help) return;
          readAll(args, spec.options);
        } catch (e) {
          check(
            e instanceof UsageError,
            `${spec.name} ${JSON.stringify(argv)}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
          );
        }
      },
    ),
    { seed, numRuns: runs },
  );
  return runs;
}
