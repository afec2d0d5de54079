// Decompression bombs through one classify call (issue 11): how long the call takes, the
// process's peak RSS above its baseline, and what each bomb's result says. Run in a fresh
// process so the peak (VmHWM) belongs to this measurement:
//   node --import tsx benchmarks/image_bombs.ts [--count 16] [--side 16000] [--max-image-pixels N] [--workers W] [--json] [--write]
// --write records the run in benchmarks/RESULTS.md (section "Image bombs (maxImagePixels ...)").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FewShotClassifier } from '../src/index.js';
import { pngBomb } from '../test/helpers/image_bomb.js';
import { describeMachine } from './machine.js';
import { markdownTable } from './render.js';
import { upsertResultsSection } from './results_section.js';

/** What one run measured. */
export interface BombReport {
  count: number;
  side: number;
  fileBytes: number;
  maxImagePixels: number | 'default';
  ms: number;
  baselineRssMB: number;
  peakRssMB: number;
  peakAboveBaselineMB: number;
  /** Result per bomb: the ImageDecodeError reason, or 'predicted'. */
  outcomes: Record<string, number>;
  /** The valid image sent in the same call still got its prediction. */
  validImagePredicted: boolean;
}

function arg(name: string, fallback: number | undefined): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function vmHwmMB(): number {
  const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

async function main(): Promise<void> {
  const count = arg('count', 16)!;
  const side = arg('side', 16000)!;
  const maxImagePixels = arg('max-image-pixels', undefined);
  const workers = arg('workers', undefined);
  const bomb = await pngBomb(side);
  const samples = join(import.meta.dirname, '..', 'samples');
  const classes = ['circle', 'square', 'star'];
  const classifier = await FewShotClassifier.load(undefined, {
    device: 'cpu',
    ...(maxImagePixels ? { maxImagePixels } : {}),
    ...(workers ? { workers } : {}),
  });
  try {
    await classifier.setSupport(
      classes.map((c) => join(samples, c, `${c}-00.jpg`)),
      classes,
    );
    // Warm the decode path so the baseline includes sharp's and ORT's steady state.
    await classifier.classify([join(samples, 'star', 'star-01.jpg')]);
    const baseline = process.memoryUsage().rss / 2 ** 20;
    const t0 = performance.now();
    const results = await classifier.classify([...Array.from({ length: count }, () => bomb), join(samples, 'circle', 'circle-01.jpg')]);
    const ms = performance.now() - t0;
    const peak = vmHwmMB();
    const outcomes: Record<string, number> = {};
    for (const r of results.slice(0, count)) {
      const key = r.error ? ('reason' in r.error ? r.error.reason : r.error.code) : 'predicted';
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const report: BombReport = {
      count,
      side,
      fileBytes: bomb.length,
      maxImagePixels: maxImagePixels ?? 'default',
      ms: Math.round(ms),
      baselineRssMB: Math.round(baseline),
      peakRssMB: Math.round(peak),
      peakAboveBaselineMB: Math.round(peak - baseline),
      outcomes,
      validImagePredicted: !results[count]!.error,
    };
    if (process.argv.includes('--json')) console.log(JSON.stringify(report));
    else console.table(report);
    if (process.argv.includes('--write')) {
      const row = {
        ...report,
        outcomes: Object.entries(report.outcomes)
          .map(([k, v]) => `${v} ${k}`)
          .join(', '),
      };
      upsertResultsSection(
        `Image bombs (maxImagePixels ${maxImagePixels ?? 'default 40000000'})`,
        `Run ${new Date().toISOString().slice(0, 10)} on ${describeMachine()} (shared with other jobs), benchmarks/image_bombs.ts: ` +
          `one classify call with ${count} copies of a ${bomb.length}-byte PNG declaring ${side} x ${side} pixels plus one valid image, in a fresh process; ` +
          `peak RSS is the process's VmHWM. Before the decode limits (issue 11) 16 such bombs took 43 s and peaked at 12 GB. Target: peak under 1 GB above baseline, each bomb rejected per item.\n\n${markdownTable([row])}`,
      );
    }
  } finally {
    await classifier.dispose();
  }
}

await main();
