// Child-process side of test/native_errors.test.ts (issue 11): run under an address-space limit
// (`ulimit -v`), it allocates an input that fits and then asks an async entry for its input
// copy, which cannot: the call must reject with LwfmError ERR_LWFM_OUT_OF_MEMORY (before: a
// plain Error "std::bad_alloc" without a code) and the process must go on. The input's pages are
// never written, so the resident memory stays small whatever the input's size.
//
// Plain JavaScript against dist/: tsx needs WebAssembly memory reservations (gigabytes of
// address space) that the limit forbids. dist/index.js loads undici (WebAssembly too), so the
// modules are imported one by one.
//
// Run: bash -c 'ulimit -v KB; node test/helpers/oom_case.mjs <case> KB'
// Prints one JSON line: { case, name, code, message, after }.
import { readFileSync } from 'node:fs';
import { solveAssignments } from '../../dist/assignment.js';
import { Head } from '../../dist/head.js';

const [which = '', limitKb = '0'] = process.argv.slice(2);
const vmKb = Number(/VmSize:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
// Leaves 256 MiB of address space: the input fits, a second copy of it does not.
const bytes = (Number(limitKb) - vmKb) * 1024 - (256 << 20);

async function run() {
  if (which === 'solveAssignments') {
    const n = 1000;
    const batch = Math.floor(bytes / (4 * n * n));
    return solveAssignments(new Float32Array(batch * n * n), { batch, rows: n, cols: n });
  }
  const head = new Head({ channels: [64, 64], featureSize: 3, device: 'cpu', threads: 1 });
  const count = Math.floor(bytes / (4 * head.imageSize));
  const features = new Float32Array(count * head.imageSize);
  if (which === 'Head.prepareSupport') return head.prepareSupport(features, new Int32Array(count));
  const support = await head.prepareSupport(new Float32Array(head.imageSize), [0]);
  return head.score(support, features);
}

let out;
try {
  await run();
  out = { case: which, name: 'resolved' };
} catch (e) {
  out = { case: which, name: e?.constructor?.name, code: e?.code, message: e?.message };
}
// The process goes on after the failure: a small native call still works.
const after = await solveAssignments(new Float32Array([3, 1, 2, 0]), { batch: 1, rows: 2, cols: 2 });
process.stdout.write(`${JSON.stringify({ ...out, after: Array.from(after) })}\n`);
