/**
 * Child-process side of test/buffer_ownership.test.ts for the SYNC native entries, which borrow
 * the caller's memory (native/bindings/arg_readers.h): a property getter that runs during
 * argument reading must not find an array already read, and an array backed by a
 * SharedArrayBuffer, which another thread writes while the call runs, is copied first.
 *
 * Run: node --import tsx test/helpers/sync_borrow_case.ts <case>
 * Prints one JSON line: { case, ok, detail }.
 */
import { Worker } from 'node:worker_threads';
import { native } from '../../src/binding.js';
import { solveAssignmentsSync } from '../../src/assignment.js';
import { rng } from './seeded_rng.js';

function detach(buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

// preprocessRgb reads its spec (getters) before its arrays: a getter that detaches the source
// pixels leaves an empty array, which is rejected instead of read.
function preprocessGetter(): string | undefined {
  const src = new Uint8Array(10 * 10 * 3).fill(7);
  const out = new Float32Array(3 * 8 * 8);
  const spec = {
    resize: 8,
    crop: 8,
    offset: 0,
    get mean() {
      detach(src.buffer);
      return [0, 0, 0];
    },
    std: [1, 1, 1],
  };
  try {
    native.preprocessRgb(src, 10, 10, spec, out, 0);
  } catch (err) {
    return err instanceof RangeError && /src/.test(err.message) ? undefined : `threw ${String(err)}`;
  }
  return 'accepted a detached source';
}

// solveAssignmentsSync on a SharedArrayBuffer that a worker rewrites (finite values) all the
// time: the solver works on a copy, so every result is a valid assignment, never a crash.
async function sharedWhileWritten(): Promise<string | undefined> {
  const n = 49;
  const batch = 200;
  const shared = new SharedArrayBuffer(batch * n * n * 4);
  const costs = new Float32Array(shared);
  const random = rng(3);
  for (let i = 0; i < costs.length; i++) costs[i] = random();
  const stop = new SharedArrayBuffer(4);
  const writer = new Worker(
    `const { workerData } = require('node:worker_threads');
     const a = new Float32Array(workerData.shared); const stop = new Int32Array(workerData.stop);
     let x = 1;
     while (Atomics.load(stop, 0) === 0) for (let i = 0; i < a.length; i += 7) { x = (x * 1103515245 + 12345) >>> 0; a[i] = x / 4294967296; }`,
    { eval: true, workerData: { shared, stop } },
  );
  try {
    await new Promise((r) => setTimeout(r, 100));
    for (let round = 0; round < 30; round++) {
      const cols = solveAssignmentsSync(costs, { batch, rows: n, cols: n });
      for (let b = 0; b < batch; b++) {
        const seen = new Set<number>();
        for (let i = 0; i < n; i++) seen.add(cols[b * n + i]!);
        if (seen.size !== n || [...seen].some((c) => c < 0 || c >= n)) return `round ${round}, problem ${b}: not a permutation`;
      }
    }
    return undefined;
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await writer.terminate();
  }
}

const cases: Record<string, () => Promise<string | undefined> | string | undefined> = {
  'preprocessRgb getter detaches src': preprocessGetter,
  'solveAssignmentsSync on a SharedArrayBuffer being written': sharedWhileWritten,
};
const name = process.argv[2] ?? '';
const run = cases[name];
if (run === undefined) throw new Error(`Expected one of ${Object.keys(cases).join(', ')} but received ${name}`);
let detail: string | undefined;
try {
  detail = await run();
} catch (err) {
  detail = `threw ${String(err)}`;
}
console.log(JSON.stringify({ case: name, ok: detail === undefined, detail }));
