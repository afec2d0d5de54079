/**
 * `lwfm-spm classify --jsonl`: streams query images of any number through
 * FewShotClassifier.classifyStream and writes one JSON line per image as soon as it is
 * classified. Directories are read lazily (opendir, directory order, never listed whole
 * in memory), so memory stays flat for millions of files; stdout's backpressure holds the
 * pipeline. Ctrl-C (SIGINT) stops cleanly: every line written is complete, the backbone
 * finishes the batches it holds, and the exit code is 130; a second Ctrl-C exits at once.
 */
import { once } from 'node:events';
import { opendir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DatasetError } from '../../classifier/dataset_error.js';
import { isImageFile } from '../../classifier/image_folder.js';
import type { FewShotClassifier } from '../../classifier/classifier.js';

/** One query: its path and, for images in a subdirectory of a query directory, that subdirectory's name. */
interface QueryItem {
  file: string;
  truth: string | undefined;
}

/** Images directly inside `dir`, in directory order (hidden files and non-images skipped). */
async function* imagesIn(dir: string, truth: string | undefined): AsyncGenerator<QueryItem> {
  for await (const e of await opendir(dir)) {
    if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) yield { file: join(dir, e.name), truth };
  }
}

/**
 * Query paths as a lazy sequence: a file as given; a directory's images, then the images
 * of each (sorted) subdirectory with the subdirectory's name as their truth.
 */
export async function* walkQueries(paths: readonly string[]): AsyncGenerator<QueryItem> {
  for (const p of paths) {
    const abs = resolve(p);
    let isDir: boolean;
    try {
      isDir = (await stat(abs)).isDirectory();
    } catch {
      throw new DatasetError(abs, 'query path does not exist');
    }
    if (!isDir) {
      yield { file: abs, truth: undefined };
      continue;
    }
    let count = 0;
    const subdirs: string[] = [];
    for await (const e of await opendir(abs)) {
      if (e.isDirectory() && !e.name.startsWith('.')) subdirs.push(e.name);
      else if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) {
        count++;
        yield { file: join(abs, e.name), truth: undefined };
      }
    }
    for (const sub of subdirs.sort()) {
      for await (const item of imagesIn(join(abs, sub), sub)) {
        count++;
        yield item;
      }
    }
    if (count === 0) throw new DatasetError(abs, 'query directory has no images (looked in it and in its subdirectories)');
  }
}

/** Writes a line, waiting for stdout to drain when its buffer is full. */
async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(line)) await once(process.stdout, 'drain');
}

/** Streams the queries to stdout as JSON Lines; returns the exit code. */
export async function classifyJsonl(
  classifier: FewShotClassifier,
  queryPaths: readonly string[],
  opts: { quiet: boolean; batchSize?: number },
): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // the user insists: no clean-up
    if (!opts.quiet) process.stderr.write('\nlwfm-spm: interrupted; finishing the lines in flight (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSigint);
  // inputIndex -> truth of the images in the pipeline only (a few batches), not of all of them.
  const truths = new Map<number, string | undefined>();
  let pulled = 0;
  async function* files(): AsyncGenerator<string> {
    for await (const q of walkQueries(queryPaths)) {
      truths.set(pulled++, q.truth);
      yield q.file;
    }
  }
  const start = performance.now();
  let done = 0;
  let failed = 0;
  let known = 0;
  let correct = 0;
  let lastReport = start;
  const status = (): string => {
    const s = (performance.now() - start) / 1000;
    const acc = known > 0 ? `, accuracy ${((100 * correct) / known).toFixed(2)}% on ${known} with a known class` : '';
    return `${done} images (${failed} unreadable) in ${s.toFixed(1)} s, ${(done / s).toFixed(1)} images/s${acc}`;
  };
  try {
    const stream = classifier.classifyStream(files(), {
      signal: controller.signal,
      ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
    });
    for await (const r of stream) {
      const truth = truths.get(r.inputIndex) ?? null;
      truths.delete(r.inputIndex);
      const line = r.error
        ? { inputIndex: r.inputIndex, file: r.source, truth, error: r.error.message }
        : {
            inputIndex: r.inputIndex,
            file: r.source,
            truth,
            label: r.label,
            index: r.index,
            probability: r.probabilities[r.index],
            probabilities: r.probabilities,
            logits: r.logits,
          };
      await writeLine(`${JSON.stringify(line)}\n`);
      done++;
      if (r.error) failed++;
      else if (truth !== null) {
        known++;
        if (String(r.label) === truth) correct++;
      }
      const now = performance.now();
      if (!opts.quiet && now - lastReport > 5000) {
        lastReport = now;
        process.stderr.write(`lwfm-spm: ${status()}\n`);
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    if (!opts.quiet) process.stderr.write(`lwfm-spm: stopped after ${status()}; every line written is complete\n`);
    return 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (!opts.quiet) process.stderr.write(`lwfm-spm: classified ${status()}\n`);
  return failed > 0 ? 1 : 0;
}
