/**
 * Child process of the streaming benchmark: classifies every image of a directory with
 * classifyStream (the directory read lazily, as `lwfm-spm classify --jsonl` does) and
 * prints one JSON line: images, failures, seconds, peak RSS of this process (its backbone
 * worker threads included) and RSS once the model and support set were loaded.
 *   node --import tsx benchmarks/stream_rss_child.ts BUNDLE_DIR SUPPORT_DIR QUERY_DIR THREADS BATCH
 */
import { FewShotClassifier } from '../src/classifier/classifier.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { walkQueries } from '../src/cli/commands/classify_jsonl.js';

const [bundleDir, supportDir, queryDir, threads, batch] = process.argv.slice(2) as [string, string, string, string, string];
const classifier = await FewShotClassifier.load(bundleDir, { device: 'cpu', threads: Number(threads), workers: 1 });
const folder = scanImageFolder(supportDir);
await classifier.setSupport(
  folder.classes.flatMap((c) => c.files),
  folder.classes.flatMap((c) => c.files.map(() => c.name)),
);
const loadedRssMB = process.memoryUsage().rss / 2 ** 20;
async function* files(): AsyncGenerator<string> {
  for await (const q of walkQueries([queryDir])) yield q.file;
}
const t0 = performance.now();
let images = 0;
let failed = 0;
for await (const r of classifier.classifyStream(files(), { batchSize: Number(batch) })) {
  images++;
  if (r.error) failed++;
}
const seconds = (performance.now() - t0) / 1000;
await classifier.dispose();
// resourceUsage().maxRSS is in kilobytes.
console.log(JSON.stringify({ images, failed, seconds, peakRssMB: process.resourceUsage().maxRSS / 1024, loadedRssMB }));
