/** `lwfm-spm classify`: support folder + query files/dirs -> predictions. */
import { statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetError } from '../../classifier/dataset_error.js';
import { describeSkipped, listImages, scanImageFolder } from '../../classifier/image_folder.js';
import type { FewShotClassifier } from '../../classifier/classifier.js';
import { addTimings, zeroTimings } from '../../classifier/timings.js';
import type { Classification, ClassifyResult } from '../../classifier/types.js';
import { UsageError, modelOptions, optionalInt, parseCommandArgs, stringList, stringOption } from '../args.js';
import { classifyJsonl } from './classify_jsonl.js';
import { percent, table, timingsLine, UNTRAINED_NOTE } from '../format.js';
import { loadClassifier } from '../load_model.js';
import { Progress } from '../progress.js';
import { classifySpec } from '../specs.js';

interface QueryItem {
  file: string;
  truth: string | undefined;
}

/** Expands query paths: files as given, directories to their images (subdirectory name = truth). */
export function collectQueries(paths: string[], skipped: string[] = []): QueryItem[] {
  const items: QueryItem[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new DatasetError(abs, 'query path does not exist');
    }
    if (!isDir) {
      items.push({ file: abs, truth: undefined });
      continue;
    }
    const before = items.length;
    for (const file of listImages(abs, skipped)) items.push({ file, truth: undefined });
    const subdirs = readdirSync(abs, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
    for (const sub of subdirs) for (const file of listImages(join(abs, sub), skipped)) items.push({ file, truth: sub });
    if (items.length === before) throw new DatasetError(abs, 'query directory has no images (looked in it and in its subdirectories)');
  }
  return items;
}

/**
 * classify() in chunks so that a long run shows progress (images done, rate, ETA, and the running
 * accuracy when the queries have a truth); the chunks run one after another, so their results
 * and stage timings combine into those of one call.
 */
async function classifyWithProgress(classifier: FewShotClassifier, queries: QueryItem[], progress: Progress): Promise<Classification> {
  // At least 64 images per call keeps the backbone's worker jobs full; at most ~100 updates.
  const chunk = Math.max(64, Math.ceil(queries.length / 100));
  const start = performance.now();
  const all: ClassifyResult[] = [];
  const timings = zeroTimings();
  let labels: Classification['labels'] = [];
  let known = 0;
  let correct = 0;
  try {
    for (let from = 0; from < queries.length; from += chunk) {
      const part = queries.slice(from, from + chunk);
      const results = await classifier.classify(part.map((q) => q.file));
      labels = results.labels;
      addTimings(timings, results.timings);
      results.forEach((r, i) => {
        const truth = part[i]!.truth;
        if (truth === undefined || r.error) return;
        known++;
        if (String(r.label) === truth) correct++;
      });
      all.push(...results);
      const elapsedMs = performance.now() - start;
      const rate = all.length / (elapsedMs / 1000);
      progress.update({
        done: all.length,
        total: queries.length,
        rate,
        etaMs: ((queries.length - all.length) / rate) * 1000,
        unit: 'images',
        accuracy: known > 0 ? correct / known : undefined,
      });
    }
  } finally {
    progress.finish();
  }
  return Object.assign(all, { labels, timings });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(classifySpec, argv);
  if (args.help) {
    process.stdout.write(`${classifySpec.help}\n`);
    return 0;
  }
  const model = modelOptions(args);
  const supportDir = stringOption(args, 'support', true);
  const queryPaths = [...stringList(args, 'query'), ...args.positionals];
  if (queryPaths.length === 0) throw new UsageError('missing required option --query');
  const json = args.values.json === true;
  const quiet = args.values.quiet === true;
  const jsonl = args.values.jsonl === true;
  if (json && jsonl) throw new UsageError('--json and --jsonl exclude each other');
  const batchSize = optionalInt(args, 'batch-size', 1, 4096);
  if (batchSize !== undefined && !jsonl) throw new UsageError('--batch-size applies to --jsonl only');

  // Check all paths before the (slow) model load.
  const folder = scanImageFolder(supportDir);
  const empty = folder.classes.filter((c) => c.files.length === 0);
  if (empty.length > 0) {
    throw new DatasetError(folder.root, `every support class needs at least one image; empty: ${empty.map((c) => c.name).join(', ')}`);
  }
  const skipped = [...folder.skipped];
  // --jsonl reads query directories lazily, as the stream consumes them.
  const queries = jsonl ? [] : collectQueries(queryPaths, skipped);
  if (skipped.length > 0) process.stderr.write(`lwfm-spm: warning: ${describeSkipped(skipped)}\n`);

  if (folder.classes.length === 1) {
    process.stderr.write(
      `lwfm-spm: warning: the support set has a single class (${folder.classes[0]!.name}): every query is assigned to it with probability 1; few-shot classification needs at least two classes\n`,
    );
  }

  await using classifier = await loadClassifier(model, json || quiet);
  const info = classifier.info();
  const supportFiles = folder.classes.flatMap((c) => c.files);
  const supportLabels = folder.classes.flatMap((c) => c.files.map(() => c.name));
  const support = await classifier.setSupport(supportFiles, supportLabels);
  if (jsonl) return await classifyJsonl(classifier, queryPaths, { quiet, ...(batchSize !== undefined ? { batchSize } : {}) });
  const progress = new Progress(process.stderr, undefined, json || quiet);
  const results = await classifyWithProgress(classifier, queries, progress);
  // setSupport and classify run one after the other, so their stages add up.
  const timings = addTimings({ ...support.timings }, results.timings);

  const failed = results.filter((r) => r.error).length;
  const withTruth = queries.map((q, i) => ({ q, r: results[i]! })).filter(({ q, r }) => q.truth !== undefined && !r.error);
  const accuracy = withTruth.length > 0 ? withTruth.filter(({ q, r }) => r.label === q.truth).length / withTruth.length : undefined;

  if (json) {
    const entries = queries.map((q, i) => {
      const r = results[i]!;
      return r.error
        ? { file: q.file, truth: q.truth ?? null, error: r.error.message }
        : { file: q.file, truth: q.truth ?? null, label: r.label, index: r.index, probabilities: r.probabilities, logits: r.logits };
    });
    process.stdout.write(
      `${JSON.stringify({ untrained: !info.model.trained, model: info.model, labels: results.labels, shotsPerClass: support.shotsPerClass, results: entries, accuracy: accuracy ?? null, timings }, null, 2)}\n`,
    );
  } else {
    const out: string[] = [];
    if (!info.model.trained) out.push(UNTRAINED_NOTE, '');
    out.push(`Support: ${support.way} classes, ${support.size} images (${folder.root})`, '');
    const hasTruth = queries.some((q) => q.truth !== undefined);
    const header = hasTruth ? ['query', 'predicted', 'p', 'truth'] : ['query', 'predicted', 'p'];
    out.push(
      table(
        header,
        queries.map((q, i) => {
          const r = results[i]!;
          const row = r.error ? [q.file, `error: ${r.error.message}`, ''] : [q.file, String(r.label), r.probabilities[r.index]!.toFixed(3)];
          return hasTruth ? [...row, q.truth ?? ''] : row;
        }),
      ),
    );
    if (accuracy !== undefined) out.push('', `Accuracy on ${withTruth.length} queries with a known class: ${percent(accuracy)}`);
    out.push('', timingsLine(timings));
    process.stdout.write(`${out.join('\n')}\n`);
  }
  if (failed > 0) {
    process.stderr.write(
      `lwfm-spm: ${failed} of ${queries.length} query image${queries.length === 1 ? '' : 's'} could not be read (see above)\n`,
    );
    return 1;
  }
  return 0;
}
