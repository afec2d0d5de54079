/**
 * `lwfm-spm bench`: the microbenchmarks that ship with the package (`match`: exact assignment;
 * `head`: one LWFM-SPM episode), and `peers`, which runs the source checkout's comparison suite
 * (SciPy, npm solvers, the authors' code) in benchmarks/run.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { LwfmError } from '../../errors.js';
import { MAX_THREADS } from '../../validate.js';
import { intOption, parseCommandArgs, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { formatMs } from '../format.js';
import { packageRoot } from '../paths.js';
import { benchHeadSpec, benchMatchSpec, benchSpec } from '../specs.js';
import { machineLine } from '../bench/common.js';
import { runMatchBench } from '../bench/match.js';
import { runHeadBench } from '../bench/head.js';

/** A comma-separated list of integers in [min, max]. */
function intList(args: ParsedArgs, name: string, fallback: number[], min: number, max: number): number[] {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  const text = String(Array.isArray(raw) ? raw.at(-1) : raw);
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((s) => !/^\d+$/.test(s)))
    throw new UsageError(`--${name} expects comma-separated integers (e.g. ${fallback.join(',')}), got '${text}'`);
  const values = parts.map(Number);
  const bad = values.find((v) => v < min || v > max);
  if (bad !== undefined) throw new UsageError(`--${name} values must be between ${min} and ${max}, got ${bad}`);
  return values;
}

function parse(spec: CommandSpec, argv: string[]): ParsedArgs | undefined {
  const args = parseCommandArgs(spec, argv);
  if (args.help) {
    process.stdout.write(`${spec.help}\n`);
    return undefined;
  }
  return args;
}

async function match(argv: string[]): Promise<number> {
  const args = parse(benchMatchSpec, argv);
  if (!args) return 0;
  const opts = {
    sizes: intList(args, 'sizes', [9, 25, 49, 100], 1, 2048),
    batch: args.values.batch === undefined ? undefined : intOption(args, 'batch', 0, 1, 10_000_000),
    threads: intOption(args, 'threads', availableParallelism(), 1, MAX_THREADS),
    repeats: intOption(args, 'repeats', 7, 1, 1000),
  };
  const json = args.values.json === true;
  const machine = machineLine();
  if (!json) process.stdout.write(`Exact assignment, random cosine costs, median of ${opts.repeats} runs after 2 warm-ups\n${machine}\n\n`);
  const rows = await runMatchBench(opts, json ? undefined : (line) => process.stdout.write(`${line}\n`));
  if (json) process.stdout.write(`${JSON.stringify({ benchmark: 'match', machine, repeats: opts.repeats, rows }, null, 2)}\n`);
  return 0;
}

async function head(argv: string[]): Promise<number> {
  const args = parse(benchHeadSpec, argv);
  if (!args) return 0;
  const opts = {
    way: intOption(args, 'way', 5, 1, 100_000),
    shot: intOption(args, 'shot', 1, 1, 10_000),
    queries: intOption(args, 'queries', 75, 1, 1_000_000),
    channels: intList(args, 'channels', [512, 512], 2, 65_536),
    featureSize: intOption(args, 'feature-size', 3, 2, 64),
    matcher: args.values.matcher === true,
    threads: intOption(args, 'threads', availableParallelism(), 1, MAX_THREADS),
    repeats: intOption(args, 'repeats', 11, 1, 1000),
  };
  const json = args.values.json === true;
  const machine = machineLine();
  const r = runHeadBench(opts);
  if (json) {
    process.stdout.write(`${JSON.stringify({ benchmark: 'head', machine, ...opts, ...r }, null, 2)}\n`);
    return 0;
  }
  const shape = `${opts.way}-way ${opts.shot}-shot, ${opts.queries} queries, channels [${opts.channels.join(', ')}], ${opts.featureSize}x${opts.featureSize} pixels, ${opts.matcher ? 'matcher MLPs' : 'no matcher MLP'}, ${opts.threads} threads`;
  // prepare.* before score.*, each call's unattributed rest last, so each group adds up to its call.
  const order = (k: string): number => (k.startsWith('prepare.') ? 0 : 2) + (k.endsWith('.unattributed') ? 1 : 0);
  const stages = Object.entries(r.stages)
    .filter(([, v]) => v >= 0.005)
    .sort(([a], [b]) => order(a) - order(b))
    .map(([k, v]) => `  ${k.padEnd(28)} ${formatMs(v)}`);
  const lines = [
    `LWFM-SPM head episode (CPU engine), median of ${opts.repeats} runs after 2 warm-ups`,
    machine,
    shape,
    '',
    `prepare + score: ${formatMs(r.totalMs)} (prepare ${formatMs(r.prepareMs)}, score ${formatMs(r.scoreMs)}; ${r.pairs} query-support pairs)`,
    'Per stage, as the native engine reports it (unattributed: the rest of the call):',
    ...stages,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** The source checkout's peer comparison suite (benchmarks/run.ts), arguments passed through. */
async function peers(argv: string[]): Promise<number> {
  const driver = join(packageRoot, 'benchmarks', 'run.ts');
  if (!existsSync(driver)) {
    throw new LwfmError(
      `Benchmark driver ${driver} not found: the peer comparisons (SciPy, npm solvers, the authors' code) run from a source checkout (git clone). ` +
        "The installed package has 'lwfm-spm bench match' and 'lwfm-spm bench head'.",
      'ERR_LWFM_NO_BENCHMARKS',
    );
  }
  const child = spawn(process.execPath, ['--import', 'tsx', driver, ...argv], { cwd: packageRoot, stdio: 'inherit' });
  return new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${benchSpec.help}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'match') return match(rest);
  if (sub === 'head') return head(rest);
  if (sub === 'peers') return peers(rest);
  throw new UsageError(`bench: unknown benchmark '${sub}'; expected match, head or peers`);
}
