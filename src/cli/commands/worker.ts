/** `lwfm-spm worker`: a queue worker process that runs until SIGINT/SIGTERM. */
import { startWorker } from '../../queue/worker.js';
import { intOption, modelOptions, parseCommandArgs, stringOption } from '../args.js';
import { workerSpec } from '../queue_specs.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(workerSpec, argv);
  if (args.help) {
    process.stdout.write(`${workerSpec.help}\n`);
    return 0;
  }
  const { model, load } = modelOptions(args);
  const redis = stringOption(args, 'redis', true);
  const queue = stringOption(args, 'queue');
  const prefix = stringOption(args, 'prefix');
  const concurrency = intOption(args, 'concurrency', 2, 1, 1024);
  const lockDurationMs = intOption(args, 'lock-ms', 30_000, 100, 3_600_000);
  const maxJobBytes = intOption(args, 'max-job-bytes', 16 * 1024 * 1024, 1, 512 * 1024 * 1024);
  const log = (line: string): void => void process.stderr.write(`lwfm-spm worker: ${line}\n`);
  log(`loading ${model === undefined ? 'the default model' : `model ${model}`}...`);
  const worker = await startWorker({
    connection: redis,
    ...(queue === undefined ? {} : { queue }),
    ...(prefix === undefined ? {} : { prefix }),
    concurrency,
    model,
    ...load,
    shared: args.values.shared === true,
    lockDurationMs,
    maxJobBytes,
    onLog: log,
  });
  log(`${worker.id} ready on queue ${queue ?? 'lwfm-spm'} (concurrency ${concurrency})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log(`${signal}: finishing running jobs...`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await worker.close();
  log(`stopped after ${worker.completed} jobs (${worker.failed} failed attempts)`);
  return 0;
}
