#!/usr/bin/env node
/**
 * The `lwfm-spm` command line. Commands load lazily, so `--help` and argument
 * errors answer at once without starting onnxruntime or loading the addon.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { LwfmError } from '../errors.js';
import { UsageError } from './args.js';
import { packageVersion } from './paths.js';
import { COMMANDS, mainHelp } from './specs.js';

type CommandModule = { run(argv: string[]): Promise<number> };

const loaders: Record<string, () => Promise<CommandModule>> = {
  demo: () => import('./commands/demo.js'),
  classify: () => import('./commands/classify.js'),
  explain: () => import('./commands/explain.js'),
  eval: () => import('./commands/eval.js'),
  convert: () => import('./commands/convert.js'),
  pretrained: () => import('./commands/pretrained.js'),
  quantize: () => import('./commands/quantize.js'),
  info: () => import('./commands/info.js'),
  bench: () => import('./commands/bench.js'),
  worker: () => import('./commands/worker.js'),
  queue: () => import('./commands/queue.js'),
  serve: () => import('./commands/serve.js'),
};

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${mainHelp(packageVersion())}\n`);
    return 2;
  }
  if (command === '-h' || command === '--help') {
    process.stdout.write(`${mainHelp(packageVersion())}\n`);
    return 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    const target = rest[0];
    const spec = COMMANDS.find((c) => c.name === target);
    if (target !== undefined && !spec) return usageFailure(new UsageError(`unknown command '${target}'`));
    process.stdout.write(`${spec ? spec.help : mainHelp(packageVersion())}\n`);
    return 0;
  }
  const load = loaders[command];
  if (!load) return usageFailure(new UsageError(`unknown command '${command}'. Commands: ${COMMANDS.map((c) => c.name).join(', ')}`));
  try {
    return await (await load()).run(rest);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(err, command);
    return failure(err);
  }
}

function usageFailure(err: UsageError, command?: string): number {
  const helpHint = command ? `lwfm-spm ${command} --help` : 'lwfm-spm --help';
  process.stderr.write(`lwfm-spm: ${err.message}\nRun '${helpHint}' for usage.\n`);
  return 2;
}

function failure(err: unknown): number {
  const debug = process.env.LWFM_SPM_DEBUG === '1';
  if (err instanceof LwfmError || err instanceof TypeError || err instanceof RangeError) {
    process.stderr.write(`lwfm-spm: error: ${err.message}\n`);
  } else {
    process.stderr.write(`lwfm-spm: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof LwfmError)) process.stderr.write('(set LWFM_SPM_DEBUG=1 for the stack trace)\n');
  return 1;
}

// Run when executed directly (bin or `node --import tsx src/cli/main.ts`), not when imported by tests.
function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = failure(err);
    },
  );
}
