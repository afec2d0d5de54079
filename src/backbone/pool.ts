/**
 * A fixed pool of backbone workers. Jobs go to the worker with the fewest jobs in flight;
 * results come back with their ArrayBuffers transferred.
 *
 * A worker that dies (crash, out of memory, uncaught error) fails the jobs it held (the
 * Backbone reports them as BackboneErrors) and is replaced by a fresh worker with the same session settings, so one bad
 * job does not shrink the pool for the rest of the process. A replacement that cannot start
 * is not retried: the pool then runs on the workers it has left (and rejects jobs once none
 * is left).
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnModuleWorker } from './spawn_worker.js';
import { createExitControl, EXIT_WAIT_MS, stopAndWaitAsync, unwatchExit, watchExit, type ExitControl } from './exit_guard.js';
import type { JobMessage, JobResult, WorkerInit, WorkerReply } from './protocol.js';

interface Pending {
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Native calls in flight in the worker (exit_guard.ts): process exit waits for them. */
  control: ExitControl;
  pending: Map<number, Pending>;
  alive: boolean;
  closed?: () => void;
}

/** Thrown by WorkerPool.start when a worker could not create its session. */
export class WorkerInitError extends Error {}

/**
 * Young-generation cap of a backbone worker's V8 heap (issue 11 soak). A worker's JS
 * allocations are small and short-lived (messages, promises, sharp pipelines), yet V8 grew
 * its semi-spaces to the 16 MB maximum after about 1,300 episodes: worker heapTotal
 * stepped 26 -> 42 MB, the ~16-18 MB RSS step of the soak. With 12 MB (4 MB semi-spaces)
 * heapTotal stayed at 18-24 MB over 3,000 episodes, and the more frequent scavenges free
 * the dead staging buffers sooner, so malloc's arenas grew less (86 -> 88 MB instead of
 * 107 -> 118 MB).
 */
export const WORKER_YOUNG_GENERATION_MB = 12;

/** Starts one worker and resolves once its session is ready. */
function startWorker(url: URL, init: WorkerInit): { worker: Worker; control: ExitControl; ready: Promise<void> } {
  const control = createExitControl();
  const worker = spawnModuleWorker(url, {
    workerData: { ...init, exitControl: control },
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  watchExit(control);
  worker.once('exit', () => unwatchExit(control));
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'initError') reject(new WorkerInitError(m.message));
    });
    worker.once('error', (e) => reject(e));
    worker.once('exit', (code) => reject(new WorkerInitError(`backbone worker exited with code ${code} while starting`)));
  });
  return { worker, control, ready };
}

/** Stops a worker once it has no native call in flight (exit_guard.ts: terminating one mid-call aborts the process). */
async function stopWorker(worker: Worker, control: ExitControl): Promise<void> {
  await stopAndWaitAsync([control], EXIT_WAIT_MS);
  await worker.terminate();
  unwatchExit(control);
}

export class WorkerPool {
  private nextId = 1;
  private closing = false;
  /** Replacements being started; close() waits for them. */
  private readonly starting = new Set<Promise<void>>();
  #replaced = 0;

  private constructor(
    private readonly slots: Slot[],
    private readonly url: URL,
    private readonly init: WorkerInit,
  ) {}

  /**
   * Starts `size` workers and waits until every one has its session. `url` is the worker
   * module (default: pool_worker, the ONNX Runtime worker).
   * @example const pool = await WorkerPool.start(2, init);
   */
  static async start(size: number, init: WorkerInit, url: URL = siblingModule(import.meta.url, 'pool_worker')): Promise<WorkerPool> {
    const started = Array.from({ length: size }, () => startWorker(url, init));
    const slots: Slot[] = started.map(({ worker, control }) => ({ worker, control, pending: new Map(), alive: true }));
    const pool = new WorkerPool(slots, url, init);
    try {
      await Promise.all(started.map((s) => s.ready));
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    for (const slot of slots) pool.attach(slot);
    return pool;
  }

  private attach(slot: Slot): void {
    const w = slot.worker;
    w.removeAllListeners('message');
    w.removeAllListeners('error');
    w.removeAllListeners('exit');
    w.on('message', (m: WorkerReply) => {
      if (m.type === 'result' || m.type === 'jobError') {
        const p = slot.pending.get(m.id);
        slot.pending.delete(m.id);
        if (!p) return;
        if (m.type === 'result') p.resolve(m);
        else p.reject(Object.assign(new Error(`the job failed in the worker: ${m.message}`), { imageErrors: m.errors ?? [] }));
      } else if (m.type === 'closed') slot.closed?.();
    });
    let why: string | undefined;
    w.on('error', (e) => {
      why = e.message;
    });
    w.on('exit', (code) => this.died(slot, why ?? `it exited with code ${code}`));
  }

  private died(slot: Slot, why: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    unwatchExit(slot.control);
    for (const p of slot.pending.values()) p.reject(new Error(`the worker stopped while running the job: ${why}`));
    slot.pending.clear();
    slot.closed?.();
    if (!this.closing) this.replace(slot);
  }

  /** Starts a fresh worker in the dead one's place; jobs meanwhile go to the other workers. */
  private replace(slot: Slot): void {
    const { worker, control, ready } = startWorker(this.url, this.init);
    const started = ready.then(
      () => {
        this.starting.delete(started);
        if (this.closing) {
          void stopWorker(worker, control);
          return;
        }
        slot.worker = worker;
        slot.control = control;
        slot.alive = true;
        this.#replaced++;
        this.attach(slot);
      },
      () => {
        // It could not start either: leave the slot dead rather than loop on a broken setup.
        this.starting.delete(started);
        void stopWorker(worker, control);
      },
    );
    this.starting.add(started);
  }

  /** Workers replaced after dying, so far (diagnostics). */
  get replaced(): number {
    return this.#replaced;
  }

  /** Number of live workers. */
  get size(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /**
   * Runs one job on the least busy worker; `transfer` lists buffers to move, not copy. While
   * every worker is being replaced, the job waits for the first replacement.
   * @example const r = await pool.run({ type: 'images', images: ['a.jpg'] }, []);
   */
  async run(job: DistributiveOmit<JobMessage, 'id'>, transfer: ArrayBuffer[]): Promise<JobResult> {
    while (this.size === 0 && this.starting.size > 0 && !this.closing) await Promise.race(this.starting);
    const live = this.slots.filter((s) => s.alive);
    if (live.length === 0) throw new Error('no backbone worker is running (they stopped and could not be restarted)');
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<JobResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...job, id }, transfer);
    });
  }

  /** Lets every worker finish its jobs and release its session, then stops the threads. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.starting);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.alive) {
          await new Promise<void>((resolve) => {
            slot.closed = resolve;
            slot.worker.postMessage({ type: 'close' });
          });
        }
      }),
    );
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.slots.map((s) => stopWorker(s.worker, s.control)));
    for (const s of this.slots) s.alive = false;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
