/**
 * Issue 11 item 1 from the caller's side: arrays resized, detached or transferred while an
 * async native call (solveAssignments, Head.prepareSupport, Head.score) still runs. The call
 * must return the result of the data it was given, or reject with a documented error; it
 * must never read freed memory or crash this process (the parent test watches for signals).
 */
import fc from 'fast-check';
import { solveAssignments, solveAssignmentsSync } from '../../../src/assignment.js';
import { Head } from '../../../src/head.js';
import { check, checkDocumentedError, runsFor } from '../contract.js';

type Action = 'none' | 'shrink' | 'zero' | 'grow' | 'transfer' | 'structuredClone' | 'fill';

const scenario = fc.record({
  entry: fc.constantFrom('assign' as const, 'prepare' as const, 'score' as const),
  action: fc.constantFrom<Action>('none', 'shrink', 'zero', 'grow', 'transfer', 'structuredClone', 'fill'),
  lengthTracking: fc.boolean(),
  resizable: fc.boolean(),
  delayTurns: fc.integer({ min: 0, max: 2 }),
  size: fc.integer({ min: 1, max: 400 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32 - 0.5;
  });
}

/** The ES2024 resizable ArrayBuffer (Node 20 has it; the project's TypeScript lib is ES2022). */
interface ResizableBuffer extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
const Resizable = ArrayBuffer as unknown as new (byteLength: number, options?: { maxByteLength: number }) => ResizableBuffer;

/** `data` in a (possibly resizable) buffer of its own, as a fixed-length or length-tracking view. */
function place(data: Float32Array, resizable: boolean, lengthTracking: boolean): Float32Array {
  const buffer = resizable ? new Resizable(data.byteLength, { maxByteLength: data.byteLength * 2 }) : new ArrayBuffer(data.byteLength);
  const view = lengthTracking && resizable ? new Float32Array(buffer) : new Float32Array(buffer, 0, data.length);
  view.set(data);
  return view;
}

function act(view: Float32Array, action: Action): void {
  const buffer = view.buffer as ResizableBuffer;
  switch (action) {
    case 'shrink':
      if (buffer.resizable) buffer.resize(Math.floor(buffer.byteLength / 8) * 4);
      break;
    case 'zero':
      if (buffer.resizable) buffer.resize(0);
      break;
    case 'grow':
      if (buffer.resizable) buffer.resize(buffer.maxByteLength);
      break;
    case 'transfer': {
      // ArrayBuffer.prototype.transfer arrived in Node 21; postMessage transfers on Node 20.
      const t = (buffer as { transfer?: () => ArrayBuffer }).transfer;
      if (t) t.call(buffer);
      else {
        const { port1, port2 } = new MessageChannel();
        port1.postMessage(null, [buffer]);
        port1.close();
        port2.close();
      }
      break;
    }
    case 'structuredClone':
      structuredClone(buffer, { transfer: [buffer] });
      break;
    case 'fill':
      view.fill(NaN);
      break;
    default:
  }
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  check(a.length === b.length, `${what}: ${a.length} values, expected ${b.length}`);
  for (let i = 0; i < a.length; i++)
    check(Object.is(a[i], b[i]), `${what}: value ${i} is ${a[i]}, expected ${b[i]} (read memory that changed under the call?)`);
}

export default async function fuzzBuffers(seed: number): Promise<number> {
  const runs = runsFor(120);
  const channels = [32, 32];
  const head = new Head({ channels, featureSize: 3, device: 'cpu' });
  const per = 64 * 9;
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      if (s.entry === 'assign') {
        const n = 7;
        const batch = 1 + (s.size % 40);
        const data = values(batch * n * n, s.seed);
        const expected = solveAssignmentsSync(data, { batch, rows: n, cols: n });
        const view = place(data, s.resizable, s.lengthTracking);
        let p: Promise<Int32Array>;
        try {
          p = solveAssignments(view, { batch, rows: n, cols: n, threads: 2 });
        } catch (e) {
          checkDocumentedError(e, 'solveAssignments (submit)');
          return;
        }
        await turns(s.delayTurns);
        act(view, s.action);
        try {
          same(await p, expected, 'solveAssignments');
        } catch (e) {
          checkDocumentedError(e, 'solveAssignments');
        }
        return;
      }
      const shots = 3;
      const support = values(shots * per, s.seed);
      const labels = [0, 1, 2];
      const queries = 1 + (s.size % 20);
      const query = values(queries * per, s.seed + 1);
      const prepared = head.prepareSupportSync(support, labels);
      const expected = head.scoreSync(prepared, query);
      if (s.entry === 'prepare') {
        const view = place(support, s.resizable, s.lengthTracking);
        let p: Promise<Awaited<ReturnType<Head['prepareSupport']>>>;
        try {
          p = head.prepareSupport(view, labels);
        } catch (e) {
          checkDocumentedError(e, 'prepareSupport (submit)');
          return;
        }
        await turns(s.delayTurns);
        act(view, s.action);
        try {
          const got = await p;
          same(head.scoreSync(got, query), expected, 'prepareSupport then score');
          got.dispose();
        } catch (e) {
          checkDocumentedError(e, 'prepareSupport');
        }
      } else {
        const view = place(query, s.resizable, s.lengthTracking);
        let p: Promise<Float32Array>;
        try {
          p = head.score(prepared, view);
        } catch (e) {
          checkDocumentedError(e, 'score (submit)');
          return;
        }
        await turns(s.delayTurns);
        act(view, s.action);
        try {
          same(await p, expected, 'score');
        } catch (e) {
          checkDocumentedError(e, 'score');
        }
      }
      prepared.dispose();
    }),
    { seed, numRuns: runs },
  );
  head.dispose();
  return runs;
}
