/**
 * Child-process side of test/buffer_ownership.test.ts (issue 11): submits an async native call,
 * then at once shrinks, detaches or overwrites the caller's array, and compares the result with
 * the sync result on an untouched copy. A crash (SIGSEGV on freed or decommitted memory) kills
 * this process, which the parent reports as a failure; a wrong result is printed as a mismatch.
 *
 * Run: node --expose-gc --import tsx test/helpers/buffer_mutation_case.ts <entry>
 * Prints one JSON line per mutation: { entry, mutation, equal, detail }.
 */
import { MessageChannel } from 'node:worker_threads';
import { Head } from '../../src/head.js';
import { solveAssignments, solveAssignmentsSync } from '../../src/assignment.js';
import { makeEpisode, standardEpisodeCase } from './episode_rng.js';
import { rng } from './seeded_rng.js';

type Mutation = 'resize(0)' | 'structuredClone transfer' | 'postMessage transfer' | 'overwrite';
const MUTATIONS: Mutation[] = ['resize(0)', 'structuredClone transfer', 'postMessage transfer', 'overwrite'];

/** A copy of `data` in a resizable ArrayBuffer (so that every mutation applies to it). */
function resizableCopy(data: Float32Array): Float32Array {
  // (ES2024 resizable buffers: the TypeScript lib in use does not type the options yet)
  const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
  const buffer = new Resizable(data.byteLength, { maxByteLength: data.byteLength });
  const out = new Float32Array(buffer);
  out.set(data);
  return out;
}

// Gives freed memory to new owners and fills it, so a read of freed memory returns other data.
function reuseMemory(bytes: number): void {
  (globalThis as { gc?: () => void }).gc?.();
  const junk: Float32Array[] = [];
  for (let k = 0; k < 4; k++) junk.push(new Float32Array(bytes / 4).fill(1e30));
  (globalThis as { gc?: () => void }).gc?.();
}

function mutate(array: Float32Array, mutation: Mutation): void {
  const buffer = array.buffer as ArrayBuffer & { resize(n: number): void };
  const bytes = buffer.byteLength;
  if (mutation === 'resize(0)') buffer.resize(0);
  else if (mutation === 'structuredClone transfer') structuredClone(buffer, { transfer: [buffer] });
  else if (mutation === 'postMessage transfer') {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(buffer, [buffer]);
    port1.close();
    port2.close();
  } else array.fill(Number.NaN);
  if (mutation !== 'overwrite' && array.length !== 0) throw new Error(`${mutation} left the array attached`);
  reuseMemory(bytes);
}

function sameInts(a: Int32Array, b: Int32Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return undefined;
}

function sameFloats(a: Float32Array, b: Float32Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  // The async and sync paths run the same kernels on the same data: equal to float rounding.
  for (let i = 0; i < a.length; i++)
    if (!(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(b[i]!)))) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return undefined;
}

async function assignment(mutation: Mutation): Promise<string | undefined> {
  const n = 49;
  const batch = 4000; // ~38 MB of costs: the pool threads are still reading when the mutation runs
  const random = rng(11);
  const costs = new Float32Array(batch * n * n).map(() => random());
  const want = solveAssignmentsSync(costs, { batch, rows: n, cols: n });
  const mine = resizableCopy(costs);
  const pending = solveAssignments(mine, { batch, rows: n, cols: n });
  mutate(mine, mutation);
  return sameInts(await pending, want);
}

// The benchmark model's shape (channels [512, 512], F = 3, matcher MLP): tens of ms per call.
const episode = makeEpisode(standardEpisodeCase('ownership', 5, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4], 400));
function makeHead(): Head {
  return new Head({ channels: [512, 512], featureSize: 3, matcher: episode.matcher, threads: 2 });
}
const labels = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4];

// A 200-image support, so that its preparation is still running when the mutation happens.
const bigSupport = makeEpisode(
  standardEpisodeCase(
    'ownership support',
    6,
    Array.from({ length: 200 }, (_, i) => i % 5),
    20,
  ),
);
const bigLabels = Array.from({ length: 200 }, (_, i) => i % 5);

async function prepareSupport(mutation: Mutation): Promise<string | undefined> {
  const head = makeHead();
  try {
    const want = head.scoreSync(head.prepareSupportSync(bigSupport.support, bigLabels), episode.query);
    const mine = resizableCopy(bigSupport.support);
    const pending = head.prepareSupport(mine, bigLabels);
    mutate(mine, mutation);
    return sameFloats(await head.score(await pending, episode.query), want);
  } finally {
    head.dispose();
  }
}

async function score(mutation: Mutation): Promise<string | undefined> {
  const head = makeHead();
  try {
    const support = head.prepareSupportSync(episode.support, labels);
    const want = head.scoreSync(support, episode.query);
    const mine = resizableCopy(episode.query);
    const pending = head.score(support, mine);
    mutate(mine, mutation);
    return sameFloats(await pending, want);
  } finally {
    head.dispose();
  }
}

const entries: Record<string, (m: Mutation) => Promise<string | undefined>> = {
  solveAssignments: assignment,
  'Head.prepareSupport': prepareSupport,
  'Head.score': score,
};
const entry = process.argv[2] ?? '';
const run = entries[entry];
if (run === undefined) throw new Error(`Expected one of ${Object.keys(entries).join(', ')} but received ${entry}`);
for (const mutation of MUTATIONS) {
  let detail: string | undefined;
  try {
    detail = await run(mutation);
  } catch (err) {
    detail = `threw ${String(err)}`;
  }
  console.log(JSON.stringify({ entry, mutation, equal: detail === undefined, detail }));
}
