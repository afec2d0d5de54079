/**
 * Lets process.exit() end a process whose backbone workers are busy without the process
 * aborting (issue 11).
 *
 * The cause is in onnxruntime-node (1.30), not in this package: its InferenceSession methods
 * (`run` included, which computes synchronously on the worker's JavaScript thread) are
 * node-addon-api callbacks built with C++ exceptions and without
 * NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS. process.exit() stops every worker thread
 * (Environment::Exit -> stop_sub_worker_contexts -> Worker::Exit); when a run returns into a
 * stopping worker, building its result fails, the binding throws a Napi::Error, and
 * node-addon-api's WrapCallback cannot rethrow it into JavaScript (napi_throw fails with
 * napi_pending_exception), so Error::ThrowAsJavaScriptException throws again out of a C
 * callback: std::terminate, SIGABRT, "terminate called after throwing an instance of
 * 'Napi::Error'". worker.terminate() during a run does the same.
 *
 * So a worker (the backbone pool's, the quantizer's) counts the native calls it has in flight
 * (session create/run/release, image decodes) in a SharedArrayBuffer it shares with the main thread, and starts none once the
 * main thread says the process is exiting. A process 'exit' listener (it runs before Node
 * stops the workers) raises that flag and blocks until the calls in flight have returned,
 * at most EXIT_WAIT_MS; usually one session run, well under a second.
 */

const EXITING = 0;
const ACTIVE = 1;

/** The longest process.exit() waits for native calls in flight in the backbone workers. */
export const EXIT_WAIT_MS = 30_000;

/** [exiting flag, native calls in flight] of one worker, shared with the main thread. */
export type ExitControl = Int32Array;

/**
 * A fresh control for one worker (pass it in the worker's workerData).
 * @example const control = createExitControl(); new Worker(url, { workerData: { control } });
 */
export function createExitControl(): ExitControl {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/** Rejects a native call asked for after the process began to exit. */
export class ExitingError extends Error {
  constructor() {
    super('the process is exiting');
  }
}

/**
 * Worker side: runs `fn`, which calls into a native addon, counted as in flight until its
 * promise settles; throws ExitingError instead once the process is exiting. The count is raised
 * before the flag is read and the main thread raises the flag before it reads the count, so
 * either the call sees the flag or the main thread sees the call.
 * @example const out = await duringNativeCall(control, () => session.run(feeds));
 */
export async function duringNativeCall<T>(control: ExitControl, fn: () => Promise<T>): Promise<T> {
  Atomics.add(control, ACTIVE, 1);
  try {
    if (Atomics.load(control, EXITING) !== 0) throw new ExitingError();
    return await fn();
  } finally {
    Atomics.sub(control, ACTIVE, 1);
    Atomics.notify(control, ACTIVE);
  }
}

const watched = new Set<ExitControl>();
let listening = false;

/**
 * Main side: from now on process exit waits for this worker's native calls (see the top).
 * @example watchExit(control); // after starting the worker; unwatchExit(control) once it is gone
 */
export function watchExit(control: ExitControl): void {
  watched.add(control);
  if (!listening) {
    listening = true;
    process.on('exit', () => stopAndWait([...watched], EXIT_WAIT_MS));
  }
}

/**
 * Main side: the worker has stopped; exit need not wait for it any more.
 * @example unwatchExit(control);
 */
export function unwatchExit(control: ExitControl): void {
  watched.delete(control);
}

/**
 * Tells the workers to start no more native calls and blocks until those in flight have
 * returned or `timeoutMs` passed. Returns whether they all returned.
 * @example stopAndWait([control], 1000); await worker.terminate();
 */
export function stopAndWait(controls: readonly ExitControl[], timeoutMs: number): boolean {
  for (const c of controls) Atomics.store(c, EXITING, 1);
  const deadline = Date.now() + timeoutMs;
  for (const c of controls) {
    for (let n = Atomics.load(c, ACTIVE); n > 0; n = Atomics.load(c, ACTIVE)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(c, ACTIVE, n, left);
    }
  }
  return true;
}

/**
 * Like stopAndWait, without blocking the event loop (it polls): for stopping the workers of a
 * process that goes on running.
 * @example await stopAndWaitAsync([control], 30_000); await worker.terminate();
 */
export async function stopAndWaitAsync(controls: readonly ExitControl[], timeoutMs: number): Promise<boolean> {
  for (const c of controls) Atomics.store(c, EXITING, 1);
  const busy = (): boolean => controls.some((c) => Atomics.load(c, ACTIVE) > 0);
  const deadline = Date.now() + timeoutMs;
  while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return !busy();
}
