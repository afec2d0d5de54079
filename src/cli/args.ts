/**
 * Argument parsing for the CLI on node:util parseArgs: strict (unknown options are
 * errors), every command gets -h/--help, and every problem becomes a UsageError
 * (exit code 2) whose message says which option and what it expects.
 */
import { parseArgs } from 'node:util';
import { MAX_THREADS, MAX_WORKERS } from '../validate.js';
import { MAX_IMAGE_PIXELS_CAP } from '../backbone/image_limits.js';

/** A command line the user got wrong: the CLI prints it with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Option declarations in parseArgs' format (values always strings or booleans). */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** What a command declares about itself. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Full help text printed for `--help`. */
  help: string;
  options: OptionSpec;
  /** Whether bare arguments are allowed (and what they mean is up to the command). */
  positionals?: boolean;
}

/** Parsed arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  help: boolean;
}

/** A token that is a negative number, e.g. -1, -0.5, -1e3 (never an option name: options start with a letter). */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Joins a string option and a following negative number into `--name=-1`. parseArgs
 * refuses `--seed -1` as ambiguous (the value could be an option), which hid the range
 * check the option's own parser gives; no option of ours is named like a number.
 */
function attachNegativeValues(options: OptionSpec, argv: string[]): string[] {
  const takesValue = (token: string): string | undefined => {
    if (token.startsWith('--') && !token.includes('=')) return options[token.slice(2)]?.type === 'string' ? token : undefined;
    if (/^-[a-zA-Z]$/.test(token)) {
      const long = Object.entries(options).find(([, o]) => o.short === token[1] && o.type === 'string');
      return long ? `--${long[0]}` : undefined;
    }
    return undefined;
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = takesValue(token);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${name}=${next}`);
      i++;
    } else out.push(token);
  }
  return out;
}

/** Parses `argv` for `spec`; throws UsageError for unknown options, missing values or stray arguments. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: attachNegativeValues(spec.options, argv),
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs' messages are good; they only need to lose the stack trace noise.
    throw new UsageError(`${spec.name}: ${(err as Error).message}`);
  }
  const help = parsed.values.help === true;
  if (!help && !spec.positionals && parsed.positionals.length > 0) {
    throw new UsageError(`${spec.name}: unexpected argument '${parsed.positionals[0]}'`);
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals, help };
}

/** A string option's value; UsageError when required and absent. */
export function stringOption(args: ParsedArgs, name: string, required: true): string;
export function stringOption(args: ParsedArgs, name: string, required?: false): string | undefined;
export function stringOption(args: ParsedArgs, name: string, required = false): string | undefined {
  const v = args.values[name];
  const value = Array.isArray(v) ? (v.at(-1) as string | undefined) : (v as string | undefined);
  if (required && (value === undefined || value === '')) throw new UsageError(`missing required option --${name}`);
  return value;
}

/** All values of a repeatable string option. */
export function stringList(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Integer option in [min, max] with a default. */
export function intOption(args: ParsedArgs, name: string, fallback: number, min = 1, max = 10_000_000): number {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  // Signed, so that -1 gets the range message below rather than a format complaint.
  if (!/^[-+]?\d+$/.test(raw.trim())) throw new UsageError(`--${name} expects an integer${min === 1 ? ' >= 1' : ''}, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Optional integer option (undefined when absent). */
export function optionalInt(args: ParsedArgs, name: string, min = 1, max = 4096): number | undefined {
  return stringOption(args, name) === undefined ? undefined : intOption(args, name, 0, min, max);
}

/** One of fixed choices. */
export function choiceOption<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as T;
}

/** The exit-code sentence every command's help ends with. */
export const EXIT_CODES = `Exit codes: 0 success, 1 failure (missing or unusable data, unreadable image, bad model
bundle, ...), 2 usage error.`;

/** The model options shared by every command that loads a model. */
export const MODEL_OPTIONS: OptionSpec = {
  model: { type: 'string', short: 'm' },
  device: { type: 'string' },
  threads: { type: 'string' },
  workers: { type: 'string' },
  precision: { type: 'string' },
  'max-image-pixels': { type: 'string' },
};

/** Help lines for MODEL_OPTIONS. */
export const MODEL_OPTIONS_HELP = `  -m, --model DIR     model bundle made by 'lwfm-spm convert' (default: the embedded,
                      UNTRAINED default model)
      --device D      auto (default) | cpu | cuda
      --threads N     threads per native call and ONNX Runtime session
      --workers N     backbone worker threads
      --precision P   fp32 | int8: without --model, int8 uses the default model's int8
                      version (quantized on first use); with --model, checks the bundle's
      --max-image-pixels N  images with more pixels fail (per image) before decoding
                      (default 40000000)`;

/** Parses MODEL_OPTIONS into load() arguments. */
export function modelOptions(args: ParsedArgs): {
  model: string | undefined;
  load: { device: 'auto' | 'cpu' | 'cuda'; threads?: number; workers?: number; precision?: 'fp32' | 'int8'; maxImagePixels?: number };
} {
  const load: {
    device: 'auto' | 'cpu' | 'cuda';
    threads?: number;
    workers?: number;
    precision?: 'fp32' | 'int8';
    maxImagePixels?: number;
  } = {
    device: choiceOption(args, 'device', ['auto', 'cpu', 'cuda'] as const, 'auto'),
  };
  const threads = optionalInt(args, 'threads', 1, MAX_THREADS);
  const workers = optionalInt(args, 'workers', 1, MAX_WORKERS);
  if (threads !== undefined) load.threads = threads;
  if (workers !== undefined) load.workers = workers;
  if (stringOption(args, 'precision') !== undefined) load.precision = choiceOption(args, 'precision', ['fp32', 'int8'] as const, 'fp32');
  const maxImagePixels = optionalInt(args, 'max-image-pixels', 1, MAX_IMAGE_PIXELS_CAP);
  if (maxImagePixels !== undefined) load.maxImagePixels = maxImagePixels;
  const model = stringOption(args, 'model');
  if (model !== undefined && model.trim() === '') throw new UsageError(`--model expects a model bundle directory, got an empty path`);
  return { model, load };
}

/** --seed: an integer when it looks like one, else the string itself (hashed by the sampler). */
export function seedOption(args: ParsedArgs, fallback = 0): number | string {
  const raw = stringOption(args, 'seed');
  if (raw === undefined) return fallback;
  if (/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (raw.length === 0) throw new UsageError('--seed must not be empty');
  // A number that is not a valid integer seed is a mistake, not a string seed to hash.
  if (/^[-+]?(\d|\.\d)/.test(raw.trim()))
    throw new UsageError(`--seed must be an integer between 0 and ${Number.MAX_SAFE_INTEGER} (or a word), got '${raw}'`);
  return raw;
}
