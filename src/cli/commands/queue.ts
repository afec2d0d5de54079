/** `lwfm-spm queue status|classify`: the dead-letter view, and a folder through the queue. */
import { basename, resolve } from 'node:path';
import { DatasetError } from '../../classifier/dataset_error.js';
import { scanImageFolder } from '../../classifier/image_folder.js';
import { ClassificationQueue } from '../../queue/producer.js';
import type { QueueStatus } from '../../queue/status.js';
import { UsageError, intOption, parseCommandArgs, stringList, stringOption, type ParsedArgs } from '../args.js';
import { queueSpec } from '../queue_specs.js';
import { collectQueries } from './classify.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(queueSpec, argv);
  if (args.help) {
    process.stdout.write(`${queueSpec.help}\n`);
    return 0;
  }
  const [sub, ...rest] = args.positionals;
  if (sub !== 'status' && sub !== 'classify')
    throw new UsageError(`queue: expected 'status' or 'classify', got ${sub === undefined ? 'nothing' : `'${sub}'`}`);
  const queue = openQueue(args);
  try {
    return sub === 'status' ? await status(queue, args) : await classify(queue, args, rest);
  } finally {
    await queue.close();
  }
}

function openQueue(args: ParsedArgs): ClassificationQueue {
  const queue = stringOption(args, 'queue');
  const prefix = stringOption(args, 'prefix');
  return new ClassificationQueue({
    connection: stringOption(args, 'redis', true),
    ...(queue === undefined ? {} : { queue }),
    ...(prefix === undefined ? {} : { prefix }),
  });
}

async function status(queue: ClassificationQueue, args: ParsedArgs): Promise<number> {
  const s = await queue.status({ failedLimit: intOption(args, 'failed', 20, 0, 10_000) });
  if (args.values.json === true) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${formatStatus(s)}\n`);
  return 0;
}

/** The status as text: counts, workers, then one line per failed job. */
export function formatStatus(s: QueueStatus): string {
  const counts = Object.entries(s.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [`Queue ${s.queue}: ${counts}; workers ${s.workers}`];
  if (s.failed.length > 0) {
    lines.push(`Failed jobs (newest ${s.failed.length}):`);
    for (const f of s.failed) {
      const when = f.finishedOn ? new Date(f.finishedOn).toISOString() : '?';
      lines.push(`  ${f.id}  ${f.name}  ${f.code}  attempts ${f.attemptsMade}  ${when}  ${f.message.slice(0, 200)}`);
    }
  }
  return lines.join('\n');
}

async function classify(queue: ClassificationQueue, args: ParsedArgs, positionals: string[]): Promise<number> {
  const supportDir = stringOption(args, 'support', true);
  const queryPaths = [...stringList(args, 'query'), ...positionals];
  if (queryPaths.length === 0) throw new UsageError('missing required option --query');
  const folder = scanImageFolder(supportDir);
  const empty = folder.classes.filter((c) => c.files.length === 0);
  if (empty.length > 0)
    throw new DatasetError(folder.root, `every support class needs at least one image; empty: ${empty.map((c) => c.name).join(', ')}`);
  const queries = collectQueries(queryPaths);
  const shared = args.values.shared === true;
  const json = args.values.json === true;
  const id = stringOption(args, 'support-set') ?? basename(resolve(supportDir)).replace(/[^A-Za-z0-9._:@-]/g, '_');
  const stored = await queue.putSupportSet(
    id,
    folder.classes.flatMap((c) => c.files),
    folder.classes.flatMap((c) => c.files.map(() => c.name)),
    { shared },
  );
  process.stderr.write(`Support set ${stored.supportSetId} version ${stored.version}: ${stored.size} images\n`);
  let i = 0;
  let failed = 0;
  const batchSize = intOption(args, 'batch-size', 16, 1, 4096);
  for await (const r of queue.classifyMany(
    id,
    queries.map((q) => q.file),
    { batchSize, shared },
  )) {
    const q = queries[i++]!;
    if (r.error) failed++;
    if (json) {
      const entry = r.error
        ? { file: q.file, error: r.error.message }
        : { file: q.file, label: r.label, probability: r.probabilities[r.index], truth: q.truth };
      process.stdout.write(`${JSON.stringify(entry)}\n`);
    } else {
      process.stdout.write(
        `${q.file}\t${r.error ? `error: ${r.error.message}` : `${String(r.label)}\t${r.probabilities[r.index]!.toFixed(4)}`}\n`,
      );
    }
  }
  return failed > 0 ? 1 : 0;
}
