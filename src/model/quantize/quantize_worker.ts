/**
 * Worker: calibrates and writes the int8 backbone (see quantize_bundle.ts). Decoding the
 * calibration images, the histograms and the weight rounding are seconds of CPU work
 * that must not run on the caller's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { preprocessInto } from '../../backbone/batch_decode.js';
import type { PreprocessSpec } from '../../backbone/preprocess.js';
import { encodeModel } from '../onnx/builder.js';
import { decodeModel } from '../onnx/inspect.js';
import { planQuantization } from './plan.js';
import { calibrateRanges } from './calibrate.js';
import { buildQdqGraph } from './qdq.js';
import { duringNativeCall, type ExitControl } from '../../backbone/exit_guard.js';

export interface QuantizeJob {
  fp32Path: string;
  outPath: string;
  /** Calibration image files, in the order hashed. */
  files: string[];
  spec: PreprocessSpec;
  percentile: number;
  threads: number;
  producerVersion: string;
}

/** Images decoded at once: sharp runs each on libuv's pool. */
const DECODE_CONCURRENCY = 4;

async function run(job: QuantizeJob & { exitControl: ExitControl }): Promise<{ sha256: string }> {
  // Every onnxruntime-node / sharp call: process exit waits for it (src/backbone/exit_guard.ts).
  const native = <T>(fn: () => Promise<T>): Promise<T> => duringNativeCall(job.exitControl, fn);
  const { graph } = decodeModel(await readFile(job.fp32Path));
  // Some writers list the initializers among the graph inputs too; the real input is the rest.
  const initNames = new Set(graph.initializers.map((i) => i.name));
  const fp32 = { ...graph, inputs: graph.inputs.filter((i) => !initNames.has(i.name)) };
  const plan = planQuantization(fp32);
  const per = 3 * job.spec.crop * job.spec.crop;
  const images = new Float32Array(job.files.length * per);
  // The set's hash: SHA-256 over the SHA-256 of every file's bytes, in path order.
  const digests: Buffer[] = new Array<Buffer>(job.files.length);
  let next = 0;
  const decodeSome = async (): Promise<void> => {
    for (let i = next++; i < job.files.length; i = next++) {
      const bytes = await readFile(job.files[i]!);
      digests[i] = createHash('sha256').update(bytes).digest();
      try {
        await native(() => preprocessInto(bytes, job.spec, images, i * per));
      } catch (e) {
        throw new Error(`calibration image ${job.files[i]} cannot be decoded: ${(e as Error).message}`, { cause: e });
      }
    }
  };
  await Promise.all(Array.from({ length: DECODE_CONCURRENCY }, decodeSome));
  const hash = createHash('sha256');
  for (const d of digests) hash.update(d);
  const ranges = await calibrateRanges(fp32, plan, images, job.files.length, job.spec.crop, {
    percentile: job.percentile,
    threads: job.threads,
    nativeCall: native,
  });
  const qdq = buildQdqGraph(plan, ranges, 'uint8');
  await writeFile(job.outPath, encodeModel(qdq, { producer: 'lwfm-spm', version: job.producerVersion }));
  return { sha256: hash.digest('hex') };
}

run(workerData as QuantizeJob & { exitControl: ExitControl }).then(
  (r) => parentPort!.postMessage({ ok: true, ...r }),
  (e: unknown) => parentPort!.postMessage({ ok: false, error: (e as Error)?.message ?? String(e) }),
);
