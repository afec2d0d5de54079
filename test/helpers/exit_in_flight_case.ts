/**
 * Child-process side of test/exit_in_flight.test.ts (issue 11): starts long native work of one
 * kind, then calls process.exit(EXIT_CODE) (or worker.terminate()) while it runs. Before the
 * fix this process died of SIGABRT ("terminate called after throwing an instance of
 * 'Napi::Error'"); the parent asserts a normal exit with EXIT_CODE.
 *
 * Run: node --import tsx test/helpers/exit_in_flight_case.ts <case>
 * Prints "in flight: <case>" just before exiting when the work had not finished by then (the
 * parent checks it, so a case that finished too early cannot pass by accident).
 */
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { solveAssignments } from '../../src/assignment.js';
import { Head } from '../../src/head.js';
import { spawnModuleWorker } from '../../src/backbone/spawn_worker.js';
import { rng } from './seeded_rng.js';

export const EXIT_CODE = 3;

/**
 * Native work that runs for a good while on 2 busy cores (seconds when run to the end); each
 * calls `started` once its native calls are submitted.
 */
const work: Record<string, (started: () => void) => Promise<unknown>> = {
  solveAssignments: (started) => {
    // c[i][j] = (i + 1)(j + 1) (Machol-Wien): the shortest-path solver's worst case, O(n^3)
    // per matrix, so that the work is long but the input small (60 x 400 x 400: 38 MB, ~1 s).
    const n = 400;
    const batch = 60;
    const costs = new Float32Array(batch * n * n);
    for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) costs[(b * n + i) * n + j] = (i + 1) * (j + 1);
    const all = solveAssignments(costs, { batch, rows: n, cols: n });
    started();
    return all;
  },
  'Head.prepareSupport': async (started) => {
    const head = new Head({ channels: [512, 512], device: 'cpu', threads: 2 });
    const { support, labels } = headInputs(head, 200);
    const all = Promise.all([0, 1, 2].map(() => head.prepareSupport(support, labels)));
    started();
    return all;
  },
  'Head.score': async (started) => {
    const head = new Head({ channels: [512, 512], device: 'cpu', threads: 2 });
    const { support, labels } = headInputs(head, 25);
    const prepared = await head.prepareSupport(support, labels);
    const next = rng(5);
    const queries = new Float32Array(600 * head.imageSize).map(() => next());
    const all = Promise.all([0, 1].map(() => head.score(prepared, queries)));
    started();
    return all;
  },
};

function headInputs(head: Head, count: number): { support: Float32Array; labels: number[] } {
  const next = rng(3);
  return {
    support: new Float32Array(count * head.imageSize).map(() => next()),
    labels: Array.from({ length: count }, (_, i) => i % 5),
  };
}

/** Runs `run` and exits `delayMs` after it has started its native work, reporting whether it was still running. */
async function exitDuring(name: string, run: (started: () => void) => Promise<unknown>, delayMs: number): Promise<void> {
  let settled = false;
  const arm = (): void => {
    setTimeout(() => {
      if (!settled) process.stdout.write(`in flight: ${name}\n`);
      process.exit(EXIT_CODE);
    }, delayMs);
  };
  await run(arm).then(
    () => (settled = true),
    (e: unknown) => {
      settled = true;
      process.stderr.write(`${name} failed before the exit: ${String(e)}\n`); // says why no "in flight"
    },
  );
}

/** Worker-thread cases: our addon's async work in a worker while the process exits or the worker is terminated. */
function inWorker(name: string, mode: 'exit' | 'terminate'): void {
  const worker: Worker = spawnModuleWorker(new URL(import.meta.url), { workerData: { kind: name } });
  worker.on('message', () => {
    setTimeout(() => {
      process.stdout.write(`in flight: ${name} in a worker\n`);
      if (mode === 'exit') process.exit(EXIT_CODE);
      void worker.terminate().then(() => process.exit(EXIT_CODE));
    }, 300);
  });
}

/** The backbone worker (onnxruntime-node and sharp) embedding images while the process exits. */
async function classifyDuringExit(data: string): Promise<void> {
  const { FewShotClassifier } = await import('../../src/classifier/classifier.js');
  const classes = readdirSync(data).slice(0, 4);
  const files = classes.map((c) => readdirSync(join(data, c)).map((f) => join(data, c, f)));
  const classifier = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 1, workers: 2 });
  await classifier.setSupport(
    files.flatMap((f) => f.slice(0, 2)),
    classes.flatMap((c) => [c, c]),
  );
  const queries = Array.from({ length: 20 }, () => files.flatMap((f) => f.slice(2))).flat();
  await exitDuring(
    'classify',
    async (started) => {
      const all = Promise.all([0, 1, 2].map(() => classifier.classify(queries)));
      started();
      return all;
    },
    400,
  );
}

/** The quantizer's worker calibrating with ONNX Runtime while the process exits. */
async function quantizeDuringExit(out: string): Promise<void> {
  const { defaultBundle } = await import('../../src/model/default_bundle.js');
  const { quantizeBundle } = await import('../../src/model/quantize/quantize_bundle.js');
  const fp32 = await defaultBundle();
  // A first, complete run says how long this machine takes now; the second exits at 45% of
  // that, in the calibration runs (between decoding the sample images and building the int8 graph).
  const t0 = performance.now();
  await quantizeBundle(fp32.dir, join(out, 'timing'), { threads: 1, onWarning: () => undefined });
  const full = performance.now() - t0;
  await exitDuring(
    'quantizeBundle',
    async (started) => {
      const done = quantizeBundle(fp32.dir, join(out, 'int8'), { threads: 1, onWarning: () => undefined });
      started();
      return done;
    },
    0.45 * full,
  );
}

if (!isMainThread) {
  // Loops the work so that some of it is always in flight, and says when it began.
  const kind = (workerData as { kind: string }).kind;
  let told = false;
  const started = (): void => {
    if (!told) parentPort!.postMessage('started');
    told = true;
  };
  const loop = async (): Promise<void> => {
    for (;;) await work[kind]!(started);
  };
  void loop();
} else {
  const [name = '', arg = ''] = process.argv.slice(2);
  if (name === 'classify') await classifyDuringExit(arg);
  else if (name === 'quantizeBundle') await quantizeDuringExit(arg);
  else if (name.startsWith('worker:')) inWorker(name.slice(7), 'exit');
  else if (name.startsWith('terminate:')) inWorker(name.slice(10), 'terminate');
  else if (work[name]) await exitDuring(name, work[name], 50);
  else throw new Error(`unknown case ${name}`);
}
