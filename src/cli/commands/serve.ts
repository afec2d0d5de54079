/**
 * `lwfm-spm serve`: the lwfm-spm/fastify plugin on a bare Fastify app, with the
 * process lifecycle a supervisor expects: a ready line on stdout, logs on stderr,
 * graceful shutdown on SIGTERM/SIGINT and immediate exit on a second signal.
 */
import { constants } from 'node:os';
import Fastify from 'fastify';
import { readApiKeyFile } from '../../service/auth.js';
import { lwfmSpmPlugin } from '../../service/plugin.js';
import type { LwfmSpmPluginOptions } from '../../service/options.js';
import {
  choiceOption,
  intOption,
  modelOptions,
  optionalInt,
  parseCommandArgs,
  stringOption,
  UsageError,
  type ParsedArgs,
} from '../args.js';
import { serveSpec } from '../specs.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(serveSpec, argv);
  if (args.help) {
    process.stdout.write(`${serveSpec.help}\n`);
    return 0;
  }
  const host = stringOption(args, 'host') ?? '127.0.0.1';
  const port = intOption(args, 'port', 8080, 0, 65535);
  const graceMs = intOption(args, 'grace-ms', 30_000, 0, 3_600_000);
  const logLevel = choiceOption(args, 'log-level', LOG_LEVELS, 'info');
  const options = pluginOptions(args);

  const app = Fastify({
    logger: { level: logLevel, stream: process.stderr },
    // Our onRequest hook answers requests that arrive while closing, in the API's error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Slow uploads cannot hold a connection past the request limit.
    requestTimeout: (options.requestTimeoutMs ?? 30_000) + 5_000,
  });

  let closing = false;
  let listening = false;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing || !listening) {
      process.stderr.write(`lwfm-spm serve: ${signal} ${closing ? 'again, exiting now' : 'before the server was ready, exiting'}\n`);
      // The shell's code for "ended by this signal" (130 for SIGINT, 143 for SIGTERM).
      process.exit(128 + constants.signals[signal]);
    }
    closing = true;
    process.stderr.write(`lwfm-spm serve: ${signal}, finishing requests in flight (grace ${graceMs} ms)\n`);
    const timer = setTimeout(() => {
      process.stderr.write('lwfm-spm serve: grace period over, exiting with requests unfinished\n');
      process.exit(1);
    }, graceMs);
    app.close().then(
      () => {
        clearTimeout(timer);
        process.stderr.write('lwfm-spm serve: stopped\n');
        finish(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        process.stderr.write(`lwfm-spm serve: error while stopping: ${(err as Error).message}\n`);
        finish(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await app.register(lwfmSpmPlugin, options);
    const address = await app.listen({ host, port });
    listening = true;
    process.stdout.write(`listening on ${address}\n`);
  } catch (err) {
    await app.close().catch(() => undefined);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    throw err;
  }
  // The handlers stay: a signal during the last teardown still means "exit now".
  return done;
}

/** The plugin options that the command line sets. */
function pluginOptions(args: ParsedArgs): LwfmSpmPluginOptions {
  const { model, load } = modelOptions(args);
  const o: LwfmSpmPluginOptions = { model, ...load };
  const limits: [keyof LwfmSpmPluginOptions, string, number][] = [
    ['maxConcurrent', 'max-concurrent', 4096],
    ['requestTimeoutMs', 'timeout-ms', 3_600_000],
    ['maxImageBytes', 'max-image-bytes', 1024 ** 3],
    ['maxImagesPerRequest', 'max-images', 100_000],
    ['maxImagePixels', 'max-pixels', 1_000_000_000],
    ['maxSupportSets', 'max-support-sets', 10_000_000],
    ['maxSupportImages', 'max-support-images', 100_000_000],
  ];
  for (const [key, flag, max] of limits) {
    const v = optionalInt(args, flag, 1, max);
    if (v !== undefined) (o as Record<string, unknown>)[key] = v;
  }
  const queue = optionalInt(args, 'max-queue', 0, 1_000_000);
  if (queue !== undefined) o.maxQueue = queue;
  const store = stringOption(args, 'store');
  if (store !== undefined) o.store = store;
  const keyFile = stringOption(args, 'api-key-file');
  if (keyFile !== undefined) {
    let keys: string[];
    try {
      keys = readApiKeyFile(keyFile);
    } catch (err) {
      throw new UsageError(`--api-key-file: ${(err as Error).message}`);
    }
    if (keys.some((k) => k.length < 16)) throw new UsageError('--api-key-file: every key must have at least 16 characters');
    o.auth = { apiKeys: keys };
  }
  return o;
}
