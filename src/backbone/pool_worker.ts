/**
 * One backbone worker: owns an ONNX Runtime session, decodes images (batch_decode.ts) and
 * runs the graph. Jobs are decoded as soon as they arrive while session runs are serialised.
 * onnxruntime-node runs a session synchronously on this thread, so a job's decoding proceeds
 * between runs: it is kept short rather than overlapped (on a machine whose cores ONNX
 * Runtime's threads all use, work overlapping a run slows the run about as much).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { BatchDecoder } from './batch_decode.js';
import { DecodeFailure } from './decode.js';
import { lowerCurrentThreadPriority, lowerThreadsNamed } from './thread_priority.js';
import { duringNativeCall, type ExitControl } from './exit_guard.js';
import type { JobMessage, JobResult, WorkerInit, WorkerReply } from './protocol.js';

const init = workerData as WorkerInit & { exitControl: ExitControl };
/** Every call into onnxruntime-node or sharp goes through this: see exit_guard.ts. */
const native = <T>(fn: () => Promise<T>): Promise<T> => duringNativeCall(init.exitControl, fn);
const port = parentPort!;
const post = (msg: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

// One image per libvips call is small work: parallelism comes from decoding several at once.
sharp.concurrency(1);
sharp.cache(false);

let session: ort.InferenceSession | undefined;
let runChain: Promise<unknown> = Promise.resolve();
const imageFloats = 3 * init.spec.crop * init.spec.crop;
// One decoder for all jobs of this worker: its read and decode limits bound peak memory, not the batch size.
const decoder = new BatchDecoder(init.spec, init.maxImagePixels, native);
let vipsLowered = false;

async function runSession(input: Float32Array, count: number): Promise<{ features: Float32Array; ms: number }> {
  const s = session!;
  const t0 = performance.now();
  const out = await native(() => s.run({ images: new ort.Tensor('float32', input, [count, 3, init.spec.crop, init.spec.crop]) }));
  const t = out.features!;
  const data = t.data as Float32Array;
  if (data.length !== count * init.featureLength)
    throw new Error(`backbone returned ${data.length} floats for ${count} images, expected ${count * init.featureLength}`);
  // Transfer needs a buffer of exactly this view; copy only if ORT handed out a shared one.
  const features =
    data.byteOffset === 0 && data.buffer.byteLength === data.byteLength && data.buffer instanceof ArrayBuffer ? data : data.slice();
  if (typeof (t as { dispose?: () => void }).dispose === 'function' && features !== data) (t as { dispose: () => void }).dispose();
  return { features, ms: performance.now() - t0 };
}

/** Serialises session runs in the order jobs became ready. */
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const p = runChain.then(fn, fn);
  runChain = p.catch(() => undefined);
  return p;
}

async function handleImages(msg: Extract<JobMessage, { type: 'images' }>): Promise<void> {
  const n = msg.images.length;
  const t0 = performance.now();
  const { floats: staging, failures } = await decoder.decode(msg.images);
  const decodeMs = performance.now() - t0;
  // libvips starts its decode threads lazily (at normal priority): lower them once they exist.
  if (!vipsLowered) vipsLowered = lowerThreadsNamed('libvips worker') > 0;
  const ok: number[] = [];
  const errors: JobResult['errors'] = [];
  failures.forEach((reason, i) => {
    if (reason === undefined) ok.push(i);
    else if (reason instanceof DecodeFailure) errors.push({ index: i, message: reason.message, reason: reason.reason });
    // Anything else is not a verdict on the image (our addon ran out of memory, an internal
    // error): the Backbone reports it as its own failure, not as a bad image.
    else errors.push({ index: i, message: (reason as Error)?.message ?? String(reason), reason: 'corrupt', internal: true });
  });
  let input = staging;
  if (ok.length !== n && ok.length > 0) {
    input = new Float32Array(ok.length * imageFloats);
    ok.forEach((src, dst) => input.set(staging.subarray(src * imageFloats, (src + 1) * imageFloats), dst * imageFloats));
  }
  let run: { features: Float32Array; ms: number };
  try {
    run = ok.length ? await serialised(() => runSession(input, ok.length)) : { features: new Float32Array(0), ms: 0 };
  } catch (e) {
    // The session failed: the job fails, but the images that did not decode still say so.
    post({ type: 'jobError', id: msg.id, message: (e as Error)?.message ?? String(e), errors });
    return;
  }
  const { features, ms } = run;
  post({ type: 'result', id: msg.id, features, ok, errors, decodeMs, backboneMs: ms }, [features.buffer as ArrayBuffer]);
}

async function handleTensor(msg: Extract<JobMessage, { type: 'tensor' }>): Promise<void> {
  const { features, ms } = await serialised(() => runSession(msg.data, msg.count));
  const ok = Array.from({ length: msg.count }, (_, i) => i);
  post({ type: 'result', id: msg.id, features, ok, errors: [], decodeMs: 0, backboneMs: ms }, [features.buffer as ArrayBuffer]);
}

async function start(): Promise<void> {
  try {
    lowerCurrentThreadPriority(); // before the session exists, so its intra-op threads inherit it
    session = await native(() =>
      ort.InferenceSession.create(init.modelPath, {
        executionProviders: [init.device === 'cuda' ? 'cuda' : 'cpu'],
        intraOpNumThreads: init.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // ONNX Runtime's default intra-op spinning stays on. These threads run at lowered
        // priority, so a spinning thread yields to the event loop and to decoding. Three
        // alternating runs of the backbone benchmark measured (ratio to the bare session, max
        // loop delay): tensor 0.92-0.99x, files 1.22-1.28x, 8.5-11.9 ms with spinning, and
        // 1.04-1.17x, 1.30-1.49x, 8.6-15.7 ms without it. session.force_spinning_stop (spin
        // during a run only) was measured too (issue 13): the stream benchmark gained 2-7%
        // (its decoding runs between two runs), but Backbone.embed(tensor) took 1.24-1.31x the
        // bare session's time instead of 1.09-1.17x, and embed(files) 1.59-1.62x instead of
        // 1.51-1.53x (benchmarks/backbone.bench.ts, alternating runs), so it stays off.
      }),
    );
  } catch (e) {
    post({ type: 'initError', message: (e as Error).message ?? String(e) });
    return;
  }
  post({ type: 'ready' });
}

port.on('message', (msg: JobMessage | { type: 'close' }) => {
  if (msg.type === 'close') {
    void runChain.then(async () => {
      const s = session;
      if (s) await native(() => s.release());
      post({ type: 'closed' });
    });
    return;
  }
  const work = msg.type === 'images' ? handleImages(msg) : handleTensor(msg);
  work.catch((e: unknown) => post({ type: 'jobError', id: msg.id, message: (e as Error)?.message ?? String(e) }));
});

void start();
