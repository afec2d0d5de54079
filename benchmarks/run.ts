// Runs benchmark suites in one process, prints each table as it finishes, and rewrites
// benchmarks/RESULTS.md with every suite run this time (sections not rerun are kept).
//   node --import tsx benchmarks/run.ts [match|assignment|head|backbone|cuda|explain|int8|stream|queue|all] [--no-write]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './machine.js';
import { markdownTable, type Row } from './render.js';

type Suite = { title: string; load: () => Promise<() => Promise<Row[]>> };

const suites: Record<string, Suite> = {
  assignment: {
    title: 'Assignment (batched, exact)',
    load: async () => (await import('./assignment.bench.js')).runAssignmentBenchmarks as () => Promise<Row[]>,
  },
  head: {
    title: 'Head (LWFM-SPM episode latency)',
    load: async () => (await import('./head.bench.js')).runHeadBenchmarks as () => Promise<Row[]>,
  },
  cuda: {
    title: 'GPU from Node (solveAssignmentsCuda, CudaSupport)',
    load: async () => (await import('./cuda.bench.js')).runCudaBenchmarks as () => Promise<Row[]>,
  },
  explain: {
    title: 'Explanations (classifier.explain, renderExplanation)',
    load: async () => (await import('./explain.bench.js')).runExplainBenchmarks as () => Promise<Row[]>,
  },
  backbone: {
    title: 'Backbone (ResNet-18 taps, ONNX Runtime)',
    load: async () => (await import('./backbone.bench.js')).runBackboneBenchmarks as () => Promise<Row[]>,
  },
  int8: {
    title: 'int8 backbone (QDQ bundle vs fp32, ONNX Runtime)',
    load: async () => (await import('./int8.bench.js')).runInt8Benchmarks as () => Promise<Row[]>,
  },
  stream: {
    title: 'Streaming classification (classifyStream over image files)',
    load: async () => (await import('./stream.bench.js')).runStreamBenchmarks as () => Promise<Row[]>,
  },
  pretrained: {
    title: 'Pretrained backbones (ResNet-18/34/50 bundles vs bare ONNX Runtime vs PyTorch)',
    load: async () => (await import('./pretrained.bench.js')).runPretrainedBenchmarks as () => Promise<Row[]>,
  },
  resolution: {
    title: 'Backbone cost against input resolution (pretrained bundles)',
    load: async () => (await import('./pretrained.bench.js')).runResolutionBenchmarks as () => Promise<Row[]>,
  },
  service: {
    title: 'Service (lwfm-spm serve over HTTP, autocannon)',
    load: async () => (await import('./service.bench.js')).runServiceBenchmarks as () => Promise<Row[]>,
  },
  queue: {
    title: 'Queue (Redis + BullMQ worker processes)',
    load: async () => (await import('./queue.bench.js')).runQueueBenchmarks as () => Promise<Row[]>,
  },
};

const groups: Record<string, string[]> = {
  match: ['assignment', 'head', 'cuda'],
  all: ['assignment', 'head', 'cuda', 'backbone', 'explain', 'int8', 'stream'],
};

const here = dirname(fileURLToPath(import.meta.url));
const resultsPath = join(here, 'RESULTS.md');

function readSections(): Map<string, string> {
  const sections = new Map<string, string>();
  if (!existsSync(resultsPath)) return sections;
  const text = readFileSync(resultsPath, 'utf8');
  for (const part of text.split(/^## /m).slice(1)) {
    const title = part.slice(0, part.indexOf('\n')).trim();
    sections.set(title, `## ${part.trimEnd()}\n`);
  }
  return sections;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = !args.includes('--no-write');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const names = (wanted.length ? wanted : ['all']).flatMap((n) => groups[n] ?? [n]);
  for (const n of names)
    if (!suites[n]) throw new Error(`Unknown benchmark suite ${n}; known: ${[...Object.keys(suites), ...Object.keys(groups)].join(', ')}`);
  const machine = describeMachine();
  const date = new Date().toISOString().slice(0, 10);
  console.log(`machine: ${machine}`);
  const sections = readSections();
  for (const name of names) {
    const suite = suites[name]!;
    console.log(`\n## ${suite.title}`);
    const run = await suite.load();
    const rows = await run();
    if (rows.length === 0) continue; // nothing measured here (the GPU suite without a device): keep what is recorded
    const table = markdownTable(rows);
    console.log(table);
    sections.set(suite.title, `## ${suite.title}\n\nRun ${date} on ${machine}.\n\n${table}`);
  }
  if (write) {
    const titles = new Set(Object.values(suites).map((s) => s.title));
    // Sections written by other tools (the GPU device check's table, recorded on a machine
    // with a GPU) are kept after the suites' own.
    const foreign = [...sections.entries()].filter(([t]) => !titles.has(t)).map(([, s]) => s);
    const ordered = [
      ...Object.values(suites)
        .map((s) => sections.get(s.title))
        .filter((s): s is string => s !== undefined),
      ...foreign,
    ];
    const header =
      '# Benchmark results\n\nWritten by `npm run bench` / `npm run bench:match` (benchmarks/run.ts). ' +
      'Every ratio compares implementations measured in the same run on the same machine; ' +
      'medians of repeated runs after warm-up.\n\n';
    writeFileSync(resultsPath, `${header}${ordered.join('\n')}`);
    console.log(`wrote ${resultsPath}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
